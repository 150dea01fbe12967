"""What a StatusNotifierHost sees of an item, read over D-Bus with dbus-fast as a host would:
the item's properties, the dbusmenu layout, and clicks sent as com.canonical.dbusmenu.Event."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus

ITEM = "org.kde.StatusNotifierItem"
MENU = "com.canonical.dbusmenu"


@dataclass(frozen=True)
class Entry:
    """One menu item as a host would draw it."""

    id: int
    props: dict[str, Any]
    children: tuple[Entry, ...]

    @property
    def label(self) -> str:
        return str(self.props.get("label", "")).replace("__", "\x00").replace("_", "").replace("\x00", "_")

    def walk(self) -> Iterator[Entry]:
        yield self
        for child in self.children:
            yield from child.walk()

    def find(self, label: str) -> Entry:
        """The first item whose label starts with `label`."""
        found = next((e for e in self.walk() if e.label.startswith(label)), None)
        if found is None:
            raise AssertionError(f"no menu item {label!r} in {self.outline()}")
        return found

    def outline(self) -> list[Any]:
        """Labels (or "---" for separators) as nested lists: what a person sees when it opens."""
        out: list[Any] = []
        for child in self.children:
            if child.props.get("visible", True) is False:
                continue
            text = "---" if child.props.get("type") == "separator" else child.label
            out.append((text, child.outline()) if child.children else text)
        return out


def _unwrap(value: Any) -> Any:
    return value.value if isinstance(value, Variant) else value


def _entry(raw: Any) -> Entry:
    ident, props, children = raw
    return Entry(ident, {k: _unwrap(v) for k, v in props.items()}, tuple(_entry(_unwrap(c)) for c in children))


class SniClient:
    """Synchronous calls on a private bus; each one connects, asks and disconnects."""

    def __init__(self, address: str) -> None:
        self.address = address

    def call(self, dest: str, path: str, interface: str, member: str, signature: str = "", *body: Any) -> list[Any]:
        return asyncio.run(self._call(dest, path, interface, member, signature, list(body)))

    async def _call(self, dest: str, path: str, interface: str, member: str, sig: str, body: list[Any]) -> list[Any]:
        bus = await MessageBus(bus_address=self.address).connect()
        try:
            message = Message(destination=dest, path=path, interface=interface, member=member, signature=sig, body=body)
            reply = await asyncio.wait_for(bus.call(message), 10)
        finally:
            bus.disconnect()
        assert reply is not None
        if reply.message_type is MessageType.ERROR:
            raise AssertionError(f"{member} on {dest}{path}: {reply.error_name} {reply.body}")
        return list(reply.body)

    def prop(self, dest: str, name: str, path: str = "/StatusNotifierItem", interface: str = ITEM) -> Any:
        return _unwrap(self.call(dest, path, "org.freedesktop.DBus.Properties", "Get", "ss", interface, name)[0])

    def props(self, dest: str) -> dict[str, Any]:
        raw = self.call(dest, "/StatusNotifierItem", "org.freedesktop.DBus.Properties", "GetAll", "s", ITEM)[0]
        return {k: _unwrap(v) for k, v in raw.items()}

    def menu(self, dest: str) -> tuple[int, Entry]:
        """(revision, root) of GetLayout(0, -1, []) on the item's Menu path."""
        path = self.prop(dest, "Menu")
        revision, layout = self.call(dest, path, MENU, "GetLayout", "iias", 0, -1, [])
        return revision, _entry(layout)

    def click(self, dest: str, ident: int) -> None:
        """What a host sends when the person clicks the item."""
        self.call(dest, self.prop(dest, "Menu"), MENU, "Event", "isvu", ident, "clicked", Variant("i", 0), 0)

    def about_to_show(self, dest: str, ident: int = 0) -> bool:
        return bool(self.call(dest, self.prop(dest, "Menu"), MENU, "AboutToShow", "i", ident)[0])
