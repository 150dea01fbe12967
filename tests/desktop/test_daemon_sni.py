"""The whole daemon as a plain `pip install` gives it on Linux, in a real StatusNotifierItem host:
`uv-drive-guard run` under Xvfb with xfce4-panel's status tray (and dunst for notifications).

PyGObject is installed in the test venv (the `gtk` extra), so the daemon runs with a PYTHONPATH
directory whose `gi` package raises ImportError on import, as an environment without PyGObject
would: the test checks that `import gi` fails there, and that no GTK library is mapped into the
daemon. An exFAT drive holding uv's cache is plugged in and pulled out; the item's Status
follows; the fix, "Undo last fix", "Rescan now" and "Quit" are clicked through
com.canonical.dbusmenu.Event as the panel sends them; the panel is killed and started again and
the item registers with it again. A second run leaves DISPLAY unset for the daemon (a Wayland
session has none): SNI needs only the session bus.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.realfs import drives

from . import session
from .daemons import BIN, LOG, NO_GI, Daemon, Host, menu, registered, status, stop, wait_for, without_gi
from .sni_client import Entry, SniClient


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    reason = drives.requirement("exfat")
    if reason:
        drives.need_real(reason)
    if shutil.which("xdotool") is None:
        drives.need_real("needs xdotool (apt-get install xdotool)")
    with session.dunst_session(tmp_path / "desk") as desk, session.xfce_panel(desk, tmp_path / "panel-home") as panel:
        yield Host(desk, panel, SniClient(desk.bus_address))


def start_daemon(host: Host, home: Path, tmp: Path, root: Path, *, display: bool = True) -> Daemon:
    """The daemon, watching only drives under `root`: others' drives on this machine stay out of scope."""
    settings = home / ".config" / "uv-drive-guard" / "config.toml"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(f"[scope]\nmount_roots = [{json.dumps(str(root))}]\n")
    env = {**drives.uv_env(home), "DBUS_SESSION_BUS_ADDRESS": host.desk.bus_address, "PYTHONPATH": without_gi(tmp)}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    if display:
        env["DISPLAY"] = host.desk.display
    for name in ("PYSTRAY_BACKEND", "WAYLAND_DISPLAY", "GDK_BACKEND"):
        env.pop(name, None)
    probe = subprocess.run([str(BIN / "python"), "-c", "import gi"], env=env, capture_output=True, check=False)
    assert probe.returncode != 0 and NO_GI in probe.stderr.decode(), "gi is still importable for the daemon"
    proc = subprocess.Popen([str(BIN / "uv-drive-guard"), "-v", "run"], env=env, stderr=subprocess.DEVNULL)
    daemon = Daemon(proc, home / LOG, env)
    wait_for("the daemon", lambda: "is running" in daemon.text())
    assert "tray: sni" in daemon.text(), daemon.text()[-2000:]
    daemon.bus_name = wait_for("the item's registration", lambda: registered(daemon.text()))
    maps = Path(f"/proc/{proc.pid}/maps").read_text()
    assert "libgtk" not in maps and "libgdk" not in maps, "GTK was loaded into the daemon"
    return daemon


def wait_status(host: Host, daemon: Daemon, wanted: str) -> None:
    wait_for(f"Status {wanted}", lambda: status(host, daemon) == wanted)


def click(host: Host, daemon: Daemon, label: str) -> None:
    host.client.click(daemon.bus_name, menu(host, daemon).find(label).id)


def stick_finding(daemon: Daemon) -> dict[str, Any]:
    """What `scan --json` (the CLI, not the daemon) says about the drive: the view to compare with."""
    scan = [str(BIN / "uv-drive-guard"), "scan", "--json"]
    done = subprocess.run(scan, env=daemon.env, capture_output=True, text=True, check=False)
    return next(f for f in json.loads(done.stdout)["findings"] if f["code"] == "UVD006")


