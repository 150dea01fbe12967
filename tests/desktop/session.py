"""A private desktop for notification tests: D-Bus session bus, Xvfb and a real dunst.

Nothing of the user's session is touched: the bus has no service directories (so nothing is
D-Bus-activated behind the test's back), Xvfb picks a free display itself (``-displayfd``), and
dunst runs with a test dunstrc whose ``dmenu`` is a script that picks the context-menu line named
in a file, so a test can press a named button with ``DunstSession.choose(label)``.

Typical use::

    with dunst_session(tmp_path) as desk:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", desk.bus_address)
        ...
        desk.choose("Move the cache")  # presses that button through dunst's context menu

Missing tools skip, or fail when ``UVDG_REQUIRE_REAL=1`` (CI), through ``need_real``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tests.realfs.drives import need_real

TOOLS = ("Xvfb", "dunst", "dunstctl", "dbus-daemon", "dbus-send")
SCREEN = "800x300x24"
T = TypeVar("T")

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

# Timeouts 0: nothing expires while a test looks at it. Actions are on (dunst always offers them
# in the context menu); markup full as in dunst's shipped default, so escaping is tested for real.
DUNSTRC = """[global]
    dmenu = {dmenu}
    browser = /bin/true
    markup = full
    format = "<b>%s</b>\\n%b"
    width = 560
    height = 260
    origin = top-right
    offset = 12x12
    font = DejaVu Sans 10
    padding = 10
    horizontal_padding = 10
    frame_width = 2
    icon_position = left
    min_icon_size = 32
    max_icon_size = 48
    show_indicators = yes
    idle_threshold = 0
    sticky_history = yes
    history_length = 100
    mouse_left_click = do_action, close_current
[urgency_low]
    timeout = 0
[urgency_normal]
    background = "#2b2f36"
    foreground = "#eceff4"
    frame_color = "#e5a50a"
    timeout = 0
[urgency_critical]
    background = "#3b2226"
    foreground = "#f5e9ea"
    frame_color = "#e01b24"
    timeout = 0
"""

# dunst feeds its context menu to dmenu as lines "#Label (summary) [id,action-key]" and acts on
# the line printed back; this picks the first line containing the text in PICK (or nothing).
DMENU = """#!/bin/sh
cat > "{menu}"
pick=$(cat "{pick}" 2>/dev/null)
[ -n "$pick" ] && grep -F -m1 -- "$pick" "{menu}"
exit 0
"""


def requirement() -> str | None:
    """Why this machine cannot run the real notification tests, or None."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"needs {', '.join(missing)} (apt-get install xvfb dunst dbus libnotify-bin)"
    return None


GTK_PROBE = "import gi; gi.require_version('Gtk', '3.0'); from gi.repository import Gtk"


def gtk_requirement(python: Path) -> str | None:
    """Why a daemon run by `python` cannot have pystray's GTK tray, or None: PyGObject is the
    `gtk` extra, which a plain install does not have (the daemon then picks SNI or xorg)."""
    done = subprocess.run(
        [str(python), "-c", GTK_PROBE], env=_base_env(), capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode == 0:
        return None
    why = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
    return f"needs PyGObject with GTK 3 for pystray's gtk tray (the gtk extra: pip install -e '.[gtk]'): {why}"


def require() -> None:
    """Skip (fail in CI) when the tools are missing."""
    reason = requirement()
    if reason:
        need_real(reason)


def wait_for(what: str, check: Callable[[], T | None], timeout: float = 5.0) -> T:
    """Poll until check() is truthy; the real server answers asynchronously."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@dataclass
class DunstSession:
    """The running desktop: env to give clients, and handles to drive dunst like a user would."""

    dir: Path
    display: str
    bus_address: str
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "DISPLAY": self.display, "DBUS_SESSION_BUS_ADDRESS": self.bus_address}

    @property
    def menu_file(self) -> Path:
        return self.dir / "menu.txt"

    def run(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=10, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def dunstctl(self, *args: str) -> str:
        return self.run("dunstctl", *args)

    def count(self, which: str = "displayed") -> int:
        return int(self.dunstctl("count", which).strip())

    def history(self) -> list[dict[str, Any]]:
        """``dunstctl history`` with the D-Bus type wrappers taken off: newest first."""
        data = json.loads(self.dunstctl("history"))
        return [{key: value["data"] for key, value in item.items()} for item in data["data"][0]]

    def capabilities(self) -> list[str]:
        """What the server itself advertises over GetCapabilities."""
        out = self.run(
            "dbus-send", "--print-reply=literal", "--dest=org.freedesktop.Notifications",
            "/org/freedesktop/Notifications", "org.freedesktop.Notifications.GetCapabilities",
        )  # fmt: skip
        return out.split()[1:-1] if out.split()[:1] == ["array"] else out.split()

    def choose(self, label: str) -> None:
        """Press the newest notification's button labelled ``label``, through dunst's context menu."""
        self.menu_file.unlink(missing_ok=True)
        (self.dir / "pick").write_text(label)
        self.dunstctl("context")
        wait_for("dunst's context menu", self.menu_file.exists)

    def click_body(self) -> None:
        """What a left click on the newest notification does: its default action."""
        self.dunstctl("action", "0")

    def close_all(self) -> None:
        self.dunstctl("close-all")
        wait_for("no notification on screen", lambda: self.count() == 0 or None)

    def screenshot(self, path: Path) -> Path | None:
        """The whole virtual screen as PNG; None when ImageMagick's import is not installed."""
        if shutil.which("import") is None:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        time.sleep(0.3)  # dunst maps its window before it paints it
        self.run("import", "-window", "root", str(path))
        return path


def _start(args: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, **kwargs)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=3)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _read_line(proc: subprocess.Popen[bytes], what: str) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline().decode().strip()
    if not line:
        raise AssertionError(f"{what} did not start (exit {proc.poll()})")
    return line


