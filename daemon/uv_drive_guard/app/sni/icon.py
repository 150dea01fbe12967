"""pystray's `Icon` as a StatusNotifierItem: app/tray.py drives it like any pystray backend.

Threads: `run()` owns the main thread, as pystray wants, and runs a dbus-fast asyncio loop there
for the item's own bus connection. pystray's setters (`icon`, `title`, `menu`, `visible`) and
`attention`, from any thread, compute what they can where they are (the pixmaps) and hand the rest
to that loop with `call_soon_threadsafe`; the D-Bus objects are only touched on the loop. A menu
click is called as pystray's backends call it, `item(icon)` then `update_menu()`, on the loop,
after the reply to the host has gone out.

The item registers with `org.kde.StatusNotifierWatcher` and again whenever that name gets a new
owner (the panel restarted), as the SNI spec asks of items.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from dbus_fast import BusType, Message, MessageType, NameFlag
from dbus_fast.aio import MessageBus

from ..traybase import WATCHER, import_pystray
from .item import ITEM_PATH, MENU_PATH, DBusMenu, Pixmap, StatusNotifierItem
from .menu import MenuModel, Node, Update

log = logging.getLogger(__name__)

_base: Any = import_pystray()._base
SIZES = (16, 22, 24, 32, 48, 64)  # what panels ask for: 16-24 on most, 32-64 on HiDPI or big panels
WATCHER_PATH = "/StatusNotifierWatcher"
DBUS = "org.freedesktop.DBus"
OWNER_CHANGES = (
    "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
    f"member='NameOwnerChanged',arg0='{WATCHER}'"
)
_serial = itertools.count(1)


def pixmaps(image: Any) -> list[Pixmap]:
    """IconPixmap: the image at each of SIZES (and its own size), ARGB32 in network byte order."""
    from PIL import Image

    rgba = image.convert("RGBA")
    width, height = rgba.size
    biggest = max(width, height)
    out: list[Pixmap] = []
    for size in sorted({s for s in SIZES if s <= biggest} | {biggest}):
        scaled = rgba
        if size != biggest:
            w, h = max(1, round(width * size / biggest)), max(1, round(height * size / biggest))
            scaled = rgba.resize((w, h), Image.Resampling.LANCZOS)
        red, green, blue, alpha = scaled.split()
        out.append((scaled.width, scaled.height, Image.merge("RGBA", (alpha, red, green, blue)).tobytes()))
    return out


class Icon(_base.Icon):  # type: ignore[misc]
    """A tray icon shown by whatever StatusNotifierHost the session has."""

    HAS_DEFAULT_ACTION = True  # Activate runs the menu's default item, as pystray's Icon() does
    HAS_MENU = True
    HAS_MENU_RADIO = True
    HAS_NOTIFICATION = False  # the daemon notifies through desktop-notifier, not the tray

    def __init__(self, name: str, icon: Any = None, title: str | None = None, menu: Any = None, **kwargs: Any) -> None:
        self.bus_name = f"org.kde.StatusNotifierItem-{os.getpid()}-{next(_serial)}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._closed = False
        self._shown = False
        self._attention = False
        self._bus: MessageBus | None = None
        self._stopping: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._dirty: set[str] = set()  # New* signals to emit at the end of this loop turn
        self._model = MenuModel()
        self._item = StatusNotifierItem(name, self._activate)
        self._dbusmenu = DBusMenu(self._model, self._click, self._refresh)
        super().__init__(name, icon, title, menu, **kwargs)
        self._item.title = self._title or name

    @property
    def attention(self) -> bool:
        """Status NeedsAttention (a drive has an error) rather than Active, while shown."""
        return self._attention

    @attention.setter
    def attention(self, value: bool) -> None:
        self._attention = bool(value)
        self._post(self._apply_status)

    @property
    def status(self) -> str:
        return self._item.status

    # -- pystray's backend interface (any thread) -----------------------------------------

    def _show(self) -> None:
        self._shown = True
        self._post(self._apply_status)

    def _hide(self) -> None:
        self._shown = False
        self._post(self._apply_status)

    def _update_icon(self) -> None:
        images = pixmaps(self._icon) if self._icon else []
        self._icon_valid = True
        self._post(self._apply_icon, images)

    def _update_title(self) -> None:
        self._post(self._apply_title, self._title or self.name)

    def _update_menu(self) -> None:
        self._post(self._apply_menu, self._menu)

    def _notify(self, message: str, title: str | None = None) -> None:
        log.debug("tray notification not shown (the daemon notifies itself): %s", title or message)

    def _remove_notification(self) -> None:
        return None

    def _stop(self) -> None:
        """From any thread, and from a signal handler on the loop's own thread (SIGTERM): through
        the loop's self-pipe either way, which wakes a loop blocked in select()."""
        loop, stopping = self._loop, self._stopping
        if loop is None or stopping is None or self._closed:
            return
        try:
            loop.call_soon_threadsafe(stopping.set)
        except RuntimeError:  # already closed
            log.debug("tray: stop after the loop ended")

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop, self._loop_thread = loop, threading.get_ident()
        try:
            loop.run_until_complete(self._serve())
        finally:
            self._closed = True
            loop.close()

    # -- handing work to the loop ----------------------------------------------------------

    def _post(self, call: Callable[..., None], *args: Any) -> None:
        """Run `call` on the loop: now when already there (or before the loop exists), else soon."""
        if self._closed:
            return
        loop = self._loop
        if loop is None or threading.get_ident() == self._loop_thread:
            self._guarded(call, *args)
            return
        try:
            loop.call_soon_threadsafe(self._guarded, call, *args)
        except RuntimeError:  # the loop closed in between: the icon is gone, nothing to update
            log.debug("tray: update after stop dropped")

    def _guarded(self, call: Callable[..., None], *args: Any) -> None:
        try:
            call(*args)
        except Exception:
            log.exception("tray: updating the icon failed")

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        assert self._loop is not None
        task = self._loop.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- on the loop -----------------------------------------------------------------------

    def _apply_status(self) -> None:
        status = "Passive" if not self._shown else "NeedsAttention" if self._attention else "Active"
        if status != self._item.status:
            self._item.status = status
            self._item.NewStatus(status)

    def _apply_icon(self, images: list[Pixmap]) -> None:
        # No AttentionIconPixmap: hosts show the icon itself while NeedsAttention, and the drawing
        # already carries the error badge; it would also double what every GetAll sends.
        self._item.pixmaps = images
        self._signal("NewIcon")

    def _apply_title(self, title: str) -> None:
        if title != self._item.title:
            self._item.title = title
            self._signal("NewTitle")
            self._signal("NewToolTip")

    def _signal(self, name: str) -> None:
        """Emit `name` once at the end of this loop turn: hosts such as XFCE's answer every New*
        signal with a GetAll, so a view's several changes should cost each signal once."""
        if self._loop is None:
            return  # not on the bus yet: hosts read everything when the item registers
        if not self._dirty:
            self._loop.call_soon(self._flush)
        self._dirty.add(name)

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for name in ("NewTitle", "NewIcon", "NewToolTip"):
            if name in dirty:
                getattr(self._item, name)()

    def _apply_menu(self, menu: Any) -> None:
        self._dbusmenu.changed(self._read(menu))

    def _read(self, menu: Any) -> Update:
        update = self._model.update(menu)
        self._item.is_menu = not self._model.has_default
        return update

    def _refresh(self) -> Update:
        """AboutToShow: pystray menus may hold callables; read them again before the menu opens."""
        update = self._read(self._menu)
        self._dbusmenu.changed(update)
        return update

    def _click(self, node: Node) -> None:
        assert self._loop is not None
        self._loop.call_soon(self._call_item, node.item)  # after the Event's reply is sent

    def _call_item(self, item: Any) -> None:
        try:
            item(self)
        except Exception:
            log.exception("tray: the menu item %r failed", str(item))
        finally:
            self.update_menu()

    def _activate(self) -> None:
        if self._loop is not None and self._model.has_default:
            self._loop.call_soon(self)  # pystray's Icon(): the menu's default item, then update_menu()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        bus = await self._connect()
        self._mark_ready()
        await self._stopping.wait()
        if bus is not None:
            bus.disconnect()
            await bus.wait_for_disconnect()  # type: ignore[no-untyped-call]

    async def _connect(self) -> MessageBus | None:
        try:
            bus = await MessageBus(bus_type=BusType.SESSION).connect()
            _tolerate_full_socket(bus)
            bus.export(ITEM_PATH, self._item)
            bus.export(MENU_PATH, self._dbusmenu)
            await bus.request_name(self.bus_name, NameFlag.DO_NOT_QUEUE)
            bus.add_message_handler(self._on_message)
            await _call(bus, DBUS, "/org/freedesktop/DBus", DBUS, "AddMatch", "s", OWNER_CHANGES)
        except Exception:  # no session bus after all: the daemon goes on without an icon, notifications still work
            log.exception("the tray icon could not be put on the session bus")
            return None
        self._bus = bus
        await self._register()
        return bus

    async def _register(self) -> None:
        if self._bus is None:
            return
        try:
            await _call(self._bus, WATCHER, WATCHER_PATH, WATCHER, "RegisterStatusNotifierItem", "s", self.bus_name)
        except Exception as error:  # the watcher left meanwhile: NameOwnerChanged brings the next one
            log.warning("the tray host did not take the icon (%s); waiting for it to come back", error)
            return
        log.info("tray icon %s registered with %s", self.bus_name, WATCHER)

    def _on_message(self, message: Message) -> None:
        if message.message_type is not MessageType.SIGNAL or message.member != "NameOwnerChanged":
            return
        name, _old, new = message.body
        if name != WATCHER:
            return
        if new:
            log.info("a tray host appeared on the session bus: registering the icon with it")
            self._spawn(self._register())
        else:
            log.info("the tray host left the session bus; the icon waits for the next one")


