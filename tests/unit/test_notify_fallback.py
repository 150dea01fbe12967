"""Notices when desktop-notifier has nothing real to show them with, or may not show them.

These run desktop-notifier's own DesktopNotifier (6.x) with the backend it would pick on macOS:
`get_backend_class()` (desktop_notifier/main.py) returns DummyNotificationCenter when
`NSBundle.mainBundle.bundleIdentifier` is None (a `uv tool install` or pipx run); the dummy's
`_send` does nothing and the base class's `send` still fires on_dispatched
(desktop_notifier/backends/base.py). `DeniedCenter` answers like backends/macos.py's
CocoaNotificationCenter when the person switched notifications off: the authorisation request
returns False, and `addNotificationRequest` completes with an error that `_send` only logs.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any, ClassVar

import desktop_notifier.main
import pytest
from desktop_notifier import Capability, DesktopNotifier, Icon, Notification
from desktop_notifier.backends.base import DesktopNotifierBackend
from desktop_notifier.backends.dummy import DummyNotificationCenter

from uv_drive_guard.app import notify
from uv_drive_guard.app.actions import Notice, State

NOTICE = Notice("uv on STICK (exFAT): error", "uv cannot lock its cache here.", (), urgent=True, state=State.ERROR)


class DeniedCenter(DesktopNotifierBackend):
    """CocoaNotificationCenter with notifications switched off (or revoked after `granted` asks)."""

    granted: ClassVar[list[bool]] = []

    async def request_authorisation(self) -> bool:
        return self.granted.pop(0) if self.granted else False

    async def has_authorisation(self) -> bool:
        return self.granted.pop(0) if self.granted else False

    async def _send(self, notification: Notification) -> None:
        logging.getLogger("desktop_notifier.backends.macos").warning(
            "Error when scheduling notification: Notifications are not allowed for this application"
        )  # log_nserror, then return: no exception reaches DesktopNotifier

    async def _clear(self, identifier: str) -> None:
        return None

    async def _clear_all(self) -> None:
        return None

    async def _get_capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.TITLE, Capability.MESSAGE, Capability.BUTTONS, Capability.ON_DISPATCHED})


def notifier_with(monkeypatch: pytest.MonkeyPatch, backend: type[DesktopNotifierBackend]) -> notify.Notifier:
    monkeypatch.setattr(desktop_notifier.main, "get_backend_class", lambda: backend)

    def factory(name: str, icon: Icon | None) -> Any:
        return DesktopNotifier(app_name=name, app_icon=icon)

    return notify.Notifier(backend_factory=factory)


def shown(notifier: notify.Notifier, count: int = 2) -> list[str | None]:
    async def scenario() -> list[str | None]:
        return [await notifier.show(NOTICE, lambda action: None) for _ in range(count)]

    return asyncio.run(scenario())


def notices_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("notice: ")]


def warnings_from_us(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == notify.__name__ and r.levelno == logging.WARNING]


def test_no_bundle_means_the_log_and_the_tray_said_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(sys, "platform", "darwin")  # edges.platforms reads it at each call
    notifier = notifier_with(monkeypatch, DummyNotificationCenter)
    assert shown(notifier) == [None, None]
    assert not notifier.available and notifier.unavailable == notify.NO_BUNDLE
    assert len(notices_logged(caplog)) == 2
    [said] = warnings_from_us(caplog)
    assert "app bundle" in said and "installers/macos" in said and "tray menu" in said


def test_permission_denied_means_the_log(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    DeniedCenter.granted = []
    notifier = notifier_with(monkeypatch, DeniedCenter)
    assert shown(notifier) == [None, None]
    assert notifier.unavailable == notify.NOT_PERMITTED
    assert len(notices_logged(caplog)) == 2 and len(warnings_from_us(caplog)) == 1


def test_permission_revoked_later_is_noticed(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    DeniedCenter.granted = [True, True]  # granted at the start and for the first notice, then switched off
    notifier = notifier_with(monkeypatch, DeniedCenter)
    first, second, third = shown(notifier, 3)
    assert first is not None and second is None and third is None
    assert notifier.unavailable == notify.NOT_PERMITTED
    assert len(notices_logged(caplog)) == 2 and len(warnings_from_us(caplog)) == 1


def test_a_real_backend_is_not_mistaken_for_the_dummy() -> None:
    class Wrapper:
        _backend = object()

    assert notify.no_real_backend(Wrapper()) is None
    assert notify.no_real_backend(object()) is None  # a test fake without desktop-notifier inside
