"""The daemon's thread model, measured on real drives (docs/architecture.md, "Threads in the
daemon"): between scans the daemon runs the same threads, however many drives come and go; a
scan adds at most one walk and one probe thread per drive, which end with their work; a drive
whose driver froze keeps at most one of each, however often it is scanned again.

The worker runs in this process with a real mount watcher and the real scan, so its threads can
be told apart by name; the scan is handed to it behind a gate the test can close, so the threads
are counted when no scan runs, and a sampler watches them while scans run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.daemon_fakes import Changes, FakeNotifier, Views

from uv_drive_guard import scan
from uv_drive_guard.app.memory import Memory
from uv_drive_guard.app.service import Service
from uv_drive_guard.app.watch import MountinfoWatcher
from uv_drive_guard.core.model import Snapshot
from uv_drive_guard.edges import walk
from uv_drive_guard.fixing.journal import Journal

from . import drives

PLUGS = 12
RESCANS = 5
PER_DRIVE = ("walk", "probe")  # the threads of one drive's work: named "<kind> <mount point>..."


class Sampler:
    """Looks at the process's threads every millisecond or so: the most of one kind of drive work
    seen at once for one drive, every such thread seen, and every thread at all."""

    def __init__(self) -> None:
        self.most: dict[tuple[str, str], int] = defaultdict(int)
        self.seen: set[threading.Thread] = set()
        self.every: set[threading.Thread] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="thread sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(0.001):
            self.every.update(threading.enumerate())
            now: dict[tuple[str, str], int] = defaultdict(int)
            for thread in drive_work():
                kind, _, key = thread.name.partition(" ")
                now[(kind, key.split("\0", 1)[0])] += 1
                self.seen.add(thread)
            for where, count in now.items():
                self.most[where] = max(self.most[where], count)


def drive_work() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.split(" ", 1)[0] in PER_DRIVE]


@pytest.fixture
def root() -> Iterator[Path]:
    """Drives go here, out of other tests' scopes; the worker's scope is this folder alone."""
    reason = drives.requirement("exfat")
    if reason:
        drives.need_real(reason)
    path = Path(tempfile.mkdtemp(prefix=f"uvdg-threads-{uuid.uuid4().hex[:6]}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class Worker:
    """The daemon's worker on the real machine, its scan behind a gate."""

    def __init__(self, root: Path, tmp_path: Path) -> None:
        self.gate = threading.Lock()
        self.changes = Changes()
        self.views = Views(self.changes)
        options = scan.Options(
            mount_roots=(str(root),), probe_timeout=0.5, walk=walk.Budget(seconds=0.5), confirm_with_uv=False
        )
        self.svc = Service(
            env={"HOME": str(tmp_path), "PATH": os.environ["PATH"]},
            options=lambda: options,
            notifier=FakeNotifier(self.changes),
            watcher=MountinfoWatcher(),
            publish=self.views,
            memory=Memory(tmp_path / "drives.json"),
            journal=Journal(tmp_path / "journal"),
            gather=self._gather,
        )

    def _gather(self, *args: object, **kwargs: object) -> Snapshot:
        with self.gate:
            return scan.gather(*args, **kwargs)  # type: ignore[arg-type]

    def shows(self, *mountpoints: Path) -> None:
        """Until a scan has seen exactly these drives."""
        wanted = {str(m) for m in mountpoints}
        self.changes.wait(lambda: {r.mountpoint for r in self.svc.reports} == wanted, timeout=30)

    def daemon_threads(self) -> set[threading.Thread]:
        """Counted with the gate closed: no scan is under way meanwhile. The daemon's own threads,
        by their names: the worker, its executor, the scan's fan-out, the mount watcher."""
        with self.gate:
            names = ("uv-drive-guard ", "scan ", "mount watcher")
            return {t for t in threading.enumerate() if t.name.startswith(names)}


def test_the_threads_stay_the_same_across_plugs_and_scans(root: Path, tmp_path: Path) -> None:
    worker = Worker(root, tmp_path)
    images: list[Path] = []
    for label in ("STICKA", "STICKB"):
        with drives.make_drive("exfat", tmp_path / "images", label=label) as made:
            (made.mountpoint / "proj").mkdir()
            (made.mountpoint / "proj" / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "0"\n')
            assert made.image is not None
            images.append(made.image)
    worker.svc.start()
    try:
        worker.shows()
        before = set(threading.enumerate())
        with Sampler() as sampler:
            counted: list[set[threading.Thread]] = []
            for plug in range(PLUGS):
                both = plug % 3 == 2  # every third plug, two drives at once
                with contextlib.ExitStack() as stack:
                    a = stack.enter_context(drives.make_drive("exfat", root, name="A", image=images[0]))
                    plugged = [a.mountpoint]
                    if both:
                        b = stack.enter_context(drives.make_drive("exfat", root, name="B", image=images[1]))
                        plugged.append(b.mountpoint)
                    worker.shows(*plugged)
                    counted.append(worker.daemon_threads())
                    assert drive_work() == [], "a drive that answers keeps no thread once scanned"
                worker.shows()
                counted.append(worker.daemon_threads())
        scans = worker.svc.scans
    finally:
        worker.svc.stop()
    assert scans >= 2 * PLUGS
    assert all(threads == counted[0] for threads in counted), "the daemon's threads changed between scans"
    assert {t.name.split(" ")[0] for t in sampler.seen} == set(PER_DRIVE), "the sampler saw no drive work"
    assert max(sampler.most.values()) == 1, dict(sampler.most)  # one walk, one probe per drive at most
    started = {t.name for t in sampler.every - before - counted[0] - sampler.seen} - {"thread sampler"}
    assert started == set(), "threads other than a drive's walk and probe were started for scans"


def test_a_frozen_drive_keeps_one_walk_and_one_probe_thread(root: Path, tmp_path: Path) -> None:
    worker = Worker(root, tmp_path)
    worker.svc.start()
    try:
        worker.shows()
        before = worker.daemon_threads()
        with drives.make_drive("exfat", root, name="FROZEN", label="FROZEN") as drive:
            (drive.mountpoint / "proj").mkdir()
            worker.shows(drive.mountpoint)
            pids = drives.fuse_pids(drive)
            for pid in pids:
                os.kill(pid, signal.SIGSTOP)
            try:
                with Sampler() as sampler:
                    for _ in range(RESCANS):  # "Rescan now" forgets the memo: walk and probe again
                        done = worker.svc.scans
                        worker.svc.controller.rescan()
                        worker.changes.wait(lambda n=done: worker.svc.scans > n, timeout=30)
                stuck = {t.name.split(" ")[0] for t in drive_work()}
            finally:
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGCONT)
        worker.shows()
        after = worker.daemon_threads()
    finally:
        worker.svc.stop()
    assert stuck == set(PER_DRIVE), "the frozen drive's walk and probe were given up and kept"
    mount = str(root / "FROZEN")
    assert sampler.most[("walk", mount)] == 1 and sampler.most[("probe", mount)] == 1, dict(sampler.most)
    assert len({t for t in sampler.seen if mount in t.name}) <= 2, "a new thread per scan of the frozen drive"
    assert after == before
