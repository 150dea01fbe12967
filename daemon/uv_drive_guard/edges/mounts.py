"""The mount table as psutil lists it, and the boot time: what tells the daemon that a mount
changed, and one mount of a drive from the next.

Never waits on a network share: on Windows `disk_partitions(all=True)` asks every mapped drive's
server in turn (psutil's disk.c), so local volumes come from `all=False` and mapped letters from
the drive letters alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..core.model import Os
from . import platforms

Entry = tuple[str, str, str, str]  # device, mount point, file system, options
Key = tuple[str, str, str]  # mount point, file system, volume serial


def table() -> frozenset[Entry]:
    """Every mount; options count, so a remount read-only is a change of its own."""
    import psutil

    if platforms.current() is Os.WINDOWS:
        from .volumes import get_remote_roots

        local = ((p.device, p.mountpoint, p.fstype, p.opts) for p in psutil.disk_partitions(all=False))
        return frozenset([*local, *((root, root, "remote", "") for root in get_remote_roots())])
    return frozenset((p.device, p.mountpoint, p.fstype, p.opts) for p in psutil.disk_partitions(all=True))


def keys() -> frozenset[Key]:
    """The polling watcher's view (macOS, Windows): each volume by place, file system and serial."""
    import psutil

    from .volumes import volume_serial

    return keys_of(psutil.disk_partitions(all=False), volume_serial)


def keys_of(partitions: Iterable[Any], serial: Callable[[str], str]) -> frozenset[Key]:
    """Windows lists a card reader's letter with a card or without one (psutil's fstype is ""
    while empty), so a card inserted, or swapped for another of the same kind, changes only the
    file system and serial, never the letter list. An empty reader is not asked for a serial."""
    return frozenset(
        (str(p.mountpoint), str(p.fstype), serial(str(p.mountpoint)) if p.fstype else "") for p in partitions
    )


def boot_time() -> float:
    """When this computer started: a drive mounted again after a reboot is a new mount of it."""
    import psutil

    return float(psutil.boot_time())
