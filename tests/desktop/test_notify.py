"""Notifications against a real dunst on a private bus and screen, and the fallbacks without one.

The notifier runs in an asyncio loop in its own thread, as in the daemon; the test thread plays the
user through ``dunstctl`` and waits for the chosen Action on a queue.
"""

from __future__ import annotations

import asyncio
import html
import logging
import queue
import shutil
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from desktop_notifier import Capability, Icon, Notification, Urgency
from PIL import Image
from tests.desktop.session import DunstSession, dunst_session, keep_screenshot, private_bus, wait_for

from uv_drive_guard.app.actions import QUIET_LABEL, Action, Kind, Notice, shorten
from uv_drive_guard.app.notify import MAX_LABEL, TRAY_HINT_FIX, Notifier

ROOT = Path(__file__).resolve().parents[2]
ICON = ROOT / "icons" / "app-48.png"
SCREENSHOT = "notification.png"  # taken under tmp_path; copied out only with UVDG_SCREENSHOTS=DIR
KEY = "uuid:5E1F-0A2B"
T = TypeVar("T")

FIX_HOME = Action(Kind.FIX, "Move uv's cache to your home folder (~/.cache/uv)", KEY, "move-cache-home", "UVD104")
FIX_COPY = Action(Kind.FIX, "Use copy mode", KEY, "link-mode-copy", "UVD104")
NOTICE = Notice(
    "uv on STICK (exFAT): error",
    "uv cannot keep its cache on STICK (exFAT).\n"
    "uv would print: error: Failed to hardlink files; falling back to full copy.\n"
    "Fix: Move uv's cache to your home folder (UV_CACHE_DIR=~/.cache/uv). New terminals will see the change.",
    (
        FIX_HOME,
        FIX_COPY,
        Action(Kind.DETAILS, "Details", KEY, code="UVD104"),
        Action(Kind.MUTE, "Don't show this again", KEY, code="UVD104"),
        Action(Kind.QUIET, QUIET_LABEL, KEY),
    ),
    urgent=True,
)


class LoopThread:
    """An asyncio loop in a worker thread, like the daemon's: the notifier lives there."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="notify-loop", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        assert not self.thread.is_alive(), "notifier loop thread leaked"
        self.loop.close()


class Chosen:
    """on_action's end: records the Action and the thread it was called in."""

    def __init__(self) -> None:
        self.q: queue.Queue[tuple[Action, str]] = queue.Queue()

    def __call__(self, action: Action) -> None:
        self.q.put((action, threading.current_thread().name))

    def get(self, timeout: float = 5) -> tuple[Action, str]:
        return self.q.get(timeout=timeout)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DunstSession]:
    with dunst_session(tmp_path_factory.mktemp("desk")) as session:
        yield session


@pytest.fixture
def real(desk: DunstSession, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Notifier, LoopThread]]:
    """A started Notifier on the private bus, in its loop thread; the screen cleared first."""
    if desk.count() or desk.count("waiting"):
        desk.close_all()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", desk.bus_address)
    monkeypatch.setenv("DISPLAY", desk.display)
    loop = LoopThread()
    notifier = Notifier(icon=ICON)
    loop.run(notifier.start())
    yield notifier, loop
    loop.run(notifier.close())
    loop.stop()


# -- real dunst ------------------------------------------------------------------------------


def test_dunst_reports_buttons(real: tuple[Notifier, LoopThread], desk: DunstSession) -> None:
    notifier, _ = real
    assert notifier.available and notifier.buttons_supported
    assert {Capability.BUTTONS, Capability.ON_CLICKED, Capability.ON_DISMISSED} <= notifier.capabilities
    assert {"actions", "body", "body-markup"} <= set(desk.capabilities())


