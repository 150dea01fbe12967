"""The whole product on a real desktop: `uv-drive-guard run` under Xvfb with dunst (a real
notification server) and trayer (a real tray). A drive holding the configured cache is
plugged in; the notification offers the fix; pressing its button applies it; the tray menu's
"Undo last fix" takes it back. trayer shows XEmbed icons only: these tests need pystray's GTK
backend, PyGObject (the `gtk` extra), and skip without it (fail with UVDG_REQUIRE_REAL=1)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.realfs import drives

from . import session
from .daemons import BIN, notices, screenshot, wait_for


@pytest.fixture
def desktop(tmp_path: Path) -> Iterator[session.DunstSession]:
    for reason in (session.requirement(), drives.requirement("exfat"), session.gtk_requirement(BIN / "python")):
        if reason:
            drives.need_real(reason)
    if shutil.which("trayer") is None or shutil.which("xdotool") is None:
        drives.need_real("needs trayer and xdotool (apt-get install trayer xdotool)")
    with session.dunst_session(tmp_path / "desk") as desk:
        tray = ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request", "--height", "32"]
        log = (tmp_path / "trayer.log").open("wb")
        desk.procs.append(subprocess.Popen([*tray, "--SetDockType", "true"], env=desk.env, stdout=log, stderr=log))
        wait_for("trayer", lambda: desk.run("xdotool", "search", "--name", "^panel$", check=False).split())
        yield desk


def _windows(desk: session.DunstSession, name: str) -> list[str]:
    return desk.run("xdotool", "search", "--onlyvisible", "--name", name, check=False).split()


def _geometry(desk: session.DunstSession, window: str) -> tuple[int, int, int, int]:
    pairs = desk.run("xdotool", "getwindowgeometry", "--shell", window).split()
    out = dict(line.split("=", 1) for line in pairs)
    return int(out["X"]), int(out["Y"]), int(out["WIDTH"]), int(out["HEIGHT"])


def test_plug_notify_fix_from_the_button_undo_from_the_tray(desktop: session.DunstSession, tmp_path: Path) -> None:
    root = Path(tempfile.mkdtemp(prefix=f"uvdg-desk-{uuid.uuid4().hex[:6]}-", dir="/mnt"))
    home = tmp_path / "home"
    home.mkdir()
    bashrc = home / ".bashrc"
    bashrc.write_text(f'# my shell\nexport UV_CACHE_DIR="{root}/STICK/uv-cache"\n')
    original = bashrc.read_bytes()
    env = {**drives.uv_env(home), "DISPLAY": desktop.display, "DBUS_SESSION_BUS_ADDRESS": desktop.bus_address}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    # Only this test's own drives: others' drives under /mnt would add menus above "Undo last
    # fix" and slow every scan (a hung one costs its probe timeout each time).
    settings = home / ".config" / "uv-drive-guard" / "config.toml"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(f"[scope]\nmount_roots = [{json.dumps(str(root))}]\n")
    daemon = subprocess.Popen([str(BIN / "uv-drive-guard"), "-v", "run"], env=env, stderr=subprocess.PIPE)
    try:
        log = home / ".local/state/uv-drive-guard/log/uv-drive-guard.log"
        wait_for("the daemon", lambda: log.exists() and "is running" in log.read_text())
        assert "tray: appindicator" in log.read_text() or "tray: gtk" in log.read_text()
        with drives.make_drive("exfat", root, label="STICK", name="STICK"):
            wait_for("the notification", lambda: desktop.count() >= 1)
            screenshot(desktop, "daemon-notification.png")
            scanned = subprocess.run(
                [str(BIN / "uv-drive-guard"), "scan", "--json"], env=env, capture_output=True, text=True, check=False
            )
            finding = next(f for f in json.loads(scanned.stdout)["findings"] if f["code"] == "UVD006")
            fix = next(f for f in finding["fixes"] if f["recommended"])
            assert fix["id"].startswith("uvd006-move-off-drive-")
            desktop.choose("Move cache off the drive")  # the notification's fix button, in a server's width
            wait_for("the fix", lambda: b"uv-drive-guard disabled" in bashrc.read_bytes(), timeout=60)  # a busy machine
            # dunst keeps a notification on screen after one of its buttons; the follow-up joins it.
            wait_for("the follow-up notice", lambda: any(n["summary"].startswith("Fixed") for n in notices(desktop)))
            summaries = [n["summary"] for n in notices(desktop)]
            assert "uv on a drive that is not plugged in: warning" in summaries  # before the drive came
            shown = next(n for n in desktop.history() if n["summary"] == "uv on STICK (exFAT): error")
            assert "Could not acquire lock" in shown["body"] and ".bashrc" in shown["body"]
            _undo_from_the_tray(desktop)
            wait_for("the undo", lambda: bashrc.read_bytes() == original)
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=20) == 0
        shutil.rmtree(root, ignore_errors=True)


def _undo_from_the_tray(desk: session.DunstSession) -> None:
    window = wait_for("the tray icon", lambda: _windows(desk, "^uv-drive-guard"))[-1]
    x, y, w, h = _geometry(desk, window)
    before = set(_windows(desk, "."))
    for button in ("3", "1"):
        desk.run("xdotool", "mousemove", str(x + w // 2), str(y + h // 2), "click", button)
        try:
            wait_for("the menu", lambda: set(_windows(desk, ".")) - before, timeout=3)
            break
        except AssertionError:
            continue
    time.sleep(0.4)
    screenshot(desk, "daemon-tray-menu.png")
    # The first item that can be chosen is "Undo last fix: ..." (no drive has a problem now).
    for key in ("Down", "Return"):
        desk.run("xdotool", "key", key)
        time.sleep(0.2)


def test_the_tray_comes_back_with_the_panel(desktop: session.DunstSession, tmp_path: Path) -> None:
    """The panel (trayer) crashes and restarts: the icon docks again and the daemon lives on."""
    home = tmp_path / "home"
    home.mkdir()
    env = {**drives.uv_env(home), "DISPLAY": desktop.display, "DBUS_SESSION_BUS_ADDRESS": desktop.bus_address}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    daemon = subprocess.Popen([str(BIN / "uv-drive-guard"), "run"], env=env, stderr=subprocess.DEVNULL)
    try:
        wait_for("the tray icon", lambda: _windows(desktop, "^uv-drive-guard"))
        panel = desktop.procs.pop()  # the fixture's trayer, started last
        panel.kill()
        panel.wait(timeout=5)
        wait_for("the panel to go", lambda: not _windows(desktop, "^panel$"), timeout=5)
        wait_for("the icon to leave with it", lambda: not _windows(desktop, "^uv-drive-guard"), timeout=5)
        tray = ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request", "--height", "32"]
        desktop.procs.append(
            subprocess.Popen([*tray, "--SetDockType", "true"], env=desktop.env, stderr=subprocess.DEVNULL)
        )
        wait_for("the panel", lambda: _windows(desktop, "^panel$"))
        window = wait_for("the icon to dock again", lambda: _windows(desktop, "^uv-drive-guard"))[-1]
        panel_window = _windows(desktop, "^panel$")[-1]
        px, py, pw, ph = _geometry(desktop, panel_window)
        x, y, w, h = _geometry(desktop, window)
        assert w > 0 and h > 0
        assert px <= x and x + w <= px + pw and py <= y and y + h <= py + ph, "the icon is not in the panel"
        assert daemon.poll() is None
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=20) == 0
