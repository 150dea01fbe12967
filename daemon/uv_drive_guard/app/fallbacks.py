"""A temporary fix (its rule says so: a fallback while a drive is away) lasts until the path's
drive is mounted again; then the person's own setting comes back. Pure: which fixes are due."""

from __future__ import annotations

from ..core import resolve, rules
from ..core.model import Snapshot
from ..fixing.journal import APPLIED, Entry


def due(entries: tuple[Entry, ...], snapshot: Snapshot) -> tuple[Entry, ...]:
    """The applied temporary fixes whose drive is back in this snapshot."""
    applied = (e for e in entries if rules.temporary(e.code) and e.state == APPLIED and e.subject)
    return tuple(e for e in applied if drive_back(snapshot, e.subject))


def drive_back(snapshot: Snapshot, path: str) -> bool:
    """The path lies on a mounted drive again, not on the system disk beneath its mount point."""
    mount = resolve.volume_of(snapshot.os, path, tuple(v.mountpoint for v in snapshot.volumes))
    volume = snapshot.volume(mount)
    return volume is not None and not volume.system and volume.mountpoint != "/"
