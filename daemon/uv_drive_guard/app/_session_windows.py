"""Windows log-off and shutdown: answer the end-session query and stop cleanly before the end.

Windows asks every top-level window (WM_QUERYENDSESSION) before a log-off and then tells it
(WM_ENDSESSION); a process without such a window is simply killed, and pystray's own window
does not pass these on. So the daemon keeps one hidden window of its own, on its own thread.
Microsoft's WM_ENDSESSION documentation: the session may end any time after the window
procedure returns, so the daemon's clean-up runs before it answers (bounded: Windows itself
stops waiting after about five seconds). SetProcessShutdownParameters(SHUTDOWN_NORETRY) keeps
the daemon out of the "this app is preventing shutdown" screen if it ever overran.

ctypes prototypes are declared once on this module's own WinDLL instances, never on
`ctypes.windll`, whose function objects every other module in the process shares.
"""

from __future__ import annotations

import functools
import logging
import sys
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

WM_QUERYENDSESSION = 0x0011
WM_ENDSESSION = 0x0016
WM_CLOSE = 0x0010
CLASS_NAME = "uv-drive-guard-session"
END_SESSION_WAIT = 4.0  # seconds the clean-up may take before WM_ENDSESSION is answered
SHUTDOWN_LEVEL = 0x280  # the default application level
SHUTDOWN_NORETRY = 0x00000001


def handle(
    message: int,
    wparam: int,
    on_end: Callable[[], None],
    stopped: threading.Event | None = None,
    wait: float = END_SESSION_WAIT,
) -> int | None:
    """What the window answers: yes to the query; when the session really ends, stop and wait
    (at most `wait`) for the clean-up before answering. None: not ours, DefWindowProc answers."""
    if message == WM_QUERYENDSESSION:
        return 1  # never block a log-off: nothing of ours needs saving first
    if message == WM_ENDSESSION:
        if wparam:
            log.info("the Windows session is ending: stopping")
            on_end()
            if stopped is not None and not stopped.wait(wait):
                log.warning("the daemon did not stop within %.0f s of the end of the session", wait)
        return 0
    return None


if sys.platform == "win32":
    import ctypes
    from ctypes import wintypes

    LRESULT = ctypes.c_ssize_t
    WNDPROC = ctypes.WINFUNCTYPE(LRESULT, wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPARAM)

    class WNDCLASSW(ctypes.Structure):
        _fields_ = [
            ("style", wintypes.UINT), ("lpfnWndProc", WNDPROC), ("cbClsExtra", ctypes.c_int),
            ("cbWndExtra", ctypes.c_int), ("hInstance", wintypes.HINSTANCE), ("hIcon", wintypes.HICON),
            ("hCursor", wintypes.HANDLE), ("hbrBackground", wintypes.HBRUSH),
            ("lpszMenuName", wintypes.LPCWSTR), ("lpszClassName", wintypes.LPCWSTR),
        ]  # fmt: skip

    from ._win32 import declare as _declare

    @functools.cache
    def _user32() -> ctypes.WinDLL:
        msg_p = ctypes.POINTER(wintypes.MSG)
        window = (wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPARAM)
        return _declare(
            ctypes.WinDLL("user32", use_last_error=True),
            {
                "DefWindowProcW": (window, LRESULT),
                "PostMessageW": (window, wintypes.BOOL),
                "RegisterClassW": ((ctypes.POINTER(WNDCLASSW),), wintypes.ATOM),
                "CreateWindowExW": (
                    (wintypes.DWORD, wintypes.LPCWSTR, wintypes.LPCWSTR, wintypes.DWORD, ctypes.c_int, ctypes.c_int,
                     ctypes.c_int, ctypes.c_int, wintypes.HWND, wintypes.HMENU, wintypes.HINSTANCE, wintypes.LPVOID),
                    wintypes.HWND,
                ),
                "GetMessageW": ((msg_p, wintypes.HWND, wintypes.UINT, wintypes.UINT), wintypes.BOOL),
                "TranslateMessage": ((msg_p,), wintypes.BOOL),
                "DispatchMessageW": ((msg_p,), LRESULT),
                "DestroyWindow": ((wintypes.HWND,), wintypes.BOOL),
                "PostQuitMessage": ((ctypes.c_int,), None),
            },
        )  # fmt: skip

    @functools.cache
    def _kernel32() -> ctypes.WinDLL:
        return _declare(
            ctypes.WinDLL("kernel32", use_last_error=True),
            {
                "GetModuleHandleW": ((wintypes.LPCWSTR,), wintypes.HMODULE),
                "SetProcessShutdownParameters": ((wintypes.DWORD, wintypes.DWORD), wintypes.BOOL),
            },
        )


class SessionWatcher:
    """A hidden top-level window whose only job is to hear that the session ends."""

    def __init__(self, on_end: Callable[[], None]) -> None:
        self.on_end = on_end
        self.stopped = threading.Event()  # set by the daemon once its clean-up is done
        self._thread = threading.Thread(target=self._run, name="session watcher", daemon=True)
        self._hwnd: int | None = None

    def start(self) -> None:
        if sys.platform == "win32":
            self._thread.start()

    def finished(self) -> None:
        """The daemon has stopped: WM_ENDSESSION may be answered now."""
        self.stopped.set()

    def stop(self) -> None:
        if sys.platform == "win32":
            if self._hwnd:
                _user32().PostMessageW(self._hwnd, WM_CLOSE, 0, 0)

    def _run(self) -> None:
        if sys.platform == "win32":
            self._loop()

    if sys.platform == "win32":

        def _loop(self) -> None:
            user32, kernel32 = _user32(), _kernel32()
            if not kernel32.SetProcessShutdownParameters(SHUTDOWN_LEVEL, SHUTDOWN_NORETRY):
                log.debug("SetProcessShutdownParameters failed: %s", ctypes.WinError(ctypes.get_last_error()))

            def procedure(hwnd: int, message: int, wparam: int, lparam: int) -> int:
                answer = handle(message, wparam, self.on_end, self.stopped)
                if message == WM_CLOSE:
                    user32.DestroyWindow(hwnd)
                    user32.PostQuitMessage(0)
                    return 0
                return answer if answer is not None else int(user32.DefWindowProcW(hwnd, message, wparam, lparam))

            self._procedure = WNDPROC(procedure)  # referenced as long as the window lives
            instance = kernel32.GetModuleHandleW(None)
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
