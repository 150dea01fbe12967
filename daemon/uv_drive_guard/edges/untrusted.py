"""Paths named by a drive (pyvenv.cfg `home`, a script's shebang, a project's cache-dir) are
compared as text and touched only when they lie on a local volume that is mounted already.

A `\\\\host\\share` there would make Windows authenticate to that host on plug-in (an NTLM hash
leak), a path under an autofs or NFS mount makes Linux reach a server; neither is asked.
"""

from __future__ import annotations

import functools
import logging
import ntpath
import os
import posixpath
import stat as stat_module
import sys
from collections.abc import Callable, Iterable
from typing import Any

from ..core.model import Os
from ..core.paths import under
from . import mountinfo, platforms

log = logging.getLogger(__name__)

# Mount types whose paths reach another machine, or mount one on access (autofs, automount).
REMOTE_FSTYPES = frozenset(
    {
        "autofs",
        "automount",
        "nfs",
        "nfs4",
        "cifs",
        "smb",
        "smb3",
        "smbfs",
        "afpfs",
        "webdav",
        "davfs",
        "fuse.davfs2",
        "fuse.sshfs",
        "sshfs",
        "fuse.rclone",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "fuse.glusterfs",
        "lustre",
        "gpfs",
        "ncpfs",
        "coda",
        "fuse.s3fs",
        "fuse.gcsfuse",
        "fuse.ossfs",
        "fuse.blobfuse2",
        "fuse.blobfuse",
        "fuse.goofys",
        "fuse.mountpoint-s3",
        "macfuse",
        "osxfuse",
    }
)
Stat = Callable[[str], os.stat_result]
Mounts = Iterable[tuple[str, str]]  # (mount point, filesystem type), in mount order


def is_unc(path: str) -> bool:
    """`\\\\host\\share`, `//host/share`, and the `\\\\?\\UNC\\` and `\\\\.\\UNC\\` forms of it."""
    seps = ("\\", "/")
    if len(path) < 2 or path[0] not in seps or path[1] not in seps:
        return False
    if path[2:3] in ("?", ".") and path[3:4] in seps:  # a device path: \\?\C:\ is local
        return path[4:7].upper() == "UNC" and path[7:8] in seps
    return True


def windows_local_candidate(path: str) -> bool:
    """An absolute drive-letter path (C:\\..., \\\\?\\C:\\...): the only form worth asking
    Windows about; UNC, relative and device paths are not."""
    if is_unc(path):
        return False
    rest = path[4:] if path.startswith(("\\\\?\\", "\\\\.\\")) else path
    drive, tail = ntpath.splitdrive(rest)
    return len(drive) == 2 and drive[1] == ":" and drive[0].isalpha() and tail[:1] in ("\\", "/")


def _windows_remote_drive(path: str) -> bool:
    """A mapped network drive letter (GetDriveTypeW says DRIVE_REMOTE) or one we cannot ask."""
    if sys.platform != "win32":  # a type guard (ctypes.windll), see edges.platforms
        return False
    rest = path[4:] if path.startswith(("\\\\?\\", "\\\\.\\")) else path
    root = ntpath.splitdrive(rest)[0] + "\\"
    drive_type = int(_kernel32().GetDriveTypeW(root))
    return drive_type in (0, 1, 4)  # unknown, no root dir, DRIVE_REMOTE


@functools.cache
def _kernel32() -> Any:
    """This module's own kernel32 with its one prototype (never ctypes.windll's shared one)."""
    import ctypes
    from ctypes import wintypes

    dll = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    dll.GetDriveTypeW.argtypes = (wintypes.LPCWSTR,)
    dll.GetDriveTypeW.restype = wintypes.UINT
    return dll


def mount_table() -> list[tuple[str, str]]:
    """(mount point, type) of every mount now, in mount order (later ones cover earlier)."""
    if platforms.known() is Os.LINUX:
        mounts = mountinfo.read()
        return [] if mounts is None else [(m.mountpoint, m.fstype) for m in mounts]
    import psutil

    return [(p.mountpoint, p.fstype.lower()) for p in psutil.disk_partitions(all=True)]


def mount_of(path: str, mounts: Mounts) -> tuple[str, str] | None:
    """The mount holding `path` as text: the longest mount point that is a prefix of it."""
    best: tuple[str, str] | None = None
    for mountpoint, fstype in mounts:
        root = mountpoint.rstrip("/") or "/"
        if under(path, root) and (best is None or len(root) >= len(best[0].rstrip("/") or "/")):
            best = (mountpoint, fstype)
    return best


def touchable(path: str, mounts: Mounts | None = None) -> bool:
    """May this machine stat `path` without reaching another one or mounting anything?"""
    if not path or is_unc(path):
        return False
    if platforms.current() is Os.WINDOWS:
        return windows_local_candidate(path) and not _windows_remote_drive(path)
    if not posixpath.isabs(path):
        return False
    normal = posixpath.normpath(path)
    found = mount_of(normal, mount_table() if mounts is None else mounts)
    return found is not None and found[1].lower() not in REMOTE_FSTYPES


def exists(
    path: str | None, *, directory: bool = False, mounts: Mounts | None = None, stat: Stat | None = None
) -> bool | None:
    """Whether a drive-named path exists here; None (not known) when it is not ours to touch."""
    if not path:
        return None
    if not touchable(path, mounts):
        log.info("not looking at %s: not on a local volume that is mounted", path)
        return None
    try:
        info = (stat or os.stat)(path)
    except (OSError, ValueError):
        return False
    return stat_module.S_ISDIR(info.st_mode) if directory else True
