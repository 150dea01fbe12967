"""A pystray `Menu` as `com.canonical.dbusmenu` shows it: numbered items, properties, a revision.

Pure: no D-Bus here (`item.py` puts these values into variants). `MenuModel.update(menu)` reads
a pystray Menu, evaluating its callables once, into a tree of `Node`s and says what changed: the
layout (a new revision, for LayoutUpdated) or only some properties (ItemsPropertiesUpdated).

An item's id is keyed by its place: its parent's key, its label and which occurrence of that
label it is among its siblings. app/tray.py builds a new Menu for every view, and the same menu
gets the same ids; an id is never given to another key, so a click on an item of an old layout
reaches that item or nothing, never a different one. Properties are only sent when they differ
from the defaults of libdbusmenu's dbus-menu.xml, as that file asks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Value = str | int | bool
Props = Mapping[str, Value]
Key = tuple[str, ...]
# (id, properties, children): the dbusmenu layout `(ia{sv}av)` before it is put into variants
Layout = tuple[int, dict[str, Value], list[Any]]

ROOT = 0
SEPARATOR_LABEL = "\x00separator"  # a key part no label can be (labels have no control characters)


@dataclass(frozen=True)
class Node:
    id: int
    props: Props
    children: tuple[Node, ...] = ()
    item: Any = field(default=None, compare=False)  # the pystray MenuItem a click calls

    def shape(self) -> tuple[Any, ...]:
        """The tree of ids alone: equal shapes mean only properties can differ."""
        return (self.id, tuple(child.shape() for child in self.children))

    def walk(self) -> Iterable[Node]:
        yield self
        for child in self.children:
            yield from child.walk()

    @property
    def clickable(self) -> bool:
        return (
            self.item is not None
            and self.props.get("enabled", True) is not False
            and self.props.get("visible", True) is not False
            and "children-display" not in self.props
        )


@dataclass(frozen=True)
class Update:
    """What one `MenuModel.update()` changed, as the two dbusmenu signals carry it."""

    layout: bool = False  # LayoutUpdated(revision, 0)
    updated: tuple[tuple[int, Props], ...] = ()  # ItemsPropertiesUpdated: new or changed values
    removed: tuple[tuple[int, tuple[str, ...]], ...] = ()  # ... and properties back at their default

    def __bool__(self) -> bool:
        return self.layout or bool(self.updated) or bool(self.removed)


def mnemonic_free(text: str) -> str:
    """dbusmenu labels read "_" as an access-key marker and "__" as one underscore."""
    return text.replace("_", "__")


def shown_flags(items: Sequence[Any], separator: Any) -> list[bool]:
    """Which items pystray would show: the visible ones, without separators at either end or
    twice in a row (pystray.Menu._visible_items, computed once over one evaluation of `items`)."""
    flags = [bool(item.visible) for item in items]
    after_separator, last_separator = True, -1
    for n, item in enumerate(items):
        if not flags[n]:
            continue
        if item is separator:
            flags[n] = not after_separator
            after_separator, last_separator = True, n
        else:
            after_separator = False
    if after_separator and last_separator >= 0:
        flags[last_separator] = False
    return flags


def item_props(item: Any, shown: bool, has_children: bool) -> dict[str, Value]:
    """The non-default dbusmenu properties of one pystray MenuItem."""
    props: dict[str, Value] = {"label": mnemonic_free(str(item.text))}
    if not item.enabled:
        props["enabled"] = False
    if not shown:
        props["visible"] = False
    checked = item.checked
    if checked is not None:
        props["toggle-type"] = "radio" if item.radio else "checkmark"
        props["toggle-state"] = 1 if checked else 0
    if has_children:
        props["children-display"] = "submenu"
    return props


class MenuModel:
    """The menu as last read, with stable ids and the layout's revision."""

    def __init__(self) -> None:
        self.revision = 0
        self.root = Node(ROOT, {"children-display": "submenu"})
        self.has_default = False
        self._ids: dict[Key, int] = {}
        self._next = ROOT + 1
        self._nodes: dict[int, Node] = {ROOT: self.root}

    # -- reading pystray's menu ----------------------------------------------------------

    def update(self, menu: Any) -> Update:
        """Read `menu` (a pystray Menu, or None for no menu) and say what changed."""
        used: set[Key] = set()
        root = Node(ROOT, {"children-display": "submenu"}, self._children(menu, (), used))
        self._ids = {key: ident for key, ident in self._ids.items() if key in used}
        self.has_default = any(n.item is not None and bool(n.item.default) for n in root.walk())
        old, self.root = self.root, root
        self._nodes = {node.id: node for node in root.walk()}
        if old.shape() != root.shape():
            self.revision += 1
            return Update(layout=True)
        return _property_changes(old, root)

    def _children(self, menu: Any, parent: Key, used: set[Key]) -> tuple[Node, ...]:
        if menu is None:
            return ()
        items = tuple(menu.items)
        separator = type(menu).SEPARATOR
        seen: Counter[str] = Counter()
        nodes: list[Node] = []
        for item, shown in zip(items, shown_flags(items, separator), strict=True):
            if item is separator and not shown:
                continue
            label = SEPARATOR_LABEL if item is separator else str(item.text)
            seen[label] += 1
            key = (*parent, f"{seen[label]}:{label}")
            used.add(key)
            nodes.append(self._node(item, key, shown, separator, used))
        return tuple(nodes)

    def _node(self, item: Any, key: Key, shown: bool, separator: Any, used: set[Key]) -> Node:
        ident = self._id(key)
        if item is separator:
            return Node(ident, {"type": "separator"})
        children = self._children(item.submenu, key, used) if item.submenu is not None else ()
        return Node(ident, item_props(item, shown, item.submenu is not None), children, item)

    def _id(self, key: Key) -> int:
        ident = self._ids.get(key)
        if ident is None:
            ident = self._ids[key] = self._next
            self._next += 1
        return ident

    # -- answering dbusmenu ----------------------------------------------------------------

    def node(self, ident: int) -> Node | None:
        return self._nodes.get(ident)

    def layout(self, parent: int, depth: int, names: Sequence[str]) -> Layout | None:
        """GetLayout: `parent`'s subtree down `depth` levels (-1: all), with only the properties in
        `names` (all when empty); None for an unknown id."""
        node = self._nodes.get(parent)
        return None if node is None else _layout(node, depth, names)

    def group(self, ids: Sequence[int], names: Sequence[str]) -> list[tuple[int, dict[str, Value]]]:
        """GetGroupProperties: the known ones of `ids` (every item when empty), filtered by `names`."""
        wanted = list(ids) if ids else sorted(self._nodes)
        return [(i, _filtered(self._nodes[i].props, names)) for i in wanted if i in self._nodes]


def _filtered(props: Props, names: Sequence[str]) -> dict[str, Value]:
    return {k: v for k, v in props.items() if not names or k in names}


def _layout(node: Node, depth: int, names: Sequence[str]) -> Layout:
    children = [] if depth == 0 else [_layout(child, depth - 1, names) for child in node.children]
    return (node.id, _filtered(node.props, names), children)


def _property_changes(old: Node, new: Node) -> Update:
    updated: list[tuple[int, Props]] = []
    removed: list[tuple[int, tuple[str, ...]]] = []
    for before, after in zip(old.walk(), new.walk(), strict=True):
        changed = {k: v for k, v in after.props.items() if before.props.get(k) != v or k not in before.props}
        if changed:
            updated.append((after.id, changed))
        gone = tuple(k for k in before.props if k not in after.props)
        if gone:
            removed.append((after.id, gone))
    return Update(updated=tuple(updated), removed=tuple(removed))
