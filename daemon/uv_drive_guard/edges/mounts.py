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
from . import mountinfo, platforms

Entry = tuple[str, str, str, str]  # device, mount point, file system, options
Key = tuple[str, str, str]  # mount point, file system, volume serial


def table() -> frozenset[Entry]:
    """Every mount, by what tells it from the next: on Linux the mount's id, on Windows the
    volume's serial (a card swapped in its reader keeps the letter, device and file system).
    Options count, so a remount read-only is a change too. Linux hands a freed mount id, loop
    device and folder out again, so a drive replugged in a moment can read the same: the worker
    also scans again after any change that came while its scan ran."""
    import psutil

    os_ = platforms.current()
    if os_ is Os.LINUX:
        found = mountinfo.read()
        if found is not None:
            return linux_table(found)
    if os_ is Os.WINDOWS:
        from .volumes import get_remote_roots, volume_serial

        local = (
            (f"{p.device} {volume_serial(p.mountpoint) if p.fstype else ''}", p.mountpoint, p.fstype, p.opts)
            for p in psutil.disk_partitions(all=False)
        )
        return frozenset([*local, *((root, root, "remote", "") for root in get_remote_roots())])
    return frozenset((p.device, p.mountpoint, p.fstype, p.opts) for p in psutil.disk_partitions(all=True))


def linux_table(found: Iterable[mountinfo.Mount]) -> frozenset[Entry]:
    return frozenset((f"{m.mount_id} {m.dev}", m.mountpoint, m.fstype, ",".join(m.options)) for m in found)


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
