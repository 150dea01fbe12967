"""The tray talks to macOS's and Windows' icons on the thread that owns them, and shows its state
where macOS's menu bar can show it (tests/unit/fake_trays.py: the backends' thread rules)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from itertools import combinations
from typing import Any

import pytest
from PIL import Image, ImageChops
from tests.unit import fake_trays
from tests.unit.fake_trays import WM_NOTIFY, WM_RBUTTONUP, FakeDarwinIcon, FakeWin32Icon

from uv_drive_guard.app import trayhost
from uv_drive_guard.app.actions import State
from uv_drive_guard.app.control import TrayView
from uv_drive_guard.app.tray import Tray

MENU_BAR = 22  # NSStatusBar.thickness(): pystray's darwin backend scales the icon to it


class Controller:
    """Menu items call these; nothing is clicked here."""

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


def view(state: State, tooltip: str = "") -> TrayView:
    return TrayView(state, tooltip or f"uv-drive-guard: {state.value}")


def from_worker(call: Callable[[], object]) -> None:
    """The daemon's worker thread publishing a view."""
    worker = threading.Thread(target=call, name="worker")
    worker.start()
    worker.join()


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)


@pytest.fixture
def darwin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    package, helper = fake_trays.app_helper()
    monkeypatch.setitem(sys.modules, "PyObjCTools", package)
    monkeypatch.setitem(sys.modules, "PyObjCTools.AppHelper", helper)
    monkeypatch.setattr(trayhost, "icon_class", lambda name: FakeDarwinIcon)
    yield
    while not fake_trays.MAIN_QUEUE.empty():
        fake_trays.MAIN_QUEUE.get()


@pytest.fixture
def win32(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pystray._util.win32", fake_trays.win32_util())
    monkeypatch.setattr(trayhost, "icon_class", lambda name: FakeWin32Icon)


def shown_per_state(tray: Tray, icon: Any) -> dict[State, Image.Image]:
    """Each state handed over from the worker, one at a time, and the image AppKit got for it."""
    images: dict[State, Image.Image] = {}
    for state in (State.OK, State.WARNING, State.ERROR, State.PAUSED, State.WORKING):
        applied = threading.Event()
        from_worker(lambda state=state: tray.update(view(state)))  # type: ignore[misc]
        fake_trays.call_after(applied.set)  # queued after the view: set once the view is applied
        applied.wait(5)
        images[state] = icon.shown[-1]
    return images


def test_darwin_first_show_and_every_view_run_on_the_main_thread(darwin: None) -> None:
    tray = Tray(Controller(), backend="darwin")  # type: ignore[arg-type]
    icon = tray._icon
    seen: dict[State, Image.Image] = {}

    def setup() -> None:  # pystray's setup thread
        seen.update(shown_per_state(tray, icon))
        tray.stop()

    tray.run(setup)
    assert icon.violations == []
    assert icon.visible and len(seen) == 5


def test_darwin_menu_bar_icons_differ_in_their_masks(darwin: None) -> None:
    """macOS draws a template from its alpha alone: each state's mask must differ, at menu-bar size."""
    tray = Tray(Controller(), backend="darwin")  # type: ignore[arg-type]
    icon = tray._icon
    seen: dict[State, Image.Image] = {}

    def setup() -> None:
        seen.update(shown_per_state(tray, icon))
        tray.stop()

    tray.run(setup)
    masks = {
        state: image.resize((MENU_BAR, MENU_BAR), Image.Resampling.LANCZOS).getchannel("A")
        for state, image in seen.items()
    }
    for a, b in combinations(masks, 2):
        differ = ImageChops.difference(masks[a], masks[b]).point(lambda v: 255 if v > 96 else 0)
        assert differ.histogram()[255] >= 8, f"{a.value} and {b.value} have the same mask in the menu bar"


def test_win32_menu_is_rebuilt_on_the_icons_thread_and_never_while_it_is_open(win32: None) -> None:
    tray = Tray(Controller(), backend="win32")  # type: ignore[arg-type]
    icon = tray._icon
    icon.while_open = lambda: from_worker(lambda: tray.update(view(State.ERROR, "two")))

    def setup() -> None:
        from_worker(lambda: tray.update(view(State.WARNING, "one")))
        wait_for(lambda: icon.title == "one")
        icon.post(WM_NOTIFY, 0, WM_RBUTTONUP)  # the person right-clicks; the worker publishes meanwhile
        wait_for(lambda: icon.title == "two")
        tray.stop()

    tray.run(setup)
    assert icon.violations == []
    assert icon.title == "two"  # what came while the menu was open is shown once it closes
    assert icon.menus_built >= 3  # at start, for "one", for "two"
