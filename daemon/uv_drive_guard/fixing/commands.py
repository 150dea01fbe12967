"""`fix`, `undo` and `history` for the command line (the tray calls the same functions)."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from .. import scan
from ..core.diagnose import diagnose
from ..core.model import Finding, Snapshot, SourceKind
from . import engine, plan, portable, verify
from .envstore import EnvStore, native_store
from .journal import Entry, Journal

log = logging.getLogger(__name__)

APPLIED_NOT_VERIFIED = "warning: applied, not verified: "
NEW_TERMINALS = "Open terminals keep the old value: start a new terminal (or log in again) to use it."


@dataclass(frozen=True)
class Outcome:
    status: int
    lines: tuple[str, ...]


def _stores(store: EnvStore | None) -> dict[str, EnvStore]:
    stores: dict[str, EnvStore] = {portable.STORE: portable.Store()}
    if store is not None:
        stores[store.name] = store
    return stores


def prepare(fix_id: str, env: Mapping[str, str], options: scan.Options, store: EnvStore | None) -> plan.Plan:
    snapshot = scan.gather(env, options)
    found = plan.find_fix(diagnose(snapshot), fix_id)
    if found is None:
        raise engine.FixError(f"no fix {fix_id} in a scan of this machine now; `uv-drive-guard scan` lists them")
    finding, fix = found
    return plan.build(finding, fix, plan.Context(snapshot, env, store))


def run_fix(
    fix_id: str,
    env: Mapping[str, str],
    options: scan.Options,
    *,
    dry_run: bool,
    confirm: Callable[[str], bool],
    journal: Journal | None = None,
    store: EnvStore | None = None,
    check: bool = True,
) -> Outcome:
    store = store if store is not None else native_store()
    journal = journal or Journal()
    try:
        the_plan = prepare(fix_id, env, options, store)
    except (engine.FixError, plan.CannotPlan) as exc:
        done = next((e for e in journal.entries() if e.fix_id == fix_id), None)
        if done is not None and done.state == "applied":
            return Outcome(0, (f"{done.title}: already applied ({done.id}); nothing to change.", NEW_TERMINALS))
        return Outcome(2, (f"uv-drive-guard: {exc}",))
    shown = engine.preview(the_plan)
    head = [f"{the_plan.fix.title}", f"  for {the_plan.finding.code}: {the_plan.finding.title}", ""]
    if the_plan.empty:
        return Outcome(0, (*head, "Already in place: nothing to change."))
    lines = [*head, shown.rstrip("\n")]
    if not the_plan.automatic:
        return Outcome(1, (*lines, "", "These steps are yours to take; uv-drive-guard changed nothing."))
    if dry_run:
        return Outcome(0, (*lines, "", "Dry run: nothing was changed."))
    if not confirm("Apply these changes?"):
        hint = "" if sys.stdin.isatty() else " (without a terminal to ask on, add --yes to apply)"
        return Outcome(1, (*lines, "", f"Nothing was changed{hint}."))
    try:
        entry = engine.apply(the_plan, journal, _stores(store))
    except engine.FixError as exc:
        return Outcome(1, (*lines, "", f"uv-drive-guard: {exc}"))
    lines += ["", f"Applied. To undo: uv-drive-guard undo {entry.id}"]
    if check:
        try:
            verdict = after_fix(the_plan, env, options)
        except Exception as exc:  # the files are written and journaled: say so, whatever broke
            log.exception("verifying %s failed", entry.id)
            lines.append(f"{APPLIED_NOT_VERIFIED}{exc or type(exc).__name__}. To undo: uv-drive-guard undo {entry.id}")
            return Outcome(0, (*lines, NEW_TERMINALS))
        lines += verdict.lines
        if not verdict.resolved:
            return Outcome(1, (*lines, NEW_TERMINALS))
    return Outcome(0, (*lines, NEW_TERMINALS))


def after_fix(the_plan: plan.Plan, env: Mapping[str, str], options: scan.Options) -> verify.Verdict:
    fresh_env = verify.new_terminal_env(env, the_plan.definitions)
    snapshot = scan.gather(fresh_env, options)
    fresh_env = verify.with_startup_files(fresh_env, snapshot.definitions)
    remaining = [f for f in diagnose(snapshot) if verify.same_finding(f, the_plan.finding)]
    lines = [
        "Scanned again as a new terminal would: "
        + ("the problem is gone." if not remaining else f"{the_plan.finding.code} still applies.")
    ]
    lines += verify.check_with_uv(_where_now(the_plan.finding, snapshot), snapshot, fresh_env)
    return verify.Verdict(not remaining, tuple(lines))


def _where_now(finding: Finding, snapshot: Snapshot) -> Finding:
    """A project environment the fix moved to this computer is checked where it lives now."""
    loc = finding.location
    if loc is None or loc.project is None:
        return finding
    moved = next(
        (
            x
            for x in snapshot.locations
            if x.role is loc.role and x.project == loc.project and x.source.kind is SourceKind.PORTABLE
        ),
        None,
    )
    return finding if moved is None else replace(finding, location=moved)


def run_undo(
    entry_id: str | None,
    *,
    force: bool,
    journal: Journal | None = None,
    store: EnvStore | None = None,
    confirm: Callable[[str], bool] = lambda _q: True,
) -> Outcome:
    """Undo keeps the person's later edits; `force` puts back the saved bytes, after showing
    (and, on a terminal, asking about) what that throws away."""
    store = store if store is not None else native_store()
    journal = journal or Journal()
    shown: list[str] = []
    if force:
        try:
            lost = engine.discarded(journal, entry_id)
        except engine.FixError as exc:
            return Outcome(1, (f"uv-drive-guard: {exc}",))
        if lost:
            shown = [
                "--force puts back the bytes from before the fix; this is what it discards:",
                lost.rstrip("\n"),
                "",
            ]
            if not confirm("Discard these changes?"):
                return Outcome(1, (*shown, "Nothing was changed."))
    try:
        entry = engine.undo(journal, entry_id, stores=_stores(store), force=force)
    except engine.FixError as exc:
        return Outcome(1, (*shown, f"uv-drive-guard: {exc}"))
    lines = [*shown, f"Undone: {entry.title} ({entry.id}).", *([entry.note] if entry.note else [])]
    lines += [f"  restored {record.path}" for record in entry.files]
    return Outcome(0, (*lines, NEW_TERMINALS))


def history_lines(journal: Journal | None = None, *, as_json: bool = False) -> tuple[str, ...]:
    entries = (journal or Journal()).entries()
    if as_json:
        return (json.dumps([e.to_json() for e in entries], indent=2),)
    if not entries:
        return ("No fixes applied yet.",)
    return tuple(_history_line(e) for e in entries)


def _history_line(entry: Entry) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.created))
    files = ", ".join(r.path for r in entry.files) or "no files"
    return f"{entry.id}  {when}  {entry.state:8} {entry.code} {entry.title}  [{files}]"


def ask_terminal(question: str) -> bool:
    """Confirm on a terminal; without one, only --yes applies a fix."""
    if not sys.stdin.isatty():
        return False
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes")
