"""pystray's darwin and win32 icons with the system calls taken out and their thread rules kept.

Each fake subclasses pystray's own `_base.Icon` (its `run`, setup thread, `visible`, `icon` and
`menu` setters run as they do for real) and replaces only what its backend does natively:

- darwin (pystray/_darwin.py): `run` is NSApplication's run loop on the calling thread, here
  draining the blocks `PyObjCTools.AppHelper.callAfter` queued ("Call a function on the main
  thread"). Every NSStatusItem setter (show, hide, image, tooltip, menu) is main-thread-only in
  AppKit, which warns "Setting NSStatusItem property on background thread" and traps on current
  macOS: the fake records each call made off the main thread as a violation.
- win32 (pystray/_win32.py): `run` creates the window on the calling thread and pumps its message
  queue there; `PostMessage` queues a message for that thread from any thread. A right click
  (WM_NOTIFY with WM_RBUTTONUP) shows the menu as `TrackPopupMenuEx` does: its modal loop keeps
  dispatching posted messages to the window until the person picks an item. `_update_menu`
  destroys the previous menu (DestroyMenu), so the fake records a rebuild off the window's
  thread, and one that destroys the menu being shown, as violations.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any, ClassVar

from uv_drive_guard.app import traybase

_base = traybase.import_pystray()._base

# --- darwin ----------------------------------------------------------------------------------------

MAIN_QUEUE: queue.Queue[Callable[[], object] | None] = queue.Queue()


def call_after(func: Callable[..., object], *args: Any, **kwargs: Any) -> None:
    """PyObjCTools.AppHelper.callAfter: runs `func` on the main thread's run loop, returns at once."""
    MAIN_QUEUE.put(lambda: func(*args, **kwargs))


def app_helper() -> tuple[ModuleType, ModuleType]:
    """Stand-ins for the `PyObjCTools` package and its `AppHelper` module."""
    package, helper = ModuleType("PyObjCTools"), ModuleType("PyObjCTools.AppHelper")
    helper.callAfter = call_after  # type: ignore[attr-defined]
    package.AppHelper = helper  # type: ignore[attr-defined]
    return package, helper


class FakeDarwinIcon(_base.Icon):  # type: ignore[misc]
    HAS_DEFAULT_ACTION = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.violations: list[str] = []
        self.shown: list[Any] = []  # the image each time AppKit is handed one
        self._main("NSStatusBar.statusItemWithLength_")
        super().__init__(*args, **kwargs)

    def _main(self, what: str) -> None:
        if threading.current_thread() is not threading.main_thread():
            self.violations.append(f"{what} on {threading.current_thread().name}")

    def _show(self) -> None:
        self._main("show")
        self.shown.append(self.icon)

    def _hide(self) -> None:
        self._main("hide")

    def _update_icon(self) -> None:
        self._main("image")
        if self.visible:
            self.shown.append(self.icon)
            self._icon_valid = True

    def _update_title(self) -> None:
        self._main("tooltip")

    def _update_menu(self) -> None:
        self._main("menu")

    def _run(self) -> None:
        self._mark_ready()
        while (block := MAIN_QUEUE.get()) is not None:
            block()

    def _stop(self) -> None:
        MAIN_QUEUE.put(None)  # NSApplication.stop_ and an event to wake the loop


# --- win32 -----------------------------------------------------------------------------------------

WM_USER = 0x400
WM_STOP = WM_USER + 10  # pystray/_util/win32.py
WM_NOTIFY = WM_USER + 11
WM_RBUTTONUP = 0x0205
WM_QUIT = 0x0012


class FakeWin32Icon(_base.Icon):  # type: ignore[misc]
    WINDOWS: ClassVar[dict[int, FakeWin32Icon]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._message_handlers: dict[int, Callable[[int, int], object]] = {
            WM_STOP: self._on_stop,
            WM_NOTIFY: self._on_notify,
        }
        self._messages: queue.Queue[tuple[int, int, int]] = queue.Queue()
        self._hwnd: int | None = None
        self._owner: threading.Thread | None = None
        self._handles = iter(range(1, 1 << 30))
        self._menu_handle: tuple[int, list[Any]] | None = None
        self.tracking: int | None = None  # the menu TrackPopupMenuEx shows
        self.while_open: Callable[[], None] = lambda: None  # what happens elsewhere meanwhile
        self.violations: list[str] = []
        self.menus_built = 0

    # the window and its thread

    def _run(self) -> None:
        self._hwnd = id(self)
        self._owner = threading.current_thread()
        self.WINDOWS[self._hwnd] = self
        self._mark_ready()
        self._thread = threading.current_thread()  # pystray sets it after _mark_ready
        while True:
            message, wparam, lparam = self._messages.get()
            if message == WM_QUIT:
                break
            self._dispatch(message, wparam, lparam)
        del self.WINDOWS[self._hwnd]

    def _dispatch(self, message: int, wparam: int, lparam: int) -> None:
        """pystray's window procedure: the handler for the message, exceptions logged."""
        try:
            self._message_handlers.get(message, lambda *_: 0)(wparam, lparam)
        except Exception as error:  # pystray logs 'An error occurred when calling message handler'
            self.violations.append(f"handler for {message:#x} raised {error!r}")

    def post(self, message: int, wparam: int = 0, lparam: int = 0) -> bool:
        self._messages.put((message, wparam, lparam))
        return True

    def _stop(self) -> None:
        self.post(WM_STOP)

    def _on_stop(self, wparam: int, lparam: int) -> None:
        self.post(WM_QUIT)  # PostQuitMessage

    # what Shell_NotifyIcon does may run anywhere; menus belong to the window's thread

    def _show(self) -> None:
        return None

    def _hide(self) -> None:
        return None

    def _update_icon(self) -> None:
        self._icon_valid = True

    def _update_title(self) -> None:
        return None

    def _update_menu(self) -> None:
        here = threading.current_thread()
        if self._owner is not None and here is not self._owner:
            self.violations.append(f"menu rebuilt on {here.name}")
        if self._menu_handle is not None and self._menu_handle[0] == self.tracking:
            self.violations.append("DestroyMenu on the menu TrackPopupMenuEx shows")
        self._menu_handle = (next(self._handles), [self._handler(item) for item in self.menu or ()])
        self.menus_built += 1

    def _on_notify(self, wparam: int, lparam: int) -> None:
        if lparam != WM_RBUTTONUP or self._menu_handle is None:
            return
        hmenu, _ = self._menu_handle
        self.tracking = hmenu
        try:
            self.while_open()
            while not self._messages.empty():  # the menu's modal loop dispatches what was posted
                message, wparam, lparam = self._messages.get()
                if message == WM_QUIT:
                    self._messages.put((message, wparam, lparam))
                    break
                self._dispatch(message, wparam, lparam)
        finally:
            self.tracking = None


def post_message(hwnd: int, message: int, wparam: int, lparam: int) -> bool:
    """PostMessageW: queued for the thread that made the window; False when there is none."""
    window = FakeWin32Icon.WINDOWS.get(hwnd)
    return window.post(message, wparam, lparam) if window is not None else False


def win32_util() -> ModuleType:
    """A stand-in for `pystray._util.win32`: its constants and PostMessage."""
    module = ModuleType("pystray._util.win32")
    module.WM_NOTIFY = WM_NOTIFY  # type: ignore[attr-defined]
    module.WM_STOP = WM_STOP  # type: ignore[attr-defined]
    module.PostMessage = post_message  # type: ignore[attr-defined]
    return module
