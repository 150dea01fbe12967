"""macOS volumes: psutil's mount table, made truthful by `diskutil info -plist`.

The mount table alone is not enough on macOS: FSKit and the "lifs" user-space driver can
report a different type than the filesystem on the disk, and only DiskArbitration knows
whether a disk is internal, ejectable or on USB.
"""

from __future__ import annotations

import plistlib
import subprocess
from collections.abc import Callable, Mapping
from typing import Any
from xml.parsers.expat import ExpatError

import psutil

from uv_drive_guard.core import scope
from uv_drive_guard.core.model import Volume
from uv_drive_guard.edges import proc
from uv_drive_guard.edges.volumes._common import PartitionLister

DISKUTIL = "/usr/sbin/diskutil"  # absolute: never let PATH pick the tool
DISKUTIL_TIMEOUT = 10.0

# Kernel and automounter file systems that hold no user data.
PSEUDO_FSTYPES = frozenset({"devfs", "autofs", "nullfs", "fdesc", "volfs", "kernfs", "procfs"})

# diskutil FilesystemType (or mount type) -> the lowercase name the core knows.
FSTYPE_ALIASES: Mapping[str, str] = {
    "msdos": "vfat",
    "fat32": "vfat",
    "fat16": "vfat",
    "fat12": "vfat",
    "smb": "smbfs",
    "cifs": "smbfs",
    "osxfuse": "macfuse",  # macFUSE before 4.0 (sshfs, s3fs, gcsfuse on macOS mount through it)
    "fuse-t": "macfuse",
}

# diskutil FilesystemName prefixes, for plists that lack FilesystemType.
_NAME_PREFIXES: tuple[tuple[str, str], ...] = (
    ("exfat", "exfat"),
    ("ms-dos", "vfat"),
    ("fat", "vfat"),
    ("apfs", "apfs"),
    ("mac os extended", "hfs"),
    ("hfs", "hfs"),
    ("windows nt file system", "ntfs"),
    ("ntfs", "ntfs"),
)

SYSTEM_ROOT = scope.MACOS_SYSTEM_ROOT
# System volumes worth a diskutil call (about 0.1 s each); Preboot, VM, xarts... are not.
DESCRIBED_SYSTEM = frozenset({"/", SYSTEM_ROOT + "/Data"})


def run_diskutil(mountpoint: str) -> bytes | None:
    """Ask DiskArbitration about one mount; None when diskutil knows nothing about it."""
    try:
        done = proc.run([DISKUTIL, "info", "-plist", mountpoint], timeout=DISKUTIL_TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 and done.stdout else None


def parse_plist(data: bytes | None) -> dict[str, Any]:
    """A broken or error answer is the same as no answer: fall back to the mount table."""
    if not data:
        return {}
    try:
        loaded = plistlib.loads(data)
    except (ValueError, ExpatError):
        return {}
    if not isinstance(loaded, dict) or loaded.get("Error"):
        return {}
    return loaded


def real_fstype(plist: Mapping[str, Any], mount_fstype: str) -> str:
    """The filesystem on the disk, not the driver that mounted it."""
    fs_type = _text(plist.get("FilesystemType"))
    if fs_type:
        return _alias(fs_type)
    fs_name = (_text(plist.get("FilesystemName")) or "").lower()
    for prefix, name in _NAME_PREFIXES:
        if fs_name.startswith(prefix):
            return name
    return _alias(mount_fstype)


def is_removable(plist: Mapping[str, Any]) -> bool | None:
    """Ejectable, removable media, not internal, or on USB: a drive that can go away."""
    flags = [plist.get(key) for key in ("Removable", "RemovableMedia", "Ejectable")]
    flags.append(plist.get("RemovableMediaOrExternalDevice"))
    internal = plist.get("Internal")
    protocol = _text(plist.get("BusProtocol")) or _text(plist.get("Protocol"))
    known = [flag for flag in flags if isinstance(flag, bool)]
    if any(known) or internal is False or protocol == "USB":
        return True
    if known or internal is True:
        return False
    return None


def is_system(mountpoint: str) -> bool:
    """The sealed system snapshot and its sibling volumes (Data, Preboot, VM, ...)."""
    return scope.macos_system(mountpoint)


def volume_from_diskutil(
    mountpoint: str,
    device: str,
    mount_fstype: str,
    opts: str,
    plist: Mapping[str, Any],
) -> Volume:
    """Merge one mount-table row with what diskutil said about it (maybe nothing). The options
    are psutil's names for the mount's flags (getfsstat): `noexec`, `sync`, `nosuid`, `local`..."""
    size = plist.get("TotalSize", plist.get("Size"))
    options = tuple(option for option in opts.split(",") if option)
    return Volume(
        mountpoint=mountpoint,
        device=device,
        fstype=real_fstype(plist, mount_fstype),
        mount_fstype=mount_fstype,
        label=_text(plist.get("VolumeName")),
        uuid=_text(plist.get("VolumeUUID")),
        read_only="ro" in options or plist.get("WritableVolume") is False,
        options=options,
        removable=is_removable(plist),
        system=is_system(mountpoint),
        size=size if isinstance(size, int) and size > 0 else None,
    )


def list_volumes(
    *,
    partitions: PartitionLister = psutil.disk_partitions,
    diskutil: Callable[[str], bytes | None] = run_diskutil,
) -> list[Volume]:
    """Every mounted volume that can hold files, network shares included."""
    volumes: list[Volume] = []
    for part in partitions(all=True):  # all: psutil drops "//user@host/share" otherwise
        if part.fstype in PSEUDO_FSTYPES or not part.mountpoint:
            continue
        asked = not is_system(part.mountpoint) or part.mountpoint in DESCRIBED_SYSTEM
        plist = parse_plist(diskutil(part.mountpoint)) if asked else {}
        volumes.append(volume_from_diskutil(part.mountpoint, part.device, part.fstype, part.opts, plist))
    return volumes


def _alias(fstype: str) -> str:
    lowered = fstype.lower()
    return FSTYPE_ALIASES.get(lowered, lowered)


def _text(value: object) -> str | None:
    """diskutil writes "" for absent names and UUIDs."""
    return value if isinstance(value, str) and value else None
