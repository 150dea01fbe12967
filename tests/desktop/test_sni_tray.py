"""The SNI tray in a real StatusNotifierItem host: xfce4-panel's status tray under Xvfb, on a
private D-Bus session bus, with the Tray in a subprocess (tests/desktop/tray_app.py) whose
Controller records every call. The item is read and clicked over D-Bus as a host does, and once
through the panel's own menu with the mouse. PyGObject is importable here: the SNI backend is
chosen because the watcher is on the bus, not because GTK is missing.

The tests run in file order and share the app, as tests/desktop/test_tray.py does for trayer.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from dbus_fast import Variant
from PIL import Image

from . import session
from .sni_client import MENU, Entry, SniClient

APP = Path(__file__).with_name("tray_app.py")
ROOT = Path(__file__).resolve().parents[2]
KEY = "uuid:1234-ABCD"
FIX_ID = "move-cache-home"
FIX_TITLE = "Move uv's cache to your home"
FIRST_TOOLTIP = "uv-drive-guard: 1 problem(s) for uv on STICK (exFAT)"
AFTER_TOOLTIP = "uv-drive-guard: rescanned from a worker thread"


@dataclass
class Host:
    desk: session.DunstSession
    panel: session.Panel
    client: SniClient
    shots: Path


@dataclass
class App:
    proc: subprocess.Popen[bytes]
    record: Path
    stderr: Path
    bus_name: str

    def calls(self, call: str) -> list[dict[str, Any]]:
        lines = self.record.read_text().splitlines() if self.record.exists() else []
        return [c for c in map(json.loads, lines) if c["call"] == call]

    def log(self) -> str:
        return self.stderr.read_text()


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    tmp = tmp_path_factory.mktemp("sni-host")
    with session.dunst_session(tmp / "desk") as desk, session.xfce_panel(desk, tmp / "panel-home") as panel:
        yield Host(desk, panel, SniClient(desk.bus_address), tmp / "shots")


@pytest.fixture(scope="module")
def app(host: Host, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    tmp = tmp_path_factory.mktemp("sni-app")
    record, stderr = tmp / "calls.jsonl", tmp / "stderr.txt"
    env = {**host.desk.env, "PYTHONUNBUFFERED": "1"}
    env.pop("PYSTRAY_BACKEND", None)
    with stderr.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, str(APP), str(record)], env=env, stdout=subprocess.PIPE, stderr=err, cwd=ROOT
        )
    assert proc.stdout is not None
    assert proc.stdout.readline().decode().strip() == "backend=sni", stderr.read_text()
    running = App(proc, record, stderr, "")
    line = session.wait_for("the item's registration", lambda: _registered(running.log()), timeout=15)
    running.bus_name = line
    yield running
    if proc.poll() not in (None, 0):
        print(f"the tray app exited with {proc.returncode}:\n{running.log()[-4000:]}")
    if proc.poll() is None:
        proc.terminate()
        proc.wait(5)
    proc.stdout.close()


def _registered(log: str) -> str | None:
    for line in log.splitlines():
        if "registered with org.kde.StatusNotifierWatcher" in line:
            return line.split("tray icon ", 1)[1].split()[0]
    return None


def icon_box(host: Host, shot: Path) -> tuple[int, int, int, int]:
    """The item's button in the panel: the pixels of the panel strip that differ from its background."""
    x, y, w, h = host.panel.geometry()
    with Image.open(shot) as image:
        strip = image.convert("RGB").crop((x, y, x + w, y + h))
    background = strip.getpixel((w - 2, h // 2))
    drawn = [(i, j) for i in range(w) for j in range(2, h - 2) if _far(strip.getpixel((i, j)), background)]
    assert drawn, "nothing is drawn in the panel"
    xs, ys = [p[0] for p in drawn], [p[1] for p in drawn]
    return x + min(xs), y + min(ys), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1


def _far(pixel: Any, other: Any) -> bool:
    return sum(abs(a - b) for a, b in zip(pixel, other, strict=True)) > 60


def red_pixels(shot: Path, box: tuple[int, int, int, int]) -> int:
    x, y, w, h = box
    with Image.open(shot) as image:
        rgb = image.convert("RGB").crop((x, y, x + w, y + h))
    data = rgb.tobytes()
    pixels = zip(data[0::3], data[1::3], data[2::3], strict=True)
    return sum(1 for r, g, b in pixels if r > 150 and r - g > 80 and r - b > 80)


def screenshot(host: Host, name: str) -> Path:
    shot = host.desk.screenshot(host.shots / name)
    assert shot is not None, "ImageMagick's import is needed for screenshots"
    return shot


def menu(host: Host, app: App) -> Entry:
    return host.client.menu(app.bus_name)[1]


def test_the_item_registers_and_shows_in_the_panel(host: Host, app: App) -> None:
    item = f"{app.bus_name}/StatusNotifierItem"
    session.wait_for("the panel to list the item", lambda: item in host.panel.items())
    props = session.wait_for("the first view", lambda: _props_if(host, app, "NeedsAttention"))
    assert props["Id"] == "uv-drive-guard" and props["Category"] == "ApplicationStatus"
    assert props["Title"] == FIRST_TOOLTIP and props["ToolTip"][2] == FIRST_TOOLTIP
    assert props["ItemIsMenu"] is True and props["Menu"] == "/MenuBar"
    sizes = [(w, h) for w, h, _data in props["IconPixmap"]]
    assert (16, 16) in sizes and (22, 22) in sizes and (64, 64) in sizes
    assert all(len(data) == 4 * w * h for w, h, data in props["IconPixmap"])
    assert "tray backend: sni" in app.log()
    time.sleep(0.5)  # the panel draws the pixmap after it fetched it
    shot = screenshot(host, "panel-error.png")
    box = icon_box(host, shot)
    assert 12 <= box[2] <= 40 and 12 <= box[3] <= 40, box  # one icon-sized button
    assert red_pixels(shot, box) > 10, "the error badge (red) is not visible in the panel"


def _props_if(host: Host, app: App, status: str) -> dict[str, Any] | None:
    props = host.client.props(app.bus_name)
    return props if props["Status"] == status else None


def test_the_menu_read_over_dbus_is_the_trays_view(host: Host, app: App) -> None:
    assert menu(host, app).outline() == [
        ("STICK (exFAT)", [("uv's cache cannot hard-link on exFAT", [FIX_TITLE, "Details", "Don't show this again"]),
                           "---", "Don't tell me again about this drive", "Ignore this drive"]),
        "---",
        "Undo last fix",
        "Rescan now",
        ("Pause notifications", ["For 1 hour", "Until restart", "Resume"]),
        "Start at login",
        "Open log",
        "Open settings",
        ("About", ["uv-drive-guard 0.1.0", "Tray: sni, StatusNotifierItem over D-Bus"]),
        "---",
        "Quit",
    ]  # fmt: skip
    root = menu(host, app)
    assert root.find("Undo last fix").props["enabled"] is False
    assert root.find("Resume").props["enabled"] is False
    login = root.find("Start at login").props
    assert login["toggle-type"] == "checkmark" and login["toggle-state"] == 0
    assert root.find("STICK (exFAT)").props["children-display"] == "submenu"
    assert host.client.about_to_show(app.bus_name) is False  # the layout is already current


def test_the_other_dbusmenu_calls(host: Host, app: App) -> None:
    """What other hosts use: grouped properties and events, one property, a filtered shallow layout."""
    dest, root = app.bus_name, menu(host, app)
    rescan, quit_item = root.find("Rescan now"), root.find("Quit")
    call = lambda member, sig, *body: host.client.call(dest, "/MenuBar", MENU, member, sig, *body)  # noqa: E731
    [group] = call("GetGroupProperties", "aias", [rescan.id, 99999], ["label", "enabled"])
    assert [list(g) for g in group] == [[rescan.id, {"label": Variant("s", "Rescan now")}]]
    assert call("GetProperty", "is", quit_item.id, "label") == [Variant("s", "Quit")]
    [errors] = call("EventGroup", "a(isvu)", [[quit_item.id, "hovered", Variant("i", 0), 0],
                                              [99999, "clicked", Variant("i", 0), 0]])  # fmt: skip
    assert errors == [99999] and not app.calls("quit")  # hovering is not clicking
    assert call("AboutToShowGroup", "ai", [0, rescan.id, 99999]) == [[], [99999]]
    revision, (ident, props, children) = call("GetLayout", "iias", 0, 1, ["label"])
    assert ident == 0 and props == {} and revision >= 1
    assert [c.value[1].get("label", Variant("s", "---")).value for c in children][:2] == ["STICK (exFAT)", "---"]
    assert all(c.value[2] == [] for c in children)  # depth 1: no grandchildren
    assert host.client.prop(dest, "Version", "/MenuBar", MENU) == 3


def test_a_fix_from_the_panels_own_menu(host: Host, app: App) -> None:
    """The person's way: click the icon, walk the menu the panel drew from the dbusmenu, press Return."""
    shot = screenshot(host, "panel-before-click.png")
    x, y, w, h = icon_box(host, shot)
    host.desk.run("xdotool", "mousemove", str(x + w // 2), str(y + h // 2), "click", "1")
    time.sleep(0.8)
    for key in ("Down", "Right", "Right"):  # STICK (exFAT) > the finding > its recommended fix
        host.desk.run("xdotool", "key", key)
        time.sleep(0.3)
    shot = screenshot(host, "tray-menu-sni.png")
    session.keep_screenshot(shot, "tray-menu-sni.png")
    with Image.open(shot) as image:
        below = image.convert("RGB").crop((0, y + h + 4, 400, y + h + 200))
    assert len(below.getcolors(maxcolors=1 << 16) or ()) > 20, "no menu was drawn under the panel"
    host.desk.run("xdotool", "key", "Return")
    calls = session.wait_for("apply_fix", lambda: app.calls("apply_fix"))
    assert calls == [{"call": "apply_fix", "args": [FIX_ID, KEY], "main": True}]


@pytest.mark.parametrize(
    ("label", "call", "args"),
    [
        ("Details", "show_details", [KEY, "UVD101"]),
        ("Don't show this again", "mute", [KEY, "UVD101"]),
        ("Ignore this drive", "ignore_drive", [KEY]),
        ("Until restart", "pause", [None]),
        ("Start at login", "set_autostart", [True]),
    ],
)
def test_clicks_over_dbus_reach_the_controller(host: Host, app: App, label: str, call: str, args: list[Any]) -> None:
    host.client.click(app.bus_name, menu(host, app).find(label).id)
    assert session.wait_for(call, lambda: app.calls(call)) == [{"call": call, "args": args, "main": True}]


def test_disabled_items_and_submenus_do_nothing(host: Host, app: App) -> None:
    root = menu(host, app)
    for label in ("Undo last fix", "Pause notifications", "STICK (exFAT)"):
        host.client.click(app.bus_name, root.find(label).id)
    time.sleep(0.5)
    assert not app.calls("undo_last") and not app.calls("quit")
    with pytest.raises(AssertionError, match="InvalidArgs"):
        host.client.click(app.bus_name, 99999)


def test_rescan_then_a_worker_update_reaches_the_host(host: Host, app: App) -> None:
    revision, root = host.client.menu(app.bus_name)
    host.client.click(app.bus_name, root.find("Rescan now").id)
    assert session.wait_for("rescan", lambda: app.calls("rescan"))[0]["main"] is True
    assert session.wait_for("update", lambda: app.calls("updated-from-worker"))[0]["main"] is False
    props = session.wait_for("status Active", lambda: _props_if(host, app, "Active"))
    assert props["Title"] == AFTER_TOOLTIP
    new_revision, root = host.client.menu(app.bus_name)
    assert new_revision > revision
    assert root.outline()[0] == "No problems for uv on your drives"
    undo = root.find("Undo last fix")
    assert undo.label == f"Undo last fix: {FIX_TITLE}" and undo.props.get("enabled", True) is True
    assert root.find("Start at login").props["toggle-state"] == 1
    assert root.find("Pause notifications").label == "Pause notifications (paused)"
    host.client.click(app.bus_name, undo.id)
    assert session.wait_for("undo_last", lambda: app.calls("undo_last")) == [
        {"call": "undo_last", "args": [], "main": True}
    ]
    time.sleep(0.5)
    shot = screenshot(host, "panel-ok.png")
    box = icon_box(host, shot)
    assert red_pixels(shot, box) < 5, "the error badge is still shown after the update"


def test_a_failing_callback_is_logged_not_fatal(host: Host, app: App) -> None:
    host.client.click(app.bus_name, menu(host, app).find("Open log").id)
    session.wait_for("the logged failure", lambda: "tray: open_log failed" in app.log())
    time.sleep(0.3)
    assert app.proc.poll() is None, app.log()
    assert menu(host, app).find("Quit")  # still answering


def test_quit_from_the_menu(host: Host, app: App) -> None:
    host.client.click(app.bus_name, menu(host, app).find("Quit").id)
    session.wait_for("quit", lambda: app.calls("quit"))
    assert app.proc.wait(10) == 0, app.log()
    item = f"{app.bus_name}/StatusNotifierItem"
    session.wait_for("the item to leave the panel", lambda: item not in host.panel.items())
