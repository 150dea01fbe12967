"""Which tray backend this desktop gets: decided here, and only here.

Linux: StatusNotifierItem over D-Bus (`app/sni`) when a StatusNotifierWatcher owns its name on
the session bus (KDE Plasma, XFCE's status tray, GNOME with the AppIndicator extension, Cinnamon,
MATE, Budgie, LXQt; X11 and Wayland alike: no display is needed); otherwise pystray's
appindicator or gtk backends when PyGObject imports; otherwise pystray's xorg backend (XEmbed,
no menu), when an XEmbed tray is there to dock it. macOS and Windows get pystray's own backend.
`PYSTRAY_BACKEND` (pystray's own switch, which also takes "sni") or an explicit name overrides
the choice. When no backend has a tray to show its icon in, `load` raises NoTray saying what each
one found: the daemon runs without a tray, and its notifications carry the fixes.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

from ..core.model import Os
from ..edges import platforms
from .traybase import WATCHER as WATCHER
from .traybase import import_pystray as import_pystray

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 2.0  # seconds for the session bus to say whether a watcher is there
LINUX_ORDER = ("appindicator", "gtk", "xorg")  # pystray's own order after SNI
DESCRIPTIONS = {
    "sni": "StatusNotifierItem over D-Bus",
    "appindicator": "AppIndicator through GTK",
    "gtk": "GTK status icon (XEmbed)",
    "xorg": "X11 XEmbed icon, no menu",
    "darwin": "macOS menu bar",
    "win32": "Windows notification area",
}


def watcher_present(timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether a StatusNotifierWatcher (a tray that shows SNI items) is on the session bus."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") and not os.environ.get("XDG_RUNTIME_DIR"):
        return False
    try:
        return asyncio.run(asyncio.wait_for(_has_owner(WATCHER), timeout))
    except (OSError, EOFError, asyncio.TimeoutError, ValueError) as error:
        log.info("no session bus to ask for a StatusNotifierWatcher: %s", error)
        return False
    except Exception as error:  # dbus-fast's own errors (auth, a bus that says no) all mean "none"
        log.info("could not ask the session bus for a StatusNotifierWatcher: %s", error)
        return False


async def _has_owner(name: str) -> bool:
    from dbus_fast import Message, MessageType
    from dbus_fast.aio import MessageBus

    bus = await MessageBus().connect()
    try:
        reply = await bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="NameHasOwner",
                signature="s",
                body=[name],
            )
        )
        return reply.message_type is MessageType.METHOD_RETURN and bool(reply.body[0])
    finally:
        bus.disconnect()
        await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]  # its socket closes in this loop, now


def choose(
    requested: str | None = None,
    *,
    platform: str | None = None,
    environ: Mapping[str, str] = os.environ,
    watcher: Callable[[], bool] = watcher_present,
) -> tuple[str, ...]:
    """The backends to try, best first: one when named, the fallback chain otherwise."""
    named = requested or environ.get("PYSTRAY_BACKEND") or None
    if named:
        return (named,)
    os_ = platforms.current(platform)
    if os_ is Os.MACOS:
        return ("darwin",)
    if os_ is Os.WINDOWS:
        return ("win32",)
    if watcher():
        return ("sni", *LINUX_ORDER)  # if SNI itself cannot load, the others still may
    return LINUX_ORDER


class NoTray(ImportError):
    """No tray backend can show an icon on this desktop; the message says what each one found."""


def xembed_tray(display: str | None = None) -> str | None:
    """None when an XEmbed tray owns the system tray selection of the display (what pystray's
    xorg backend docks into); else why there is none."""
    from Xlib import X
    from Xlib import display as xdisplay

    connection = xdisplay.Display(display)
    try:
        atom = connection.intern_atom(f"_NET_SYSTEM_TRAY_S{connection.get_default_screen()}")
        if connection.get_selection_owner(atom) != X.NONE:
            return None
    finally:
        connection.close()
    return f"no XEmbed tray on display {display or os.environ.get('DISPLAY', '')} to dock in"


def icon_class(name: str) -> Any:
    """The Icon class of one backend; ImportError (or the backend's own error) if it cannot load."""
    if name == "sni":
        from .sni import Icon

        return Icon
    import_pystray()
    return importlib.import_module(f"pystray._{name}").Icon


def load(
    requested: str | None = None, *, host: Callable[[str], str | None] | None = None, **choice: Any
) -> tuple[str, Any]:
    """The first backend of `choose()` that loads and has a tray to show its icon in: its name
    and Icon class. `host(name)` says why a loaded backend has none (None: it has one)."""
    order = choose(requested, **choice)
    errors: list[str] = []
    if order == LINUX_ORDER:  # Linux without a watcher for an SNI item to register with
        errors.append(f"sni: no {WATCHER} on the session bus")
    for name in order:
        try:
            icon = icon_class(name)
            missing = (host or _host_missing)(name)
        except Exception as error:  # ImportError, or the backend's own: Xlib without a display, gi without GTK
            errors.append(f"{name}: {_first_line(error)}")
            continue
        if missing is None:
            return name, icon
        errors.append(f"{name}: {missing}")
    raise NoTray("; ".join(errors))


def _host_missing(name: str) -> str | None:
    """pystray's xorg icon looks for a tray only when it is shown or its picture changes, logging a
    traceback each time it finds none: without one now, no icon is what the log can say in one
    line. The other backends find their tray themselves, also one that comes later."""
    return xembed_tray() if name == "xorg" else None


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def describe(name: str) -> str:
    """What the About menu says about the backend in use."""
    return f"{name}, {DESCRIPTIONS[name]}" if name in DESCRIPTIONS else name