def test_show_puts_the_drive_on_screen(real: tuple[Notifier, LoopThread], desk: DunstSession, tmp_path: Path) -> None:
    notifier, loop = real
    chosen = Chosen()
    ident = loop.run(notifier.show(NOTICE, chosen))
    assert ident and ident in notifier._pending
    wait_for("the notification on screen", lambda: desk.count() == 1 or None)
    if shutil.which("xdotool"):
        find = ("xdotool", "search", "--onlyvisible", "--class", "Dunst")
        wait_for("dunst to map its window", lambda: desk.run(*find, check=False).strip())
    shot = desk.screenshot(tmp_path / SCREENSHOT)
    if shot is not None:
        with Image.open(shot) as image:
            assert image.convert("L").getbbox() is not None, "the screen is blank: nothing was drawn"
    keep_screenshot(shot, SCREENSHOT)  # the README's picture, refreshed with UVDG_SCREENSHOTS=docs/images

    desk.dunstctl("close")  # the user closes it: dismissed, no action, reference dropped
    wait_for("the dismissal to reach the notifier", lambda: ident not in notifier._pending or None)
    [item] = [h for h in desk.history() if h["summary"] == NOTICE.title]
    assert item["appname"] == "uv-drive-guard"
    assert html.unescape(item["body"]) == NOTICE.body
    assert "STICK (exFAT)" in item["body"]
    assert item["icon_path"].endswith("icons/tray-warning@2x.png")  # the notice's state, as in the tray
    assert chosen.q.empty()


def test_body_click_means_details(real: tuple[Notifier, LoopThread], desk: DunstSession) -> None:
    notifier, loop = real
    chosen = Chosen()
    ident = loop.run(notifier.show(NOTICE, chosen))
    wait_for("the notification on screen", lambda: desk.count() == 1 or None)
    desk.click_body()
    action, thread = chosen.get()
    assert action == Action(Kind.DETAILS, "Details", KEY, code="UVD104")
    assert thread == "notify-loop"
    assert ident not in notifier._pending


def test_named_button_means_that_fix(real: tuple[Notifier, LoopThread], desk: DunstSession) -> None:
    notifier, loop = real
    chosen = Chosen()
    ident = loop.run(notifier.show(NOTICE, chosen))
    wait_for("the notification on screen", lambda: desk.count() == 1 or None)
    desk.choose("Use copy mode")
    action, thread = chosen.get()
    assert action == FIX_COPY and action.fix_id == "link-mode-copy"
    assert thread == "notify-loop"
    assert ident not in notifier._pending
    # dunst lists "#label (summary) [id,key]"; desktop-notifier's body-click action has key "default", no label
    menu = {
        line.rsplit(",", 1)[1].rstrip("]"): line[1:].split(" (", 1)[0]
        for line in desk.menu_file.read_text().splitlines()
    }
    assert menu.pop("default") == ""
    assert sorted(menu.values()) == sorted([shorten(FIX_HOME.label), "Use copy mode", QUIET_LABEL])  # dunst's order
    assert all(len(label) <= MAX_LABEL for label in menu.values())


def test_ignore_button(real: tuple[Notifier, LoopThread], desk: DunstSession) -> None:
    notifier, loop = real
    chosen = Chosen()
    loop.run(notifier.show(NOTICE, chosen))
    wait_for("the notification on screen", lambda: desk.count() == 1 or None)
    desk.choose(QUIET_LABEL)
    assert chosen.get()[0] == Action(Kind.QUIET, QUIET_LABEL, KEY)


def test_drive_text_is_not_markup(real: tuple[Notifier, LoopThread], desk: DunstSession) -> None:
    notifier, loop = real
    body = "uv cannot keep its cache on <b>R&D</b> (exFAT)."
    loop.run(notifier.show(Notice("uv on R&D: warning", body, (), urgent=False), Chosen()))
    wait_for("the notification on screen", lambda: desk.count() == 1 or None)
    desk.dunstctl("close")
    wait_for("history", lambda: [h for h in desk.history() if h["summary"] == "uv on R&D: warning"] or None)
    [item] = [h for h in desk.history() if h["summary"] == "uv on R&D: warning"]
    assert item["body"] == html.escape(body, quote=False)
    assert "parse markup" not in (desk.dir / "dunst.log").read_text()


def test_say_is_plain(real: tuple[Notifier, LoopThread], desk: DunstSession) -> None:
    notifier, loop = real
    loop.run(notifier.say("Fixed: uv on STICK (exFAT)", "uv's cache is now in your home. New terminals will see it."))
    wait_for("the notification on screen", lambda: desk.count() == 1 or None)
    assert not notifier._pending


# -- no notification service -----------------------------------------------------------------


