"""The Windows end-session answer, decided by a pure function the hidden window calls."""

from __future__ import annotations

from uv_drive_guard.app import _session_windows as session


def test_log_off_is_never_blocked_and_stops_the_daemon() -> None:
    ended: list[bool] = []
    assert session.handle(session.WM_QUERYENDSESSION, 0, lambda: ended.append(True)) == 1
    assert ended == []
    assert session.handle(session.WM_ENDSESSION, 1, lambda: ended.append(True)) == 0
    assert ended == [True]


def test_a_cancelled_log_off_keeps_running() -> None:
    ended: list[bool] = []
    assert session.handle(session.WM_ENDSESSION, 0, lambda: ended.append(True)) == 0
    assert ended == []
    assert session.handle(0x0001, 0, lambda: ended.append(True)) is None  # WM_CREATE: not ours


def test_the_watcher_is_inert_off_windows() -> None:
    watcher = session.SessionWatcher(lambda: None)
    watcher.start()
    watcher.stop()
