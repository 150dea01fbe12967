"""Faults on real drives: pulled out mid-probe and mid-walk, FUSE driver killed or frozen, full,
mounted read-only; the daemon through all of it; the notification service going away and back.

The rule under test (docs/architecture.md, "Safety, as it is built"): a drive's failure is the
drive's problem, reported as "unknown"
with a note, never a hang, a crash, a write to a read-only volume, or a probe directory left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from uv_drive_guard import scan
from uv_drive_guard.edges import probe as probing
from uv_drive_guard.edges import walk

from . import drives
from .against_uv import CLI, env_for
from .daemon_process import exe, log_file, wait_for

PREFIX = probing.PREFIX
SCAN_BUDGET = 25.0  # probe timeout (3 s) + walk (2 s) + uv + start-up, with room for a slow CI box


def _need(*kinds: str) -> None:
    for kind in kinds:
        reason = drives.requirement(kind)
        if reason:
            drives.need_real(reason)


@pytest.fixture
def root() -> Iterator[Path]:
    """A fresh directory under /mnt (in the scan's automatic scope); no mount may outlive a test."""
    if os.geteuid() != 0:
        drives.need_real("mounting under /mnt needs root")
    path = Path("/mnt") / f"uvdg-faults-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    try:
        yield path
    finally:
        left = [e.mountpoint for e in drives.mountinfo() if e.mountpoint.startswith(f"{path}/")]
        for mountpoint in left:
            subprocess.run(["umount", "-l", mountpoint], capture_output=True, check=False)
        subprocess.run(["rm", "-rf", "--one-file-system", str(path)], capture_output=True, check=False)
        assert not left, f"mounts left behind: {left}"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def _leftovers(mountpoint: Path) -> list[str]:
    return [name for name in os.listdir(mountpoint) if name.startswith(PREFIX)]


def _cli_scan(env: dict[str, str], *paths: Path, config: Path | None = None) -> tuple[float, dict[str, Any]]:
    argv = [str(CLI), "scan", *(str(p) for p in paths), "--json", *(["--config", str(config)] if config else [])]
    start = time.monotonic()
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=SCAN_BUDGET, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"scan did not return within {SCAN_BUDGET} s: {exc}")
    elapsed = time.monotonic() - start
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode in (0, 1), f"scan exited {done.returncode}:\n{done.stderr[-3000:]}"
    return elapsed, json.loads(done.stdout)


def _volume(report: dict[str, Any], mountpoint: Path) -> dict[str, Any] | None:
    return next((v for v in report["volumes"] if v["mountpoint"] == str(mountpoint)), None)


def _snapshot_volume(snapshot: Any, mountpoint: Path) -> Any:
    return next(v for v in snapshot.volumes if v.mountpoint == str(mountpoint))


def _options(*paths: Path, probe_timeout: float = 3.0, seconds: float = 2.0) -> scan.Options:
    return scan.Options(
        paths=tuple(str(p) for p in paths),
        mount_roots=("/nonexistent-uvdg",),  # only the drive named: other tests' drives under /mnt stay out
        probe_timeout=probe_timeout,
        confirm_with_uv=False,
        walk=walk.Budget(max_depth=30, max_entries=1_000_000, seconds=seconds),
    )


