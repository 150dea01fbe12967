"""Windows log-off and shutdown: answer the end-session query and stop cleanly.

Windows asks every top-level window (WM_QUERYENDSESSION) before a log-off and then tells it
(WM_ENDSESSION); a process without such a window is simply killed, and pystray's own window
does not pass these on. So the daemon keeps one hidden window of its own, on its own thread.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

WM_QUERYENDSESSION = 0x0011
WM_ENDSESSION = 0x0016
WM_CLOSE = 0x0010
CLASS_NAME = "uv-drive-guard-session"


def handle(message: int, wparam: int, on_end: Callable[[], None]) -> int | None:
    """What the window answers: yes to the query, and stop when the session really ends.
    None: not ours, let DefWindowProc answer."""
    if message == WM_QUERYENDSESSION:
        return 1  # never block a log-off: nothing of ours needs saving first
    if message == WM_ENDSESSION:
        if wparam:
            log.info("the Windows session is ending: stopping")
            on_end()
        return 0
    return None


class SessionWatcher:
    """A hidden top-level window whose only job is to hear that the session ends."""

    def __init__(self, on_end: Callable[[], None]) -> None:
        self.on_end = on_end
        self._thread = threading.Thread(target=self._run, name="session watcher", daemon=True)
        self._hwnd = 0

    def start(self) -> None:
        if sys.platform == "win32":
            self._thread.start()

    def stop(self) -> None:
        if sys.platform == "win32" and self._hwnd:
            import ctypes

            ctypes.windll.user32.PostMessageW(self._hwnd, WM_CLOSE, 0, 0)

    def _run(self) -> None:
        if sys.platform != "win32":
            return
        import ctypes
        from ctypes import wintypes

        user32 = ctypes.windll.user32
        user32.DefWindowProcW.argtypes = (wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPARAM)
        user32.DefWindowProcW.restype = ctypes.c_ssize_t
        procedure_type = ctypes.WINFUNCTYPE(
            ctypes.c_ssize_t, wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPARAM
        )

        def procedure(hwnd: int, message: int, wparam: int, lparam: int) -> int:
            answer = handle(message, wparam, self.on_end)
            if message == WM_CLOSE:
                user32.DestroyWindow(hwnd)
                user32.PostQuitMessage(0)
                return 0
            return answer if answer is not None else int(user32.DefWindowProcW(hwnd, message, wparam, lparam))

        self._procedure = procedure_type(procedure)  # referenced as long as the window lives

        class WNDCLASSW(ctypes.Structure):
            _fields_ = [
                ("style", wintypes.UINT), ("lpfnWndProc", procedure_type), ("cbClsExtra", ctypes.c_int),
                ("cbWndExtra", ctypes.c_int), ("hInstance", wintypes.HINSTANCE), ("hIcon", wintypes.HICON),
                ("hCursor", wintypes.HANDLE), ("hbrBackground", wintypes.HBRUSH),
                ("lpszMenuName", wintypes.LPCWSTR), ("lpszClassName", wintypes.LPCWSTR),
            ]  # fmt: skip

        instance = ctypes.windll.kernel32.GetModuleHandleW(None)
        window_class = WNDCLASSW(lpfnWndProc=self._procedure, hInstance=instance, lpszClassName=CLASS_NAME)
        if not user32.RegisterClassW(ctypes.byref(window_class)):
            log.warning("could not register the session window class; log-off ends the daemon abruptly")
            return
        # A real top-level window (not HWND_MESSAGE): message-only windows get no session messages.
        self._hwnd = user32.CreateWindowExW(0, CLASS_NAME, CLASS_NAME, 0, 0, 0, 0, 0, None, None, instance, None)
        message = wintypes.MSG()
        while user32.GetMessageW(ctypes.byref(message), None, 0, 0) > 0:
            user32.TranslateMessage(ctypes.byref(message))
            user32.DispatchMessageW(ctypes.byref(message))
