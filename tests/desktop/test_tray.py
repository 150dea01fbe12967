"""The real tray: pystray under Xvfb, docked in trayer (a real XEmbed tray), driven with xdotool.

One desktop for the module: Xvfb on a free display, a private D-Bus session, trayer, and the Tray
in a subprocess (tests/desktop/tray_app.py) whose Controller records every call as a JSON line.
The tests run in file order and share that app: the menu is opened, a fix applied, a rescan
answered from a worker thread, a failing callback survived, and the app quit from its menu.
Screenshots go to a temporary directory; with UVDG_SCREENSHOTS=DIR they are copied there too
(how the README's pictures are made: UVDG_SCREENSHOTS=docs/images).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from tests.realfs.drives import need_real

from . import session

ROOT = Path(__file__).resolve().parents[2]
APP = Path(__file__).with_name("tray_app.py")
TOOLS = ("Xvfb", "trayer", "xdotool", "import", "dbus-daemon")
SCREEN = "800x320x24"
KEY = "uuid:1234-ABCD"
FIX_ID = "move-cache-home"
CODE = "UVD101"
AFTER_TOOLTIP = "uv-drive-guard: rescanned from a worker thread"


def wait_for(what: str, check: Callable[[], Any], timeout: float = 8.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Desktop:
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]]
    shots: Path

    def run(self, *args: str) -> str:
        done = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=10)
        return done.stdout

    def windows(self, name: str) -> list[str]:
        return self.run("xdotool", "search", "--onlyvisible", "--name", name).split()

    def geometry(self, window: str) -> tuple[int, int, int, int]:
        out = dict(line.split("=", 1) for line in self.run("xdotool", "getwindowgeometry", "--shell", window).split())
        return int(out["X"]), int(out["Y"]), int(out["WIDTH"]), int(out["HEIGHT"])

    def screenshot(self, name: str, where: Path | None = None) -> Path:
        """The screen, under tmp; kept for the README (UVDG_SCREENSHOTS) unless `where` is given."""
        folder = where or self.shots
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        self.run("import", "-window", "root", str(path))
        assert path.is_file(), f"no screenshot at {path}"
        if where is None:
            session.keep_screenshot(path, name)
        return path

    def keys(self, *keys: str) -> None:
        for key in keys:  # one at a time: GTK menus need a moment to open a submenu
            self.run("xdotool", "key", key)
            time.sleep(0.15)


def _missing() -> str | None:
    if not sys.platform.startswith("linux"):
        return "the tray test needs Linux (Xvfb, trayer)"
    absent = [tool for tool in TOOLS if shutil.which(tool) is None]
    if absent:
        return f"missing {', '.join(absent)} (apt-get install xvfb trayer xdotool imagemagick dbus)"
    return session.gtk_requirement(Path(sys.executable))


def _start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    """Xvfb picks a free display itself and writes its number to -displayfd once it listens."""
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", SCREEN, "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    if not number:
        proc.kill()
        need_real("Xvfb did not start")
    return proc, f":{number}"


def _start_dbus(env: dict[str, str]) -> tuple[str, int]:
    out = subprocess.run(
        ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    ).stdout.split()
    return out[0], int(out[1])


@pytest.fixture(scope="module")
def desktop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desktop]:
    reason = _missing()
    if reason:
        need_real(reason)
    xvfb, display = _start_xvfb()
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "PYSTRAY_BACKEND")}
    env.update(DISPLAY=display, GDK_BACKEND="x11", NO_AT_BRIDGE="1", PYTHONUNBUFFERED="1")
    bus, bus_pid = _start_dbus(env)  # with DISPLAY set, so that a service it activates (dunst) can start
    env["DBUS_SESSION_BUS_ADDRESS"] = bus
    desk = Desktop(env, [xvfb], tmp_path_factory.mktemp("screenshots"))
    trayer_log = tmp_path_factory.mktemp("trayer") / "trayer.log"
    try:
        with trayer_log.open("wb") as out:
            trayer = ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request", "--height", "32"]
            desk.procs.append(subprocess.Popen([*trayer, "--SetDockType", "true"], env=env, stdout=out, stderr=out))
        try:
            wait_for("trayer's panel", lambda: desk.windows("^panel$"))
        except AssertionError as error:
            raise AssertionError(f"{error} on {display}; trayer said: {trayer_log.read_text()!r}") from None
        yield desk
    finally:
        for proc in reversed(desk.procs):
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
        os.kill(bus_pid, signal.SIGTERM)


@dataclass
class TrayApp:
    proc: subprocess.Popen[bytes]
    record: Path
    stdout: Path
    stderr: Path

    def calls(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]

    def saw(self, call: str) -> list[dict[str, Any]]:
        return [c for c in self.calls() if c["call"] == call]

    def log(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()


def start_app(desk: Desktop, tmp: Path, *args: str, env: dict[str, str] | None = None) -> TrayApp:
    record, out, err = tmp / "calls.jsonl", tmp / "stdout.txt", tmp / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(APP), str(record), *args], env=env or desk.env, stdout=stdout, stderr=stderr,
            cwd=ROOT,
        )  # fmt: skip
    desk.procs.append(proc)
    app = TrayApp(proc, record, out, err)
    wait_for("the tray's setup", lambda: "ready" in app.log() or proc.poll() is not None, timeout=15)
    assert proc.poll() is None, f"tray app died:\n{app.log()}"
    return app


@pytest.fixture(scope="module")
def app(desktop: Desktop, tmp_path_factory: pytest.TempPathFactory) -> TrayApp:
    return start_app(desktop, tmp_path_factory.mktemp("tray"))


def icon_window(desk: Desktop, name: str = "^uv-drive-guard") -> tuple[int, int, int, int]:
    """The docked icon: its X window carries the tray title as its name, inside trayer's panel."""
    window = wait_for("the tray icon in trayer", lambda: desk.windows(name))[-1]
    return desk.geometry(window)


