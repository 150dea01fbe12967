"""The macOS run-loop integration, against fakes that behave like PyObjC's.

`FakeMachSignals` does what PyObjCTools.MachSignals documents and implements (pyobjc's
Lib/PyObjCTools/MachSignals.py and Modules/objc/_machsignals.m): `signal(signum, handler)`
records the handler, installs a C handler that only posts the signal number to a Mach port, and
the CFRunLoop that owns the port later calls `handler(signum)` on the main thread. Here the port
is a queue and `run_loop_turn()` is the run loop waking up. `FakeAppKit` answers
`setActivationPolicy:` with YES, as NSApplication does for a valid policy (Apple's AppKit docs).
"""

from __future__ import annotations

import os
import queue
import signal
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from uv_drive_guard.app import _macos_app


class FakeMachSignals:
    def __init__(self) -> None:
        self.handlers: dict[int, Callable[[int], Any]] = {}
        self.port: queue.SimpleQueue[int] = queue.SimpleQueue()

    def signal(self, signum: int, handler: Callable[[int], Any]) -> Any:
        previous = self.handlers.get(signum)
        self.handlers[signum] = handler
        signal.signal(signum, lambda number, frame: self.port.put(number))  # the C handler: post only
        return previous

    def run_loop_turn(self) -> None:
        while not self.port.empty():
            number = self.port.get()
            self.handlers[number](number)


class FakeAppKit:
    NSApplicationActivationPolicyAccessory = 1

    def __init__(self) -> None:
        self.policies: list[int] = []
        outer = self

        class App:
            def setActivationPolicy_(self, policy: int) -> bool:
                outer.policies.append(policy)
                return policy in (0, 1, 2)

        class NSApplication:
            @staticmethod
            def sharedApplication() -> App:
                return App()

        self.NSApplication = NSApplication


@pytest.fixture
def restored_signals() -> Iterator[None]:
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


@pytest.mark.usefixtures("restored_signals")
def test_sigterm_stops_through_the_run_loop() -> None:
    mach, stopped = FakeMachSignals(), []
    assert _macos_app.stop_on_signals(lambda: stopped.append(True), mach)
    os.kill(os.getpid(), signal.SIGTERM)  # a real signal, as launchctl bootout sends it
    assert stopped == []  # the C handler only posted it
    mach.run_loop_turn()
    assert stopped == [True]
    assert signal.SIGINT not in mach.handlers  # pystray keeps SIGINT


def test_dock_icon_hidden_with_the_accessory_policy() -> None:
    kit = FakeAppKit()
    assert _macos_app.hide_dock_icon(kit)
    assert kit.policies == [1]


def test_without_pyobjc_nothing_breaks(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> Any:
        raise ImportError(name)

    monkeypatch.setattr(_macos_app, "_module", missing)
    assert not _macos_app.hide_dock_icon()
    assert not _macos_app.stop_on_signals(lambda: None)
    _macos_app.integrate(lambda: None)
