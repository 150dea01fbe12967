"""Linux volumes: psutil's mount table, with FUSE mounts resolved to the real filesystem.

exfat-fuse and ntfs-3g mount as `fuseblk`; the filesystem behind it comes from udev's
database, then `blkid -p`, then the boot sector (lsblk names nothing without udev) (docs/uv-facts.md, "uv on Linux").
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psutil

from ...core import scope
from ...core.model import Os, Volume
from .. import mountinfo
from ..proc import run as run_process
from ._common import PSEUDO, normalise_fstype

Partition = Any  # psutil's sdiskpart


def run_blkid(device: str) -> dict[str, str]:
    """`blkid -p`: reads the superblock itself, so it works without udev (root only)."""
    try:
        out = run_process(["blkid", "-p", "-o", "export", device], text=True, timeout=3).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    pairs = (line.split("=", 1) for line in out.splitlines() if "=" in line)
    return {key: value for key, value in pairs}


def fuse_device(mountpoint: str, processes: Callable[[], Iterable[Any]] = psutil.process_iter) -> str | None:
    """fusefat lists its source as "fusefat": the device is in its daemon's command line."""
    for proc in processes():
        try:
            cmdline = proc.cmdline()
        except (psutil.Error, OSError):
            continue
        if mountpoint in cmdline:
            return next((arg for arg in cmdline if arg.startswith("/dev/")), None)
    return None


def udev_properties(device: str, root: Path = Path("/run/udev/data")) -> dict[str, str]:
    """udev's database entry (`E:KEY=VALUE` lines) for a block device, without udevadm."""
    try:
        rdev = os.stat(device).st_rdev
        text = (root / f"b{os.major(rdev)}:{os.minor(rdev)}").read_text(errors="replace")
    except OSError:
        return {}
    pairs = (line[2:].split("=", 1) for line in text.splitlines() if line.startswith("E:"))
    return {key: value for key, value in (p for p in pairs if len(p) == 2)}


# Boot sector signatures: OEM name at byte 3 for exFAT and NTFS, FAT32's type at 0x52.
_SIGNATURES = (
    (3, b"EXFAT   ", "exfat"),
    (3, b"NTFS    ", "ntfs"),
    (0x52, b"FAT32   ", "vfat"),
    (0x36, b"FAT16   ", "vfat"),
    (0x36, b"FAT12   ", "vfat"),
)


def boot_sector_type(device: str) -> str | None:
    """Read 512 bytes of the device (root only) and match known signatures."""
    try:
        with open(device, "rb") as handle:
            sector = handle.read(512)
    except OSError:
        return None
    for offset, magic, name in _SIGNATURES:
        if sector[offset : offset + len(magic)] == magic:
            return name
    return None


def sysfs_removable(device: str, sys_root: Path = Path("/sys/dev/block")) -> bool | None:
    """The kernel's `removable` flag of the disk (or the partition's parent), or USB transport."""
    try:
        rdev = os.stat(device).st_rdev
        node = (sys_root / f"{os.major(rdev)}:{os.minor(rdev)}").resolve()
    except OSError:
        return None
    if "/usb" in str(node):
        return True
    for candidate in (node, node.parent):
        flag = candidate / "removable"
        if flag.is_file():
            try:
                return flag.read_text().strip() == "1"
            except OSError:
                return None
    return None


def by_uuid(device: str, root: Path = Path("/dev/disk/by-uuid")) -> str | None:
    """udev's /dev/disk/by-uuid links, read without a process: a drive's identity even where
    its database entry is unreadable and no closer look (blkid) is taken."""
    try:
        target = os.path.realpath(device)
        for link in root.iterdir():
            if os.path.realpath(link) == target:
                return link.name
    except OSError:
        return None
    return None


class Resolver:
    """Names each device's filesystem: udev's database, then blkid, then the boot sector."""

    def __init__(
        self,
        udev: Callable[[str], dict[str, str]] = udev_properties,
        blkid: Callable[[str], dict[str, str]] = run_blkid,
        sector: Callable[[str], str | None] = boot_sector_type,
        removable: Callable[[str], bool | None] = sysfs_removable,
        fuse_source: Callable[[str], str | None] = fuse_device,
        uuid_link: Callable[[str], str | None] = by_uuid,
    ) -> None:
        self._udev, self._blkid, self._sector = udev, blkid, sector
        self._removable, self._fuse_source, self._by_uuid = removable, fuse_source, uuid_link

    def device(self, device: str, mountpoint: str, mount_fstype: str) -> str:
        if mount_fstype.startswith("fuse") and not device.startswith("/dev/"):
            return self._fuse_source(mountpoint) or device
        return device

    def describe(self, device: str, mount_fstype: str, *, look_closer: bool) -> dict[str, Any]:
        """`look_closer`: worth a subprocess (FUSE, or a drive in scope); else udev only."""
        if not device.startswith("/dev/"):
            return {
                "fstype": normalise_fstype(mount_fstype),
                "label": None,
                "uuid": None,
                "removable": None,
            }
        props = self._udev(device)
        fuse = mount_fstype == "fuseblk" or mount_fstype.startswith("fuse")
        if not props and (fuse or look_closer):
            props = self._blkid(device)
        fstype = props.get("ID_FS_TYPE") or props.get("TYPE")
        if fuse and not fstype:
            fstype = self._sector(device)
        removable = props.get("ID_BUS") == "usb" or self._removable(device)
        return {
            "fstype": normalise_fstype(fstype if fuse and fstype else mount_fstype),
            "label": props.get("ID_FS_LABEL") or props.get("LABEL"),
            "uuid": props.get("ID_FS_UUID") or props.get("UUID") or self._by_uuid(device),
            "removable": removable,
        }