class _PatientSocket:
    """The bus socket as dbus-fast's writer sees it, with a full send buffer (EAGAIN) reported
    as nothing sent, so that it waits for the socket to be writable and tries again.

    dbus-fast's asyncio writer treats BlockingIOError from send() as a broken connection and
    drops it (python-dbus-next#153, which dbus-fast inherited): a host that answers a burst of
    New* signals with GetAll calls, each reply carrying the pixmaps, can fill the buffer.
    """

    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def send(self, data: Any) -> int:
        try:
            return int(self._sock.send(data))
        except BlockingIOError:
            return 0

    def sendmsg(self, *args: Any) -> int:
        try:
            return int(self._sock.sendmsg(*args))
        except BlockingIOError:
            return 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _tolerate_full_socket(bus: MessageBus) -> None:
    writer = getattr(bus, "_writer", None)
    if writer is not None and hasattr(writer, "sock") and not isinstance(writer.sock, _PatientSocket):
        writer.sock = _PatientSocket(writer.sock)
    else:
        log.debug("dbus-fast's writer has changed: its socket is used as it is")


async def _call(bus: MessageBus, dest: str, path: str, interface: str, member: str, sig: str, *body: Any) -> list[Any]:
    """One method call; a D-Bus error reply raises."""
    message = Message(destination=dest, path=path, interface=interface, member=member, signature=sig, body=list(body))
    reply = await bus.call(message)
    if reply is None or reply.message_type is MessageType.ERROR:
        detail = reply.body[0] if reply is not None and reply.body else ""
        raise RuntimeError(f"{member}: {reply.error_name if reply else 'no reply'} {detail}".strip())
    return list(reply.body)
