"""Desktop notifications for a drive's findings, with one-click fixes where the server allows.

Degrades like udiskie: buttons where the notification server has them, a plain notice where it
does not, a log line where there is no notification service at all. Never raises to the caller.
"""

from __future__ import annotations

import asyncio
import html
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from desktop_notifier import Button, Capability, DesktopNotifier, Icon, Notification, Urgency

from ..core.model import Os
from ..edges import platforms
from .actions import BUTTON_WIDTH, Action, Kind, Notice, quiet_action

log = logging.getLogger(__name__)

MAX_FIX_BUTTONS = 2
MAX_LABEL = BUTTON_WIDTH
TRAY_HINT_FIX = "Open the tray menu to fix it."
TRAY_HINT_DETAILS = "Open the tray menu for details."
SCAN_HINT = "`uv-drive-guard scan` says more."
CONNECT_TIMEOUT = 10.0  # seconds; D-Bus activation of a notification server can take a moment


class NotificationBackend(Protocol):
    """The part of desktop_notifier.DesktopNotifier this module uses, so tests can fake it."""

    async def get_capabilities(self) -> frozenset[Capability]: ...

    async def send_notification(self, notification: Notification) -> str: ...

    async def get_current_notifications(self) -> list[str]: ...

    async def clear(self, identifier: str) -> None: ...


BackendFactory = Callable[[str, "Icon | None"], NotificationBackend]


def _desktop_notifier(app_name: str, icon: Icon | None) -> NotificationBackend:
    return DesktopNotifier(app_name=app_name, app_icon=icon)


@dataclass
class _Pending:
    """What must stay referenced while a notification is on screen (its callbacks die with it)."""

    notification: Notification
    on_action: Callable[[Action], None]


