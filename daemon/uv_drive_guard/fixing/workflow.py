"""`fix`, `undo` and `history` from start to end, for the command line and the daemon alike: plan,
ask, journal, write, verify (the tray calls the same functions)."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from .. import scan
from ..core import hint as hints
from ..core.diagnose import diagnose
from ..core.model import ChangeKind, Finding, Severity, Snapshot
from . import engine, locks, plan, portable, verify
from .envstore import EnvStore, native_store
from .journal import Entry, FileRecord, Journal, State
from .outcome import NEW_TERMINALS, Outcome, Result, Verification, file_changes
from .portable import shell as portable_shell

log = logging.getLogger(__name__)


def _stores(store: EnvStore | None) -> dict[str, EnvStore]:
    stores: dict[str, EnvStore] = {portable.STORE: portable.Store()}
    if store is not None:
        stores[store.name] = store
    return stores


def _touched(paths: Iterable[str], names: Iterable[str], stores: Mapping[str, EnvStore]) -> list[str]:
    """The files a change writes: its own, and the portable registry's when it changes that store."""
    found = list(paths)
    registry_files = getattr(stores.get(portable.STORE), "files", None)  # the registry's store, or a test's
    if portable.STORE in names and callable(registry_files):
        found += [str(path) for path in registry_files()]
    return found


def prepare(fix_id: str, env: Mapping[str, str], options: scan.Options, store: EnvStore | None) -> plan.Plan:
    snapshot = scan.gather(env, options)
    found = plan.find_fix(diagnose(snapshot), fix_id)
    if found is None:
        raise engine.FixError(f"no fix {fix_id} in a scan of this machine now; `uv-drive-guard scan` lists them")
    finding, fix = found
    return plan.build(finding, fix, plan.Machine(snapshot, env, store))


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
    say: Callable[[str], None] = log.info,
) -> Outcome:
    """Scan, plan, write, journal and verify under the writers' locks (fixing/locks.py): the
    journal's before the scan, so a fix started at the same moment plans against what this one
    wrote; each file's once the plan names them, checked again against the plan there."""
    store = store if store is not None else native_store()
    journal = journal or Journal()
    try:
        with locks.Writer(locks.directory(journal.root), say=say) as held:
            return _fix(fix_id, env, options, held, dry_run, confirm, journal, store, check)
    except locks.Busy as exc:
        return Outcome(Result.REFUSED, error=str(exc))


def _fix(
    fix_id: str,
    env: Mapping[str, str],
    options: scan.Options,
    held: locks.Writer,
    dry_run: bool,
    confirm: Callable[[str], bool],
    journal: Journal,
    store: EnvStore | None,
    check: bool,
) -> Outcome:
    engine.settle(journal)
    try:
        the_plan = prepare(fix_id, env, options, store)
    except (engine.FixError, plan.CannotPlan) as exc:
        done = next((e for e in journal.entries() if e.fix_id == fix_id), None)
        if done is not None and done.state is State.APPLIED:
            return Outcome(Result.ALREADY_APPLIED, entry=done, follow_up=(NEW_TERMINALS,))
        return Outcome(Result.REFUSED, error=str(exc))
    planned = Outcome(
        Result.PREVIEWED,
        fix=the_plan.fix,
        finding=the_plan.finding,
        files=file_changes(the_plan),
        stores=the_plan.stores,
        commands=the_plan.commands,
        manual=the_plan.manual,
    )
    if the_plan.empty:
        return replace(planned, result=Result.IN_PLACE)
    if not the_plan.automatic:
        return replace(planned, result=Result.BY_HAND)
    if dry_run:
        return planned
    if not confirm("Apply these changes?"):
        hint = "" if sys.stdin.isatty() else " (without a terminal to ask on, add --yes to apply)"
        return replace(planned, result=Result.DECLINED, hint=hint)
    stores = _stores(store)
    held.add(_touched([f.path for f in the_plan.files], [edit.store for edit in the_plan.stores], stores))
    try:
        entry = engine.apply(the_plan, journal, stores)
    except engine.Stale as exc:
        return Outcome(Result.REFUSED, error=str(exc))
    except engine.FixError as exc:
        return replace(planned, result=Result.FAILED, error=str(exc))
    applied = replace(planned, result=Result.APPLIED, entry=entry, follow_up=follow_up(the_plan))
    if not check or hints.is_hint(the_plan.fix):  # the hint cures nothing: there is nothing for uv to confirm
        return applied
    try:
        verdict = after_fix(the_plan, env, options)
    except UvMissing as exc:
        return replace(applied, result=Result.NOT_VERIFIED, error=str(exc))
    except Exception as exc:  # the files are written and journaled: say so, whatever broke
        log.exception("verifying %s failed", entry.id)
        return replace(applied, result=Result.NOT_VERIFIED, error=str(exc) or type(exc).__name__)
    return replace(applied, result=Result.APPLIED if verdict.resolved else Result.STILL_APPLIES, verification=verdict)


def follow_up(the_plan: plan.Plan) -> tuple[str, ...]:
    """What the person should know next. New terminals only when a variable changed (uv reads
    its uv.toml afresh on every run); programs already running keep a variable the desktop
    session gave them (environment.d, ~/.profile, the registry, launchd) until they restart."""
    files = [f.path for f in the_plan.files if f.changes]
    stores = [s for s in the_plan.stores if s.store != portable.STORE]
    shell = [p for p in files if not p.endswith(".toml")]
    if not shell and not stores and not any(s.store == portable.STORE for s in the_plan.stores):
        return ()
    said = [NEW_TERMINALS]
    names = sorted({c.name for c in the_plan.fix.changes if c.kind in ENV_CHANGES and c.name})
    if names and (stores or any(_session_file(p) for p in shell)):
        said.append(
            f"Programs started before the fix keep {' and '.join(names)} until they restart; the desktop hands "
            "the old value to new windows until you log in again."
        )
    return tuple(said)


