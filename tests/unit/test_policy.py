"""When the daemon speaks up about a drive (app/policy.py): a case table, as core/scope's."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from uv_drive_guard.app.policy import Found, Known, decide

A, B = "UVD006 /media/a/S/cache", "UVD005 /media/a/S/p/.venv"


@dataclass(frozen=True)
class Case:
    name: str
    known: Known
    found: Found
    notify: bool
    said: frozenset[str]
    paused: bool = False


CASES = [
    Case("first plug-in with a problem", Known(), Found("m1", frozenset({A})), True, frozenset({A})),
    Case("first plug-in, nothing wrong", Known(), Found("m1", frozenset()), False, frozenset()),
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
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_when_the_daemon_speaks_up(case: Case) -> None:
    decision = decide(case.known, case.found, paused=case.paused)
    assert decision.notify is case.notify
    assert decision.remember.announced == case.found.mount
    assert decision.remember.said == case.said
    assert (decision.remember.quiet, decision.remember.ignored) == (case.known.quiet, case.known.ignored)