@contextlib.contextmanager
def private_bus(tmp: Path) -> Iterator[str]:
    """A session bus of our own with no service directories: its address, for DBUS_SESSION_BUS_ADDRESS."""
    require()
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "bus.conf").write_text(BUS_CONFIG.format(dir=tmp))
    args = ["dbus-daemon", "--nofork", f"--config-file={tmp / 'bus.conf'}", "--print-address=1"]
    bus = _start(args, _base_env(), stdout=subprocess.PIPE)
    try:
        yield _read_line(bus, "dbus-daemon")
    finally:
        _stop(bus)


@contextlib.contextmanager
def dunst_session(tmp: Path) -> Iterator[DunstSession]:
    """Start bus, screen and dunst; always stop all three."""
    require()
    dmenu = tmp / "dmenu.sh"
    with private_bus(tmp) as address:
        dmenu.write_text(DMENU.format(menu=tmp / "menu.txt", pick=tmp / "pick"))
        dmenu.chmod(0o755)
        (tmp / "dunstrc").write_text(DUNSTRC.format(dmenu=dmenu))
        args = ["Xvfb", "-displayfd", "1", "-screen", "0", SCREEN, "-nolisten", "tcp"]
        xvfb = _start(args, _base_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        desk = DunstSession(tmp, "", address, [xvfb])
        try:
            desk.display = ":" + _read_line(xvfb, "Xvfb")
            with (tmp / "dunst.log").open("wb") as log:
                desk.procs.append(_start(["dunst", "-config", str(tmp / "dunstrc")], desk.env, stdout=log, stderr=log))
            wait_for("dunst on the private bus", lambda: desk.run("dunstctl", "is-paused", check=False).strip())
            yield desk
        finally:
            for proc in reversed(desk.procs):
                _stop(proc)


def _base_env() -> dict[str, str]:
    """The test's environment without the user's own display and bus."""
    return {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "DBUS_SESSION_BUS_ADDRESS")}


# --- a StatusNotifierItem host: xfce4-panel ----------------------------------------------------

# One panel along the top holding only the systray plugin, which in xfce4-panel 4.16+ is both an
# XEmbed tray and the StatusNotifierWatcher/Host. Written by hand rather than taken from the first
# start: the packaged default (/etc/xdg/xfce4/panel/default.xml) names plugins that need packages
# of their own (pulseaudio, power manager, notifications).
PANEL_XML = """<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="length" type="uint" value="100"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="size" type="uint" value="32"/>
      <property name="plugin-ids" type="array">
        <value type="int" value="1"/>
      </property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="systray"/>
  </property>
</channel>
"""
WATCHER = "org.kde.StatusNotifierWatcher"


def xfconfd() -> str | None:
    """xfce's settings daemon (the panel reads its layout through it); not on PATH in Debian."""
    found = sorted(Path("/usr/lib").glob("*/xfce4/xfconf/xfconfd")) + sorted(Path("/usr/libexec").glob("xfconfd"))
    return str(found[0]) if found else None