class Notifier:
    """desktop-notifier with buttons where the server supports them, a plain notice where not,
    and a log line where there is no notification service at all: never an exception."""

    def __init__(
        self,
        app_name: str = "uv-drive-guard",
        icon: Path | None = None,
        *,
        backend_factory: BackendFactory | None = None,
        menu: bool = True,
    ) -> None:
        self.app_name = app_name
        self.menu = menu  # a tray menu shows the drives and their fixes; without one, notices name commands
        self.icon = Icon(path=icon) if icon is not None else None
        self._factory = backend_factory or _desktop_notifier
        self._backend: NotificationBackend | None = None
        self._pending: dict[str, _Pending] = {}
        self._started = False
        self.available = False
        self.buttons_supported = False
        self.capabilities: frozenset[Capability] = frozenset()
        self.unavailable: str | None = None  # why notices go to the tray and the log, said once
        self._escape_markup = False
        self._asking: asyncio.Future[bool | None] | None = None  # the permission question, until answered
        self._held: list[tuple[Notification, list[bool]]] = []  # notices sent while it is asked
        self._released: asyncio.Future[None] | None = None  # sending what waited: kept referenced

    async def start(self) -> None:
        """Ask the server once what it can do, so each notice is rendered for it; log the outcome once."""
        if self._started:
            return
        self._started = True
        backend: NotificationBackend | None = None
        try:
            backend = self._factory(self.app_name, self.icon)
            self.capabilities = await asyncio.wait_for(backend.get_capabilities(), CONNECT_TIMEOUT)
        except Exception as exc:  # no bus, no server, refused auth, timeout: all mean "log instead"
            log.warning("no desktop notification service (%s: %s); notices go to this log", type(exc).__name__, exc)
            _disconnect(backend)  # a bus without a notification server was connected all the same
            return
        missing = no_real_backend(backend) or await self._ask(backend)
        if missing is not None:
            self.unavailable = missing
            log.warning("%s; notices go to %s", missing, self._elsewhere())
            _disconnect(backend)
            return
        self._backend = backend
        self.available = True
        self.buttons_supported = Capability.BUTTONS in self.capabilities
        raw = await _server_capabilities(backend)
        self._escape_markup = "body-markup" in raw
        log.info(
            "notifications: %s (server capabilities: %s)",
            "with buttons" if self.buttons_supported else f"plain, no buttons; {self._fixes_where()}",
            ", ".join(sorted(raw)) or ", ".join(sorted(c.name.lower() for c in self.capabilities)),
        )

    async def _ask(self, backend: NotificationBackend) -> str | None:
        """Ask once whether notices may be shown. The first time, macOS puts the question to the
        person and desktop-notifier's request_authorisation returns only once they answer
        (desktop_notifier/backends/macos.py: "the call will only return once the user has granted
        or denied the request"); meanwhile has_authorisation says no. So a question still open
        after CONNECT_TIMEOUT stays open, and notices wait for its answer instead of being lost."""
        question = asyncio.ensure_future(_request_permission(backend))
        try:
            granted = await asyncio.wait_for(asyncio.shield(question), CONNECT_TIMEOUT)
        except asyncio.TimeoutError:
            log.info("macOS asks whether uv-drive-guard may send notifications; notices wait for the answer")
            self._asking = question
            question.add_done_callback(self._answered)
            return None
        return NOT_PERMITTED if granted is False else None

    def _answered(self, question: asyncio.Future[bool | None]) -> None:
        if not question.cancelled():
            self._released = asyncio.ensure_future(self._release(question.result()))

    async def _release(self, granted: bool | None) -> None:
        """The person answered: send what waited, or log it when they said no."""
        self._asking = None
        held, self._held = self._held, []
        if granted is False and self.unavailable is None:
            self.unavailable = NOT_PERMITTED
            log.warning("%s; notices go to the tray menu and this log", NOT_PERMITTED)
        for notification, dispatched in held:
            if granted is False or not await self._send(notification, dispatched):
                self._pending.pop(notification.identifier, None)
                log.info("notice: %s: %s", notification.title, notification.message)

    async def show(self, notice: Notice, on_action: Callable[[Action], None]) -> str | None:
        """Put a notice on screen; the user's choice comes back through on_action in this loop's thread."""
        await self.start()
        if self._backend is None:
            log.info("notice: %s: %s", notice.title, self.words(notice, buttons=False, logged=True))
            return None
        await self._prune()
        ident = str(uuid.uuid4())
        fixes = [a for a in notice.actions if a.kind is Kind.FIX][:MAX_FIX_BUTTONS]
        details = next((a for a in notice.actions if a.kind is Kind.DETAILS), None)
        body = self.words(notice, buttons=self.buttons_supported)
        buttons: tuple[Button, ...] = ()
        if self.buttons_supported:
            quiet = _quiet_action(notice.actions)
            chosen = [*fixes, quiet] if quiet else fixes
            buttons = tuple(self._button(ident, i, action, on_action) for i, action in enumerate(chosen))
        dispatched: list[bool] = []
        notification = Notification(
            notice.title,
            self._markup(body),
            urgency=Urgency.Critical if notice.urgent else Urgency.Normal,
            icon=self._state_icon(notice.state.value),
            buttons=buttons,
            on_dispatched=lambda: dispatched.append(True),
            on_clicked=lambda: self._fire(ident, details, on_action),
            on_dismissed=lambda: self._fire(ident, None, on_action),
            identifier=ident,
        )
        self._pending[ident] = _Pending(notification, on_action)
        if not await self._send(notification, dispatched):
            self._pending.pop(ident, None)
            log.info("notice: %s: %s", notice.title, self.words(notice, buttons=False, logged=True))
            return None
        return ident

    def words(self, notice: Notice, *, buttons: bool, logged: bool = False) -> str:
        """The notice's body for where it is read: a tray menu to point at, or (headless, no menu,
        or the log) the command that applies each fix, never a menu that is not there."""
        lines = [notice.body]
        fixes = [a for a in notice.actions if a.kind is Kind.FIX and a.fix_id][:MAX_FIX_BUTTONS]
        if notice.more:
            where = "in the tray menu" if self.menu else "with `uv-drive-guard scan`"
            lines.append(f"{notice.more} more {where}.")
        if not self.menu or logged:
            lines += [f"{a.label}: run `uv-drive-guard fix {a.fix_id}`" for a in fixes]
            if not fixes and not self.menu and notice.actions:
                lines.append(SCAN_HINT)
        elif not buttons and notice.actions:
            lines.append(TRAY_HINT_FIX if fixes else TRAY_HINT_DETAILS)
        return "\n".join(lines)

    def _elsewhere(self) -> str:
        return "the tray menu and this log" if self.menu else "this log, each with the command that applies its fix"

    def _fixes_where(self) -> str:
        return "fixes are in the tray menu" if self.menu else "each notice names the command that applies its fix"

    def _state_icon(self, state: str) -> Icon | None:
        """An error notice shows the tray's error picture, not the app's reassuring shield."""
        try:
            from .icons import tray_path

            return Icon(path=tray_path(state, hidpi=True))
        except (OSError, ValueError):
            return self.icon

    async def say(self, title: str, body: str) -> None:
        """A plain follow-up after a fix, so the user knows it worked without opening anything."""
        await self.start()
        if self._backend is None:
            log.info("notice: %s: %s", title, body)
            return
        dispatched: list[bool] = []
        notification = Notification(
            title, self._markup(body), icon=self.icon, on_dispatched=lambda: dispatched.append(True)
        )
        if not await self._send(notification, dispatched):
            log.info("notice: %s: %s", title, body)

    async def close(self) -> None:
        """Take our notices off screen: their buttons would do nothing once this process is gone."""
        if self._asking is not None:  # the question was never answered: what waited goes to the log
            self._asking.remove_done_callback(self._answered)
            self._asking.cancel()
            self._asking = None
        held, self._held = self._held, []
        for notification, _ in held:
            log.info("notice: %s: %s", notification.title, notification.message)
        pending, self._pending = self._pending, {}
        if self._backend is not None:
            for ident in pending:
                try:
                    await asyncio.wait_for(self._backend.clear(ident), CONNECT_TIMEOUT)
                except Exception as exc:  # the server may be gone already; nothing left to take down
                    log.debug("could not close notification %s: %s", ident, exc)
            _disconnect(self._backend)
        self._backend = None
        self.available = False

    def _button(self, ident: str, index: int, action: Action, on_action: Callable[[Action], None]) -> Button:
        """A button bound to its action and to the notification it belongs to."""
        return Button(
            action.short,
            on_pressed=lambda: self._fire(ident, action, on_action),
            identifier=f"{index}-{action.kind.value}",
        )

    def _fire(self, ident: str, action: Action | None, on_action: Callable[[Action], None]) -> None:
        """The notification is gone (clicked or dismissed): drop our reference, then act if asked."""
        self._pending.pop(ident, None)
        if action is not None:
            _call(on_action, action)

    async def _send(self, notification: Notification, dispatched: list[bool]) -> bool:
        """Send; desktop-notifier logs failures instead of raising, so its on_dispatched tells success apart.
        Its macOS backend dispatches even when the person switched notifications off since the start
        (the request fails inside UNUserNotificationCenter and is only logged), so ask first."""
        assert self._backend is not None
        if self._asking is not None:
            self._held.append((notification, dispatched))
            log.info("notice waits for the answer about notifications: %s", notification.title)
            return True
        denied = await _not_permitted(self._backend)
        if denied is not None:
            if self.unavailable is None:
                self.unavailable = denied
                log.warning("%s; notices go to %s", denied, self._elsewhere())
            return False
        try:
            await asyncio.wait_for(self._backend.send_notification(notification), CONNECT_TIMEOUT)
        except Exception as exc:  # a timeout, or a backend that raises after all
            log.warning("notification failed: %s: %s", type(exc).__name__, exc)
        return bool(dispatched)

    async def _prune(self) -> None:
        """Drop references to notifications that expired or closed without a callback (no leak over days)."""
        if self._backend is None or not self._pending:
            return
        try:
            current = set(await self._backend.get_current_notifications())
        except Exception as exc:  # keep the references; the next show tries again
            log.debug("could not list current notifications: %s", exc)
            return
        current |= {notification.identifier for notification, _ in self._held}  # not shown yet
        for identifier in [i for i in self._pending if i not in current]:
            del self._pending[identifier]

    def _markup(self, text: str) -> str:
        """Drive labels and paths are untrusted: a server that parses markup must see them as text."""
        return html.escape(text, quote=False) if self._escape_markup else text


