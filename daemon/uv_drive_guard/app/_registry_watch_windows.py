"""HKCU\\Environment, where setx and the Environment Variables dialog keep a person's
variables, watched with RegNotifyChangeKeyValue: a thread that sleeps until the key changes
(no polling) or the daemon stops (an event of its own). Microsoft's RegNotifyChangeKeyValue
documentation: with an event and fAsynchronous TRUE the call returns at once and the event
is signalled at the next change; each notification is for one change, so it is asked again.

ctypes prototypes are declared once on this module's own WinDLL instances (see
_session_windows.py), never on `ctypes.windll`.
"""

from __future__ import annotations

import functools
import logging
import sys
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

REG_NOTIFY_CHANGE_NAME = 0x1
REG_NOTIFY_CHANGE_LAST_SET = 0x4
WAIT_OBJECT_0 = 0
INFINITE = 0xFFFFFFFF
ERROR_SUCCESS = 0

if sys.platform == "win32":
    import ctypes
    import winreg
    from ctypes import wintypes

    from ._win32 import declare as _declare

    @functools.cache
    def _kernel32() -> ctypes.WinDLL:
        return _declare(
            ctypes.WinDLL("kernel32", use_last_error=True),
            {
                "CreateEventW": ((wintypes.LPVOID, wintypes.BOOL, wintypes.BOOL, wintypes.LPCWSTR), wintypes.HANDLE),
                "SetEvent": ((wintypes.HANDLE,), wintypes.BOOL),
                "CloseHandle": ((wintypes.HANDLE,), wintypes.BOOL),
                "WaitForMultipleObjects": (
                    (wintypes.DWORD, ctypes.POINTER(wintypes.HANDLE), wintypes.BOOL, wintypes.DWORD),
                    wintypes.DWORD,
                ),
            },
        )

    @functools.cache
    def _advapi32() -> ctypes.WinDLL:
        return _declare(
            ctypes.WinDLL("advapi32", use_last_error=True),
            {
                "RegNotifyChangeKeyValue": (
                    (wintypes.HKEY, wintypes.BOOL, wintypes.DWORD, wintypes.HANDLE, wintypes.BOOL),
                    wintypes.LONG,
                ),
            },
        )


class KeyWatcher:
    """One thread per key, asleep between changes; `stop` wakes it through its own event."""

    def __init__(self, on_change: Callable[[], None], key: str = "Environment") -> None:
        self._on_change = on_change
        self._key = key
        self._thread: threading.Thread | None = None
        self._stop: int | None = None

    def start(self) -> None:
        if sys.platform == "win32":
            self._stop = _kernel32().CreateEventW(None, True, False, None)
            self._thread = threading.Thread(target=self._loop, name="registry watcher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if sys.platform == "win32" and self._thread is not None and self._stop is not None:
            _kernel32().SetEvent(self._stop)
            self._thread.join(timeout=2)
            _kernel32().CloseHandle(self._stop)

    def _changed(self) -> None:
        try:
            self._on_change()
        except Exception:  # a failing handler must not end the watching
            log.exception("registry change handler failed")

    if sys.platform == "win32":

        def _loop(self) -> None:
            kernel32, advapi32 = _kernel32(), _advapi32()
            changed = kernel32.CreateEventW(None, False, False, None)
            handles = (wintypes.HANDLE * 2)(changed, self._stop)
            what = REG_NOTIFY_CHANGE_NAME | REG_NOTIFY_CHANGE_LAST_SET
            try:
                with winreg.OpenKey(winreg.HKEY_CURRENT_USER, self._key, 0, winreg.KEY_NOTIFY) as key:
                    while advapi32.RegNotifyChangeKeyValue(key.handle, False, what, changed, True) == ERROR_SUCCESS:
                        if kernel32.WaitForMultipleObjects(2, handles, False, INFINITE) != WAIT_OBJECT_0:
                            return  # the stop event, or a failed wait
                        self._changed()
                    log.warning("cannot watch HKCU\\%s: your variables are read at the next scan", self._key)
            except OSError as exc:
                log.warning("cannot watch HKCU\\%s: %s", self._key, exc)
            finally:
                kernel32.CloseHandle(changed)
