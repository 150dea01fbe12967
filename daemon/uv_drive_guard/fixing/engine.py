"""Apply a plan (journal first, then atomic writes), undo it byte for byte, and verify it.

Order of a fix: check every target is writable and unchanged since the plan; journal the
previous bytes and store values; write each file atomically; set the stores; run commands;
mark the entry applied. Any failure rolls back what was done and marks the entry failed.
"""

from __future__ import annotations

import difflib
import logging
import subprocess
from collections.abc import Mapping
from pathlib import Path

from ..edges import proc
from . import atomic
from .envstore import EnvStore, Saved
from .journal import APPLIED, FAILED, PENDING, UNDONE, Entry, Journal, digest
from .plan import Plan

log = logging.getLogger(__name__)


class FixError(RuntimeError):
    """A fix could not be applied or undone; nothing is left half done."""


class AlreadyApplied(FixError):
    """Everything the fix would write is in place: a second apply does nothing."""


def preview(plan: Plan) -> str:
    """What `fix --dry-run` prints: a diff per file, a line per store write and command."""
    out: list[str] = []
    for edit in plan.files:
        if not edit.changes:
            continue
        before = (edit.before or b"").decode("utf-8").splitlines(keepends=True)
        after = edit.after.decode("utf-8").splitlines(keepends=True)
        label = edit.path if edit.before is not None else f"{edit.path} (new file)"
        out += difflib.unified_diff(before, after, fromfile=label, tofile=label)
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
    out += [f"{edit.summary}\n" for edit in plan.stores]
    out += [f"run: {' '.join(argv)}\n" for argv in plan.commands]
    out += [f"by hand: {line}\n" for line in plan.manual]
    return "".join(out)


def apply(plan: Plan, journal: Journal, stores: Mapping[str, EnvStore] | None = None) -> Entry:
    stores = stores or {}
    if plan.empty:
        raise AlreadyApplied(f"{plan.fix.id} is already in place; nothing to change")
    files = [f for f in plan.files if f.changes]
    for edit in files:
        try:
            atomic.check_writable(Path(edit.path))
        except atomic.NotWritable as exc:
            raise FixError(str(exc)) from exc
        if atomic.read_bytes(Path(edit.path)) != edit.before:
            raise FixError(f"{edit.path} changed since the preview; scan again")
    saved = _save(plan, stores)
    entry = journal.begin(
        fix_id=plan.fix.id,
        code=plan.finding.code,
        title=plan.fix.title,
        files=[(f.path, f.before, f.after) for f in files],
        stores=saved,
        commands=[" ".join(argv) for argv in plan.commands],
        manual=plan.manual,
        subject=plan.finding.location.path if plan.finding.location else "",
    )
    try:
        for edit in files:
            atomic.write_atomic(Path(edit.path), edit.after)
        for change in plan.stores:
            store = stores[change.store]
            store.set(change.name, change.value) if change.value is not None else store.unset(change.name)
        for argv in plan.commands:
            _run(argv)
    except (OSError, subprocess.SubprocessError, FixError, KeyError) as exc:
        _roll_back(entry, journal, stores)
        journal.finish(entry, FAILED, note=str(exc))
        raise FixError(f"{plan.fix.title}: {exc}; everything was put back") from exc
    return journal.finish(entry, APPLIED, after={f.path: f.after for f in files})


def _save(plan: Plan, stores: Mapping[str, EnvStore]) -> list[tuple[str, tuple[Saved, ...]]]:
    saved = []
    for name in dict.fromkeys(edit.store for edit in plan.stores):
        names = [edit.name for edit in plan.stores if edit.store == name]
        saved.append((name, tuple(stores[name].save(names))))
    return saved


def _run(argv: tuple[str, ...]) -> None:
    done = proc.run(argv, text=True, timeout=600)
    if done.returncode != 0:
        raise FixError(f"`{' '.join(argv)}` failed: {(done.stderr or done.stdout).strip()[-500:]}")


def _roll_back(entry: Entry, journal: Journal, stores: Mapping[str, EnvStore]) -> None:
    for record in entry.files:
        current = atomic.read_bytes(Path(record.path))
        if digest(current) == record.before:
            continue
        _restore_file(entry, journal, record.path)
    for name, saved in entry.stores:
        if name in stores:
            stores[name].restore(saved)


def _restore_file(entry: Entry, journal: Journal, path: str) -> None:
    record = next(r for r in entry.files if r.path == path)
    previous = journal.backup(entry, record)
    if previous is None:
        atomic.remove(Path(path))
    else:
        atomic.write_atomic(Path(path), previous)


def undo(
    journal: Journal, entry_id: str | None = None, *, stores: Mapping[str, EnvStore] | None = None, force: bool = False
) -> Entry:
    """Put back the bytes and values a fix replaced; refuse to clobber later edits unless forced."""
    entry = journal.find(entry_id)
    if entry is None:
        raise FixError("no applied fix to undo" if entry_id is None else f"no fix {entry_id} in the history")
    if entry.state not in (APPLIED, PENDING) and not force:
        raise FixError(f"{entry.id} is {entry.state}; nothing to undo")
    if not force:
        for record in entry.files:
            current = digest(atomic.read_bytes(Path(record.path)))
            if current not in (record.after, record.before):
                raise FixError(f"{record.path} changed after the fix; `undo --force` would discard those changes")
    for record in entry.files:
        if digest(atomic.read_bytes(Path(record.path))) != record.before:
            _restore_file(entry, journal, record.path)
    for name, saved in entry.stores:
        if stores is None or name not in stores:
            raise FixError(f"cannot reach {name} to restore it")
        stores[name].restore(saved)
    note = "commands that ran (an upgrade) are not undone" if entry.commands else ""
    return journal.finish(entry, UNDONE, note=note)