@dataclass(frozen=True)
class MountInfo:
    """The parts of one /proc/self/mountinfo line the volume model keeps."""

    dev: str  # "major:minor" of the filesystem
    root: str  # the folder of that filesystem shown at the mount point
    options: tuple[str, ...]  # per-mount options, then the superblock's


def mount_table(mounts: Iterable[mountinfo.Mount]) -> dict[str, MountInfo]:
    """mount point -> what it shows; a later mount on the same point hides the earlier."""
    return {m.mountpoint: MountInfo(m.dev, m.root, m.options) for m in mounts}


def read_mountinfo(path: str = mountinfo.MOUNTINFO) -> dict[str, MountInfo]:
    return mount_table(mountinfo.read(path) or ())


def _with_mountinfo(volumes: list[Volume], table: dict[str, MountInfo]) -> list[Volume]:
    """Options, the shown folder and the filesystem's identity; a bind mount names the mount
    that shows the whole filesystem (same major:minor, root "/")."""
    whole = {info.dev: mp for mp, info in table.items() if info.root == "/"}
    out = []
    for vol in volumes:
        info = table.get(vol.mountpoint)
        if info is None:
            out.append(vol)
            continue
        bind_of = whole.get(info.dev) if info.root != "/" else None
        out.append(
            replace(
                vol,
                options=info.options,
                root=info.root,
                dev=info.dev,
                bind_of=bind_of if bind_of != vol.mountpoint else None,
                read_only=vol.read_only or "ro" in info.options,
            )
        )
    return out


def _still_mounted(mountpoint: str) -> bool:
    try:
        return os.path.ismount(mountpoint)
    except OSError:
        return False


def list_volumes(
    mount_roots: Iterable[str] = scope.DEFAULT_MOUNT_ROOTS,
    *,
    partitions: Callable[[bool], list[Partition]] = psutil.disk_partitions,
    resolver: Resolver | None = None,
    mounted: Callable[[str], bool] = _still_mounted,
    mount_table: Callable[[], dict[str, MountInfo]] = read_mountinfo,
) -> list[Volume]:
    """Every mounted filesystem but pseudo ones; a device mounted under one of `mount_roots`
    (the user's scope.mount_roots) is a drive worth a closer look (blkid) when udev is silent."""
    resolver = resolver or Resolver()
    roots = tuple(mount_roots)
    volumes: dict[str, Volume] = {}  # a later mount on the same point hides the earlier
    for part in partitions(True):
        if part.fstype in PSEUDO or not part.mountpoint:
            continue
        device = resolver.device(part.device, part.mountpoint, part.fstype)
        closer = scope.under_mount_root(Os.LINUX, part.mountpoint, roots)
        info = resolver.describe(device, part.fstype, look_closer=closer)
        if info["fstype"].startswith("fuse") and not mounted(part.mountpoint):
            continue  # unmounted while we looked: nothing could name it, and it is gone
        volumes[part.mountpoint] = Volume(
            mountpoint=part.mountpoint,
            device=device,
            fstype=info["fstype"],
            mount_fstype=part.fstype,
            label=info["label"],
            uuid=info["uuid"],
            read_only="ro" in part.opts.split(","),
            removable=info["removable"],
            system=scope.linux_system(part.mountpoint),
            instance=disk_seq(device),
        )
    return _with_mountinfo(list(volumes.values()), mount_table())


def disk_seq(device: str, sys_block: str = "/sys/class/block") -> str | None:
    """The disk's sequence number (Linux 5.15, block/genhd.c `diskseq`): raised each time a disk
    is attached and never reused until reboot, so a stick plugged in again gets a new one where
    mount IDs are handed out again. A partition's is its disk's."""
    if not device.startswith("/dev/"):
        return None
    entry = Path(sys_block, os.path.basename(device))
    for candidate in (entry / "diskseq", entry.resolve().parent / "diskseq"):
        try:
            return f"diskseq:{candidate.read_text().strip()}"
        except OSError:
            continue
    return None
