"""macOS: a menu-bar item without a Dock icon, and SIGTERM heard while AppKit's run loop waits.

pystray's darwin backend runs `NSApplication.run()` on the main thread. Python runs its signal
handlers only between bytecodes of the main thread, which an idle run loop never executes, so
`launchctl bootout` or a log-out's SIGTERM waited until the next event. PyObjC's
`PyObjCTools.MachSignals` forwards a signal as a Mach message to the run loop, which then calls
the handler with the signal number (pystray/_darwin.py does this for SIGINT). An app bundle's
Info.plist has LSUIElement (installers/macos); an unbundled `python -m uv_drive_guard` gets the
same "accessory" activation policy here, so no Python rocket sits in the Dock.
"""

from __future__ import annotations

import importlib
import logging
import signal
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

NS_APPLICATION_ACTIVATION_POLICY_ACCESSORY = 1  # NSApplicationActivationPolicyAccessory (AppKit)


def _module(name: str) -> Any:
    return importlib.import_module(name)


def hide_dock_icon(appkit: Any = None) -> bool:
    """No Dock icon and no app menu: a menu-bar extra, as LSUIElement makes the bundle."""
    try:
        kit = appkit if appkit is not None else _module("AppKit")
    except ImportError:
        return False
    policy = getattr(kit, "NSApplicationActivationPolicyAccessory", NS_APPLICATION_ACTIVATION_POLICY_ACCESSORY)
    done = bool(kit.NSApplication.sharedApplication().setActivationPolicy_(policy))
    if not done:
        log.warning("could not hide the Dock icon (setActivationPolicy: refused)")
    return done


def stop_on_signals(stop: Callable[[], None], signals: Any = None) -> bool:
    """SIGTERM and SIGHUP through the run loop. SIGINT stays pystray's: its handler terminates
    NSApp first and only then calls the one it replaced."""
    try:
        mach = signals if signals is not None else _module("PyObjCTools.MachSignals")
    except ImportError:
        return False
    for signum in (signal.SIGTERM, signal.SIGHUP):
        mach.signal(signum, lambda _signum: stop())
    return True


def integrate(stop: Callable[[], None]) -> None:
    """Before the tray's run loop starts: hide the Dock icon, hear SIGTERM."""
    hide_dock_icon()
    if not stop_on_signals(stop):
        log.warning("PyObjC's MachSignals is missing: SIGTERM is handled only when the tray next wakes")
