"""What the daemon says, read where it is read: buttons in a notification server's width, notices
without a tray menu naming the command for each fix, one line when there is no tray to show an
icon in."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from desktop_notifier import Capability, Icon, Notification
from tests.unit.case_files import CASE_FILES, run, snapshot

from uv_drive_guard.app import actions, main, notify, trayhost
from uv_drive_guard.app.actions import BUTTON_WIDTH, QUIET_LABEL, Kind, Notice

CASES = [(path.stem, *run(path)) for path in CASE_FILES]
NOTICES = [
    (name, notice)
    for name, case, findings in CASES
    for report in actions.reports(snapshot(case), findings)
    if (notice := actions.notice(report)) is not None
]


@pytest.mark.parametrize("notice", [n for _, n in NOTICES], ids=[name for name, _ in NOTICES])
def test_buttons_can_be_told_apart_within_the_servers_width(notice: Notice) -> None:
    fixes = [a for a in notice.actions if a.kind is Kind.FIX][: notify.MAX_FIX_BUTTONS]
    shown = [a.short for a in fixes] + [QUIET_LABEL]
    assert all(len(label) <= BUTTON_WIDTH for label in shown), shown
    assert len({label[:BUTTON_WIDTH] for label in shown}) == len(shown), shown
    assert not any(label.endswith("…") for label in shown), shown  # each kind of fix has words of its own


def test_the_portable_buttons_say_which_is_which() -> None:
    [notice] = [n for name, n in NOTICES if name == "UVD005_portable"]
    assert [a.short for a in notice.actions if a.kind is Kind.FIX] == ["Yes, for the whole drive", "Only for proj"]


def test_new_terminals_only_after_a_change_of_variables() -> None:
    said = {name: n.body for name, n in NOTICES}
    assert "New terminals will see the change." in said["UVD006"]  # UV_CACHE_DIR turned off in ~/.bashrc
    assert "Fix: Use copy mode" in said["UVD002"] and "New terminals" not in said["UVD002"]  # a uv.toml edit


# --- the notifier's words, with and without a tray menu -----------------------------------------


class Server:
    """A notification server that takes everything; `buttons`: whether it has them."""

    def __init__(self, buttons: bool) -> None:
        self.buttons = buttons
        self.sent: list[Notification] = []

    async def get_capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.TITLE, Capability.MESSAGE, *([Capability.BUTTONS] if self.buttons else [])})

    async def send_notification(self, notification: Notification) -> str:
        self.sent.append(notification)
        if notification.on_dispatched:
            notification.on_dispatched()
        return notification.identifier

    async def get_current_notifications(self) -> list[str]:
        return [n.identifier for n in self.sent]

    async def clear(self, identifier: str) -> None:
        return None


def _shown(notice: Notice, *, menu: bool, buttons: bool) -> Notification:
    server = Server(buttons)

    def factory(_name: str, _icon: Icon | None) -> Any:
        return server

    async def scenario() -> None:
        notifier = notify.Notifier(backend_factory=factory, menu=menu)
        await notifier.show(notice, lambda _action: None)

    asyncio.run(scenario())
    [sent] = server.sent
    return sent


CACHE = dict(NOTICES)["UVD007"]  # two fixes: upgrade uv, or move the cache off the drive


@pytest.mark.parametrize("buttons", [True, False])
def test_without_a_tray_menu_each_fix_names_its_command(buttons: bool) -> None:
    more = Notice(CACHE.title, CACHE.body, CACHE.actions, CACHE.urgent, CACHE.state, more=1)
    body = _shown(more, menu=False, buttons=buttons).message
    ids = [a.fix_id for a in CACHE.actions if a.kind is Kind.FIX]
    assert len(ids) == 2
    for action in (a for a in CACHE.actions if a.kind is Kind.FIX):
        assert f"{action.label}: run `uv-drive-guard fix {action.fix_id}`" in body
    assert "1 more with `uv-drive-guard scan`." in body
    assert "tray" not in body


def test_with_a_tray_menu_the_notice_points_at_it() -> None:
    more = Notice(CACHE.title, CACHE.body, CACHE.actions, CACHE.urgent, CACHE.state, more=2)
    assert "2 more in the tray menu." in _shown(more, menu=True, buttons=True).message
    plain = _shown(more, menu=True, buttons=False).message
    assert plain.endswith(notify.TRAY_HINT_FIX) and "uv-drive-guard fix" not in plain


def test_a_notice_that_goes_to_the_log_names_the_commands(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="uv_drive_guard.app.notify")

    def nothing(_name: str, _icon: Icon | None) -> Any:
        raise ConnectionRefusedError("no session bus")

    async def scenario() -> None:
        notifier = notify.Notifier(backend_factory=nothing, menu=False)
        await notifier.show(CACHE, lambda _action: None)

    asyncio.run(scenario())
    [logged] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("notice: ")]
    assert "run `uv-drive-guard fix uvd007-" in logged and "tray" not in logged
    [warned] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned.startswith("no desktop notification service") and "tray" not in warned


# --- no tray to show an icon in ------------------------------------------------------------------


def test_no_tray_host_is_one_line_naming_what_was_tried(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def icon_class(name: str) -> Any:
        if name in ("appindicator", "gtk"):
            raise ImportError("No module named 'gi'")
        return object

    monkeypatch.setattr(trayhost, "icon_class", icon_class)
    monkeypatch.setattr(trayhost, "_host_missing", lambda name: "no XEmbed tray on display :9 to dock in")
    monkeypatch.setattr(trayhost, "watcher_present", lambda: False)
    monkeypatch.setenv("PYSTRAY_BACKEND", "")
    monkeypatch.setattr(trayhost.platforms, "current", lambda platform=None: trayhost.Os.LINUX)
    caplog.set_level(logging.INFO)
    assert main._make_tray(object()) is None  # type: ignore[arg-type]
    [said] = [r for r in caplog.records if r.name == "uv_drive_guard.app.main"]
    assert said.exc_info is None and said.levelno == logging.WARNING
    assert said.getMessage() == (
        "no tray icon: nothing here to show it (sni: no org.kde.StatusNotifierWatcher on the session bus; "
        "appindicator: No module named 'gi'; gtk: No module named 'gi'; "
        "xorg: no XEmbed tray on display :9 to dock in); notifications carry the fixes"
    )


def test_pystrays_dock_failure_is_one_line(caplog: pytest.LogCaptureFixture) -> None:
    from uv_drive_guard.app import tray  # installs the filter on pystray's logger

    assert tray.Tray  # the module is what matters
    caplog.set_level(logging.INFO)
    try:
        raise AssertionError
    except AssertionError:
        logging.getLogger("pystray._base").error("Failed to dock icon", exc_info=True)
    [record] = caplog.records
    assert record.exc_info is None and record.levelno == logging.WARNING
    assert record.getMessage().startswith("the XEmbed tray went away")
    assert "Traceback" not in caplog.text