ENV_CHANGES = (ChangeKind.SET_ENV, ChangeKind.UNSET_ENV)


def _session_file(path: str) -> bool:
    """A file the desktop session reads at login (core.shells: environment.d, ~/.profile)."""
    return plan.syntax_of(path) == "environment.d" or os.path.basename(path) == ".profile"


class UvMissing(RuntimeError):
    """uv is not installed where a new terminal would find it: nothing can confirm the fix."""


def after_fix(the_plan: plan.Plan, env: Mapping[str, str], options: scan.Options) -> Verification:
    """Scan again and run real uv, both in the environment a new terminal of the person's own
    shell would have: this process's environment less what the startup files gave it, plus
    what they give now (core.shells lists them), never this process's values as they were."""
    terminal = verify.new_terminal_env(env, the_plan.definitions)
    snapshot = scan.gather(terminal, options)
    terminal = verify.with_startup_files(terminal, snapshot.definitions)
    findings = diagnose(snapshot)
    _follow(snapshot, findings)
    still = tuple(f for f in findings if f.severity is not Severity.INFO and verify.same_setting(f, the_plan.finding))
    if not snapshot.uv.executable:
        raise UvMissing("uv is not installed here, so uv could not confirm the fix")
    check = verify.check_with_uv(the_plan.finding, snapshot, terminal)
    resolved = check.ok and not still
    return Verification(resolved, the_plan.finding.code, check.said, check.failure, still)


def _follow(snapshot: Snapshot, findings: tuple[Finding, ...]) -> None:
    """The hint after uv fails says what is true after the fix (a drive fixed says nothing)."""
    try:
        portable.refresh(snapshot, findings)
    except (OSError, ValueError) as exc:
        log.warning("the shell integration could not follow the fix: %s", exc)


def run_undo(
    entry_id: str | None,
    *,
    force: bool,
    journal: Journal | None = None,
    store: EnvStore | None = None,
    confirm: Callable[[str], bool] = lambda _q: True,
    say: Callable[[str], None] = log.info,
) -> Outcome:
    """Undo keeps the person's later edits; `force` puts back the saved bytes, after showing
    (and, on a terminal, asking about) what that throws away. Under the same locks as a fix."""
    store = store if store is not None else native_store()
    journal = journal or Journal()
    try:
        with locks.Writer(locks.directory(journal.root), say=say) as held:
            return _undo(entry_id, force, held, journal, _stores(store), confirm)
    except locks.Busy as exc:
        return Outcome(Result.REFUSED, undo=True, error=str(exc))


def _undo(
    entry_id: str | None,
    force: bool,
    held: locks.Writer,
    journal: Journal,
    stores: Mapping[str, EnvStore],
    confirm: Callable[[str], bool],
) -> Outcome:
    engine.settle(journal)
    try:
        target = engine.find_entry(journal, entry_id)
    except engine.FixError as exc:
        return Outcome(Result.FAILED, undo=True, error=str(exc))
    held.add(_touched([r.path for r in target.files], [name for name, _saved in target.stores], stores))
    lost = ""
    if force:
        try:
            lost = engine.discarded(journal, target.id)
        except engine.FixError as exc:
            return Outcome(Result.FAILED, undo=True, error=str(exc))
        if lost and not confirm("Discard these changes?"):
            return Outcome(Result.DECLINED, undo=True, discarded=lost)
    try:
        needed = _line_still_needed(journal, target)
        if needed:
            raise engine.FixError(needed)
        entry = engine.undo(journal, target.id, stores=stores, force=force)
    except engine.FixError as exc:
        return Outcome(Result.FAILED, undo=True, discarded=lost, error=str(exc))
    variables = bool(entry.stores) or any(not r.path.endswith(".toml") for r in entry.files)
    return Outcome(
        Result.UNDONE, undo=True, entry=entry, discarded=lost, follow_up=(NEW_TERMINALS,) if variables else ()
    )


def _line_still_needed(journal: Journal, entry: Entry, root: Path | None = None) -> str:
    """The startup-file line of the shell integration is shared: the fix that wrote it may be
    undone while a later one (another drive's setup, the hint) still needs it. Say so, rather
    than leave that setup without the line that reads it; "" when nothing else needs it."""
    saved = dict(entry.stores).get(portable.STORE)
    mine = [r.path for r in entry.files if _wrote_line(journal, entry, r)]
    if saved is None or not mine:
        return ""
    root = root or portable.data_dir()
    drives = {d.drive_id: d.label or d.drive_id for d in portable.load(root)}
    hint = portable.load_hint(root) is not None
    for item in saved:  # the registry as this undo would leave it
        if item.name == portable.HINT:
            hint = item.value is not None
        elif item.value is None:
            drives.pop(item.name, None)
    users = [f"{name}'s portable projects" for name in drives.values()]
    users += ["the hint after uv fails"] if hint else []
    if not users:
        return ""
    return (
        f"{entry.id} wrote the line in {mine[0]} that {' and '.join(users)} still need (set up by a later fix): "
        "undo that first (`uv-drive-guard history` lists them), or undo them together, last first"
    )


def _wrote_line(journal: Journal, entry: Entry, record: FileRecord) -> bool:
    before, after = journal.backup(entry, record), journal.written(entry, record)
    mark = portable_shell.MARK.encode("utf-8")
    return after is not None and mark in after and mark not in (before or b"")


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
