"""What the tray shows and what its menu can ask of the daemon: the seam between the two.

The tray runs on the main thread and only reads `TrayView`s handed to it; every menu item
calls a `Controller` method, which posts the work to the daemon's worker and returns at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .actions import DriveReport, State


@dataclass(frozen=True)
class TrayView:
    state: State
    tooltip: str
    reports: tuple[DriveReport, ...] = ()
    paused_until: float | None = None  # a time.time(); float("inf") until restart; None not paused
    autostart: bool | None = None  # None: cannot tell on this system
    last_fix: str | None = None  # title of the fix "Undo last fix" would undo
    ignored: tuple[str, ...] = ()  # drive keys the user ignores
    quiet: tuple[str, ...] = ()  # drive keys the user wants no more notices about


class Controller(Protocol):
    def apply_fix(self, fix_id: str, volume_key: str) -> None: ...

    def show_details(self, volume_key: str, code: str | None) -> None: ...

    def undo_last(self) -> None: ...

    def rescan(self) -> None: ...

    def pause(self, seconds: float | None) -> None:
        """None: until restart; 0: resume now."""

    def ignore_drive(self, volume_key: str) -> None: ...

    def mute(self, volume_key: str, code: str) -> None: ...

    def set_quiet(self, volume_key: str, quiet: bool) -> None: ...

    def set_autostart(self, enabled: bool) -> None: ...

    def open_log(self) -> None: ...

    def open_settings(self) -> None: ...

    def quit(self) -> None: ...
