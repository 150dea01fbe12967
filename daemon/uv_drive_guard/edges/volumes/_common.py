"""What every OS's volume listing shares: which mounts are pseudo (which are the system's and
which are drives is the scope policy's: core/scope.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

PSEUDO = frozenset(
    {
        "proc",
        "sysfs",
        "cgroup",
        "cgroup2",
        "devpts",
        "mqueue",
        "debugfs",
        "tracefs",
        "securityfs",
        "pstore",
        "bpf",
        "configfs",
        "fusectl",
        "hugetlbfs",
        "autofs",
        "binfmt_misc",
        "nsfs",
        "devtmpfs",
        "rpc_pipefs",
        "efivarfs",
        "selinuxfs",
        "ramfs",
        "squashfs",
        "devfs",
        "nullfs",
        "fdesc",
    }
)

# Names the kernel or a FUSE driver uses -> the name the core knows.
_ALIASES = {
    "ntfs3": "ntfs",
    "ntfs-3g": "ntfs",
    "fuse.ntfs-3g": "ntfs",
    "fuse.exfat": "exfat",
    "fuse.fusefat": "vfat",
    "fat32": "vfat",
    "fat": "vfat",
    "msdos": "vfat",
    "fat16": "vfat",
    "ext2/ext3": "ext3",
}


def normalise_fstype(fstype: str | None, device: str = "") -> str:
    """Lowercase, FUSE wrappers resolved: the filesystem as uv meets it."""
    name = (fstype or "unknown").lower()
    return _ALIASES.get(name, name)


class Partition(Protocol):
    """The part of psutil's sdiskpart the volume listings read."""

    @property
    def device(self) -> str: ...
    @property
    def mountpoint(self) -> str: ...
    @property
    def fstype(self) -> str: ...
    @property
    def opts(self) -> str: ...


class PartitionLister(Protocol):
    def __call__(self, all: bool = ...) -> Sequence[Partition]: ...
