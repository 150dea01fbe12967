"""The portable registry on this computer written, the files generated from it, and its journaled store.

The registry (`portable.json` in the user data directory, written atomically) says which
drives (by identity) and projects (by path inside the drive) keep their environments here.
The generated files (`portable.sh`, `portable.fish`, `portable.ps1`) are a function of it and
of where each drive is mounted now: rewritten whenever that changes, removed with the last
record. Environments themselves are uv's to make and never removed here without a person
asking (`uv-drive-guard envs --remove`). Reading the registry is edges.portable_registry's:
the scan reads it too, and the scan does not import the fix engine.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.model import Os, PortableDrive, Snapshot
from ..edges import platforms
from ..edges.portable_registry import REGISTRY as REGISTRY
from ..edges.portable_registry import current as current
from ..edges.portable_registry import data_dir as data_dir
from ..edges.portable_registry import from_json as from_json
from ..edges.portable_registry import load as load
from ..edges.portable_registry import to_json as to_json
from . import atomic, locks
from .envstore import Saved

if TYPE_CHECKING:
    from .portable_shell import Skipped

log = logging.getLogger(__name__)
STORE = "portable projects registry"
GENERATED = {"posix": "portable.sh", "fish": "portable.fish", "powershell": "portable.ps1"}


# --- the registry file ----------------------------------------------------------------------


def save(root: Path, drives: Iterable[PortableDrive]) -> None:
    """Atomically; with the last record gone, the file goes too (undo leaves nothing behind)."""
    items = sorted(drives, key=lambda d: d.drive_id)
    path = root / REGISTRY
    if not items:
        atomic.remove(path)
        return
    text = json.dumps({"version": 1, "drives": [to_json(d) for d in items]}, indent=2, ensure_ascii=False)
    atomic.write_atomic(path, (text + "\n").encode("utf-8"))


# --- the generated files ----------------------------------------------------------------------


def generated(root: Path, os_: Os) -> dict[str, Path]:
    names = ("powershell",) if os_ is Os.WINDOWS else ("posix", "fish")
    return {shell: root / GENERATED[shell] for shell in names}


def regenerate(root: Path, os_: Os, drives: tuple[PortableDrive, ...]) -> tuple[Skipped, ...]:
    """Write what each shell reads, only where it changed; remove it all with no drive left.
    The renderer loads only here (without tomlkit): a scan with no drive set up never does."""
    from . import portable_shell

    found, skipped = portable_shell.entries(os_, str(root), drives)
    render = {
        "posix": portable_shell.render_posix,
        "fish": portable_shell.render_fish,
        "powershell": portable_shell.render_powershell,
    }
    for shell, path in generated(root, os_).items():
        if not drives:
            atomic.remove(path)
            continue
        # UTF-8 with a byte-order mark for PowerShell: 5.1 reads a file without one as ANSI.
        text = ("\ufeff" if shell == "powershell" else "") + render[shell](str(path), found)
        data = text.encode("utf-8")
        if atomic.read_bytes(path) != data:
            atomic.write_atomic(path, data)
    for item in skipped:
        log.warning("not covered by the shell integration: %r: %s", item.root, item.reason)
    return skipped


# --- keeping it current -----------------------------------------------------------------------


def files(root: Path, os_: Os) -> list[Path]:
    """What the registry's writers write: the registry and the files generated from it."""
    return [root / REGISTRY, *generated(root, os_).values()]


def refresh(snapshot: Snapshot, root: Path | None = None, where: Path | None = None) -> bool:
    """After a scan: the drives' new places into the registry and the generated files, silently.
    True when something was rewritten. Read, changed and written under the registry's locks
    (`where`: the lock directory), so a fix or undo writing it meanwhile is never overwritten."""
    root = root or data_dir()
    if not load(root):
        return False
    with locks.files(files(root, snapshot.os), where):
        return _refresh(snapshot, root)


def _refresh(snapshot: Snapshot, root: Path) -> bool:
    drives = load(root)
    if not drives:
        return False
    fresh = current(drives, snapshot, time.time())
    changed = fresh != drives
    if changed:
        save(root, fresh)
    before = {p: atomic.read_bytes(p) for p in generated(root, snapshot.os).values()}
    regenerate(root, snapshot.os, fresh)
    return changed or before != {p: atomic.read_bytes(p) for p in generated(root, snapshot.os).values()}


# --- the journaled store ----------------------------------------------------------------------


class Store:
    """The registry as the fix engine's store: saved before a fix, restored by undo. Its
    writes read the registry and change it: `fix` and `undo` hold the locks of `files()`."""

    name = STORE

    def __init__(self, root: Path | None = None, os_: Os | None = None) -> None:
        self.root = root or data_dir()
        self.os = os_ or platforms.current()

    def files(self) -> list[Path]:
        return files(self.root, self.os)

    def _drives(self) -> dict[str, PortableDrive]:
        return {d.drive_id: d for d in load(self.root)}

    def _write(self, drives: dict[str, PortableDrive]) -> None:
        items = tuple(drives.values())
        save(self.root, items)
        regenerate(self.root, self.os, items)

    def save(self, names: Iterable[str]) -> list[Saved]:
        drives = self._drives()
        return [
            Saved(name, json.dumps(to_json(drives[name])) if name in drives else None, kind="portable")
            for name in names
        ]

    def set(self, name: str, value: str) -> None:
        drive = from_json(json.loads(value))
        if drive is None or drive.drive_id != name:
            raise ValueError(f"not a portable record for {name}")
        drives = self._drives()
        drives[name] = drive
        self._write(drives)

    def unset(self, name: str) -> None:
        drives = self._drives()
        drives.pop(name, None)
        self._write(drives)

    def restore(self, saved: Iterable[Saved]) -> None:
        drives = self._drives()
        for item in saved:
            old = from_json(json.loads(item.value)) if item.value is not None else None
            if old is None:
                drives.pop(item.name, None)
            else:
                drives[item.name] = old
        self._write(drives)

    def describe_set(self, name: str, value: str) -> str:
        return f"record drive {name} in {self.root / REGISTRY}"

    def describe_unset(self, name: str) -> str:
        return f"remove drive {name} from {self.root / REGISTRY}"
