"""The headless daemon on real drives: notices on plug-in, once; survives plug cycles with
flat memory and open files; leaves no probe directories; one instance; clean SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import drives
from .daemon_process import BIN, exe, log_file, wait_for


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str], Path]]:
    reason = drives.requirement("exfat")
    if reason:
        drives.need_real(reason)
    root = Path(tempfile.mkdtemp(prefix=f"uvdg-daemon-{uuid.uuid4().hex[:6]}-", dir="/mnt"))
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text(f'export UV_CACHE_DIR="{root}/STICK/uv-cache"\n')
    settings = home / ".config" / "uv-drive-guard" / "config.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text(f"[scope]\nmount_roots = [{json.dumps(str(root))}]\n")  # other tests' drives stay out
    env = drives.uv_env(home)
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env.pop("DISPLAY", None)
    try:
        yield root, env, home
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_plug_cycles_notify_once_and_stay_flat(setup: tuple[Path, dict[str, str], Path]) -> None:
    root, env, home = setup
    with drives.make_drive("exfat", root, label="STICK", name="STICK") as first:
        image = first.image
    assert image is not None
    daemon = subprocess.Popen([exe(), "run", "--headless"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        log = log_file(home)
        wait_for(log, "is running")
        second = subprocess.run([exe(), "run", "--headless"], env=env, capture_output=True, text=True, timeout=30)
        assert second.returncode == 0 and "already running" in second.stdout
        fds = rss = 0
        for cycle in range(8):
            with drives.make_drive("exfat", root, label="STICK", name="STICK", image=image) as drive:
                wait_for(log, "scan (mount change)", count=2 * cycle + 1)
                assert not [p for p in os.listdir(drive.mountpoint) if p.startswith(".uv-drive-guard-probe-")]
            wait_for(log, "scan (mount change)", count=2 * cycle + 2)
            if cycle == 1:
                fds, rss = len(os.listdir(f"/proc/{daemon.pid}/fd")), _rss_kb(daemon.pid)
        assert daemon.poll() is None, "the daemon died"
        text = log.read_text()
        # The drive's problem is told once, not on every plug-in; so is the missing drive.
        assert text.count("notice: uv on STICK (exFAT): error") == 1
        assert "uv would print: error: Could not acquire lock" in text
        assert text.count("notice: uv on a drive that is not plugged in") == 1
        assert len(os.listdir(f"/proc/{daemon.pid}/fd")) <= fds + 2
        assert _rss_kb(daemon.pid) - rss < 5_000
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=15) == 0
        assert "uv-drive-guard stopped" in log.read_text()
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()


def test_fallback_while_away_is_reverted_when_the_drive_returns(setup: tuple[Path, dict[str, str], Path]) -> None:
    root, env, home = setup
    bashrc = home / ".bashrc"
    original = bashrc.read_bytes()
    with drives.make_drive("exfat", root, label="STICK", name="STICK") as first:
        image = first.image
    daemon = subprocess.Popen([exe(), "run", "--headless"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        log = log_file(home)
        wait_for(log, "notice: uv on a drive that is not plugged in")
        scanned = subprocess.run([exe(), "scan", "--json"], env=env, capture_output=True, text=True, timeout=60)
        fixes = [f["id"] for item in json.loads(scanned.stdout)["findings"] for f in item["fixes"]]
        fallback = next(f for f in fixes if "-fallback-" in f)
        applied = subprocess.run(
            [exe(), "fix", fallback, "--yes"], env=env, capture_output=True, text=True, timeout=120
        )
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert bashrc.read_bytes() != original and "uv-drive-guard" in bashrc.read_text()
        with drives.make_drive("exfat", root, label="STICK", name="STICK", image=image):
            wait_for(log, "notice: Your drive is back")
        assert bashrc.read_bytes() == original
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=15)


def test_settings_are_reread_when_the_file_changes(setup: tuple[Path, dict[str, str], Path]) -> None:
    _root, env, home = setup
    settings = Path(env["XDG_CONFIG_HOME"]) / "uv-drive-guard" / "config.toml"
    daemon = subprocess.Popen([exe(), "run", "--headless"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        log = log_file(home)
        wait_for(log, "is running")
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text("[walk]\nmax_deepth = 3\n")
        text = wait_for(log, "settings not applied")
        assert f"{settings}:2: unknown setting `walk.max_deepth`" in text
        settings.write_text("[walk]\nmax_depth = 3\n")
        wait_for(log, "reloading", count=2)
        assert daemon.poll() is None
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=15)


def _blocked(status: str) -> int:
    line = next(row for row in status.splitlines() if row.startswith("SigBlk:"))
    return int(line.split()[1], 16)


def test_only_the_main_thread_takes_the_quit_signals(setup: tuple[Path, dict[str, str], Path]) -> None:
    """A SIGTERM handed to another thread is not acted on while the main thread sleeps (seen:
    about one in 25 under load, for an hour): every thread but the main one blocks them."""
    _root, env, home = setup
    daemon = subprocess.Popen([exe(), "run", "--headless"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for(log_file(home), "is running")
        quit_bits = sum(1 << (int(sig) - 1) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP))
        tasks = Path(f"/proc/{daemon.pid}/task")
        masks = {int(t.name): _blocked((t / "status").read_text()) for t in tasks.iterdir()}
        assert len(masks) > 3, masks  # the worker, its pool, the watchers
        assert masks.pop(daemon.pid) & quit_bits == 0
        assert all(mask & quit_bits == quit_bits for mask in masks.values()), {k: hex(v) for k, v in masks.items()}
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=15) == 0
