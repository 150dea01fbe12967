"""A tray icon with its menu over D-Bus (StatusNotifierItem and com.canonical.dbusmenu), behind
pystray's API, on dbus-fast: the menu on Linux desktops without PyGObject, and without GTK's
memory. `menu` is the pure mapping from a pystray Menu, `item` the D-Bus objects, `icon` the
pystray-compatible Icon that app/trayhost.py hands to app/tray.py."""

from __future__ import annotations

from .icon import Icon

__all__ = ["Icon"]
