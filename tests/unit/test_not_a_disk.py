"""Filesystems that are no disk of this computer: named on each OS, judged where uv's places lie,
probed only where probing is safe."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import pytest

from uv_drive_guard.core import capability as cap
from uv_drive_guard.core import scope
from uv_drive_guard.core.model import Capabilities, Location, Os, Role, Source, SourceKind, Volume
from uv_drive_guard.edges import probe
from uv_drive_guard.edges.volumes import _linux, _macos

DEFAULT = Source(SourceKind.DEFAULT)


def vol(mountpoint: str, fstype: str, **more: Any) -> Volume:
    return Volume(mountpoint=mountpoint, device=more.pop("device", "x"), fstype=fstype, **more)


@pytest.mark.parametrize(
    "fstype",
    ["nfs", "nfs4", "overlay", "fuse.sshfs", "fuse.s3fs", "fuse.gcsfuse", "fuse.ossfs", "fuse.blobfuse2", "lustre",
     "gpfs", "onedrive", "smbfs", "macfuse"],
)  # fmt: skip
def test_not_a_disk(fstype: str) -> None:
    assert cap.not_a_disk(vol("/x", fstype))


@pytest.mark.parametrize("fstype", ["ext4", "btrfs", "exfat", "ntfs", "apfs", "tmpfs"])
def test_disks_are_disks(fstype: str) -> None:
    assert not cap.not_a_disk(vol("/x", fstype))


def test_a_home_on_nfs_is_judged_where_uv_works_and_nowhere_else() -> None:
    """A system mount (never removable, never walked) enters the scope by uv's default places."""
    volumes = [
        vol("/", "ext4", system=True),
        vol("/home", "nfs4", system=True),
        vol("/srv/data", "nfs4", system=True),
        vol("/tmp", "tmpfs", system=True, options=("rw", "noexec")),
        vol("/scratch", "ext4"),
    ]
    places = [
        Location(Role.CACHE, "/home/ana/.cache/uv", DEFAULT),
        Location(Role.TEMP_DIR, "/tmp", DEFAULT),
        Location(Role.TOOL_DIR, "/scratch/tools", DEFAULT),
    ]
    assert scope.where_uv_works(Os.LINUX, volumes, places) == ("/home", "/tmp")


def test_sshfs_links_unreadable_is_not_nosymfollow() -> None:
    """The probe's link off the drive: EPERM from sshfs (seen), ELOOP from a nosymfollow mount."""
    sshfs = vol("/l", "fuse.sshfs", capabilities=_caps(symlink_follow=1))
    nosymfollow = vol("/n", "ext4", capabilities=_caps(symlink_follow=40))
    assert cap.links_unreadable(sshfs) == "error 1" and cap.no_exec(sshfs) is None
    assert cap.links_unreadable(nosymfollow) is None and cap.no_exec(nosymfollow) == "nosymfollow"
    assert cap.links_unreadable(vol("/u", "fuse.sshfs")) == "Operation not permitted (os error 1)"  # by name


def _caps(**refused: int) -> Capabilities:
    ops = {"symlink_file": True, "symlink_dir": True, **{op: False for op in refused}}
    return Capabilities(
        results=tuple(ops.items()),
        errors=tuple((op, f"error {code}") for op, code in refused.items()),
        errnos=tuple(refused.items()),
        probed=True,
    )


def test_object_storage_by_name() -> None:
    bucket = vol("/mnt/b", "fuse.s3fs")
    assert cap.can(bucket, "hardlink") is False and cap.can(bucket, "rename_noreplace") is False
    assert cap.persist_errno(bucket) == 95 and cap.persist_unsupported(Os.LINUX, 95)


@pytest.mark.parametrize(
    ("fstype", "said"),
    [("onedrive", "OneDrive folder"), ("fuse.s3fs", "object storage"), ("fuse.gcsfuse", "object storage")],
)
def test_never_probed(tmp_path: Path, fstype: str, said: str) -> None:
    """No scratch directory is made where it would be uploaded, downloaded or billed."""
    ran: list[Path] = []
    caps = probe.probe(vol(str(tmp_path), fstype), runner=lambda scratch: ran.append(scratch) or {})
    assert not caps.probed and said in (caps.note or "") and ran == []
    assert list(tmp_path.iterdir()) == []


class Part(NamedTuple):
    device: str
    mountpoint: str
    fstype: str
    opts: str


def test_linux_lists_overlays_shares_and_fuse_views() -> None:
    parts = [
        Part("overlay", "/", "overlay", "rw"),
        Part("nas:/export/home", "/home", "nfs4", "rw"),
        Part("ana@lab:/srv", "/home/ana/lab", "fuse.sshfs", "rw"),
        Part("s3fs", "/mnt/bucket", "fuse.s3fs", "rw"),
        Part("10.0.0.1@tcp:/fsx", "/fsx", "lustre", "rw"),
        Part("proc", "/proc", "proc", "rw"),
    ]
    found = _linux.list_volumes(
        partitions=lambda all: parts, mounted=lambda mp: True, mount_table=lambda: {}, resolver=_linux.Resolver()
    )
    assert {v.mountpoint: v.fstype for v in found} == {
        "/": "overlay",
        "/home": "nfs4",
        "/home/ana/lab": "fuse.sshfs",
        "/mnt/bucket": "fuse.s3fs",
        "/fsx": "lustre",
    }


def test_macos_names_nfs_smb_and_macfuse() -> None:
    assert _macos.real_fstype({}, "nfs") == "nfs"
    assert _macos.real_fstype({}, "smbfs") == "smbfs"
    assert _macos.real_fstype({}, "osxfuse") == "macfuse"
    assert cap.not_a_disk(vol("/Volumes/lab", _macos.real_fstype({}, "macfuse")))
