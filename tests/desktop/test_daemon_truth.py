"""The daemon says what a new terminal would see, and tells every plug-in: a real desktop.

`uv-drive-guard run` under Xvfb, with xfce4-panel's status tray as the StatusNotifierItem host
and dunst as the notification server, on a private session bus; real exFAT images plugged in
and pulled out. First: a daemon started with UV_CACHE_DIR in its environment (as systemd gives
it from environment.d) has the fix applied from the notification's button; its next state
(SNI status, tooltip, menu) must equal what `scan` says in a new terminal, whose environment
comes from systemd's own generator. Then: a notice at each plug-in, none for a muted finding or
a drive told "Don't tell me again", one for a two-second blip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.realfs import drives

from uv_drive_guard.app.actions import QUIET_LABEL

from . import session
from .daemons import BIN, LOG, Daemon, Host, menu, notices, registered, status, stop, wait_for
from .sni_client import SniClient

GENERATOR = Path("/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator")


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    reason = drives.requirement("exfat") or session.requirement()
    if reason:
        drives.need_real(reason)
    if not os.access(GENERATOR, os.X_OK):
        drives.need_real(f"systemd's environment.d generator ({GENERATOR}) is not installed")
    with session.dunst_session(tmp_path / "desk") as desk, session.xfce_panel(desk, tmp_path / "panel-home") as panel:
        yield Host(desk, panel, SniClient(desk.bus_address))


@pytest.fixture
def root() -> Iterator[Path]:
    """The test's own mount root: drives of other tests under /mnt stay out of its scope."""
    path = Path(tempfile.mkdtemp(prefix=f"uvdg-truth-{uuid.uuid4().hex[:6]}-", dir="/mnt"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _home(tmp_path: Path, root: Path) -> tuple[Path, dict[str, str]]:
    home = tmp_path / "home"
    home.mkdir()
    settings = home / ".config" / "uv-drive-guard" / "config.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text(f"[scope]\nmount_roots = [{json.dumps(str(root))}]\n")
    env = {**drives.uv_env(home), "SHELL": "/bin/bash"}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    return home, env


def session_env(env: dict[str, str]) -> dict[str, str]:
    """What systemd hands the desktop session (and so the daemon and new terminals): its own
    generator over environment.d, on top of the rest of the environment."""
    done = subprocess.run([str(GENERATOR)], env=env, capture_output=True, text=True, check=True, timeout=30)
    made = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return {**{k: v for k, v in env.items() if not k.startswith("UV_CACHE")}, **made}


def new_terminal_scan(env: dict[str, str]) -> list[dict[str, Any]]:
    """`scan --json` in a new terminal: the session's environment as systemd makes it now, then
    the person's bash reading ~/.bashrc (an interactive shell on a pseudo-terminal)."""
    fresh = session_env(env)
    out = Path(env["HOME"]) / "new-terminal.json"
    cmd = f"{BIN / 'uv-drive-guard'} scan --json > {out}\nexit\n"
    argv = ["env", "-i", *(f"{k}={v}" for k, v in {**fresh, "TERM": "dumb"}.items()), "script", "-qec", "bash -i"]
    subprocess.run([*argv, "/dev/null"], input=cmd.encode(), capture_output=True, timeout=120, check=False)
    return [f for f in json.loads(out.read_text())["findings"] if f["severity"] != "info"]


@dataclass
class Run(Daemon):
    """One run of the daemon: its part of the log, which the runs before it share."""

    since: int = 0

    def text(self) -> str:
        return super().text()[self.since :]


def start(host: Host, home: Path, env: dict[str, str]) -> Daemon:
    run_env = {**env, "DBUS_SESSION_BUS_ADDRESS": host.desk.bus_address, "DISPLAY": host.desk.display}
    log = home / LOG
    since = len(log.read_text()) if log.exists() else 0
    proc = subprocess.Popen([str(BIN / "uv-drive-guard"), "-v", "run"], env=run_env, stderr=subprocess.DEVNULL)
    daemon = Run(proc, log, run_env, since=since)
    wait_for("the daemon", lambda: "is running" in daemon.text())
    daemon.bus_name = wait_for("the item's registration", lambda: registered(daemon.text()))
    return daemon


def tooltip(host: Host, daemon: Daemon) -> str:
    raw = host.client.prop(daemon.bus_name, "ToolTip")
    return " ".join(str(part) for part in raw[2:])


def test_after_the_button_the_daemon_sees_what_a_new_terminal_sees(host: Host, tmp_path: Path, root: Path) -> None:
    home, env = _home(tmp_path, root)
    conf = home / ".config" / "environment.d" / "50-uv.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(f"UV_CACHE_DIR={root}/STICK/uv-cache\n")
    (home / ".bashrc").write_text("# ~/.bashrc\n")
    started_with = session_env(env)  # the login session's: UV_CACHE_DIR is in it
    assert started_with["UV_CACHE_DIR"] == f"{root}/STICK/uv-cache"
    with drives.make_drive("exfat", root, label="STICK", name="STICK"):
        daemon = start(host, home, started_with)
        try:
            wait_for("the notice", lambda: host.desk.count() >= 1)
            assert status(host, daemon) == "NeedsAttention"
            before = new_terminal_scan(env)
            assert [f["code"] for f in before] == ["UVD006"], before
            host.desk.choose("Move cache off the drive")  # the button of the recommended fix
            wait_for("the fix", lambda: b"uv-drive-guard disabled" in conf.read_bytes(), timeout=60)
            wait_for("the daemon's next state", lambda: status(host, daemon) == "Active", timeout=60)
            after = new_terminal_scan(env)
            assert after == [], after  # a new terminal: nothing wrong any more
            assert "no problems" in tooltip(host, daemon), tooltip(host, daemon)
            assert "STICK (exFAT)" not in str(menu(host, daemon).outline())
            said = [n for n in notices(host.desk) if n["summary"].startswith(("Fixed", "Could not"))]
            assert said and said[0]["summary"].startswith("Fixed"), host.desk.history()
            assert "until they restart" in said[0]["body"], said[0]["body"]
            # The daemon's own environment still has the old value: only its scans moved on.
            assert (
                f"UV_CACHE_DIR={root}/STICK/uv-cache".encode() in Path(f"/proc/{daemon.proc.pid}/environ").read_bytes()
            )
        finally:
            stop(daemon)


def _stick_notices(host: Host) -> int:
    """Every notice about the stick so far (closing them moves them into dunst's history)."""
    return sum(1 for n in notices(host.desk) if n["summary"].startswith("uv on STICK"))


def _last_scan(daemon: Daemon) -> str:
    lines = [line for line in daemon.text().splitlines() if "scan (" in line and "drive(s) in scope" in line]
    return lines[-1] if lines else ""


def _edit_memory(home: Path, **values: object) -> None:
    """What the tray's items would undo (un-mute, tell me again), done by hand between runs."""
    memory = home / ".local/state/uv-drive-guard/drives.json"
    data = json.loads(memory.read_text())
    for entry in data["drives"].values():
        entry.update(values)
    memory.write_text(json.dumps(data))


def test_a_notice_at_every_plug_in_unless_told_otherwise(host: Host, tmp_path: Path, root: Path) -> None:
    home, env = _home(tmp_path, root)
    (home / ".bashrc").write_text(f'export UV_CACHE_DIR="{root}/STICK/uv-cache"\n')
    env["UV_CACHE_DIR"] = f"{root}/STICK/uv-cache"
    with drives.make_drive("exfat", root, label="STICK", name="STICK") as first:
        image = first.image
    assert image is not None
    daemons: list[Daemon] = []

    def stick() -> Any:
        return drives.make_drive("exfat", root, label="STICK", name="STICK", image=image)

    def seen(daemon: Daemon, drives_in_scope: int) -> None:
        """The daemon scanned with the stick there (1) or gone (0): its log names the drives."""
        wait_for("the scan", lambda: ("STICK (exFAT)" in _last_scan(daemon)) is bool(drives_in_scope))
        time.sleep(1.5)  # a notice, if any, is out by now

    def plug(daemon: Daemon, expected: int) -> None:
        with stick():
            seen(daemon, 1)
            assert _stick_notices(host) == expected, host.desk.history()
        seen(daemon, 0)
        time.sleep(5.5)  # longer than a blip: the next plug-in is a new one

    try:
        daemon = start(host, home, env)
        daemons.append(daemon)
        plug(daemon, 1)
        plug(daemon, 2)  # unplugged, plugged in again: told again
        with stick():
            seen(daemon, 1)
            assert _stick_notices(host) == 3
            mute = menu(host, daemon).find("STICK (exFAT)").find("Don't show this again")  # the tray's item
            host.client.click(daemon.bus_name, mute.id)
            wait_for("the mute", lambda: "finding muted" in daemon.text())
        seen(daemon, 0)
        time.sleep(5.5)
        plug(daemon, 3)  # the one finding muted: nothing to tell
        assert status(host, daemon) == "Active"
        stop(daemon)
        _edit_memory(home, muted=[])
        daemon = start(host, home, env)
        daemons.append(daemon)
        with stick():
            seen(daemon, 1)
            wait_for("the notice", lambda: host.desk.count() >= 1)
            host.desk.choose(QUIET_LABEL)  # the notice's own button
            memory = home / ".local/state/uv-drive-guard/drives.json"
            wait_for("the drive told quiet", lambda: '"quiet": true' in memory.read_text())
            assert _stick_notices(host) == 4
        seen(daemon, 0)
        time.sleep(5.5)
        with stick():
            seen(daemon, 1)
            assert _stick_notices(host) == 4  # "don't tell me again": nothing...
            assert status(host, daemon) == "NeedsAttention"  # ...though the tray shows the problem
        stop(daemon)
        _edit_memory(home, quiet=False)
        daemon = start(host, home, env)
        daemons.append(daemon)
        with stick():
            seen(daemon, 1)
            assert _stick_notices(host) == 5
        seen(daemon, 0)
        time.sleep(0.5)  # gone for about two seconds, counting the unmount and the mount
        with stick():
            seen(daemon, 1)
            assert _stick_notices(host) == 5, "a two-second blip was announced again"
    finally:
        for daemon in daemons:
            stop(daemon)
