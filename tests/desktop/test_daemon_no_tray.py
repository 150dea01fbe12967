"""The daemon on a desktop with no tray at all: Xvfb and dunst, no panel, and no PyGObject (as a
plain install has it). `uv-drive-guard run` says in one line which trays it tried, never pystray's
traceback; the notice about a drive names the command that applies each fix, never a tray menu;
its button still applies the fix; `autostart status` sees it running; Ctrl-C stops it with exit
130 and one line."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from pathlib import Path

from tests.realfs import drives

from uv_drive_guard.app.actions import BUTTON_WIDTH

from . import session
from .daemons import BIN, wait_for, without_gi

LOG = Path(".local/state/uv-drive-guard/log/uv-drive-guard.log")


def test_no_tray_host_one_line_commands_in_the_notice(tmp_path: Path) -> None:
    for reason in (session.requirement(), drives.requirement("exfat")):
        if reason:
            drives.need_real(reason)
    root = Path(tempfile.mkdtemp(prefix=f"uvdg-desk-{uuid.uuid4().hex[:6]}-", dir="/mnt"))
    home = tmp_path / "home"
    home.mkdir()
    bashrc = home / ".bashrc"
    bashrc.write_text(f'export UV_CACHE_DIR="{root}/STICK/uv-cache"\n')
    settings = home / ".config" / "uv-drive-guard" / "config.toml"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(f"[scope]\nmount_roots = [{json.dumps(str(root))}]\n")
    err = tmp_path / "stderr.txt"
    try:
        with session.dunst_session(tmp_path / "desk") as desk:
            env = {**drives.uv_env(home), "DISPLAY": desk.display, "DBUS_SESSION_BUS_ADDRESS": desk.bus_address}
            env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
            env["PYTHONPATH"] = without_gi(tmp_path)
            for name in ("PYSTRAY_BACKEND", "WAYLAND_DISPLAY", "GDK_BACKEND"):
                env.pop(name, None)
            with err.open("wb") as stderr:
                daemon = subprocess.Popen([str(BIN / "uv-drive-guard"), "run"], env=env, stderr=stderr)
            log = home / LOG
            try:
                wait_for("the daemon", lambda: log.exists() and "is running (no tray)" in log.read_text())
                text = log.read_text()
                [said] = [line for line in text.splitlines() if "no tray icon" in line]
                assert said.split(": ", 1)[1].startswith("no tray icon: nothing here to show it (sni: no org.kde")
                assert f"xorg: no XEmbed tray on display {desk.display} to dock in)" in said, said
                assert said.endswith("notifications carry the fixes")
                assert "Traceback" not in text and "Failed to dock" not in text

                status = subprocess.run(
                    [str(BIN / "uv-drive-guard"), "autostart", "status"], env=env, capture_output=True, text=True
                )
                assert status.stdout.splitlines()[-1] == f"running now: yes (process {daemon.pid})", status.stdout

                # Before the drive comes: uv's cache is set on a drive that is not plugged in.
                absent = wait_for("the first notice", lambda: _notice(desk, "uv on a drive that is not plugged in"))
                assert "run `uv-drive-guard fix uvd011-fallback-" in absent["body"] and "tray" not in absent["body"]
                with drives.make_drive("exfat", root, label="STICK", name="STICK"):
                    wait_for("the notice about the drive", lambda: desk.count() >= 1)
                    desk.choose("Move cache off the drive")  # its button, as a person presses it
                    wait_for("the fix", lambda: b"uv-drive-guard disabled" in bashrc.read_bytes(), timeout=60)
                    labels = [line[1:].split(" (", 1)[0] for line in desk.menu_file.read_text().splitlines()]
                    assert sorted(label for label in labels if label) == [
                        "Don't tell me again",
                        "Move cache off the drive",
                    ]
                    assert all(len(label) <= BUTTON_WIDTH for label in labels)
                    body = wait_for("the notice", lambda: _notice(desk, "uv on STICK (exFAT): error"))["body"]
                    assert "Move uv's cache back to ~/.cache/uv: run `uv-drive-guard fix uvd006-move-off-drive-" in body
                    assert "tray" not in body, body
                assert "Traceback" not in log.read_text()
            finally:
                daemon.send_signal(signal.SIGINT)  # Ctrl-C in the terminal it was started from
                status_code = daemon.wait(timeout=30)
            assert status_code == 130
            assert err.read_text().strip().splitlines()[-1] == "uv-drive-guard: interrupted"
            assert "Traceback" not in err.read_text()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _notice(desk: session.DunstSession, summary: str) -> dict[str, str] | None:
    """The notification whose summary starts so, once closed into dunst's history."""
    desk.dunstctl("close-all")
    return next((n for n in desk.history() if n["summary"].startswith(summary)), None)
