"""Notices when desktop-notifier has nothing real to show them with, or may not show them.

These run desktop-notifier's own DesktopNotifier (6.x) with the backend it would pick on macOS:
`get_backend_class()` (desktop_notifier/main.py) returns DummyNotificationCenter when
`NSBundle.mainBundle.bundleIdentifier` is None (a `uv tool install` or pipx run); the dummy's
`_send` does nothing and the base class's `send` still fires on_dispatched
(desktop_notifier/backends/base.py). `DeniedCenter` answers like backends/macos.py's
CocoaNotificationCenter when the person switched notifications off: the authorisation request
returns False, and `addNotificationRequest` completes with an error that `_send` only logs.
`AskingCenter` is the first run: the request returns only when the person answers.
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


class AskingCenter(DesktopNotifierBackend):
    """CocoaNotificationCenter the first time an app asks (desktop_notifier/backends/macos.py):
    `request_authorisation` returns only once the person answers the system's question; until
    then `has_authorisation` is False (UNAuthorizationStatusNotDetermined), and a notification
    sent meanwhile is refused by UNUserNotificationCenter, which `_send` only logs."""

    answer: ClassVar[asyncio.Future[bool] | None] = None
    delivered: ClassVar[list[str]] = []

    @classmethod
    def person_answers(cls, allowed: bool) -> None:
        assert cls.answer is not None
        cls.answer.set_result(allowed)

    async def request_authorisation(self) -> bool:
        type(self).answer = asyncio.get_running_loop().create_future()
        return await asyncio.shield(type(self).answer)

    async def has_authorisation(self) -> bool:
        answer = type(self).answer
        return answer is not None and answer.done() and answer.result()

    async def _send(self, notification: Notification) -> None:
        if await self.has_authorisation():
            self.delivered.append(notification.title)
        else:
            logging.getLogger("desktop_notifier.backends.macos").warning(
                "Error when scheduling notification: Notifications are not allowed for this application"
            )

    async def _clear(self, identifier: str) -> None:
        return None

    async def _clear_all(self) -> None:
        return None

    async def _get_capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.TITLE, Capability.MESSAGE, Capability.BUTTONS, Capability.ON_DISPATCHED})


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


@pytest.mark.parametrize("allowed", [True, False])
def test_notices_wait_while_the_person_is_asked(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, allowed: bool
) -> None:
    """The first drive notice comes while macOS still asks: it waits for the answer, then is shown
    (or goes to the log if the person says no); it used to be logged as "switched off" and lost."""
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(notify, "CONNECT_TIMEOUT", 0.05)
    AskingCenter.answer, AskingCenter.delivered = None, []
    notifier = notifier_with(monkeypatch, AskingCenter)

    async def scenario() -> str | None:
        await notifier.start()  # the question is still open when start gives up waiting
        ident = await notifier.show(NOTICE, lambda action: None)
        await notifier.say("Fixed", "uv works on STICK now.")
        await notifier.show(NOTICE, lambda action: None)  # a second drive: prunes what is not on screen
        await settle()
        assert AskingCenter.delivered == [] and notifier.unavailable is None
        AskingCenter.person_answers(allowed)
        await settle()
        return ident

    ident = asyncio.run(scenario())
    if allowed:
        assert AskingCenter.delivered == [NOTICE.title, "Fixed", NOTICE.title]
        assert ident is not None and notices_logged(caplog) == []
        assert ident in notifier._pending  # its buttons' callbacks stay referenced while it is on screen
    else:
        assert AskingCenter.delivered == []
        assert notifier.unavailable == notify.NOT_PERMITTED
        first = f"notice: {NOTICE.title}: {NOTICE.body}"
        assert notices_logged(caplog) == [first, "notice: Fixed: uv works on STICK now.", first]


def test_a_notice_still_waiting_at_quit_goes_to_the_log(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(notify, "CONNECT_TIMEOUT", 0.05)
    AskingCenter.answer, AskingCenter.delivered = None, []
    notifier = notifier_with(monkeypatch, AskingCenter)

    async def scenario() -> None:
        await notifier.start()
        await notifier.show(NOTICE, lambda action: None)
        await notifier.close()

    asyncio.run(scenario())
    assert notices_logged(caplog) == [f"notice: {NOTICE.title}: {NOTICE.body}"]
