"""A drive whose uv files are named pipes, sockets and device nodes: the walk notes and skips
them (no hang), and the headless daemon never holds the drive: no fd, no cwd, no thread on it
after a scan, and a plain `umount` (no -l) right after every scan succeeds, plug after plug."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from uv_drive_guard import scan
from uv_drive_guard.edges import walk

from . import drives
from .daemon_process import exe, log_file, wait_for

BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
SEEN, GONE = "scan (mount change): 1 drive(s) in scope", "scan (mount change): 0 drive(s) in scope"
PROJECT = b'[project]\nname = "demo"\nversion = "0.1.0"\n\n[tool.uv]\ncache-dir = "../uv-cache"\n'


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))  # the socket file stays after close: nobody listens on it
    finally:
        sock.close()


def _chardev(path: Path) -> None:
    os.mknod(path, stat.S_IFCHR | 0o644, os.makedev(1, 5))  # /dev/zero: bytes without end


def _blockdev(path: Path) -> None:
    os.mknod(path, stat.S_IFBLK | 0o644, os.makedev(7, 0))  # a loop device


def fill_hostile(root: Path) -> dict[str, str]:
    """Where uv's files would be, things that are not files; returns path -> what it is."""
    made: dict[str, str] = {}

    def put(path: Path, maker: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        {"pipe": _fifo, "socket": _socket, "char": _chardev, "block": _blockdev}[maker](path)
        made[str(path)] = maker

    put(root / "pipe-project" / "pyproject.toml", "pipe")
    (root / "pipe-project" / "uv.lock").write_text("version = 1\n")
    put(root / "sock-project" / "uv.toml", "socket")
    (root / "sock-project" / "uv.lock").write_text("version = 1\n")
    (root / "sock-project" / "pyproject.toml").write_bytes(PROJECT)
    put(root / "dev-project" / "pyproject.toml", "char")
    put(root / "dev-project" / "uv.toml", "block")
    (root / "dev-project" / ".venv").mkdir()
    put(root / "venv-pipe" / "pyvenv.cfg", "pipe")
    put(root / "venv-zero" / "pyvenv.cfg", "char")
    (root / "venv-bin" / "bin").mkdir(parents=True)
    (root / "venv-bin" / "pyvenv.cfg").write_text("home = /usr/bin\nuv = 0.13.0\n")
    put(root / "venv-bin" / "bin" / "activate", "pipe")
    put(root / "venv-bin" / "bin" / "python", "char")
    put(root / "venv-bin" / "bin" / "pip", "socket")
    (root / "good").mkdir()
    (root / "good" / "pyproject.toml").write_bytes(PROJECT)
    return made


@pytest.fixture
def hostile_image(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    reason = drives.requirement("ext4")
    if reason:
        drives.need_real(reason)
    # Not under /mnt: other scanners on this machine (without a safe reader) would block on the
    # pipes there and hold the drive; the daemon is told to watch this root instead.
    root = Path(tempfile.mkdtemp(prefix=f"uvdg-held-{uuid.uuid4().hex[:6]}-"))
    try:
        with drives.make_drive("ext4", tmp_path / "img", size_mb=16, label="HOSTILE") as made:
            fill_hostile(made.mountpoint)
            image = made.image
        assert image is not None
        yield root, image
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_walk_notes_and_skips_pipes_sockets_devices(hostile_image: tuple[Path, Path]) -> None:
    root, image = hostile_image
    with drives.make_drive("ext4", root, label="HOSTILE", name="HOSTILE", image=image) as drive:
        started = time.monotonic()
        result = walk.walk(str(drive.mountpoint), str(drive.mountpoint), walk.Budget(seconds=5))
        took = time.monotonic() - started
        assert took < 3, f"the walk took {took:.1f} s"
        assert result.truncated is None
        notes = "\n".join(result.notes)
        assert f"{drive.mountpoint}/pipe-project/pyproject.toml is a named pipe" in notes
        assert f"{drive.mountpoint}/sock-project/uv.toml is a socket" in notes
        # dev-project's pyproject.toml is a device: not a project uv could run in, so its uv.toml
        # (a block device) is never even looked at
        assert f"{drive.mountpoint}/dev-project/pyproject.toml is a device node" in notes
        assert f"{drive.mountpoint}/venv-pipe/pyvenv.cfg is a named pipe" in notes
        assert f"{drive.mountpoint}/venv-zero/pyvenv.cfg is a device node" in notes
        paths = {a.path for a in result.artefacts}
        assert f"{drive.mountpoint}/good" in paths  # real files are still read
        assert f"{drive.mountpoint}/sock-project" in paths  # uv.lock makes it a project
        venv = next(a for a in result.artefacts if a.path.endswith("venv-bin"))
        assert venv.home == "/usr/bin" and venv.script_interpreter is None
        own = [t for t in os.listdir("/proc/self/fd") if _on(f"/proc/self/fd/{t}", drive.mountpoint)]
        assert own == []


def _on(link: str, mountpoint: Path) -> bool:
    with contextlib.suppress(OSError):
        target = os.readlink(link)
        return target == str(mountpoint) or target.startswith(f"{mountpoint}/")
    return False


def _threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def test_scan_reports_skipped_files(hostile_image: tuple[Path, Path]) -> None:
    root, image = hostile_image
    with drives.make_drive("ext4", root, label="HOSTILE", name="HOSTILE", image=image) as drive:
        snapshot = scan.gather(
            {"HOME": str(root), "PATH": os.environ["PATH"]},
            scan.Options(paths=(str(drive.mountpoint),), probe=False, confirm_with_uv=False),
        )
        notes = [note for volume, note in snapshot.notes if volume == str(drive.mountpoint)]
        assert any("pyproject.toml is a named pipe: skipped" in n for n in notes), notes


def test_daemon_never_holds_the_drive(hostile_image: tuple[Path, Path], tmp_path: Path) -> None:
    root, image = hostile_image
    home = tmp_path / "home"
    home.mkdir()
    env = drives.uv_env(home)
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env.pop("DISPLAY", None)
    settings = Path(env["XDG_CONFIG_HOME"]) / "uv-drive-guard" / "config.toml"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(f'[scope]\nmount_roots = ["{root}"]\n')
    mountpoint = root / "HOSTILE"
    daemon = subprocess.Popen(
        [exe(), "run", "--headless"], env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    failures: list[str] = []
    threads: list[int] = []
    try:
        log = log_file(home)
        wait_for(log, "is running", timeout=30)
        assert os.readlink(f"/proc/{daemon.pid}/cwd") != str(root), "the daemon kept the cwd it was started in"
        umount = drives.which("umount") or "umount"
        for cycle in range(16):
            # Others' mounts wake the daemon too: wait for the scans that saw this drive come and go.
            seen, gone = log.read_text().count(SEEN), log.read_text().count(GONE)
            with drives.make_drive("ext4", root, label="HOSTILE", name="HOSTILE", image=image) as drive:
                wait_for(log, SEEN, count=seen + 1, timeout=30)
                held = [
                    f
                    for f in os.listdir(f"/proc/{daemon.pid}/fd")
                    if _on(f"/proc/{daemon.pid}/fd/{f}", drive.mountpoint)
                ]
                links = [os.readlink(f"/proc/{daemon.pid}/fd/{f}") for f in held]
                assert held == [], f"cycle {cycle}: the daemon holds {links} on the drive"
                assert not _on(f"/proc/{daemon.pid}/cwd", drive.mountpoint)
                done = subprocess.run([umount, str(drive.mountpoint)], capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    failures.append(f"cycle {cycle}: {done.stderr.strip()}")
            wait_for(log, GONE, count=gone + 1, timeout=30)
            threads.append(_threads(daemon.pid))
        assert daemon.poll() is None, "the daemon died"
        assert failures == []
        # asyncio's executor adds its workers on demand during the first cycles, and a scan
        # woken by someone else's mount may be running when we count: the floor must stay flat
        assert min(threads[-4:]) <= threads[4], f"threads grew: {threads}"
        text = log.read_text()
        assert "did not answer" not in text, "a walk was given up on a drive that answers"
        assert "is a named pipe: skipped" in text
        daemon.terminate()
        assert daemon.wait(timeout=30) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    assert not mountpoint.exists() or not drives.is_mounted(mountpoint)


def test_a_frozen_drive_keeps_one_walk_and_one_probe_thread_reaped_when_it_goes(tmp_path: Path) -> None:
    """SIGSTOP the FUSE driver: each scan gives the walk and the probe up after their budgets,
    and the next scans wait on those same threads instead of starting more."""
    import signal
    import threading

    from uv_drive_guard.edges import probe as probing

    reason = drives.requirement("exfat")
    if reason:
        drives.need_real(reason)
    root = Path(tempfile.mkdtemp(prefix=f"uvdg-frozen-{uuid.uuid4().hex[:6]}-"))  # out of others' sight
    options = scan.Options(
        mount_roots=(str(root),), walk=walk.Budget(seconds=0.3), probe_timeout=0.3, confirm_with_uv=False
    )
    env = {"HOME": str(tmp_path), "PATH": os.environ["PATH"]}
    memo = scan.Memo()
    try:
        with drives.make_drive("exfat", root, name="STICK", label="STICK") as drive:
            (drive.mountpoint / "proj").mkdir()
            mount = str(drive.mountpoint)
            pids = drives.fuse_pids(drive)
            for pid in pids:
                os.kill(pid, signal.SIGSTOP)
            try:
                counts = []
                for _ in range(4):
                    snapshot = scan.gather(env, options, memo=memo)
                    counts.append(threading.active_count())
                    assert any("did not answer" in note for volume, note in snapshot.notes if volume == mount)
                assert scan.WALKS.stuck() == (mount,)
                assert [key.split("\0")[0] for key in probing.WORKERS.stuck()] == [mount]
                assert counts[-1] <= counts[0], counts
            finally:
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGCONT)
        memo.forget([mount])  # the drive went: its threads come back from the dead driver and go
        deadline = time.monotonic() + 10
        while (scan.WALKS.stuck() or probing.WORKERS.stuck()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert scan.WALKS.stuck() == () and probing.WORKERS.stuck() == ()
    finally:
        shutil.rmtree(root, ignore_errors=True)
