"""Atomic writes reach the disk on macOS: F_FULLFSYNC, not fsync alone.

The fake `fcntl` answers like macOS's: F_FULLFSYNC is 51 (<sys/fcntl.h>); Apple's fcntl(2) man
page says it does what fsync does and then asks the drive to flush its buffers, implemented by
a list of local file systems (HFS+, APFS, FAT, UDF among them); elsewhere (network and FUSE
volumes) the call fails with an error such as ENOTSUP, which the fake raises.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

import pytest

from uv_drive_guard.fixing import atomic

F_FULLFSYNC = 51


@pytest.fixture
def macos(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[int]]:
    calls: dict[str, list[int]] = {"fullfsync": [], "fsync": []}
    monkeypatch.setattr(atomic.sys, "platform", "darwin")
    monkeypatch.setattr(fcntl, "F_FULLFSYNC", F_FULLFSYNC, raising=False)
    real_fsync = os.fsync

    def fake_fcntl(fd: int, command: int, *args: object) -> int:
        assert command == F_FULLFSYNC
        calls["fullfsync"].append(fd)
        return 0

    def fsync(fd: int) -> None:
        calls["fsync"].append(fd)
        real_fsync(fd)

    monkeypatch.setattr(fcntl, "fcntl", fake_fcntl)
    monkeypatch.setattr(atomic.os, "fsync", fsync)
    return calls


def test_atomic_write_asks_the_drive_to_write(macos: dict[str, list[int]], tmp_path: Path) -> None:
    target = tmp_path / ".zshrc"
    atomic.write_atomic(target, b"export UV_LINK_MODE=copy\n")
    assert target.read_bytes() == b"export UV_LINK_MODE=copy\n"
    assert len(macos["fullfsync"]) == 2  # the file, then its directory
    assert macos["fsync"] == []


def test_a_volume_without_full_fsync_gets_fsync(
    macos: dict[str, list[int]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(fd: int, command: int, *args: object) -> int:
        raise OSError(errno.ENOTSUP, os.strerror(errno.ENOTSUP))

    monkeypatch.setattr(fcntl, "fcntl", refuse)
    atomic.write_atomic(tmp_path / "uv.toml", b'link-mode = "copy"\n')
    assert len(macos["fsync"]) == 2