def test_no_session_bus_means_log_lines(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    caplog.set_level(logging.INFO, logger="uv_drive_guard.app.notify")

    async def scenario() -> tuple[Notifier, str | None]:
        notifier = Notifier(icon=ICON)
        await notifier.start()
        shown = await notifier.show(NOTICE, Chosen())
        await notifier.show(NOTICE, Chosen())
        await notifier.say("Fixed", "New terminals will see it.")
        await notifier.close()
        return notifier, shown

    notifier, shown = asyncio.run(scenario())
    assert shown is None and not notifier.available and not notifier.buttons_supported
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "no desktop notification service" in warnings[0].getMessage()
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any(NOTICE.title in m and "STICK (exFAT)" in m for m in infos)
    assert any("New terminals will see it." in m for m in infos)


def test_bus_without_notification_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="uv_drive_guard.app.notify")
    with private_bus(tmp_path) as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)

        async def scenario() -> str | None:
            notifier = Notifier()
            shown = await notifier.show(NOTICE, Chosen())  # starts itself
            await notifier.close()
            return shown

        assert asyncio.run(scenario()) is None
    assert any(NOTICE.title in r.getMessage() for r in caplog.records if r.levelno == logging.INFO)


# -- a server without buttons (fake backend) -------------------------------------------------


class PlainServer:
    """A notification server that shows text and reports body clicks, but has no buttons."""

    def __init__(self, app_name: str, icon: Icon | None, *, deliver: bool = True) -> None:
        self.app_name, self.icon, self.deliver = app_name, icon, deliver
        self.sent: list[Notification] = []

    async def get_capabilities(self) -> frozenset[Capability]:
        return frozenset({Capability.TITLE, Capability.MESSAGE, Capability.URGENCY, Capability.ON_CLICKED})

    async def send_notification(self, notification: Notification) -> str:
        self.sent.append(notification)
        if self.deliver and notification.on_dispatched:
            notification.on_dispatched()
        return notification.identifier

    async def get_current_notifications(self) -> list[str]:
        return [n.identifier for n in self.sent]

    async def clear(self, identifier: str) -> None:
        self.sent = [n for n in self.sent if n.identifier != identifier]


def test_no_buttons_means_plain_text_with_tray_hint() -> None:
    servers: list[PlainServer] = []

    def factory(name: str, icon: Icon | None) -> PlainServer:
        servers.append(PlainServer(name, icon))
        return servers[-1]

    chosen = Chosen()

    async def scenario() -> tuple[Notifier, str | None]:
        notifier = Notifier(icon=ICON, backend_factory=factory)
        await notifier.start()
        return notifier, await notifier.show(NOTICE, chosen)

    notifier, ident = asyncio.run(scenario())
    assert notifier.available and not notifier.buttons_supported
    [sent] = servers[0].sent
    assert sent.identifier == ident
    assert sent.buttons == ()
    assert sent.message == f"{NOTICE.body}\n{TRAY_HINT_FIX}"
    assert sent.title == NOTICE.title
    assert sent.urgency is Urgency.Critical and sent.icon is not None
    assert str(sent.icon.path).endswith("tray-warning@2x.png")
    assert servers[0].app_name == "uv-drive-guard"
    assert sent.on_clicked is not None
    sent.on_clicked()  # the body is still clickable: Details
    assert chosen.get()[0].kind is Kind.DETAILS
    assert not notifier._pending


def test_undelivered_notice_is_logged_and_not_kept(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="uv_drive_guard.app.notify")

    async def scenario() -> tuple[Notifier, str | None]:
        notifier = Notifier(backend_factory=lambda name, icon: PlainServer(name, icon, deliver=False))
        return notifier, await notifier.show(Notice("t", "b", NOTICE.actions, urgent=False), Chosen())

    notifier, ident = asyncio.run(scenario())
    assert ident is None and not notifier._pending
    assert any(r.getMessage().startswith("notice: t: b") for r in caplog.records)


def test_labels_are_shortened_at_a_word() -> None:
    assert shorten("Use copy mode") == "Use copy mode"
    short = shorten(FIX_HOME.label)
    assert len(short) <= MAX_LABEL and short.endswith("…") and short.startswith("Move uv's cache")
    assert len(shorten("x" * 80)) == MAX_LABEL
