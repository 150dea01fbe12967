"""The tray icon and its menu, drawn through pystray's API from the last `TrayView` the daemon
handed over; the backend (SNI over D-Bus, appindicator, gtk, xorg, darwin, win32) comes from
app/trayhost.py.

Threads (docs/architecture.md, "Threads in the daemon"): the tray owns the main thread.
`update()` and `stop()` may be called from any thread; the view is handed to the thread that
owns the icon: GLib's idle queue for gtk/appindicator; AppKit's main queue on macOS
(PyObjCTools.AppHelper.callAfter), where the first show goes too, since pystray's setup thread
runs the setup and NSStatusItem is main-thread-only; on Windows a message posted to the icon's
window, so the menu is rebuilt on the thread whose TrackPopupMenuEx shows it, never while it is
open (pystray's win32 `_update_menu` destroys the old menu). The backends that marshal calls
to their own loop (sni, xorg) apply it on the caller's thread once the loop runs. Every menu
callback only calls the `Controller` (a drive's items through `actions.dispatch`, as a notice's
buttons do), which posts work to the daemon and returns.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
import unicodedata
from collections.abc import Callable
from typing import Any

from .. import __version__
from . import trayhost
from .actions import (
    Action,
    Controller,
    DriveReport,
    Kind,
    State,
    dispatch,
    ignore_action,
    quiet_action,
    unseen_lines,
)
from .control import TrayView
from .icons import tray_image

pystray: Any = trayhost.import_pystray()  # Menu and MenuItem only: the backend is trayhost's choice
log = logging.getLogger(__name__)

NAME = "uv-drive-guard"
_GLIB_BACKENDS = frozenset({"gtk", "appindicator"})
_LABEL_LIMIT = 72
_LOOP_THREAD_WAIT = 2.0  # seconds: pystray's xorg loop names its thread just after releasing setup
# A message of our own for pystray's win32 window: WM_APP (0x8000) and above are the application's
# (Microsoft, "WM_APP"); pystray uses WM_USER + 10 and + 11. PostMessageW queues it for the thread
# that made the window and returns at once (Microsoft, "PostMessageW"), from any thread.
WM_APP_VIEW = 0x8000 + 1


def _label(text: str) -> str:
    """Drive labels and paths are untrusted: no control characters, bounded length."""
    clean = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text).strip()
    return clean if len(clean) <= _LABEL_LIMIT else clean[: _LABEL_LIMIT - 1] + "…"


WIN32_TIP_UNITS = 127  # NOTIFYICONDATAW.szTip is WCHAR[128], NUL included (pystray/_util/win32.py)


def tooltip_for(backend: str, text: str) -> str:
    """pystray's win32 backend copies the title into szTip, and ctypes raises ValueError for a
    longer string, which left the menu stale: cut at a character, counting UTF-16 units."""
    if backend != "win32" or len(text.encode("utf-16-le")) // 2 <= WIN32_TIP_UNITS:
        return text
    units, kept = 1, []  # room for the ellipsis
    for ch in text:
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > WIN32_TIP_UNITS:
            break
        kept.append(ch)
    return "".join(kept).rstrip() + "…"


class _NoNotifier:
    """Stands in for pystray's D-Bus notifier when the session has none."""

    def notify(self, title: str, message: str, icon: str | None) -> None:
        log.debug("pystray notification dropped: %s", title)

    def hide(self) -> None:
        return None


