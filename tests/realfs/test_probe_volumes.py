"""The Linux edges on real filesystems: the volume list names the real filesystem, and the
probe finds what uv 0.13.9 meets there (errnos as measured with real uv, docs/uv-facts.md, "uv on Linux")."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from uv_drive_guard.core.model import Capabilities, Volume
from uv_drive_guard.edges import probe as probing
from uv_drive_guard.edges.volumes import list_volumes

from . import drives

# op -> (result, errno) per filesystem, as exfat-fuse, fusefat, ntfs-3g and the kernel gave them.
EXPECTED = {
    "exfat": {
        "hardlink": (False, 1),
        "symlink_file": (False, 38),
        "symlink_dir": (False, 38),
        "rename_noreplace": (False, 1),
        "reflink": (False, 95),
        "flock_exclusive": (True, None),
        "case_sensitive": (False, None),
    },
    "vfat": {
        "hardlink": (False, 1),
        "symlink_file": (False, 38),
        "rename_noreplace": (False, 1),
        "exec_bit": (False, 38),
        "case_sensitive": (False, None),
    },
    "ntfs": {
        "hardlink": (True, None),
        "symlink_file": (True, None),
        "rename_noreplace": (True, None),
        "reflink": (False, 95),
        "case_sensitive": (True, None),
    },
    "btrfs": {"hardlink": (True, None), "reflink": (True, None), "rename_noreplace": (True, None)},
    "ext4": {"hardlink": (True, None), "reflink": (False, 95), "symlink_dir": (True, None)},
    "xfs": {"reflink": (True, None), "flock_shared": (True, None)},
    "tmpfs": {"hardlink": (True, None), "symlink_file": (True, None), "reflink": (False, 95)},
}
FSTYPE = {
    "exfat": ("exfat", "fuseblk"),
    "vfat": ("vfat", "fuse.fusefat"),
    "ntfs": ("ntfs", "fuseblk"),
    "btrfs": ("btrfs", "btrfs"),
    "ext4": ("ext4", "ext4"),
    "xfs": ("xfs", "xfs"),
    "tmpfs": ("tmpfs", "tmpfs"),
}


def _volume(drive: drives.Drive) -> Volume:
    return next(v for v in list_volumes() if v.mountpoint == str(drive.mountpoint))


@pytest.fixture(params=list(EXPECTED))
def drive(request: pytest.FixtureRequest, tmp_path: Path):
    reason = drives.requirement(request.param)
    if reason:
        drives.need_real(reason)
    with drives.make_drive(request.param, tmp_path, label="PROBE") as mounted:
        yield mounted


def test_volume_names_the_real_filesystem(drive: drives.Drive) -> None:
    volume = _volume(drive)
    assert (volume.fstype, volume.mount_fstype) == FSTYPE[drive.kind]
    if drive.kind in ("exfat", "vfat", "ntfs"):
        assert volume.device.startswith("/dev/loop")  # fusefat's "fusefat" source resolved too
        assert volume.label == "PROBE"
    assert volume.read_only is False


def test_probe_finds_what_uv_meets(drive: drives.Drive) -> None:
    caps = probing.probe(_volume(drive))
    assert caps.probed, caps.note
    for op, (result, errno) in EXPECTED[drive.kind].items():
        assert (caps.get(op), caps.errno(op)) == (result, errno), op
    assert not [p for p in os.listdir(drive.mountpoint) if p.startswith(probing.PREFIX)]


def test_probe_cleans_what_a_crash_left(drive: drives.Drive) -> None:
    stale = drive.mountpoint / f"{probing.PREFIX}999-dead"
    stale.mkdir()
    (stale / "a").write_text("left by a crash")
    probing.probe(_volume(drive))
    assert not stale.exists()


def test_read_only_volume_is_not_probed(tmp_path: Path) -> None:
    reason = drives.requirement("ext4")
    if reason:
        drives.need_real(reason)
    with drives.make_drive("ext4", tmp_path) as mounted:
        os.system(f"mount -o remount,ro {mounted.mountpoint}")
        volume = _volume(mounted)
        assert volume.read_only
        caps = probing.probe(volume)
        assert not caps.probed and "read-only" in (caps.note or "")
        os.system(f"mount -o remount,rw {mounted.mountpoint}")


def test_probe_gives_up_on_a_drive_that_does_not_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    volume = Volume(mountpoint=str(tmp_path), device="/dev/null", fstype="exfat")
    monkeypatch.setattr(probing, "_mounted", lambda mountpoint: os.stat(mountpoint).st_dev)  # as if mounted

    def hangs(scratch: Path) -> dict[str, tuple[bool | None, int | None, str | None]]:
        time.sleep(2)
        return {}

    start = time.monotonic()
    caps = probing.probe(volume, timeout=0.2, runner=hangs)
    assert time.monotonic() - start < 1.0
    assert caps == Capabilities(note="the drive did not answer within 0.2 s")


def test_a_drive_ejected_after_the_listing_is_not_probed_beneath(tmp_path: Path) -> None:
    """Listed as mounted, gone by the probe: the empty mount point is the system disk, which
    must be neither measured as the drive nor written into."""
    volume = Volume(mountpoint=str(tmp_path), device="/dev/sdz1", fstype="exfat")
    caps = probing.probe(volume, timeout=5)
    assert caps == Capabilities(note="the drive went away during the probe")
    assert list(tmp_path.iterdir()) == []
