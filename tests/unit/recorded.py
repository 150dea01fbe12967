"""What the systems the tests cannot run on answered, recorded, and fakes that answer the same
way: a Windows laptop's volumes, diskutil's plists, launchd's environment. The per-OS tests and
the portable projects' tests share them."""

from __future__ import annotations

import json
import os
import plistlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from uv_drive_guard.edges.probe import _windows as probe
from uv_drive_guard.edges.volumes import _windows as volumes

WINDOWS = Path(__file__).resolve().parent.parent / "data" / "windows"
MACOS = Path(__file__).resolve().parent.parent / "data" / "macos"


class Part(NamedTuple):
    """psutil's sdiskpart, as far as the volume listings read it."""

    device: str
    mountpoint: str
    fstype: str
    opts: str


class Recorded:
    """The recorded Windows laptop, answering like the injected OS calls; remembers bus queries."""

    def __init__(self) -> None:
        self.doc: dict[str, Any] = json.loads((WINDOWS / "volumes.json").read_text())
        self.bus_asked: list[str] = []
        self.partitions_all: list[bool] = []

    def partitions(self, all: bool = False) -> list[Part]:
        """psutil_disk_partitions (psutil/arch/windows/disk.c): with all=False it skips
        DRIVE_UNKNOWN, DRIVE_NO_ROOT_DIR, DRIVE_REMOTE and DRIVE_RAMDISK (and a removable A:)
        before its GetVolumeInformation call; with all=True it asks every drive, shares too."""
        self.partitions_all.append(all)
        skipped = {volumes.DRIVE_UNKNOWN, volumes.DRIVE_NO_ROOT_DIR, volumes.DRIVE_REMOTE, volumes.DRIVE_RAMDISK}
        rows = [Part(**row) for row in self.doc["partitions"]]
        return rows if all else [p for p in rows if int(self.doc["drive_type"][p.mountpoint]) not in skipped]

    def remote_roots(self) -> list[str]:
        return [root for root, kind in self.doc["drive_type"].items() if int(kind) == volumes.DRIVE_REMOTE]

    def volume_info(self, root: str) -> volumes.VolumeInfo | None:
        row = self.doc["volume_info"][root]
        return volumes.VolumeInfo(*row) if row else None

    def bus_type(self, root: str) -> int | None:
        self.bus_asked.append(root)
        value = self.doc["bus_type"][root]
        return int(value) if value is not None else None

    def list(self) -> dict[str, Any]:
        found = volumes.list_volumes(
            partitions=self.partitions,
            remote_roots=self.remote_roots,
            volume_info=self.volume_info,
            drive_type=lambda root: int(self.doc["drive_type"][root]),
            bus_type=self.bus_type,
            system_drive=lambda: str(self.doc["system_drive"]),
            size=lambda root: self.doc["size"].get(root),
        )
        return {volume.mountpoint: volume for volume in found}


def plist(name: str) -> dict[str, Any]:
    """One of diskutil's recorded answers (`diskutil info -plist`)."""
    loaded = plistlib.loads((MACOS / name).read_bytes())
    assert isinstance(loaded, dict)
    return loaded


class FakeLaunchctl:
    """launchd's environment in memory, as launchctl(1) documents getenv/setenv/unsetenv: getenv
    prints the value and a newline, or nothing for an unset name, and exits 0; records every argv."""

    def __init__(self, env: dict[str, str] | None = None, fail: str | None = None) -> None:
        self.env = dict(env or {})
        self.calls: list[list[str]] = []
        self.fail = fail

    def __call__(self, argv: Sequence[str]) -> tuple[int, str]:
        self.calls.append(list(argv))
        assert argv[0] == "/bin/launchctl"
        command, name = argv[1], argv[2]
        if command == self.fail:
            return 1, ""
        if command == "getenv":
            value = self.env.get(name, "")
            return 0, value + "\n" if value else ""
        if command == "setenv":
            self.env[name] = argv[3]
        elif command == "unsetenv":
            self.env.pop(name, None)
        return 0, ""


MESSAGES: dict[str, str] = json.loads((WINDOWS / "format_message.json").read_text())  # FormatMessageW's words


def format_message(code: int) -> str:
    return MESSAGES[str(code)]


def win_error(code: int, errno: int = 22) -> OSError:
    """An OSError as CPython raises it on Windows (PyErr_SetFromWindowsErr, Python/errors.c):
    `winerror` keeps the Win32 code, errno is its C-runtime translation (PC/errmap.h)."""
    exc = OSError(errno, format_message(code).rstrip("."))
    exc.winerror = code  # type: ignore[attr-defined]
    return exc


def windows_rename(src: Path, dst: Path) -> None:
    """MoveFileExW without MOVEFILE_REPLACE_EXISTING (what os.rename calls on Windows): an
    existing target fails with ERROR_ALREADY_EXISTS (Microsoft's MoveFileExW documentation)."""
    if os.path.lexists(dst):
        raise win_error(probe.ERROR_ALREADY_EXISTS, errno=17)
    os.rename(src, dst)
