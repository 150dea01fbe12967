"""The two D-Bus objects of an SNI tray icon, on dbus-fast: the item and its menu.

`org.kde.StatusNotifierItem` as the freedesktop StatusNotifierItem spec and KDE's
org.kde.StatusNotifierItem.xml describe it, and `com.canonical.dbusmenu` as libdbusmenu's
dbus-menu.xml does (version 3: with EventGroup and AboutToShowGroup, which libdbusmenu-glib
clients such as XFCE's status tray call). Both run on the backend's asyncio loop; they hold the
state hosts read and call the owner's callbacks for clicks, never blocking the bus.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

from dbus_fast import DBusError, ErrorType, PropertyAccess, Variant
from dbus_fast.annotations import DBusBool, DBusInt32, DBusObjectPath, DBusSignature, DBusStr, DBusUInt32
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

from .menu import Layout, MenuModel, Node, Props, Update, Value

log = logging.getLogger(__name__)

ITEM_PATH = "/StatusNotifierItem"
MENU_PATH = "/MenuBar"
ITEM_INTERFACE = "org.kde.StatusNotifierItem"
MENU_INTERFACE = "com.canonical.dbusmenu"

Pixmap = tuple[int, int, bytes]
Nothing = Annotated[None, DBusSignature("")]  # dbus-fast reads a bare `None` annotation as no signature at all
DBusPixmaps = Annotated[list[Pixmap], DBusSignature("a(iiay)")]
DBusToolTip = Annotated[tuple[str, list[Pixmap], str, str], DBusSignature("(sa(iiay)ss)")]
DBusLayout = Annotated[tuple[int, Any], DBusSignature("u(ia{sv}av)")]
DBusGroup = Annotated[list[tuple[int, dict[str, Variant]]], DBusSignature("a(ia{sv})")]
DBusEvents = Annotated[list[tuple[int, str, Variant, int]], DBusSignature("a(isvu)")]
DBusIds = Annotated[list[int], DBusSignature("ai")]
DBusStrs = Annotated[list[str], DBusSignature("as")]
DBusTwoIdLists = Annotated[tuple[list[int], list[int]], DBusSignature("aiai")]
DBusPropsUpdate = Annotated[tuple[list[Any], list[Any]], DBusSignature("a(ia{sv})a(ias)")]
DBusLayoutUpdate = Annotated[tuple[int, int], DBusSignature("ui")]
DBusAny = Annotated[Variant, DBusSignature("v")]


def variant(value: Value) -> Variant:
    """A dbusmenu property as the variant clients expect: b, i or s."""
    if isinstance(value, bool):
        return Variant("b", value)
    if isinstance(value, int):
        return Variant("i", value)
    return Variant("s", value)


def wrap_props(props: Props) -> dict[str, Variant]:
    return {name: variant(value) for name, value in props.items()}


def wrap_layout(layout: Layout) -> list[Any]:
    """`(ia{sv}av)`: the children are variants holding the same structure."""
    ident, props, children = layout
    return [ident, wrap_props(props), [Variant("(ia{sv}av)", wrap_layout(child)) for child in children]]


class StatusNotifierItem(ServiceInterface):
    """The icon: what hosts show, and the clicks they pass on."""

    def __init__(self, ident: str, activate: Callable[[], None]) -> None:
        super().__init__(ITEM_INTERFACE)
        self.ident = ident
        self.title = ident
        self.status = "Passive"  # pystray's icon starts hidden
        self.pixmaps: list[Pixmap] = []
        self.is_menu = True
        self._activate = activate

    # -- properties ------------------------------------------------------------------------

    @dbus_property(access=PropertyAccess.READ)
    def Category(self) -> DBusStr:
        return "ApplicationStatus"

    @dbus_property(access=PropertyAccess.READ)
    def Id(self) -> DBusStr:
        return self.ident

    @dbus_property(access=PropertyAccess.READ)
    def Title(self) -> DBusStr:
        return self.title

    @dbus_property(access=PropertyAccess.READ)
    def Status(self) -> DBusStr:
        return self.status

    @dbus_property(access=PropertyAccess.READ)
    def IconName(self) -> DBusStr:
        return ""

    @dbus_property(access=PropertyAccess.READ)
    def IconPixmap(self) -> DBusPixmaps:
        return self.pixmaps

    @dbus_property(access=PropertyAccess.READ)
    def AttentionIconName(self) -> DBusStr:
        return ""

    @dbus_property(access=PropertyAccess.READ)
    def AttentionIconPixmap(self) -> DBusPixmaps:
        return []

    @dbus_property(access=PropertyAccess.READ)
    def OverlayIconName(self) -> DBusStr:
        return ""

    @dbus_property(access=PropertyAccess.READ)
    def IconThemePath(self) -> DBusStr:
        return ""

    @dbus_property(access=PropertyAccess.READ)
    def ToolTip(self) -> DBusToolTip:
        return ("", [], self.title, "")

    @dbus_property(access=PropertyAccess.READ)
    def ItemIsMenu(self) -> DBusBool:
        return self.is_menu

    @dbus_property(access=PropertyAccess.READ)
    def Menu(self) -> DBusObjectPath:
        return MENU_PATH

    # -- methods: hosts with a dbusmenu show the menu themselves ----------------------------

    @dbus_method()
    def Activate(self, x: DBusInt32, y: DBusInt32) -> Nothing:
        self._activate()

    @dbus_method()
    def SecondaryActivate(self, x: DBusInt32, y: DBusInt32) -> Nothing:
        log.debug("tray: secondary activation ignored")

    @dbus_method()
    def ContextMenu(self, x: DBusInt32, y: DBusInt32) -> Nothing:
        log.debug("tray: the host asked the item to show its menu; it shows the dbusmenu at %s", MENU_PATH)

    @dbus_method()
    def Scroll(self, delta: DBusInt32, orientation: DBusStr) -> Nothing:
        return None

    # -- signals ---------------------------------------------------------------------------

    @dbus_signal()
    def NewTitle(self) -> Nothing:
        return None

    @dbus_signal()
    def NewIcon(self) -> Nothing:
        return None

    @dbus_signal()
    def NewToolTip(self) -> Nothing:
        return None

    @dbus_signal()
    def NewStatus(self, status: str) -> DBusStr:
        return status


class DBusMenu(ServiceInterface):
    """The menu: layout and properties from a `MenuModel`, clicks handed to `click`."""

    def __init__(self, model: MenuModel, click: Callable[[Node], None], refresh: Callable[[], Update]) -> None:
        super().__init__(MENU_INTERFACE)
        self.model = model
        self._click = click
        self._refresh = refresh

    def changed(self, update: Update) -> None:
        """Tell the hosts what `update` changed."""
        if update.layout:
            self.LayoutUpdated(self.model.revision, 0)
        elif update:
            self.ItemsPropertiesUpdated(
                [[ident, wrap_props(props)] for ident, props in update.updated],
                [[ident, list(names)] for ident, names in update.removed],
            )

    # -- properties ------------------------------------------------------------------------

    @dbus_property(access=PropertyAccess.READ)
    def Version(self) -> DBusUInt32:
        return 3

    @dbus_property(access=PropertyAccess.READ)
    def TextDirection(self) -> DBusStr:
        return "ltr"

    @dbus_property(access=PropertyAccess.READ)
    def Status(self) -> DBusStr:
        return "normal"

    @dbus_property(access=PropertyAccess.READ)
    def IconThemePath(self) -> DBusStrs:
        return []

    # -- methods ---------------------------------------------------------------------------

    @dbus_method()
    def GetLayout(self, parentId: DBusInt32, recursionDepth: DBusInt32, propertyNames: DBusStrs) -> DBusLayout:
        layout = self.model.layout(parentId, recursionDepth, propertyNames)
        if layout is None:
            raise DBusError(ErrorType.INVALID_ARGS, f"no menu item {parentId}")
        return (self.model.revision, wrap_layout(layout))

    @dbus_method()
    def GetGroupProperties(self, ids: DBusIds, propertyNames: DBusStrs) -> DBusGroup:
        return [(ident, wrap_props(props)) for ident, props in self.model.group(ids, propertyNames)]

    @dbus_method()
    def GetProperty(self, id: DBusInt32, name: DBusStr) -> DBusAny:
        node = self.model.node(id)
        if node is None or name not in node.props:
            raise DBusError(ErrorType.INVALID_ARGS, f"menu item {id} has no property {name!r}")
        return variant(node.props[name])

    @dbus_method()
    def Event(self, id: DBusInt32, eventId: DBusStr, data: DBusAny, timestamp: DBusUInt32) -> Nothing:
        if not self._event(id, eventId):
            raise DBusError(ErrorType.INVALID_ARGS, f"no menu item {id}")

    @dbus_method()
    def EventGroup(self, events: DBusEvents) -> DBusIds:
        return [ident for ident, event_id, _data, _time in events if not self._event(ident, event_id)]

    @dbus_method()
    def AboutToShow(self, id: DBusInt32) -> DBusBool:
        if self.model.node(id) is None:
            raise DBusError(ErrorType.INVALID_ARGS, f"no menu item {id}")
        return bool(self._refresh())

    @dbus_method()
    def AboutToShowGroup(self, ids: DBusIds) -> DBusTwoIdLists:
        unknown = [ident for ident in ids if self.model.node(ident) is None]
        update = self._refresh()
        return ([ident for ident in ids if ident not in unknown] if update else [], unknown)

    def _event(self, ident: int, event_id: str) -> bool:
        """False for an unknown id; a click on an item that can be clicked goes to the owner."""
        node = self.model.node(ident)
        if node is None:
            return False
        if event_id == "clicked" and node.clickable:
            self._click(node)
        return True

    # -- signals ---------------------------------------------------------------------------

    @dbus_signal()
    def LayoutUpdated(self, revision: int, parent: int) -> DBusLayoutUpdate:
        return (revision, parent)

    @dbus_signal()
    def ItemsPropertiesUpdated(self, updated: list[Any], removed: list[Any]) -> DBusPropsUpdate:
        return (updated, removed)
