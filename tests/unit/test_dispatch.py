"""One way from an action to the daemon (app/actions.py `dispatch`): a notice's button and a tray
menu item that show the same action ask the same of the Controller."""

from __future__ import annotations

from typing import Any

import pytest

from uv_drive_guard.app import actions
from uv_drive_guard.app.actions import Action, Kind

KEY = "uuid:AB-CD"


class Recorder:
    """A Controller that writes down what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        return lambda *args: self.calls.append((name, args))


@pytest.mark.parametrize(
    ("action", "call"),
    [
        (Action(Kind.FIX, "Move uv's cache back", KEY, "uvd006-x", "UVD006"), ("apply_fix", ("uvd006-x", KEY))),
        (Action(Kind.DETAILS, "Details", KEY, code="UVD006"), ("show_details", (KEY, "UVD006"))),
        (Action(Kind.MUTE, "Don't show this again", KEY, code="UVD006"), ("mute", (KEY, "UVD006"))),
        (actions.ignore_action(KEY), ("ignore_drive", (KEY,))),
        (actions.quiet_action(KEY), ("set_quiet", (KEY, True))),  # a notice's button
        (actions.quiet_action(KEY, False), ("set_quiet", (KEY, True))),  # the menu's check item, off
        (actions.quiet_action(KEY, True), ("set_quiet", (KEY, False))),  # on: choosing it tells again
    ],
    ids=lambda v: v.kind.value if isinstance(v, Action) else v[0],
)
def test_each_action_asks_one_thing(action: Action, call: tuple[str, tuple[Any, ...]]) -> None:
    controller = Recorder()
    actions.dispatch(action, controller)  # type: ignore[arg-type]
    assert controller.calls == [call]


def test_an_action_missing_what_it_needs_asks_nothing() -> None:
    controller = Recorder()
    actions.dispatch(Action(Kind.FIX, "Fix", KEY), controller)  # type: ignore[arg-type]
    actions.dispatch(Action(Kind.MUTE, "Mute", KEY), controller)  # type: ignore[arg-type]
    assert controller.calls == []


def test_the_drive_wide_actions_have_one_wording() -> None:
    """A notice shows the short words (it names the drive); the drive's menu the long ones."""
    quiet, ignore = actions.quiet_action(KEY), actions.ignore_action(KEY)
    assert (quiet.short, quiet.label) == ("Don't tell me again", "Don't tell me again about this drive")
    assert (ignore.short, ignore.label) == ("Ignore this drive", "Ignore this drive")
    assert quiet.short == actions.QUIET_LABEL
