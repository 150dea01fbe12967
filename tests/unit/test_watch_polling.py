"""The polling watcher (Windows, macOS) notices a card inserted in a reader that keeps its letter.

The partitions are psutil's as psutil_disk_partitions builds them on Windows
(psutil/arch/windows/disk.c): a removable letter is listed whether or not a card is in it; when
GetVolumeInformation fails (ERROR_NOT_READY, no medium) its fstype is "" and opts "removable",
with a card the fstype is the card's ("FAT32") and opts "rw,removable". The serial is what
GetVolumeInformationW returns for the card (recorded values from tests/data/windows).
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import pytest

from uv_drive_guard.app import watch
from uv_drive_guard.edges import mountinfo, mounts, volumes


class Part(NamedTuple):
    device: str
    mountpoint: str
    fstype: str
    opts: str


C = Part("C:\\", "C:\\", "NTFS", "rw,fixed")
EMPTY_READER = Part("G:\\", "G:\\", "", "removable")
CARD = Part("G:\\", "G:\\", "FAT32", "rw,removable")


def keys(*parts: Part, serials: dict[str, str]) -> frozenset[mounts.Key]:
    return mounts.keys_of(parts, lambda root: serials[root])


def test_a_card_inserted_or_swapped_changes_the_keys() -> None:
    camera = {"C:\\": "A8BF1E62", "G:\\": "9C001B01"}
    other_card = {"C:\\": "A8BF1E62", "G:\\": "5E7A1C3B"}
    empty = keys(C, EMPTY_READER, serials=camera)
    inserted = keys(C, CARD, serials=camera)
    swapped = keys(C, CARD, serials=other_card)
    assert {k[0] for k in empty} == {k[0] for k in inserted}  # the letters alone never changed
    assert len({empty, inserted, swapped}) == 3
    assert ("G:\\", "", "") in empty  # an empty reader is not asked for a serial


def test_the_poller_fires_for_a_card_in_the_same_letter() -> None:
    states = iter(
        [
            keys(C, EMPTY_READER, serials={"C:\\": "1"}),
            keys(C, CARD, serials={"C:\\": "1", "G:\\": "2"}),
        ]
    )
    last: list[frozenset[mounts.Key]] = []

    def table() -> frozenset[mounts.Key]:
        last[:] = [next(states, last[0] if last else frozenset())]
        return last[0]

    changed = threading.Event()
    poller = watch.PollingWatcher(interval=0.01, keys=table)
    poller.start(changed.set)
    try:
        assert changed.wait(5)
    finally:
        poller.stop()


def test_the_daemon_never_waits_on_a_share_for_its_mount_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """psutil.disk_partitions(all=True) calls GetVolumeInformation on every mapped drive (psutil's
    disk.c); the daemon's mount list takes local drives from all=False and mapped letters from
    GetLogicalDrives/GetDriveTypeW, which never ask the server."""
    import psutil

    from uv_drive_guard.edges.volumes import _windows

    asked: list[bool] = []

    def partitions(all: bool = False) -> list[Part]:
        asked.append(all)
        return [C, CARD]

    monkeypatch.setattr("sys.platform", "win32")
    monkeypatch.setattr(psutil, "disk_partitions", partitions)
    monkeypatch.setattr(_windows, "get_remote_roots", lambda: ["Z:\\"])
    monkeypatch.setattr(volumes, "volume_serial", lambda root: "1")
    assert {entry[1] for entry in mounts.table()} == {"C:\\", "G:\\", "Z:\\"}
    assert asked == [False]


def test_a_card_swapped_in_its_reader_is_a_mount_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same letter, same device, same file system: only the serial tells the new card, and the
    worker rescans only for a table that changed."""
    import psutil

    from uv_drive_guard.edges.volumes import _windows

    serials = {"C:\\": "1", "G:\\": "AAAA0001"}
    monkeypatch.setattr("sys.platform", "win32")
    monkeypatch.setattr(psutil, "disk_partitions", lambda all=False: [C, CARD])
    monkeypatch.setattr(_windows, "get_remote_roots", lambda: [])
    monkeypatch.setattr(volumes, "volume_serial", lambda root: serials[root])
    before = mounts.table()
    serials["G:\\"] = "BBBB0002"
    assert mounts.table() != before


def test_a_drive_mounted_again_in_the_same_place_is_a_mount_change() -> None:
    """Linux hands the same loop device or /dev/sdb1 and the same folder to the next drive; the
    mount's id tells them apart whenever the old one was not yet free."""
    line = "{id} 27 7:6 / /media/ana/STICK rw,nosuid,nodev,relatime - fuseblk /dev/sdb1 rw,user_id=0\n"
    first = mounts.linux_table(mountinfo.parse(line.format(id=47)))
    assert first == mounts.linux_table(mountinfo.parse(line.format(id=47)))
    assert first != mounts.linux_table(mountinfo.parse(line.format(id=52)))


@pytest.mark.parametrize("fails", ["at the start", "between two polls"])
def test_a_mount_list_that_cannot_be_read_does_not_end_the_watching(fails: str) -> None:
    """psutil.disk_partitions raises OSError from the system call (psutil's disk.c), and the serial
    query may fail for a volume going away: the poller keeps going and sees the card afterwards."""
    before = keys(C, EMPTY_READER, serials={"C:\\": "1"})
    after = keys(C, CARD, serials={"C:\\": "1", "G:\\": "2"})
    steps: list[object] = [OSError(21, "The device is not ready"), before, after]
    if fails == "between two polls":
        steps = [before, OSError(21, "The device is not ready"), RuntimeError("psutil"), after]

    def table() -> frozenset[mounts.Key]:
        step = steps.pop(0) if len(steps) > 1 else steps[0]
        if isinstance(step, Exception):
            raise step
        assert isinstance(step, frozenset)
        return step

    changed = threading.Event()
    poller = watch.PollingWatcher(interval=0.01, keys=table)
    poller.start(changed.set)
    try:
        assert changed.wait(5)
        assert poller._thread is not None and poller._thread.is_alive()
    finally:
        poller.stop()
