"""What every start-at-login switch shares: its states, the checkbox they give, the command it starts.

The base of `autostart` (psutil's `_common.py`): the per-OS modules import this, never the facade.
"""

from __future__ import annotations

import abc
import os
import shutil
import sys
from pathlib import Path
from typing import Literal

from ...core.paths import tilde

State = Literal["enabled", "disabled", "disabled-by-system", "written", "unknown"]
ENABLED: State = "enabled"
DISABLED: State = "disabled"
DISABLED_BY_SYSTEM: State = "disabled-by-system"  # our entry is there, the desktop's settings switched it off
WRITTEN: State = "written"  # our file is there, not yet enabled (a systemd unit before `systemctl --user enable`)
UNKNOWN: State = "unknown"
STATES: tuple[State, ...] = (ENABLED, DISABLED, DISABLED_BY_SYSTEM, WRITTEN, UNKNOWN)


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


def home_relative(path: str, home: str | None = None) -> str:
    """~/.config/autostart/... as people write it."""
    return tilde(path, home if home is not None else os.path.expanduser("~"))
