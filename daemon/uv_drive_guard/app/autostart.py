"""Start at login, one small interface over each system's own switch (psutil-style facade).

Linux: an XDG autostart entry (or a systemd user unit), macOS: a LaunchAgent, Windows: the
HKCU Run key. The per-OS code lives in `_autostart_linux`, `_autostart_macos`, `_autostart_windows`.
"""

from __future__ import annotations

import abc
import os
import shutil
import sys
from pathlib import Path
from typing import Literal, Protocol

from ..core.fixes import tilde

State = Literal["enabled", "disabled", "disabled-by-system", "unknown"]
ENABLED: State = "enabled"
DISABLED: State = "disabled"
DISABLED_BY_SYSTEM: State = "disabled-by-system"  # our entry is there, the desktop's settings switched it off
UNKNOWN: State = "unknown"
STATES: tuple[State, ...] = (ENABLED, DISABLED, DISABLED_BY_SYSTEM, UNKNOWN)


class Autostart(Protocol):
    """What the tray and `uv-drive-guard autostart` need; enable/disable say what they did."""

    def state(self) -> State: ...

    def status(self) -> bool | None: ...

    def enable(self) -> str: ...

    def disable(self) -> str: ...

    def describe(self) -> str: ...


class StatusFromState(abc.ABC):
    """The tray's checkbox: True only when it will start; None when we cannot tell."""

    @abc.abstractmethod
    def state(self) -> State: ...

    def status(self) -> bool | None:
        return as_status(self.state())


def as_status(state: State) -> bool | None:
    return None if state == UNKNOWN else state == ENABLED


def command() -> list[str]:
    """The installed executable (absolute: login sessions have a short PATH), or this interpreter."""
    if getattr(sys, "frozen", False):  # a PyInstaller or py2app build: the executable is the app
        exe = Path(sys.executable)
        # The Windows build ships a console twin for the command line; login starts the windowed one.
        windowed = exe.with_name(exe.name.replace("-cli", "")) if "-cli" in exe.name else exe
        return [str(windowed if windowed.exists() else exe), "run"]
    found = shutil.which("uv-drive-guard")
    return [os.path.abspath(found), "run"] if found else [sys.executable, "-m", "uv_drive_guard", "run"]


def native(platform: str = sys.platform) -> Autostart | None:
    """This system's implementation; None where there is none (the tray greys the item out)."""
    if platform.startswith("linux"):
        from ._autostart_linux import LinuxAutostart

        return LinuxAutostart()
    if platform == "darwin":
        from ._autostart_macos import MacAutostart

        return MacAutostart()
    if platform == "win32":
        from ._autostart_windows import WindowsAutostart

        return WindowsAutostart()
    return None


def status_line(autostart: Autostart) -> str:
    """One line for `uv-drive-guard autostart status`."""
    state = autostart.state()
    where = autostart.describe()
    if state == ENABLED:
        return f"enabled ({where})"
    if state == DISABLED_BY_SYSTEM:
        return f"enabled but switched off by the system ({where})"
    if state == DISABLED:
        return "disabled"
    return f"unknown ({where})"


def home_relative(path: str, home: str | None = None) -> str:
    """~/.config/autostart/... as people write it."""
    return tilde(path, home if home is not None else os.path.expanduser("~"))
