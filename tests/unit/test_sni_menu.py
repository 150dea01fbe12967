"""The SNI tray's pure parts: pystray menus as dbusmenu layouts (ids, revision, properties), the
D-Bus values made from them, the icon's pixmaps, and the one place that picks a backend."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from dbus_fast import Variant
from PIL import Image

from uv_drive_guard.app import trayhost
from uv_drive_guard.app.sni.icon import SIZES, pixmaps
from uv_drive_guard.app.sni.item import wrap_layout
from uv_drive_guard.app.sni.menu import MenuModel, Node, mnemonic_free

pystray: Any = trayhost.import_pystray()
Menu, Item = pystray.Menu, pystray.MenuItem


def _menu(undo: str = "Undo last fix", checked: bool = False, paused: bool = False, drives: int = 1) -> Any:
    drive_menus = [
        Item(f"STICK{n}", Menu(Item("Move the cache", lambda: None), Menu.SEPARATOR, Item("Ignore", lambda: None)))
        for n in range(drives)
    ]
    return Menu(
        *drive_menus,
        Menu.SEPARATOR,
        Item(undo, lambda: None, enabled=bool(undo != "Undo last fix")),
        Item("Rescan now", lambda: None),
        Item("Resume", lambda: None, visible=paused),
        Item("Start at login", lambda: None, checked=lambda _i: checked),
        Menu.SEPARATOR,
        Menu.SEPARATOR,  # twice: pystray shows one
        Item("Quit", lambda: None),
        Menu.SEPARATOR,  # at the end: pystray shows none
    )


def _labels(node: Node) -> list[Any]:
    return [(c.props.get("label", c.props.get("type")), _labels(c)) for c in node.children]


def _ids(model: MenuModel) -> dict[str, int]:
    """Item ids by label path ("STICK0/Ignore")."""
    found: dict[str, int] = {}

    def visit(node: Node, path: str) -> None:
        for child in node.children:
            if "label" in child.props:
                here = f"{path}{child.props['label']}"
                found[here] = child.id
                visit(child, here + "/")

    visit(model.root, "")
    return found


def test_layout_mirrors_what_pystray_shows() -> None:
    model = MenuModel()
    assert model.update(_menu()).layout and model.revision == 1
    assert _labels(model.root) == [
        ("STICK0", [("Move the cache", []), ("separator", []), ("Ignore", [])]),
        ("separator", []),
        ("Undo last fix", []),
        ("Rescan now", []),
        ("Resume", []),
        ("Start at login", []),
        ("separator", []),
        ("Quit", []),
    ]
    nodes = {n.props.get("label"): n for n in model.root.walk()}
    assert model.root.id == 0 and model.root.props == {"children-display": "submenu"}
    assert nodes["STICK0"].props == {"label": "STICK0", "children-display": "submenu"}
    assert nodes["Undo last fix"].props == {"label": "Undo last fix", "enabled": False}
    assert nodes["Rescan now"].props == {"label": "Rescan now"}  # defaults are left out
    assert nodes["Resume"].props["visible"] is False  # hidden, kept so that showing it is a property change
    assert nodes["Start at login"].props == {"label": "Start at login", "toggle-type": "checkmark", "toggle-state": 0}
    assert not nodes["Undo last fix"].clickable and not nodes["STICK0"].clickable and nodes["Quit"].clickable
    assert not model.has_default
    separators = [n for n in model.root.walk() if n.props.get("type") == "separator"]
    assert all(n.props == {"type": "separator"} and n.item is None for n in separators)


def test_ids_are_stable_across_rebuilds_and_never_reused() -> None:
    model = MenuModel()
    model.update(_menu())
    first = _ids(model)
    assert len(set(first.values())) == len(first) and 0 not in first.values()
    assert not model.update(_menu())  # a new Menu object with the same items: nothing changed
    assert _ids(model) == first and model.revision == 1
    model.update(_menu(drives=2))  # a second drive: its items are new, the others keep their ids
    assert model.revision == 2
    second = _ids(model)
    assert {k: second[k] for k in first} == first
    assert second["STICK1"] not in first.values()
    model.update(_menu(drives=0))
    model.update(_menu(drives=2))  # STICK1 came back: a fresh id, so an old click cannot land elsewhere
    assert _ids(model)["STICK1"] not in second.values()


def test_same_labels_in_one_menu_get_their_own_ids() -> None:
    model = MenuModel()
    model.update(Menu(Item("Details", lambda: None), Item("Details", lambda: None)))
    first, second = model.root.children
    assert first.id != second.id and first.props == second.props


def test_property_changes_do_not_change_the_layout() -> None:
    model = MenuModel()
    model.update(_menu())
    ids = _ids(model)
    update = model.update(_menu(checked=True, paused=True))
    assert not update.layout and model.revision == 1
    assert dict(update.updated) == {ids["Start at login"]: {"toggle-state": 1}}
    assert dict(update.removed) == {ids["Resume"]: ("visible",)}
    update = model.update(_menu(undo="Undo last fix: Move the cache", checked=True, paused=True))
    assert update.layout and model.revision == 2  # a new label is a new item


def test_radio_items_and_the_default_item() -> None:
    model = MenuModel()
    model.update(Menu(Item("A", lambda: None, checked=lambda _i: True, radio=True), Item("B", None, default=True)))
    radio, default = model.root.children
    assert radio.props["toggle-type"] == "radio" and radio.props["toggle-state"] == 1
    assert model.has_default and default.item is not None


def test_underscores_are_not_access_keys() -> None:
    assert mnemonic_free("MY_STICK") == "MY__STICK"
    model = MenuModel()
    model.update(Menu(Item("MY_STICK (exFAT)", lambda: None)))
    assert model.root.children[0].props["label"] == "MY__STICK (exFAT)"


def test_get_layout_depth_and_property_filter() -> None:
    model = MenuModel()
    model.update(_menu())
    stick = model.root.children[0]
    top = model.layout(0, 0, [])
    assert top == (0, {"children-display": "submenu"}, [])
    one = model.layout(0, 1, [])
    assert one is not None and all(child[2] == [] for child in one[2]) and len(one[2]) == 8
    whole = model.layout(stick.id, -1, ["label"])
    assert whole == (
        stick.id,
        {"label": "STICK0"},
        [(stick.children[0].id, {"label": "Move the cache"}, []), (stick.children[1].id, {}, []),
         (stick.children[2].id, {"label": "Ignore"}, [])],
    )  # fmt: skip
    assert model.layout(9999, -1, []) is None
    group = model.group([stick.id, 9999], ["children-display"])
    assert group == [(stick.id, {"children-display": "submenu"})]
    assert len(model.group([], [])) == len(list(model.root.walk()))


def test_layout_as_dbus_values() -> None:
    model = MenuModel()
    model.update(Menu(Item("Sub", Menu(Item("Leaf", None, enabled=False)))))
    layout = model.layout(0, -1, [])
    assert layout is not None
    root = wrap_layout(layout)
    assert root[0] == 0 and root[1] == {"children-display": Variant("s", "submenu")}
    sub = root[2][0]
    assert isinstance(sub, Variant) and sub.signature == "(ia{sv}av)"
    leaf = sub.value[2][0].value
    assert leaf[1] == {"label": Variant("s", "Leaf"), "enabled": Variant("b", False)}


def test_pixmaps_are_argb_in_network_order_at_several_sizes() -> None:
    maps = pixmaps(Image.new("RGBA", (64, 64), (0x11, 0x22, 0x33, 0xFF)))
    assert [(w, h) for w, h, _ in maps] == [(s, s) for s in SIZES]
    for width, height, data in maps:
        assert len(data) == 4 * width * height
        assert data[:4] == bytes([0xFF, 0x11, 0x22, 0x33])  # A, R, G, B
    *_, (_w, _h, native) = pixmaps(Image.new("RGBA", (64, 64), (0x11, 0x22, 0x33, 0x80)))
    assert native[:8] == bytes([0x80, 0x11, 0x22, 0x33]) * 2
    assert [w for w, _h, _d in pixmaps(Image.new("RGBA", (128, 128)))][-1] == 128  # the drawing's own size too


@pytest.mark.parametrize(
    ("platform", "environ", "watcher", "expected"),
    [
        ("linux", {}, True, ("sni", "appindicator", "gtk", "xorg")),
        ("linux", {}, False, ("appindicator", "gtk", "xorg")),
        ("linux", {"PYSTRAY_BACKEND": "xorg"}, True, ("xorg",)),
        ("linux", {"PYSTRAY_BACKEND": "sni"}, False, ("sni",)),
        ("darwin", {}, True, ("darwin",)),
        ("win32", {}, True, ("win32",)),
    ],
)
def test_backend_choice(platform: str, environ: dict[str, str], watcher: bool, expected: tuple[str, ...]) -> None:
    asked: list[bool] = []

    def probe() -> bool:
        asked.append(True)
        return watcher

    assert trayhost.choose(None, platform=platform, environ=environ, watcher=probe) == expected
    assert trayhost.choose("gtk", platform=platform, environ=environ, watcher=probe) == ("gtk",)
    assert not asked or platform == "linux"  # macOS and Windows never look for a watcher


def test_no_session_bus_means_no_watcher(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    assert trayhost.watcher_present(timeout=2) is False
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS")
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    assert trayhost.watcher_present() is False


def test_importing_the_sni_backend_loads_neither_gtk_nor_x11() -> None:
    code = (
        "import sys; from uv_drive_guard.app import tray, trayhost; trayhost.icon_class('sni'); "
        "import os; assert 'PYSTRAY_BACKEND' not in os.environ; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'gi', 'Xlib', 'pystray._xorg', 'pystray._gtk'}), "
        "sorted(m for m in sys.modules if m.startswith('pystray.')))"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": "daemon"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("] ", 1)[0] == "[", done.stdout  # no gi, no Xlib
    assert "pystray._appindicator" not in done.stdout and "pystray._dummy" in done.stdout


def test_load_takes_the_first_backend_that_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    def icon_class(name: str) -> Any:
        if name in ("sni", "appindicator"):
            raise ImportError(f"no {name} here")
        return f"Icon of {name}"

    monkeypatch.setattr(trayhost, "icon_class", icon_class)
    assert trayhost.load(None, platform="linux", environ={}, watcher=lambda: True) == ("gtk", "Icon of gtk")
    with pytest.raises(ImportError, match="sni: no sni here"):
        trayhost.load("sni")
    assert trayhost.describe("sni") == "sni, StatusNotifierItem over D-Bus" and trayhost.describe("odd") == "odd"
