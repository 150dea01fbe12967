"""The one mountinfo parser: escapes, options, order, and both of its readers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from uv_drive_guard.edges import mountinfo, untrusted
from uv_drive_guard.edges.volumes import _linux

TABLE = (
    "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
    "40 22 8:17 / /media/ana/My\\040Stick rw,nosuid,nodev shared:9 - fuseblk /dev/sdb1 rw,user_id=0\n"
    "41 22 8:17 /demo /srv/bind\\134dir rw shared:9 - fuseblk /dev/sdb1 rw,user_id=0\n"
    "broken line without separator\n"
    "42 22 8:18 / /media/ana/My\\040Stick ro,noexec - vfat /dev/sdc1 ro\n"
)


def test_fields_escapes_and_order() -> None:
    mounts = mountinfo.parse(TABLE)
    assert [m.mountpoint for m in mounts] == ["/", "/media/ana/My Stick", "/srv/bind\\dir", "/media/ana/My Stick"]
    options = ("rw", "nosuid", "nodev", "user_id=0")
    assert mounts[1] == mountinfo.Mount("/media/ana/My Stick", "8:17", "/", options, "fuseblk", mount_id="40")
    assert mounts[2].root == "/demo"


def test_the_volume_listing_keeps_the_later_mount_on_a_point() -> None:
    table = _linux.mount_table(mountinfo.parse(TABLE))
    assert table["/media/ana/My Stick"] == _linux.MountInfo("8:18", "/", ("ro", "noexec"))


def test_an_unreadable_table_is_none(tmp_path: Path) -> None:
    assert mountinfo.read(str(tmp_path / "absent")) is None
    assert _linux.read_mountinfo(str(tmp_path / "absent")) == {}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/mountinfo is Linux's")
def test_the_untrusted_check_reads_this_machines_table() -> None:
    mounts = mountinfo.read()
    assert mounts is not None
    assert untrusted.mount_table() == [(m.mountpoint, m.fstype) for m in mounts]
    assert any(point == "/" for point, _ in untrusted.mount_table())


def test_a_disks_sequence_number_names_this_attachment(tmp_path: Path) -> None:
    """diskseq grows with each attach and is never handed out again before a reboot (unlike
    mount IDs): a partition reads its disk's."""
    disk = tmp_path / "devices" / "sdb"
    (disk / "sdb1").mkdir(parents=True)
    (disk / "diskseq").write_text("57\n")
    block = tmp_path / "class-block"
    block.mkdir()
    (block / "sdb").symlink_to(disk)
    (block / "sdb1").symlink_to(disk / "sdb1")
    assert _linux.disk_seq("/dev/sdb1", str(block)) == "diskseq:57"
    assert _linux.disk_seq("/dev/sdb", str(block)) == "diskseq:57"
    assert _linux.disk_seq("/dev/sdc1", str(block)) is None
    assert _linux.disk_seq("server:/export", str(block)) is None
