"""When the daemon speaks up about a drive (app/policy.py): case tables, as core/scope's."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from uv_drive_guard.app.policy import BLIP, Found, Known, Seen, Switches, arrivals, decide

A, B = "UVD006 /media/a/S/cache", "UVD005 /media/a/S/p/.venv"


@dataclass(frozen=True)
class Case:
    name: str
    known: Known
    found: Found
    notify: bool
    said: frozenset[str]
    paused: bool = False
    all_clear: bool = False  # with the `always` switch on: "uv works on STICK"


CASES = [
    Case("first plug-in with a problem", Known(), Found("m1", frozenset({A})), True, frozenset({A})),
    Case("first plug-in, nothing wrong", Known(), Found("m1", frozenset()), False, frozenset(), all_clear=True),
    Case("a rescan of the same mount", Known("m1", frozenset({A})), Found("m1", frozenset({A})), False, frozenset({A})),
    Case("plugged in again: told again", Known("m1", frozenset({A})), Found("m2", frozenset({A})), True,
         frozenset({A})),
    Case("a new problem in the same mount", Known("m1", frozenset({A})), Found("m1", frozenset({A, B})), True,
         frozenset({A, B})),
    Case("a problem fixed: nothing to tell", Known("m1", frozenset({A, B})), Found("m1", frozenset({B})), False,
         frozenset({A, B})),
    Case("a blip: the same plug-in", Known("m1", frozenset({A})), Found("m2", frozenset({A}), blip=True), False,
         frozenset({A})),
    Case("a blip that brings news", Known("m1", frozenset({A})), Found("m2", frozenset({A, B}), blip=True), True,
         frozenset({A, B})),
    Case("seen gone, back with the same mount: a new plug-in", Known("m1", frozenset({A})),
         Found("m1", frozenset({A}), returned=True), True, frozenset({A})),
    Case("seen at the scan before, its mount told apart anew: the same plug-in", Known("m1", frozenset({A})),
         Found("m2", frozenset({A}), stayed=True), False, frozenset({A})),
    Case("quiet drive: never", Known(quiet=True), Found("m1", frozenset({A})), False, frozenset({A})),
    Case("ignored drive: never", Known(ignored=True), Found("m1", frozenset({A})), False, frozenset({A})),
    Case("paused: counted as seen", Known(), Found("m1", frozenset({A})), False, frozenset({A}), paused=True),
    Case("after a pause, the same mount stays told", Known("m1", frozenset({A})), Found("m1", frozenset({A})), False,
         frozenset({A})),
    Case("plugged in, nothing wrong: all clear", Known("m1"), Found("m2", frozenset()), False, frozenset(),
         all_clear=True),
    Case("a rescan, nothing wrong: said already", Known("m1"), Found("m1", frozenset()), False, frozenset()),
    Case("a blip, nothing wrong: the same plug-in", Known("m1"), Found("m2", frozenset(), blip=True), False,
         frozenset()),
    Case("seen at the scan before, nothing wrong, its mount told apart anew: said already", Known("m1"),
         Found("m2", frozenset(), stayed=True), False, frozenset()),
    Case("back after a while, same mount: all clear", Known("m1"), Found("m1", frozenset(), returned=True), False,
         frozenset(), all_clear=True),
    Case("a problem fixed in the same mount: no all clear", Known("m1", frozenset({A})), Found("m1", frozenset()),
         False, frozenset({A})),
    Case("quiet drive, nothing wrong: never", Known(quiet=True), Found("m1", frozenset()), False, frozenset()),
    Case("paused, nothing wrong: never", Known(), Found("m1", frozenset()), False, frozenset(), paused=True),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_when_the_daemon_speaks_up(case: Case) -> None:
    decision = decide(case.known, case.found, paused=case.paused, switches=Switches(always=True))
    assert decision.notify is case.notify
    assert decision.all_clear is case.all_clear
    assert not decide(case.known, case.found, paused=case.paused).all_clear  # only when asked for
    assert decision.remember.announced == case.found.mount
    assert decision.remember.said == case.said
    assert (decision.remember.quiet, decision.remember.ignored) == (case.known.quiet, case.known.ignored)


@dataclass(frozen=True)
class Coming:
    name: str
    before: Seen
    present: dict[str, str]  # drive key -> this mount of it
    now: float
    blips: frozenset[str] = frozenset()
    returns: frozenset[str] = frozenset()


T = 1000.0  # a time (seconds) in the scans' clock
COMINGS = [
    Coming("first scan: nothing came back", Seen(), {"s": "m1"}, T),
    Coming("still there", Seen({"s": "m1"}, {}, T - 60), {"s": "m1"}, T),
    Coming("gone and back within a blip", Seen({}, {"s": T - 1}, T - 1), {"s": "m2"}, T, blips=frozenset({"s"})),
    Coming("gone for longer: plugged in anew", Seen({}, {"s": T - BLIP - 1}, T - 1), {"s": "m1"}, T,
           returns=frozenset({"s"})),
    Coming("mounted anew moments after the last scan", Seen({"s": "m1"}, {}, T - 1), {"s": "m2"}, T,
           blips=frozenset({"s"})),
    Coming("mounted anew long after the last scan", Seen({"s": "m1"}, {}, T - BLIP - 1), {"s": "m2"}, T),
    Coming("gone in this scan: nothing came", Seen({"s": "m1"}, {}, T - 60), {}, T),
]  # fmt: skip


@pytest.mark.parametrize("case", COMINGS, ids=[c.name for c in COMINGS])
def test_which_drives_came_back(case: Coming) -> None:
    came = arrivals(case.before, case.present, case.now)
    assert (came.blips, came.returns) == (case.blips, case.returns)
    assert dict(came.seen.present) == case.present and came.seen.scanned == case.now
    assert not set(came.seen.gone) & set(case.present)  # a drive present is not gone


def test_a_drive_gone_is_remembered_from_when_it_first_went() -> None:
    gone = arrivals(Seen({"s": "m1"}, {}, T - 60), {}, T).seen
    assert dict(gone.gone) == {"s": T}
    still = arrivals(gone, {}, T + 30).seen
    assert dict(still.gone) == {"s": T}  # not moved by the scans that still miss it
    back = arrivals(still, {"s": "m2"}, T + 31)
    assert back.returns == {"s"} and dict(back.seen.gone) == {}


def test_the_switches_come_from_the_settings() -> None:
    assert Switches.from_config({"always": True, "unmount": False}) == Switches(always=True, unmount=False)
    assert Switches() == Switches(always=False, unmount=True)  # config/default.toml's
