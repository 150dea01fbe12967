"""What a volume can do for uv: probed results first, the filesystem's name second."""

from __future__ import annotations

from .model import Op, Os, Volume

# Filesystems that hold no symlinks, hard links or junctions as uv needs them, on any driver.
FAT_FAMILY = frozenset({"exfat", "vfat", "fat", "fat16", "fat32", "msdos"})
# Network filesystems whose locking and links depend on the server.
NETWORK = frozenset({"smbfs", "cifs", "smb3", "nfs", "nfs4", "afpfs", "9p", "fuse.sshfs", "sshfs", "drvfs"})
# Shared folders of virtual machines and WSL: like the network, judged by name only when unprobed.
VIRTUAL = frozenset({"vboxsf", "virtiofs", "9p", "drvfs", "prl_fs", "vmhgfs", "fuse.vmhgfs-fuse"})
# Object storage behind FUSE: every file is an object, every rename a copy (s3fs's README: "no
# atomic renames of files or directories", "no hard links"; link(2) gives ENOTSUP since s3fs
# PR #943; gcsfuse #178: no hard links). Mounted as `fuse.<driver>`, some as the bare name.
OBJECT_STORAGE = frozenset(
    {
        "fuse.s3fs",
        "s3fs",
        "fuse.gcsfuse",
        "gcsfuse",
        "fuse.ossfs",
        "ossfs",
        "fuse.blobfuse2",
        "blobfuse2",
        "fuse.blobfuse",
        "fuse.goofys",
        "fuse.mountpoint-s3",
    }
)
# Parallel filesystems of clusters: copies can fail on extended attributes (uv #15304, Lustre).
CLUSTER = frozenset({"lustre", "gpfs"})
NFS = frozenset({"nfs", "nfs4"})
OVERLAY = frozenset({"overlay", "fuse.fuse-overlayfs"})
SSHFS = frozenset({"fuse.sshfs", "sshfs"})
ONEDRIVE = "onedrive"  # a OneDrive folder on Windows: NTFS with cloud files (files on demand)
# Filesystems that are not a disk of this computer: the scan looks at them wherever a uv
# directory or project lies on one, removable or not (core/scope.py).
# macOS names every macFUSE mount `macfuse` (`osxfuse` before 4.0): what is behind it is not known.
NOT_A_DISK = NETWORK | VIRTUAL | OBJECT_STORAGE | CLUSTER | OVERLAY | SSHFS | {ONEDRIVE, "macfuse", "webdav"}
FULL = 1 << 20  # bytes: uv cannot unpack even a small wheel (seen: 55 kB free, os error 28)
NO_SYMLINKS = FAT_FAMILY
NO_HARDLINKS = FAT_FAMILY
REFLINK = frozenset({"btrfs", "xfs", "apfs", "bcachefs", "refs", "zfs"})

ENOTSUP_LINUX, ENOTSUP_DARWIN, EINVAL = 95, 45, 22


def guessed(volume: Volume) -> bool:
    """True when the verdicts below rest on the filesystem's name, not on a probe."""
    return not volume.capabilities.probed


def can(volume: Volume, op: Op, os: Os | None = None) -> bool | None:
    """Probed result, or what the filesystem type implies on this OS, or None."""
    result = volume.capabilities.get(op)
    if result is not None:
        return result
    if volume.capabilities.probed:
        return None
    shared = _shared_by_name(volume, op, os)
    if shared is not None or volume.fstype in NOT_A_DISK - OVERLAY:
        return shared
    return _by_name(volume.fstype, op, os)


_LINKS = (Op.SYMLINK_FILE, Op.SYMLINK_DIR)


def _shared_by_name(volume: Volume, op: Op, os: Os | None) -> bool | None:
    """Network and virtual-machine shares, unprobed: what their drivers do by default.

    Linux cifs has symlinks only with `mfsymlinks` (or the server's Unix extensions, which a
    name cannot tell): uv's venv symlink fails there (uv #17986); macOS smbfs writes Minshall-
    French links, so venvs are made (the trouble is AppleDouble, #18790). vboxsf refuses
    symlinks unless the host allows them, and hard links always; the rest depends on the
    server or host (nfs, sshfs #15528, 9p/drvfs, virtiofs): only a probe can tell.
    """
    fstype = volume.fstype
    if fstype in OBJECT_STORAGE:
        return _object_storage(op)
    if fstype in SSHFS and op == Op.SYMLINK_FOLLOW:
        return False  # sshfs refuses to read back a link that leaves the share (seen, #15528)
    if fstype == ONEDRIVE and op in (Op.HARDLINK, Op.JUNCTION):
        return False  # cloud files: os error 396 for hard links, 448 for junctions (#17945, #19616)
    if fstype in ("cifs", "smb3") and op in _LINKS:
        return True if volume.option("mfsymlinks") else None if volume.option("unix") else False
    if fstype == "smbfs" and os is Os.MACOS and op in _LINKS:
        return True
    if fstype == "vboxsf" and op in (*_LINKS, Op.HARDLINK):
        return False
    if fstype in ("nfs", "nfs4") and op in _LINKS:
        return True
    return None


