"""The whole suite's guard: tests write only under temporary directories, never into the checkout.

`git status` is read when the session starts and again when it ends (tests/treeguard.py); a
tracked file that changed, or an untracked file that is not ignored and appeared, fails the run
and is named. Outside a git checkout the guard stays out of the way. `UVDG_SCREENSHOTS=DIR`
(refreshing the README's pictures, see docs/architecture.md) is the one asked-for write: changes
under DIR are expected.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests import treeguard

CHECKOUT = Path(__file__).resolve().parents[1]
_BEFORE = pytest.StashKey[treeguard.Tree]()


def pytest_sessionstart(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput") or not treeguard.in_checkout(CHECKOUT):
        return  # an xdist worker (its controller checks), or no checkout: nothing to guard
    before = treeguard.dirty_tree(CHECKOUT)
    if before is not None:
        session.config.stash[_BEFORE] = before


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_BEFORE, None)
    after = treeguard.dirty_tree(CHECKOUT) if before is not None else None
    if before is None or after is None:
        return
    found = treeguard.changes(before, after, treeguard.under(os.environ.get("UVDG_SCREENSHOTS"), CHECKOUT))
    if not found:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")  # end the progress line
        reporter.write_sep("=", "tests wrote into the checkout: write under tmp_path instead", red=True)
        for line in found:
            reporter.write_line(line)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