class _DockFailures(logging.Filter):
    """pystray's xorg backend logs "Failed to dock icon" with a traceback when the XEmbed tray goes
    away (a panel that quits or crashes): one line says it instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage() == "Failed to dock icon":
            record.msg = "the XEmbed tray went away: the icon is not shown; notifications carry the fixes"
            record.args = ()
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


logging.getLogger("pystray._base").addFilter(_DockFailures())  # every pystray Icon logs through this one


class Tray:
    """One tray icon; its menu is rebuilt from every view handed to `update()`."""

    def __init__(self, controller: Controller, *, backend: str | None = None) -> None:
        self._controller = controller
        self.backend_name, icon_cls = trayhost.load(backend)
        self.has_menu = bool(getattr(icon_cls, "HAS_MENU", True))
        self._lock = threading.Lock()  # guards _pending, _scheduled
        self._apply_lock = threading.Lock()  # serialises applying views off the UI thread
        self._pending: TrayView | None = None
        self._scheduled = False
        self._shown_state: State | None = None
        self._ready = threading.Event()
        self._stopped = threading.Event()
        self._menu_open = False  # win32: TrackPopupMenuEx is showing the menu (the icon's thread only)
        view = TrayView(State.WORKING, f"{NAME}: starting")
        self._view = view
        tip = tooltip_for(self.backend_name, view.tooltip)
        self._icon: Any = icon_cls(NAME, self._image(view.state), tip, self._menu(view))
        self._shown_state = view.state
        self._set_tooltip(view.tooltip)
        self._tolerate_missing_notifier()
        if self.backend_name == "win32":
            self._hook_win32()
        log.info("tray backend: %s", self.backend_name)
        if not self.has_menu:
            log.warning(
                "tray backend %s has no menu: notifications carry the fixes, each naming the command "
                "that applies it (trays that show StatusNotifierItems get the menu as installed; for an "
                "XEmbed-only tray, install PyGObject, the `gtk` extra, into the same environment)",
                self.backend_name,
            )

    # -- any thread -------------------------------------------------------------------------

    def update(self, view: TrayView) -> None:
        """Hand `view` to the UI thread; the newest view wins if several arrive before it runs."""
        with self._lock:
            self._pending = view
            if self._scheduled:
                return
            self._scheduled = True
        self._schedule()

    def stop(self) -> None:
        """End `run()`; harmless before it starts or after it ended."""
        self._stopped.set()
        if self._ready.is_set():
            self._icon.stop()

    # -- main thread ------------------------------------------------------------------------

    def run(self, setup: Callable[[], None] | None = None) -> None:
        """Block on the main thread until `stop()`.

        `setup` runs once the icon shows, in pystray's setup thread; it should return soon: pystray
        waits up to 5 s for it when stopping.
        """
        if self._stopped.is_set():
            return

        def on_ready(icon: Any) -> None:
            self._before_show(icon)
            if self.backend_name == "darwin":  # queued ahead of any view, so it shows first
                self._app_helper().callAfter(self._guard, "show", lambda: setattr(icon, "visible", True))
            else:
                icon.visible = True
            self._ready.set()
            if self._stopped.is_set():
                icon.stop()
                return
            with self._lock:
                self._scheduled = self._pending is not None
            if self._scheduled:
                self._schedule()
            if setup is not None:
                self._guard("setup", setup)

        self._icon.run(on_ready)
        log.info("tray stopped")

    # -- handing views over -----------------------------------------------------------------

    def _schedule(self) -> None:
        if self.backend_name in _GLIB_BACKENDS:
            # GLib's idle queue is thread-safe; the backend imported gi already
            importlib.import_module("gi.repository.GLib").idle_add(self._apply_pending)
        elif self.backend_name == "darwin":
            self._app_helper().callAfter(self._apply_pending)
        elif self.backend_name == "win32":
            if self._ready.is_set():
                self._post_win32()
        elif self._ready.is_set():
            self._apply_pending()  # sni, xorg: the backend sends changes to its loop thread and waits
        # else: run()'s setup applies it once the loop is up

    @staticmethod
    def _app_helper() -> Any:
        return importlib.import_module("PyObjCTools.AppHelper")

    # -- win32: the icon's own thread -------------------------------------------------------

    def _hook_win32(self) -> None:
        """pystray's window procedure looks up `_message_handlers` by message: one for our views,
        and its WM_NOTIFY wrapped to know while the menu is open."""
        win32 = importlib.import_module("pystray._util.win32")
        handlers = self._icon._message_handlers
        notify = handlers[win32.WM_NOTIFY]

        def on_notify(wparam: int, lparam: int) -> Any:
            self._menu_open = True  # TrackPopupMenuEx runs inside: its modal loop still dispatches
            try:
                return notify(wparam, lparam)
            finally:
                self._menu_open = False
                self._apply_pending()  # what came while the menu was open

        def on_view(wparam: int, lparam: int) -> int:
            if not self._menu_open:
                self._apply_pending()
            return 0

        handlers[win32.WM_NOTIFY] = on_notify
        handlers[WM_APP_VIEW] = on_view

    def _post_win32(self) -> None:
        win32 = importlib.import_module("pystray._util.win32")
        if not win32.PostMessage(self._icon._hwnd, WM_APP_VIEW, 0, 0):
            log.warning("tray: could not post a view to the icon's window (it is closing)")

    def _apply_pending(self) -> bool:
        """Apply the newest view; returns False so that GLib runs it once."""
        with self._lock:
            view, self._pending, self._scheduled = self._pending, None, False
        if view is not None and not self._stopped.is_set():
            with self._apply_lock:
                self._guard("apply view", lambda: self._apply(view))
        return False

    def _apply(self, view: TrayView) -> None:
        self._view = view
        if view.state is not self._shown_state:
            self._icon.icon = self._image(view.state)
            self._shown_state = view.state
        if hasattr(self._icon, "attention"):  # SNI: Status NeedsAttention while a drive has an error
            self._icon.attention = view.state is State.ERROR
        self._icon.title = tooltip_for(self.backend_name, view.tooltip)
        self._set_tooltip(view.tooltip)
        self._icon.menu = self._menu(view)
        log.debug("tray shows %s: %s", view.state.value, view.tooltip)

    def _image(self, state: State) -> Any:
        """macOS draws a menu-bar icon from its alpha channel alone (pystray marks it a template):
        there the state must be in the mask, which only the template images vary."""
        return tray_image(state.value, template=self.backend_name == "darwin")

    def _tolerate_missing_notifier(self) -> None:
        """pystray's GLib loop connects to org.freedesktop.Notifications before it starts and dies if
        there is no session bus or the server fails to start; we never use pystray's notifications."""
        icon = self._icon
        initialize = getattr(icon, "_initialize", None)
        if initialize is None or not hasattr(icon, "_notifier"):
            return

        def guarded() -> None:
            try:
                initialize()
            except Exception as error:
                if icon._notifier is not None:  # it failed after the notifier: not ours to excuse
                    raise
                log.warning("tray runs without pystray's notifier (no notification service on D-Bus: %s)", error)
                icon._notifier = _NoNotifier()
                icon._mark_ready()

        icon._initialize = guarded

    def _set_tooltip(self, text: str) -> None:
        """gtk's StatusIcon shows its tooltip, not the title pystray sets; other backends use the title."""
        status_icon = getattr(self._icon, "_status_icon", None)
        if status_icon is not None:
            status_icon.set_tooltip_text(text)

    def _before_show(self, icon: Any) -> None:
        """Loop-thread backends: wait for the thread their setters need, and dock xorg's icon once."""
        if self.backend_name not in ("xorg", "win32"):
            return
        deadline = time.monotonic() + _LOOP_THREAD_WAIT  # pystray names it just after releasing setup
        while not hasattr(icon, "_thread") and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.backend_name != "xorg":
            return
        # pystray's xorg sends a dock request from every image change and from showing; trayer loses the
        # icon about one time in five when a second request comes while it still embeds the first. So the
        # first view's image is set while hidden (pystray only stores it), and `visible = True` docks once:
        # marking the image valid skips the redundant _update_icon; the image is drawn on the first Expose.
        with self._lock:
            first = self._pending
        if first is not None and first.state is not self._shown_state:
            icon.icon = self._image(first.state)
            self._shown_state = first.state
        icon._icon_valid = True

    # -- the menu ---------------------------------------------------------------------------

    def _guard(self, what: str, call: Callable[[], object]) -> None:
        try:
            call()
        except Exception:
            log.exception("tray: %s failed", what)

    def _do(self, what: str, call: Callable[[], object]) -> Callable[[], None]:
        """A menu callback: calls the controller, logs any exception, never raises into pystray."""
        return lambda: self._guard(what, call)

    def _item(self, text: str, what: str, call: Callable[[], object], **options: Any) -> Any:
        return pystray.MenuItem(_label(text), self._do(what, call), **options)

    def _menu(self, view: TrayView) -> Any:
        drives = [r for r in view.reports if (r.findings or r.unseen) and r.key not in view.ignored]
        head = [self._drive_menu(r, quiet=r.key in view.quiet) for r in drives] or [
            pystray.MenuItem("No problems for uv on your drives", None, enabled=False)
        ]
        return pystray.Menu(*head, pystray.Menu.SEPARATOR, *self._general_items(view))

    def _drive_menu(self, report: DriveReport, *, quiet: bool) -> Any:
        findings = [pystray.MenuItem(_label(f.title), self._finding_menu(report.actions(f))) for f in report.findings]
        findings += [pystray.MenuItem(_label(line), None, enabled=False) for line in unseen_lines(report)]
        drive_wide = (quiet_action(report.key, quiet), ignore_action(report.key))
        menu = pystray.Menu(*findings, pystray.Menu.SEPARATOR, *(self._action_item(a) for a in drive_wide))
        return pystray.MenuItem(_label(report.name), menu)

    def _finding_menu(self, actions: tuple[Action, ...]) -> Any:
        drive_wide = (Kind.IGNORE, Kind.QUIET)  # in the drive's own menu
        return pystray.Menu(*(self._action_item(a) for a in actions if a.kind not in drive_wide))

    def _action_item(self, action: Action) -> Any:
        options: dict[str, Any] = {}
        if action.checked is not None:
            checked = action.checked
            options["checked"] = lambda _item: checked
        return self._item(action.label, action.kind.value, lambda: dispatch(action, self._controller), **options)

    def _general_items(self, view: TrayView) -> list[Any]:
        c = self._controller
        undo = f"Undo last fix: {view.last_fix}" if view.last_fix else "Undo last fix"
        paused = view.paused_until is not None
        pause = pystray.Menu(
            self._item("For 1 hour", "pause", lambda: c.pause(3600)),
            self._item("Until restart", "pause", lambda: c.pause(None)),
            self._item("Resume", "pause", lambda: c.pause(0), enabled=paused),
        )
        autostart = view.autostart
        about = pystray.Menu(
            pystray.MenuItem(f"{NAME} {__version__}", None, enabled=False),
            pystray.MenuItem(f"Tray: {trayhost.describe(self.backend_name)}", None, enabled=False),
        )
        return [
            self._item(undo, "undo_last", c.undo_last, enabled=bool(view.last_fix)),
            self._item("Rescan now", "rescan", c.rescan),
            pystray.MenuItem("Pause notifications (paused)" if paused else "Pause notifications", pause),
            self._item(
                "Start at login",
                "set_autostart",
                lambda: c.set_autostart(not autostart),
                checked=lambda _item: bool(autostart),
                enabled=autostart is not None,
            ),
            self._item("Open log", "open_log", c.open_log),
            self._item("Open settings", "open_settings", c.open_settings),
            pystray.MenuItem("About", about),
            pystray.Menu.SEPARATOR,
            self._item("Quit", "quit", c.quit),
        ]