NO_BUNDLE = (
    "macOS shows notifications only from an app bundle, and this uv-drive-guard runs outside one "
    "(desktop-notifier falls back to its dummy backend); the app from installers/macos has them, with buttons"
)
NOT_PERMITTED = "notifications are switched off for uv-drive-guard (System Settings > Notifications)"


def no_real_backend(backend: object) -> str | None:
    """desktop-notifier picks DummyNotificationCenter when it has nothing to show notices with: on
    macOS without a bundle identifier (desktop_notifier/main.py get_backend_class), or on an
    unsupported system. It then reports every notice as dispatched, so ask which one it chose."""
    from desktop_notifier.backends.dummy import DummyNotificationCenter

    if not isinstance(getattr(backend, "_backend", None), DummyNotificationCenter):
        return None
    if platforms.current() is Os.MACOS:
        return NO_BUNDLE
    return "desktop-notifier has no notification backend on this system"


async def _request_permission(backend: object) -> bool | None:
    """The person's answer (macOS prompts the first time, as desktop-notifier would at the first
    notice); None when the backend cannot tell."""
    method = getattr(backend, "request_authorisation", None)
    if method is None:
        return None
    try:
        return bool(await method())
    except Exception as exc:  # cannot tell: try to show notices, failures are logged
        log.debug("could not ask for notification permission: %s", exc)
        return None


