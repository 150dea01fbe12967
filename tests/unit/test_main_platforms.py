"""`run`'s platform hooks: the macOS run-loop integration before the tray runs, and the
Windows session window told when the clean-up is done (a log-off waits for that)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from uv_drive_guard.app import _macos_app, _session_windows, main, service


class FakeService:
    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.controller = object()  # what the tray is given

    def start(self) -> None:
        EVENTS.append("service started")

    def stop(self) -> None:
        EVENTS.append("service stopped")


class FakeTray:
    backend_name = "darwin"
    has_menu = True

    def __init__(self) -> None:
        self.stopped = False

    def run(self) -> None:
        EVENTS.append("tray runs")
        STOP[0]()  # SIGTERM arriving through the run loop
        assert self.stopped

    def stop(self) -> None:
        self.stopped = True
        EVENTS.append("tray stopped")

    def update(self, view: Any) -> None:
        return None


EVENTS: list[str] = []
STOP: list[Any] = []


def test_darwin_tray_gets_the_run_loop_hooks_and_the_session_hears_the_end(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    EVENTS.clear()
    STOP.clear()
    monkeypatch.setattr(service, "Service", FakeService)
    monkeypatch.setattr(main, "_make_tray", lambda controller: FakeTray())
    monkeypatch.setattr(main.signal, "signal", lambda *args: None)
    monkeypatch.setattr(main, "watch_files", lambda path, service: _NoWatch())
    monkeypatch.setattr(_macos_app, "integrate", lambda stop: (STOP.append(stop), EVENTS.append("integrated")))
    monkeypatch.setattr(_session_windows.SessionWatcher, "finished", lambda self: EVENTS.append("session told"))
    assert main._run(headless=False, settings=main.Settings(tmp_path / "config.toml")) == 0
    assert EVENTS == [
        "integrated",
        "service started",
        "tray runs",
        "tray stopped",
        "service stopped",
        "session told",
    ]


class _NoWatch:
    def stop(self) -> None: ...
