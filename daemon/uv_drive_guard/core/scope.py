"""Which volumes a scan looks at: external drives, and any the user pointed uv or us at.

The one home of the scope policy and its defaults. The volume listings ask it which mounts
are the system's, `scan` which volumes are in scope, `diagnose` where drives are mounted. The
user's `scope.mount_roots` replaces DEFAULT_MOUNT_ROOTS wherever a root is asked about.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from . import capability as cap
from .model import Location, Os, Snapshot, SourceKind, Volume
from .paths import under
from .resolve import volume_of

# Where desktops and people mount drives: udisks (/media/USER, /run/media/USER), by hand
# (/mnt), macOS (/Volumes). A mount point below one of them is a drive, removable or not.
DEFAULT_MOUNT_ROOTS: tuple[str, ...] = ("/media", "/run/media", "/mnt", "/Volumes")

# Linux mount points that are the system itself, and the trees whose every mount is too.
LINUX_SYSTEM_MOUNTS = frozenset({"/", "/boot", "/boot/efi", "/efi", "/usr", "/var", "/home", "/opt", "/srv", "/tmp"})
LINUX_SYSTEM_TREES = ("/boot", "/usr", "/var", "/snap")
# macOS: the sealed system snapshot at "/" and its sibling volumes (Data, Preboot, VM, ...).
MACOS_SYSTEM_ROOT = "/System/Volumes"


def linux_system(mountpoint: str) -> bool:
    """A mount of the running Linux system: never judged as a drive."""
    bare = mountpoint.rstrip("/") or "/"
    return bare in LINUX_SYSTEM_MOUNTS or any(under(bare, tree, strict=True) for tree in LINUX_SYSTEM_TREES)


def macos_system(mountpoint: str) -> bool:
    return mountpoint == "/" or under(mountpoint, MACOS_SYSTEM_ROOT, strict=True)


def windows_system(mountpoint: str, system_drive: str) -> bool:
    """The drive Windows boots from (`C:` in SYSTEMDRIVE, `C:\\` as psutil lists it)."""
    return mountpoint.rstrip("\\/").upper() == system_drive.rstrip("\\/").upper()


def under_mount_root(os_: Os, mountpoint: str, roots: Iterable[str]) -> bool:
    """Mounted below one of `roots` (at a root itself is not below it)."""
    return any(under(mountpoint, root, windows=os_ is Os.WINDOWS, strict=True) for root in roots)


def local_disk(device: str) -> bool:
    """A fixed disk of this machine: a block device, a drive letter or a volume GUID path;
    not a network share, tmpfs or other pseudo filesystem."""
    letter = len(device) >= 2 and device[0].isalpha() and device[1] == ":"
    return device.startswith(("/dev/", "\\\\?\\Volume{", "\\\\.\\")) or letter


def external(
    os_: Os, volume: Volume, *, mount_roots: Iterable[str] = DEFAULT_MOUNT_ROOTS, include_fixed: bool = False
) -> bool:
    """A drive of its own: removable, or mounted under a root; with `include_fixed`, any local
    disk too. A system volume never is, whatever its bus says (a live USB system)."""
    if volume.system:
        return False
    if volume.removable or under_mount_root(os_, volume.mountpoint, mount_roots):
        return True
    return include_fixed and local_disk(volume.device)


def in_scope(
    os_: Os,
    volumes: Sequence[Volume],
    locations: Iterable[Location],
    *,
    paths: Sequence[str] = (),
    mount_roots: Iterable[str] = DEFAULT_MOUNT_ROOTS,
    include_fixed: bool = False,
) -> tuple[str, ...]:
    """The mount points to judge, in listing order. With (absolute) `paths` named: the volumes
    holding them, and nothing else (`scan PATH` is about those places). Without: external
    drives, and any non-system volume holding a uv directory the user set."""
    roots = tuple(mount_roots)
    mounts = tuple(v.mountpoint for v in volumes)
    if paths:
        named = {volume_of(os_, path, mounts) for path in paths}
        return tuple(m for m in mounts if m in named)
    chosen = {v.mountpoint for v in volumes if external(os_, v, mount_roots=roots, include_fixed=include_fixed)}
    for loc in locations:
        if loc.source.kind is not SourceKind.DEFAULT:
            mount = volume_of(os_, loc.path, mounts)
            vol = next((v for v in volumes if v.mountpoint == mount), None)
            if vol is not None and not vol.system:
                chosen.add(vol.mountpoint)
    return tuple(m for m in mounts if m in chosen)


def where_uv_works(os_: Os, volumes: Sequence[Volume], locations: Iterable[Location]) -> tuple[str, ...]:
    """Volumes that are no disk of this computer (a network share, an overlay, a FUSE view of a
    remote place, object storage, a cluster filesystem, a OneDrive folder) or that refuse to run
    programs (`noexec`), holding a place uv uses: its default places too, since uv fails there
    as surely as at a place someone set. System mounts count (a home on NFS, a container's
    overlay root): only the uv places on them are judged, the volume is not walked."""
    mounts = tuple(v.mountpoint for v in volumes)
    chosen: set[str] = set()
    for loc in locations:
        mount = volume_of(os_, loc.path, mounts)
        vol = next((v for v in volumes if v.mountpoint == mount), None)
        if vol is not None and (cap.not_a_disk(vol) or vol.option("noexec")):
            chosen.add(vol.mountpoint)
    return tuple(m for m in mounts if m in chosen)


def roots_of(snapshot: Snapshot) -> tuple[str, ...]:
    """The roots this snapshot was scanned with: the user's, else the defaults."""
    return DEFAULT_MOUNT_ROOTS if snapshot.mount_roots is None else snapshot.mount_roots