def panel_requirement() -> str | None:
    if shutil.which("xfce4-panel") is None or xfconfd() is None or shutil.which("gdbus") is None:
        return "needs xfce4-panel (apt-get install xfce4-panel), its xfconfd, and gdbus"
    return None


@dataclass
class Panel:
    """A running xfce4-panel on a desktop, with its own HOME and XDG directories under tmp."""

    desk: DunstSession
    home: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        dirs = {"CONFIG": ".config", "DATA": ".local/share", "CACHE": ".cache", "STATE": ".local/state"}
        xdg = {f"XDG_{name}_HOME": str(self.home / sub) for name, sub in dirs.items()}
        return {**self.desk.env, **xdg, "HOME": str(self.home), "NO_AT_BRIDGE": "1", "XDG_CONFIG_DIRS": "/etc/xdg"}

    def start(self) -> None:
        """The panel, and once it shows, its watcher on the bus."""
        log = (self.home / "panel.log").open("ab")
        self.procs.append(_start(["xfce4-panel", "--disable-wm-check"], self.env, stdout=log, stderr=log))
        wait_for("the panel's StatusNotifierWatcher", lambda: self.watcher_up() or None, timeout=20)

    def kill(self) -> None:
        """As a crash would: the panel and the plugin process it started (which owns the watcher)."""
        import psutil

        for proc in self.procs[1:]:
            children = psutil.Process(proc.pid).children(recursive=True)
            proc.kill()
            for child in children:
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()
            proc.wait(timeout=5)
        del self.procs[1:]
        wait_for("the watcher to leave the bus", lambda: not self.watcher_up() or None, timeout=10)

    def watcher_up(self) -> bool:
        out = self.desk.run(*_gdbus_call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                         "org.freedesktop.DBus.NameHasOwner", WATCHER), check=False)  # fmt: skip
        return "true" in out

    def items(self) -> list[str]:
        """RegisteredStatusNotifierItems, as the watcher itself lists them."""
        out = self.desk.run(*_gdbus_call(WATCHER, "/StatusNotifierWatcher", "org.freedesktop.DBus.Properties.Get",
                                         WATCHER, "RegisteredStatusNotifierItems"), check=False)  # fmt: skip
        return [part.strip(" '") for part in out.split("[", 1)[-1].split("]", 1)[0].split(",") if part.strip(" '")]

    def geometry(self) -> tuple[int, int, int, int]:
        """Where the panel's window is on the screen (x, y, width, height)."""
        search = ("xdotool", "search", "--onlyvisible", "--class", "xfce4-panel")
        windows = wait_for("the panel window", lambda: self.desk.run(*search, check=False).split())
        return max((self._geometry(window) for window in windows), key=lambda box: box[2] * box[3])

    def _geometry(self, window: str) -> tuple[int, int, int, int]:
        shell = self.desk.run("xdotool", "getwindowgeometry", "--shell", window).split()
        pairs = dict(line.split("=", 1) for line in shell)
        return int(pairs["X"]), int(pairs["Y"]), int(pairs["WIDTH"]), int(pairs["HEIGHT"])


def _gdbus_call(dest: str, path: str, method: str, *args: str) -> list[str]:
    return ["gdbus", "call", "--session", "-d", dest, "-o", path, "-m", method, "--", *args]


@contextlib.contextmanager
def xfce_panel(desk: DunstSession, home: Path) -> Iterator[Panel]:
    """xfce4-panel with the status tray on `desk`; xfconfd is started by hand because the private
    bus activates nothing. Everything the panel writes stays under `home`."""
    reason = panel_requirement()
    if reason:
        need_real(reason)
    conf = home / ".config" / "xfce4" / "xfconf" / "xfce-perchannel-xml"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "xfce4-panel.xml").write_text(PANEL_XML)
    panel = Panel(desk, home)
    daemon = xfconfd()
    assert daemon is not None
    log = (home / "xfconfd.log").open("ab")
    panel.procs.append(_start([daemon], panel.env, stdout=log, stderr=log))
    try:
        panel.start()
        yield panel
    finally:
        for proc in reversed(panel.procs):
            _stop(proc)


def keep_screenshot(shot: Path | None, name: str) -> None:
    """Pictures for the README: copied out of a test run only when UVDG_SCREENSHOTS=DIR is set."""
    where = os.environ.get("UVDG_SCREENSHOTS")
    if where and shot is not None and shot.is_file():
        Path(where).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(where) / name)