def open_menu(desk: Desktop) -> tuple[int, int, int, int]:
    x, y, w, h = icon_window(desk)
    before = set(desk.windows("tray_app"))
    for button in ("3", "1"):  # gtk's StatusIcon: right click; appindicator's fallback: either
        desk.run("xdotool", "mousemove", str(x + w // 2), str(y + h // 2), "click", button)
        try:
            menu = wait_for("the menu", lambda: [m for m in desk.windows("tray_app") if m not in before], timeout=2)
        except AssertionError:
            continue
        time.sleep(0.3)  # mapped is not yet drawn
        return desk.geometry(menu[-1])
    raise AssertionError("the tray menu did not open on right or left click")


def coloured(path: Path, box: tuple[int, int, int, int], channel: int) -> int:
    """How many pixels in `box` (x, y, w, h) are strongly red (0) or green (1)."""
    x, y, w, h = box
    with Image.open(path) as shot:
        rgb = shot.convert("RGB")
    pixels = [rgb.getpixel((i, j)) for i in range(x, x + w) for j in range(y, y + h)]
    return sum(1 for p in pixels if p[channel] > 150 and all(p[channel] - p[i] > 80 for i in range(3) if i != channel))


def test_backend_is_logged(app: TrayApp) -> None:
    log = app.log()
    assert "backend=appindicator" in log or "backend=gtk" in log, log
    backend = log.split("backend=", 1)[1].split()[0]
    assert f"tray backend: {backend}" in log


def test_icon_docks_in_trayer(desktop: Desktop, app: TrayApp) -> None:
    box = icon_window(desktop)
    panel = desktop.geometry(desktop.windows("^panel$")[0])
    assert panel[1] <= box[1] < panel[1] + panel[3], (box, panel)  # inside the panel at the top
    time.sleep(0.3)
    shot = desktop.screenshot("tray.png")
    assert coloured(shot, box, 0) > 20, "the error badge (red) is not visible in the tray"


def test_fix_from_the_menu(desktop: Desktop, app: TrayApp) -> None:
    open_menu(desktop)
    desktop.keys("Down", "Right", "Right")  # STICK (exFAT) > the finding > its recommended fix
    time.sleep(0.3)
    desktop.screenshot("tray-menu.png")
    desktop.keys("Return")
    calls = wait_for("apply_fix", lambda: app.saw("apply_fix"))
    assert calls == [{"call": "apply_fix", "args": [FIX_ID, KEY], "main": True}]


@pytest.mark.parametrize(
    ("keys", "call", "args"),
    [
        (("Down", "Right", "Right", "Down"), "show_details", [KEY, CODE]),
        (("Down", "Right", "Right", "Down", "Down"), "mute", [KEY, CODE]),
        (("Down", "Right", "Down"), "set_quiet", [KEY, True]),
        (("Down", "Right", "Down", "Down"), "ignore_drive", [KEY]),
        (("Down", "Down", "Down", "Right", "Down"), "pause", [None]),  # Rescan, Pause > Until restart
    ],
)
def test_more_menu_items(desktop: Desktop, app: TrayApp, keys: tuple[str, ...], call: str, args: list[Any]) -> None:
    open_menu(desktop)
    desktop.keys(*keys, "Return")
    assert wait_for(call, lambda: app.saw(call)) == [{"call": call, "args": args, "main": True}]


def test_rescan_then_update_from_a_worker(desktop: Desktop, app: TrayApp) -> None:
    open_menu(desktop)
    desktop.keys("Down", "Down", "Return")  # STICK (exFAT), (Undo is disabled: skipped), Rescan now
    assert wait_for("rescan", lambda: app.saw("rescan"))[0]["main"] is True
    assert wait_for("update", lambda: app.saw("updated-from-worker"))[0]["main"] is False
    wait_for("the new tooltip", lambda: desktop.windows(AFTER_TOOLTIP))
    assert f"MainThread uv_drive_guard.app.tray: tray shows ok: {AFTER_TOOLTIP}" in app.log()
    box = icon_window(desktop, AFTER_TOOLTIP)
    # the new menu: no problems, undo enabled, paused (so Resume is enabled), autostart checked
    open_menu(desktop)
    desktop.keys("Down", "Down", "Down", "Right", "Down", "Down")  # Undo, Rescan, Pause > For 1 hour, ..., Resume
    time.sleep(0.3)
    shot = desktop.screenshot("tray-menu-after.png")
    assert coloured(shot, box, 1) > 20, "the OK badge (green) is not visible in the tray"
    desktop.keys("Return")
    assert wait_for("resume", lambda: app.saw("pause")[1:]) == [{"call": "pause", "args": [0], "main": True}]


def test_failing_callback_is_logged_not_fatal(desktop: Desktop, app: TrayApp) -> None:
    open_menu(desktop)
    desktop.keys(*["Down"] * 5, "Return")  # Undo, Rescan, Pause, Start at login, Open log
    wait_for("open_log", lambda: app.saw("open_log"))
    wait_for("the logged failure", lambda: "tray: open_log failed" in app.log())
    assert "open_log fails on purpose" in app.log()
    time.sleep(0.3)
    assert app.proc.poll() is None, app.log()
    open_menu(desktop)
    desktop.keys("Down", "Down", "Down", "Down", "Return")  # Start at login, checked: asks to turn it off
    assert wait_for("set_autostart", lambda: app.saw("set_autostart")) == [
        {"call": "set_autostart", "args": [False], "main": True}
    ]


def test_quit_from_the_menu(desktop: Desktop, app: TrayApp) -> None:
    open_menu(desktop)
    desktop.keys("Up", "Return")  # from nothing selected, Up selects the last item: Quit
    wait_for("quit", lambda: app.saw("quit"))
    assert app.proc.wait(10) == 0, app.log()
    assert "stopped" in app.log()
    wait_for("the icon to leave trayer", lambda: not desktop.windows("^uv-drive-guard"))


def test_gtk_backend_by_name(desktop: Desktop, tmp_path: Path) -> None:
    gtk = start_app(desktop, tmp_path, "gtk")
    assert "tray backend: gtk" in gtk.log()
    icon_window(desktop)
    gtk.proc.terminate()
    gtk.proc.wait(5)


def test_no_notification_service_is_not_fatal(desktop: Desktop, tmp_path: Path) -> None:
    """pystray's GLib backends connect to org.freedesktop.Notifications before their loop starts."""
    env = {**desktop.env, "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/no-bus"}
    lone = start_app(desktop, tmp_path, env=env)
    assert "tray runs without pystray's notifier" in lone.log()
    icon_window(desktop)
    lone.proc.terminate()
    lone.proc.wait(5)


def test_xorg_backend_warns_there_is_no_menu(desktop: Desktop, tmp_path: Path) -> None:
    """pystray's fallback without PyGObject: an XEmbed icon, no menu; it still follows update()."""
    xorg = start_app(desktop, tmp_path, "xorg", "--rescan-soon")
    log = xorg.log()
    assert "tray backend: xorg" in log
    assert "has no menu: notifications carry the fixes, each naming the command that applies it" in log
    box = icon_window(desktop)
    time.sleep(0.3)
    assert coloured(desktop.screenshot("xorg-error.png", tmp_path), box, 0) > 20
    box = icon_window(desktop, AFTER_TOOLTIP)  # a worker's update(), marshalled by pystray to its loop
    assert xorg.saw("updated-from-worker")
    time.sleep(0.3)
    assert coloured(desktop.screenshot("xorg-ok.png", tmp_path), box, 1) > 20
    xorg.proc.terminate()
    xorg.proc.wait(5)
