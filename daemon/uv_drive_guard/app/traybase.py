"""What the tray host and its own SNI backend share: pystray without a backend, the watcher's name.

The base of `trayhost`: `sni` imports this, never the host that picks it.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

WATCHER = "org.kde.StatusNotifierWatcher"


def import_pystray() -> ModuleType:
    """pystray, without letting it pick a backend.

    Importing pystray imports a backend at once (appindicator first, so GTK and its 30 MB, or
    xorg, which fails without a display). Its own switch, PYSTRAY_BACKEND, set to its inert
    "dummy" backend for the import keeps that choice here; the variable is put back after.
    """
    loaded = sys.modules.get("pystray")
    if loaded is not None:
        return loaded
    saved = os.environ.get("PYSTRAY_BACKEND")
    os.environ["PYSTRAY_BACKEND"] = "dummy"
    try:
        return importlib.import_module("pystray")
    finally:
        if saved is None:
            os.environ.pop("PYSTRAY_BACKEND", None)
        else:
            os.environ["PYSTRAY_BACKEND"] = saved