def _object_storage(op: Op) -> bool | None:
    """No hard links (link(2) gives ENOTSUP), and renaming without replacing refused alike: uv
    before 0.9.18 stops at its lock files with a bare `Operation not supported (os error 95)`."""
    return False if op in (Op.HARDLINK, Op.RENAME_NOREPLACE, Op.REFLINK) else None


def by_name_errno(volume: Volume, op: Op) -> int | None:
    """The errno a driver is known to give for an operation it refuses, when not probed."""
    if volume.fstype in OBJECT_STORAGE and op in (Op.HARDLINK, Op.RENAME_NOREPLACE):
        return ENOTSUP_LINUX
    return None


def not_a_disk(volume: Volume) -> bool:
    """A network share, an overlay, a FUSE view of something remote, object storage, a cluster
    filesystem or a OneDrive folder: the scan judges it wherever a uv place lies on it."""
    return volume.fstype in NOT_A_DISK or volume.mount_fstype in NOT_A_DISK


def _by_name(fstype: str, op: Op, os: Os | None = None) -> bool | None:
    if os is Os.MACOS and fstype in FAT_FAMILY and op in _LINKS:
        return True  # macOS's own exFAT/FAT drivers store symlinks as files: venvs work (#18790)
    if fstype in FAT_FAMILY:
        if op in (Op.HARDLINK, Op.SYMLINK_FILE, Op.SYMLINK_DIR, Op.JUNCTION, Op.REFLINK):
            return False
        if op == Op.EXEC_BIT:
            return False
    if op == Op.REFLINK:
        return fstype in REFLINK or None
    if op in (Op.HARDLINK, Op.SYMLINK_FILE, Op.SYMLINK_DIR) and fstype in (
        "ext4",
        "ext3",
        "btrfs",
        "xfs",
        "apfs",
        "hfs",
        "ntfs",
        "tmpfs",
        "zfs",
    ):
        return True
    return None


def read_only(volume: Volume) -> bool:
    return volume.read_only or volume.option("ro")


def no_exec(volume: Volume) -> str | None:
    """Why files on this volume cannot be started: the mount option, or the probe's word."""
    if volume.option("noexec"):
        return "noexec"
    if volume.option("nosymfollow"):
        return "nosymfollow"
    if volume.capabilities.get(Op.EXEC_FILE) is False:
        return "noexec"
    if volume.capabilities.get(Op.SYMLINK_FOLLOW) is False and links_unreadable(volume) is None:
        return "nosymfollow"
    return None


ELOOP = 40


def links_unreadable(volume: Volume) -> str | None:
    """The error with which a link this volume holds cannot be read back or followed, when that
    is the driver's doing rather than a `nosymfollow` mount (which gives ELOOP): sshfs refuses
    links that leave the share with EPERM (seen here; `Permission denied` in uv #15528)."""
    if volume.option("nosymfollow") or can(volume, Op.SYMLINK_FILE) is False:
        return None
    if can(volume, Op.SYMLINK_FOLLOW) is not False:
        return None
    errno = volume.capabilities.errno(Op.SYMLINK_FOLLOW)
    if errno == ELOOP:
        return None
    return volume.capabilities.error(Op.SYMLINK_FOLLOW) or "Operation not permitted (os error 1)"


def free(volume: Volume) -> int | None:
    return volume.free if volume.free is not None else volume.capabilities.free


def symlinks(volume: Volume, os: Os | None = None) -> bool | None:
    """uv needs both: venv interpreters are file links, cache entries directory links."""
    file_ok, dir_ok = can(volume, Op.SYMLINK_FILE, os), can(volume, Op.SYMLINK_DIR, os)
    if file_ok is False or dir_ok is False:
        return False
    if file_ok is None or dir_ok is None:
        return None
    return True


def persist_errno(volume: Volume) -> int | None:
    """The errno with which renaming without replacing failed, if it did."""
    if can(volume, Op.RENAME_NOREPLACE) is False:
        return volume.capabilities.errno(Op.RENAME_NOREPLACE) or by_name_errno(volume, Op.RENAME_NOREPLACE)
    return None


def persist_unsupported(os: Os, errno: int | None) -> bool:
    """The errnos after which uv >= 0.9.18 creates the lock file plainly (PR #17115)."""
    unsupported = ENOTSUP_DARWIN if os is Os.MACOS else ENOTSUP_LINUX
    return errno in (unsupported, EINVAL)


def max_file_size(volume: Volume) -> int | None:
    if volume.capabilities.max_file_size is not None:
        return volume.capabilities.max_file_size
    if volume.fstype in ("vfat", "fat32", "msdos", "fat", "fat16"):
        return 2**32 - 1
    return None
