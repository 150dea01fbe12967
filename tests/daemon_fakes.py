"""The daemon's worker with fakes at its edges: a notifier and a mount watcher that record, and a
way to wait for what the worker does without sleeping."""

from __future__ import annotations

import threading
from collections.abc import Callable

from uv_drive_guard.app.actions import Action, Notice
from uv_drive_guard.app.control import TrayView

WAIT = 10.0  # seconds a test waits for the worker before it fails


class Changes:
    """Woken whenever the worker shows something (a view, a notice, a sentence)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()

    def changed(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def wait(self, condition: Callable[[], bool], timeout: float = WAIT) -> None:
        with self._changed:
            assert self._changed.wait_for(condition, timeout), "the worker never got there"


class FakeNotifier:
    available = True

    def __init__(self, changes: Changes | None = None) -> None:
        self.shown: list[Notice] = []
        self.said: list[tuple[str, str]] = []
        self.callbacks: list[Callable[[Action], None]] = []
        self._changes = changes or Changes()

    async def start(self) -> None: ...

    async def show(self, notice: Notice, on_action: Callable[[Action], None]) -> str | None:
        self.shown.append(notice)
        self.callbacks.append(on_action)
        self._changes.changed()
        return str(len(self.shown))

    async def say(self, title: str, body: str) -> None:
        self.said.append((title, body))
        self._changes.changed()

    async def close(self) -> None: ...


class FakeWatcher:
    """The mount watcher: the test calls `on_change` as the kernel would."""

    def start(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change

    def stop(self) -> None: ...


class Views(list[TrayView]):
    """What the worker publishes for the tray, in order."""

    def __init__(self, changes: Changes) -> None:
        super().__init__()
        self._changes = changes

    def __call__(self, view: TrayView) -> None:
        self.append(view)
        self._changes.changed()