async def _not_permitted(backend: object) -> str | None:
    """Whether notices are switched off now, checked without asking."""
    method = getattr(backend, "has_authorisation", None)
    if method is None:
        return None
    try:
        granted = await asyncio.wait_for(method(), CONNECT_TIMEOUT)
    except Exception as exc:  # cannot tell: try to show notices, failures are logged
        log.debug("could not ask for notification permission: %s", exc)
        return None
    return None if granted else NOT_PERMITTED


def _quiet_action(actions: Sequence[Action]) -> Action | None:
    """The notice's own "Don't tell me again for this drive", else one built for its drive."""
    found = next((a for a in actions if a.kind is Kind.QUIET), None)
    if found is not None or not actions:
        return found
    return quiet_action(actions[0].volume)


def _call(on_action: Callable[[Action], None], action: Action) -> None:
    """A failing handler must not take down the D-Bus message loop that called it."""
    try:
        on_action(action)
    except Exception:
        log.exception("handling %s %r failed", action.kind.value, action.label)


async def _server_capabilities(backend: Any) -> frozenset[str]:
    """The server's own capability strings (e.g. body-markup), which desktop-notifier does not pass on."""
    interface = getattr(getattr(backend, "_backend", None), "interface", None)
    call = getattr(interface, "call_get_capabilities", None)
    if call is None:
        return frozenset()
    try:
        return frozenset(str(c) for c in await asyncio.wait_for(call(), CONNECT_TIMEOUT))
    except Exception as exc:  # only used to decide on escaping and for the log line
        log.debug("could not read server capabilities: %s", exc)
        return frozenset()


def _disconnect(backend: Any) -> None:
    """Close desktop-notifier's D-Bus connection, which it never closes itself."""
    bus = getattr(getattr(backend, "_backend", None), "bus", None)
    if bus is not None and hasattr(bus, "disconnect"):
        bus.disconnect()
