"""What the tray shows: the seam between the daemon's worker and the tray.

The tray runs on the main thread and only reads the `TrayView`s handed to it; its menu items
are actions (app/actions.py), each dispatched to the daemon's `Controller`, which posts the work
to the worker and returns at once.
"""

from __future__ import annotations

from dataclasses import dataclass

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
