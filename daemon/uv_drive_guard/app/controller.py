"""The daemon's `Controller`: what the tray's menu and the notices' buttons ask of it.

Each method is called from the tray's or a notifier's thread and returns at once: it posts a
coroutine to the worker's loop, which alone changes the shared state (the scan memo, the drive
memory, the pause). The writes themselves (a fix, an undo, drives.json) run in the worker's
executor, which a quitting daemon waits for.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Protocol, TypeVar

from ..core.model import Finding
from ..scan import Memo, Options
from .actions import DriveReport
from .memory import Memory

log = logging.getLogger(__name__)
T = TypeVar("T")


class Say(Protocol):
    async def say(self, title: str, body: str) -> None: ...


class Worker(Protocol):
    """What the controller needs of the daemon's worker (app/service.py)."""

    memo: Memo
    memory: Memory
    reports: tuple[DriveReport, ...]
    paused_until: float | None
    autostart: Any
    on_quit: Callable[[], None]

    @property
    def notifier(self) -> Say: ...

    def post(self, work: Coroutine[Any, Any, None], what: str) -> None: ...

    def call_soon(self, callback: Callable[[], None]) -> None: ...

    def write(self, fn: Callable[[], T]) -> Awaitable[T]: ...

    def scan(self, reason: str) -> Awaitable[None]: ...

    def save_memory(self) -> Awaitable[None]: ...

    def publish(self) -> None: ...

    def options(self) -> Options: ...

    def terminal_env(self) -> Mapping[str, str]: ...


class DaemonController:
    def __init__(self, worker: Worker) -> None:
        self._worker = worker

    def apply_fix(self, fix_id: str, volume_key: str) -> None:
        self._worker.post(self._apply(fix_id), f"applying {fix_id}")

    async def _apply(self, fix_id: str) -> None:
        from ..fixing import workflow  # loaded on the first fix: tomlkit and the planner are ~3 MB
        from .results import fix_notice

        w = self._worker
        options = w.options()
        outcome = await w.write(
            lambda: workflow.run_fix(fix_id, w.terminal_env(), options, dry_run=False, confirm=lambda _q: True)
        )
        await w.notifier.say(*fix_notice(outcome))
        w.memo.forget()
        await w.scan("after a fix")

    def show_details(self, volume_key: str, code: str | None) -> None:
        self._worker.post(self._details(volume_key, code), "showing details")

    async def _details(self, volume_key: str, code: str | None) -> None:
        finding = self._finding(volume_key, code)
        if finding is not None:
            fixes = "\n".join(f"- {fix.title}" for fix in finding.fixes)
            await self._worker.notifier.say(
                finding.title, f"{finding.detail}\n\nuv would print:\n{finding.uv_message}\n{fixes}"
            )

    def _finding(self, volume_key: str, code: str | None) -> Finding | None:
        for report in self._worker.reports:
            if report.key == volume_key:
                return next((f for f in report.findings if code is None or f.code == code), None)
        return None

    def undo_last(self) -> None:
        self._worker.post(self._undo(), "undoing the last fix")

    async def _undo(self) -> None:
        from ..fixing import workflow
        from .results import undo_notice

        w = self._worker
        outcome = await w.write(lambda: workflow.run_undo(None, force=False))
        await w.notifier.say(*undo_notice(outcome))
        w.memo.forget()
        await w.scan("after an undo")

    def rescan(self) -> None:
        self._worker.post(self._rescan(), "the rescan")

    async def _rescan(self) -> None:
        self._worker.memo.forget()
        await self._worker.scan("rescan")

    def pause(self, seconds: float | None) -> None:
        until = None if seconds == 0 else (float("inf") if seconds is None else time.time() + seconds)
        self._worker.call_soon(lambda: self._set_pause(until))

    def _set_pause(self, until: float | None) -> None:
        self._worker.paused_until = until
        self._worker.publish()

    def ignore_drive(self, volume_key: str) -> None:
        self._worker.post(self._ignore(volume_key), "ignoring a drive")

    async def _ignore(self, volume_key: str) -> None:
        self._worker.memory.ignore(volume_key, save=False)
        await self._worker.scan("drive ignored")

    def mute(self, volume_key: str, code: str) -> None:
        self._worker.post(self._mute(volume_key, code), "muting a finding")

    async def _mute(self, volume_key: str, code: str) -> None:
        self._worker.memory.mute(volume_key, code, save=False)
        await self._worker.scan("finding muted")

    def set_quiet(self, volume_key: str, quiet: bool) -> None:
        """ "Don't tell me again for this drive" (or tell me again): the tray keeps showing it."""
        self._worker.post(self._set_quiet(volume_key, quiet), "changing a drive's notices")

    async def _set_quiet(self, volume_key: str, quiet: bool) -> None:
        self._worker.memory.set_quiet(volume_key, quiet, save=False)
        await self._worker.save_memory()
        self._worker.publish()

    def set_autostart(self, enabled: bool) -> None:
        self._worker.post(self._autostart(enabled), "changing start at login")

    async def _autostart(self, enabled: bool) -> None:
        autostart = self._worker.autostart
        if autostart is None:
            return
        try:
            done = autostart.enable() if enabled else autostart.disable()
        except (OSError, ValueError) as exc:
            await self._worker.notifier.say("Start at login was not changed", str(exc))
        else:
            log.info("start at login: %s", done)
        self._worker.publish()

    def open_log(self) -> None:
        from .desktop import log_file, open_path

        open_path(log_file())

    def open_settings(self) -> None:
        from .desktop import open_path, settings_file

        open_path(settings_file())

    def quit(self) -> None:
        self._worker.on_quit()