def test_plug_fix_undo_rescan_restart_the_panel_quit(host: Host, tmp_path: Path) -> None:
    root = Path(tempfile.mkdtemp(prefix=f"uvdg-sni-{uuid.uuid4().hex[:6]}-", dir="/mnt"))
    home = tmp_path / "home"
    bashrc = home / ".bashrc"
    home.mkdir()
    bashrc.write_text(f'export UV_CACHE_DIR="{root}/STICK/uv-cache"\n')
    original = bashrc.read_bytes()
    daemon = start_daemon(host, home, tmp_path, root)
    try:
        wait_for("the panel to list the item", lambda: f"{daemon.bus_name}/StatusNotifierItem" in host.panel.items())
        wait_status(host, daemon, "Active")  # the cache's drive is missing: a warning, not an error
        with drives.make_drive("exfat", root, label="STICK", name="STICK"):
            wait_status(host, daemon, "NeedsAttention")
            finding = stick_finding(daemon)
            fix = next(f for f in finding["fixes"] if f["recommended"])
            root_menu = wait_for("the drive in the menu", lambda: _with(menu(host, daemon), "STICK (exFAT)"))
            stick = root_menu.find("STICK (exFAT)")
            hint = next(f for f in finding["fixes"] if "-failure-hint-" in f["id"])  # after the cure
            items = [fix["title"], hint["title"], "Details", "Don't show this again"]
            assert stick.outline()[0] == (finding["title"], items)
            assert stick.outline()[1:] == ["---", "Don't tell me again about this drive", "Ignore this drive"]
            assert root_menu.find("Undo last fix").props["enabled"] is False
            assert "Tray: sni, StatusNotifierItem over D-Bus" in str(root_menu.outline())
            _shot(host, "daemon-panel-error.png")

            host.client.click(daemon.bus_name, stick.find(fix["title"]).id)
            wait_for("the fix", lambda: b"uv-drive-guard disabled" in bashrc.read_bytes())
            wait_status(host, daemon, "Active")
            undo = wait_for("Undo in the menu", lambda: _enabled(menu(host, daemon), "Undo last fix: "))
            assert undo.label == f"Undo last fix: {fix['title']}"

            scans = daemon.text().count("scan (rescan)")
            click(host, daemon, "Rescan now")
            wait_for("the rescan", lambda: daemon.text().count("scan (rescan)") > scans)

            host.client.click(daemon.bus_name, undo.id)
            wait_for("the undo", lambda: bashrc.read_bytes() == original)
            wait_status(host, daemon, "NeedsAttention")
        wait_status(host, daemon, "Active")  # pulled out: only the warning about the missing drive
        assert "STICK (exFAT)" not in str(menu(host, daemon).outline())

        registrations = daemon.text().count("registered with org.kde.StatusNotifierWatcher")
        host.panel.kill()
        host.panel.start()
        wait_for("the item again", lambda: f"{daemon.bus_name}/StatusNotifierItem" in host.panel.items())
        assert daemon.text().count("registered with org.kde.StatusNotifierWatcher") == registrations + 1
        assert menu(host, daemon).find("Quit")

        click(host, daemon, "Quit")
        assert daemon.proc.wait(timeout=20) == 0
        assert "uv-drive-guard stopped" in daemon.text()
    finally:
        try:
            stop(daemon)
        finally:
            shutil.rmtree(root, ignore_errors=True)


def _with(root: Entry, label: str) -> Entry | None:
    return root if label in str(root.outline()) else None


def _enabled(root: Entry, label: str) -> Entry | None:
    found = next((e for e in root.walk() if e.label.startswith(label)), None)
    return found if found is not None and found.props.get("enabled", True) else None


def _shot(host: Host, name: str) -> None:
    shot = host.desk.screenshot(host.panel.home / name)
    session.keep_screenshot(shot, name)


def test_no_display_needed(host: Host, tmp_path: Path) -> None:
    """DISPLAY unset for the daemon, as in a Wayland session: the item still shows and answers."""
    home = tmp_path / "home"
    home.mkdir()
    daemon = start_daemon(host, home, tmp_path, tmp_path / "drives", display=False)
    try:
        assert "DISPLAY" not in daemon.env
        wait_for("the panel to list the item", lambda: f"{daemon.bus_name}/StatusNotifierItem" in host.panel.items())
        wait_status(host, daemon, "Active")
        assert host.client.prop(daemon.bus_name, "IconPixmap")
        assert menu(host, daemon).outline()[0] == "No problems for uv on your drives"
        click(host, daemon, "Quit")
        assert daemon.proc.wait(timeout=20) == 0
    finally:
        stop(daemon)