# --- (a) yanked during the probe ------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "how"), [("exfat", "lazy"), ("exfat", "kill"), ("ext4", "lazy")])
def test_yanked_during_the_probe(
    kind: str, how: str, root: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _need(kind)
    real = probing._native_runner()
    with drives.make_drive(kind, root, name="STICK", label="STICK") as drive:
        image = drive.image

        def runner(scratch: Path) -> Any:
            """The scratch directory exists; now the drive goes, from another thread, mid-probe."""
            if str(scratch).startswith(f"{drive.mountpoint}/"):
                yanker = threading.Thread(target=drives.yank, args=(drive, how))
                yanker.start()
                yanker.join()
            return real(scratch)

        monkeypatch.setattr(probing, "_native_runner", lambda: runner)
        start = time.monotonic()
        snapshot = scan.gather(env_for(home), _options(drive.mountpoint, probe_timeout=3.0))
        elapsed = time.monotonic() - start
        caps = _snapshot_volume(snapshot, drive.mountpoint).capabilities
        assert elapsed < 3.0 + 2.0, f"the scan took {elapsed:.1f} s"
        assert not caps.probed and caps.note, caps
    monkeypatch.undo()
    # The same drive plugged in again: the process whose probe the yank cut short (a daemon,
    # here this test) cleans the scratch directory it stranded at its next probe.
    with drives.make_drive(kind, root, name="STICK", label="STICK", image=image) as again:
        snapshot = scan.gather(env_for(home), _options(again.mountpoint, probe_timeout=3.0))
        assert _snapshot_volume(snapshot, again.mountpoint).capabilities.probed
        assert not _leftovers(again.mountpoint)


def test_a_probe_slower_than_its_budget_is_unknown_with_a_note(
    root: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _need("exfat")
    real = probing._native_runner()
    release = threading.Event()

    def slow(scratch: Path) -> Any:
        release.wait(20)
        return real(scratch)

    monkeypatch.setattr(probing, "_native_runner", lambda: slow)
    with drives.make_drive("exfat", root, name="STICK", label="STICK") as drive:
        start = time.monotonic()
        snapshot = scan.gather(env_for(home), _options(drive.mountpoint, probe_timeout=1.0))
        elapsed = time.monotonic() - start
        release.set()
        caps = _snapshot_volume(snapshot, drive.mountpoint).capabilities
        assert elapsed < 1.0 + 3.0
        assert not caps.probed and "did not answer within 1 s" in (caps.note or "")
        deadline = time.monotonic() + 10
        while _leftovers(drive.mountpoint) and time.monotonic() < deadline:
            time.sleep(0.05)  # the late probe finishes in the background and removes its directory
        assert not _leftovers(drive.mountpoint)


def test_scan_of_a_drive_whose_fuse_driver_was_killed(root: Path, home: Path) -> None:
    _need("exfat")
    with drives.make_drive("exfat", root, name="STICK", label="STICK") as drive:
        drives.yank(drive, "kill")
        _elapsed, report = _cli_scan(env_for(home))  # the automatic scope: every drive under /mnt
        volume = _volume(report, drive.mountpoint)
        assert volume is not None, "the dead mount is still in the mount table"
        assert not volume["capabilities"]["probed"] and volume["capabilities"]["note"]


def test_scan_of_a_frozen_fuse_driver_returns_within_its_budget(root: Path, home: Path) -> None:
    """A FUSE driver that stops answering (SIGSTOP: a wedged exfat-fuse, a dying USB bridge) must
    cost the probe timeout, not the whole scan: docs/architecture.md says "bound the probe in time"."""
    _need("exfat")
    with drives.make_drive("exfat", root, name="STICK", label="STICK") as drive:
        (drive.mountpoint / "proj").mkdir()
        pids = drives.fuse_pids(drive)
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            argv = [str(CLI), "scan", "--json"]
            proc = subprocess.Popen(argv, env=env_for(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                out, err = proc.communicate(timeout=SCAN_BUDGET)
            except subprocess.TimeoutExpired:
                stack = _stack_of(proc.pid)
                proc.kill()
                for pid in pids:
                    os.kill(pid, signal.SIGCONT)
                proc.communicate(timeout=30)
                pytest.fail(f"scan hung on a frozen FUSE drive for {SCAN_BUDGET} s; it was in:\n{stack}")
        finally:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)
        assert proc.returncode in (0, 1), err[-3000:]
        volume = _volume(json.loads(out), drive.mountpoint)
        assert volume is not None and not volume["capabilities"]["probed"]


def _stack_of(pid: int) -> str:
    """Where each thread of a hung process waits (kernel side), for the failure message."""
    lines = []
    for task in sorted(Path(f"/proc/{pid}/task").iterdir()):
        with contextlib.suppress(OSError):
            wchan = (task / "wchan").read_text()
            syscall = (task / "syscall").read_text().split()[0]
            lines.append(f"  thread {task.name}: wchan={wchan} syscall={syscall}")
    return "\n".join(lines)


# --- (b) yanked during the walk -------------------------------------------------------------------


def _tree(base: Path, width: int = 30, depth: int = 3) -> None:
    """width**depth directories, a project in some of them."""
    level = [base]
    for d in range(depth):
        nxt = []
        for parent in level:
            for i in range(width if d < depth - 1 else 3):
                child = parent / f"d{i}"
                child.mkdir()
                nxt.append(child)
        level = nxt
    for i, leaf in enumerate(level[::50]):
        (leaf / "pyproject.toml").write_text(f'[project]\nname = "p{i}"\n[tool.uv]\n')


@pytest.mark.parametrize(("kind", "how"), [("ext4", "lazy"), ("exfat", "kill"), ("exfat", "lazy")])
def test_yanked_during_the_walk(kind: str, how: str, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _need(kind)
    with drives.make_drive(kind, root, name="STICK", label="STICK") as drive:
        _tree(drive.mountpoint, width=12, depth=2)
        real_list = walk._list
        calls = 0
        yanked = threading.Event()

        def listing(path: str) -> Any:
            nonlocal calls
            calls += 1
            if calls == 20:  # well into the walk: the other thread pulls the drive
                threading.Thread(target=lambda: (drives.yank(drive, how), yanked.set())).start()
                assert yanked.wait(15)
            return real_list(path)

        monkeypatch.setattr(walk, "_list", listing)
        start = time.monotonic()
        result = walk.walk(str(drive.mountpoint), str(drive.mountpoint), walk.Budget(max_depth=10, seconds=30))
        assert yanked.is_set() and time.monotonic() - start < 10
        assert calls > 20 and result.entries > 0


@pytest.mark.parametrize("how", ["lazy", "kill"])
def test_cli_scan_survives_a_drive_pulled_while_it_walks(how: str, root: Path, home: Path, tmp_path: Path) -> None:
    _need("exfat")
    config = tmp_path / "config.toml"
    config.write_text("[walk]\nmax_depth = 20\nmax_entries = 1000000\nseconds = 30.0\n")
    with drives.make_drive("exfat", root, name="STICK", label="STICK") as drive:
        _tree(drive.mountpoint, width=14, depth=3)
        proc = subprocess.Popen(
            [str(CLI), "scan", str(drive.mountpoint), "--json", "--config", str(config)],
            env=env_for(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.4)
        yanker = threading.Thread(target=drives.yank, args=(drive, how))
        yanker.start()
        try:
            out, err = proc.communicate(timeout=SCAN_BUDGET)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail("scan hung after the drive was pulled mid-walk")
        finally:
            yanker.join()  # before the drive's own clean-up, which would race the yank
        assert "Traceback" not in err and proc.returncode in (0, 1), err[-3000:]
        assert json.loads(out)["volumes"]


# --- (c) the daemon ----------------------------------------------------------------------------


def test_daemon_survives_yanks_and_leaves_no_probe_directory(root: Path, home: Path) -> None:
    _need("exfat")
    (home / ".bashrc").write_text(f'export UV_CACHE_DIR="{root}/STICK/uv-cache"\n')
    env = env_for(home)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env.pop("DISPLAY", None)
    with drives.make_drive("exfat", root, label="STICK", name="STICK") as first:
        image = first.image
        stale = first.mountpoint / f"{PREFIX}99999-deadbeef"
        stale.mkdir()
        (stale / "a").write_text("left by a crash")
    daemon = subprocess.Popen(
        [exe(), "run", "--headless"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    log = log_file(home)
    try:
        wait_for(log, "is running")
        count = log.read_text().count("scan (mount change)")
        for how in ("kill", "lazy", "kill"):
            with drives.make_drive("exfat", root, label="STICK", name="STICK", image=image) as drive:
                drives.yank(drive, how)  # at once: the daemon's probe and walk meet a dead drive
                time.sleep(1.5)
            time.sleep(1.0)
            count = log.read_text().count("scan (mount change)")
            assert daemon.poll() is None, f"the daemon died after a {how} yank:\n{log.read_text()[-3000:]}"
        with drives.make_drive("exfat", root, label="STICK", name="STICK", image=image) as drive:
            wait_for(log, "scan (mount change)", count=count + 1, timeout=30)
            deadline = time.monotonic() + 10
            while _leftovers(drive.mountpoint) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not _leftovers(drive.mountpoint), _leftovers(drive.mountpoint)
        text = log.read_text()
        assert daemon.poll() is None, text[-3000:]
        assert "the daemon's worker hit an error" not in text, text[-5000:]
        assert "Traceback" not in text, text[-5000:]
        assert "notice: uv on a drive that is not plugged in" in text
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            assert daemon.wait(timeout=15) == 0
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait()


# --- (d) full, (e) read-only ----------------------------------------------------------------------


def _fill(mountpoint: Path) -> None:
    with contextlib.suppress(OSError), (mountpoint / "filler").open("wb") as out:
        chunk = b"\xa5" * (1 << 20)
        while True:
            out.write(chunk)
            out.flush()
    with contextlib.suppress(OSError), (mountpoint / "filler2").open("wb", buffering=0) as out:
        while True:
            out.write(b"x" * 512)
    for i in range(10_000):
        try:
            (mountpoint / f"e{i}").mkdir()
        except OSError:
            break


@pytest.mark.parametrize(("kind", "size"), [("exfat", 8), ("ext4", 16)])
def test_full_drive(kind: str, size: int, root: Path, home: Path) -> None:
    _need(kind)
    (home / ".bashrc").write_text(f'export UV_CACHE_DIR="{root}/FULL/uv-cache"\n')
    with drives.make_drive(kind, root, size_mb=size, label="FULL", name="FULL") as drive:
        (drive.mountpoint / "proj").mkdir()
        (drive.mountpoint / "proj" / "pyproject.toml").write_text('[project]\nname = "p"\n[tool.uv]\n')
        _fill(drive.mountpoint)
        before = sorted(os.listdir(drive.mountpoint))
        _elapsed, report = _cli_scan(env_for(home), drive.mountpoint)
        volume = _volume(report, drive.mountpoint)
        assert volume is not None
        caps = volume["capabilities"]
        assert caps["probed"] or caps["note"], caps  # what it could, or why not
        assert sorted(os.listdir(drive.mountpoint)) == before
        assert not _leftovers(drive.mountpoint)


@contextlib.contextmanager
def _mount_read_only(image: Path, mountpoint: Path) -> Iterator[None]:
    device = drives._run(["losetup", "--find", "--show", str(image)]).stdout.strip()
    mountpoint.mkdir(exist_ok=True)
    try:
        drives._run(["mount", "-t", "ext4", "-o", "ro", device, str(mountpoint)])
        yield
    finally:
        drives._unmount(mountpoint)
        drives._detach(device)
        with contextlib.suppress(OSError):
            mountpoint.rmdir()


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def test_read_only_drive_is_not_probed_and_not_written(root: Path, home: Path, tmp_path: Path) -> None:
    _need("ext4")
    with drives.make_drive("ext4", tmp_path / "make", size_mb=32, label="RO") as made:
        (made.mountpoint / "proj").mkdir()
        (made.mountpoint / "proj" / "pyproject.toml").write_text('[project]\nname = "p"\n[tool.uv]\n')
        (made.mountpoint / f"{PREFIX}1-stale").mkdir()  # a leftover: on a read-only drive it must stay
        image = made.image
    assert image is not None
    (home / ".bashrc").write_text(f'export UV_CACHE_DIR="{root}/RO/uv-cache"\n')
    before, mtime = _digest(image), image.stat().st_mtime_ns
    mountpoint = root / "RO"
    with _mount_read_only(image, mountpoint):
        _elapsed, report = _cli_scan(env_for(home), mountpoint)
        volume = _volume(report, mountpoint)
        assert volume is not None and volume["read_only"], volume
        assert not volume["capabilities"]["probed"]
        assert "read-only" in (volume["capabilities"]["note"] or "")
        assert _leftovers(mountpoint) == [f"{PREFIX}1-stale"]
    assert _digest(image) == before and image.stat().st_mtime_ns == mtime, "the read-only drive was written"


# --- (f) the notification service goes away and comes back ---------------------------------------


def test_notification_service_goes_away_and_comes_back(root: Path, home: Path, tmp_path: Path) -> None:
    from tests.desktop import session

    for reason in (session.requirement(), drives.requirement("exfat")):
        if reason:
            drives.need_real(reason)
    (home / ".bashrc").write_text(f'export UV_CACHE_DIR="{root}/STICK/uv-cache"\n')
    with session.dunst_session(tmp_path / "desk") as desk:
        env = {**env_for(home), "DBUS_SESSION_BUS_ADDRESS": desk.bus_address}
        env.pop("DISPLAY", None)
        daemon = subprocess.Popen(
            [exe(), "run", "--headless"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        log = log_file(home)
        try:
            wait_for(log, "is running", timeout=30)
            assert "notifications: " in log.read_text()
            dunst = desk.procs.pop()
            dunst.kill()
            dunst.wait(timeout=10)
            with drives.make_drive("exfat", root, label="STICK", name="STICK"):
                wait_for(log, "notice: uv on STICK (exFAT)", timeout=30)
            assert daemon.poll() is None, log.read_text()[-3000:]
            with (desk.dir / "dunst2.log").open("wb") as out:
                desk.procs.append(
                    subprocess.Popen(
                        ["dunst", "-config", str(desk.dir / "dunstrc")], env=desk.env, stdout=out, stderr=out
                    )
                )
            session.wait_for("dunst again", lambda: desk.run("dunstctl", "is-paused", check=False).strip())
            with drives.make_drive("exfat", root, label="STICK2", name="STICK"):
                session.wait_for(
                    "a notification from the daemon",
                    lambda: desk.count("displayed") + desk.count("waiting") + len(desk.history()),
                    timeout=30,
                )
            assert daemon.poll() is None, log.read_text()[-3000:]
            # desktop-notifier logs its own failed send (with its traceback); ours must not fail
            assert "ERROR uv_drive_guard" not in log.read_text(), log.read_text()[-5000:]
        finally:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=15)
            finally:
                if daemon.poll() is None:
                    daemon.kill()
                    daemon.wait()
