"""A stick with two projects on a real desktop: the notification asks in a person's words, its
button sets the drive up (the startup file gains its one line), undo takes it back. The daemon
runs headless: the notice names the command for each fix and no tray menu, and its buttons can be
told apart within the width a notification server shows."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from tests.realfs import drives

from uv_drive_guard.app.actions import BUTTON_WIDTH

from . import session
from .daemons import BIN, notices, screenshot, wait_for

QUESTION = "STICK holds 2 uv projects; uv cannot make their environments on exFAT. Keep them on this computer?"
TITLE = "Keep the environments of STICK's projects on this computer"


def test_the_notification_offers_to_keep_the_environments_here(tmp_path: Path) -> None:
    for reason in (session.requirement(), drives.requirement("exfat")):
        if reason:
            drives.need_real(reason)
    root = Path(tempfile.mkdtemp(prefix=f"uvdg-desk-{uuid.uuid4().hex[:6]}-", dir="/mnt"))
    home = tmp_path / "home"
    home.mkdir()
    bashrc = home / ".bashrc"
    bashrc.write_text("# my shell\n")
    # Only this test's own drive: others' drives under /mnt would be told about too.
    settings = home / ".config" / "uv-drive-guard" / "config.toml"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(f"[scope]\nmount_roots = [{json.dumps(str(root))}]\n")
    original = bashrc.read_bytes()
    with drives.make_drive("exfat", root, label="STICK", name="STICK") as first:
        for name in ("demo", "other"):
            (first.mountpoint / name).mkdir()
            (first.mountpoint / name / "pyproject.toml").write_text(drives.PYPROJECT.replace("demo", name))
        image = first.image
    with session.dunst_session(tmp_path / "desk") as desk:
        env = {**drives.uv_env(home), "DBUS_SESSION_BUS_ADDRESS": desk.bus_address, "SHELL": "/bin/bash"}
        env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
        daemon = subprocess.Popen([str(BIN / "uv-drive-guard"), "run", "--headless"], env=env, stderr=subprocess.PIPE)
        try:
            log = home / ".local/state/uv-drive-guard/log/uv-drive-guard.log"
            wait_for("the daemon", lambda: log.exists() and "is running" in log.read_text())
            with drives.make_drive("exfat", root, label="STICK", name="STICK", image=image):
                wait_for("the notification", lambda: desk.count() >= 1)
                screenshot(desk, "portable-notification.png")
                desk.choose("Yes, for the whole drive")  # the notification's first button
                wait_for("the fix", lambda: b"portable.sh" in bashrc.read_bytes(), timeout=60)
                labels = [line[1:].split(" (", 1)[0] for line in desk.menu_file.read_text().splitlines()]
                buttons = [label for label in labels if label]  # the body's own action has none
                assert sorted(buttons) == ["Don't tell me again", "Only for demo", "Yes, for the whole drive"], labels
                assert all(len(label) <= BUTTON_WIDTH for label in buttons)

                # The fix is verified with real uv before the follow-up: slow on a busy machine.
                def fixed() -> bool:
                    return any(n["summary"].startswith("Fixed") for n in notices(desk))

                wait_for("the follow-up", fixed, timeout=90)
                shown = [n for n in desk.history() if QUESTION in n["body"]]
                assert shown and shown[0]["summary"].startswith("uv on STICK (exFAT)"), desk.history()
                body = shown[0]["body"]
                assert f"{TITLE}: run `uv-drive-guard fix uvd005-portable-drive-" in body, body
                assert "tray" not in body, body
                assert (home / ".local/share/uv-drive-guard/portable.sh").is_file()
            undo = subprocess.run(
                [str(BIN / "uv-drive-guard"), "undo"], env=env, capture_output=True, text=True, check=False
            )
            assert undo.returncode == 0, undo.stderr
            assert bashrc.read_bytes() == original
        finally:
            drives.stop_daemon(daemon)
            shutil.rmtree(root, ignore_errors=True)
