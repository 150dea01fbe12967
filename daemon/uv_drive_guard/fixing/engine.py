"""Apply a plan (journal first, then atomic writes), undo it byte for byte, and verify it.

Order of a fix (under the writers' locks, fixing/locks.py, which the commands take): check
every target is writable and unchanged since the plan; journal the
previous bytes and store values; write each file atomically; set the stores; run commands;
mark the entry applied. Any failure rolls back what was done and marks the entry failed.
"""

from __future__ import annotations

import difflib
import logging
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..edges import proc, tomlfile
from . import atomic, outcome, undoedit
from .envstore import EnvStore, Saved
from .journal import APPLIED, FAILED, PENDING, UNDONE, AmbiguousId, Entry, FileRecord, Journal, digest
from .plan import Plan

log = logging.getLogger(__name__)


class FixError(RuntimeError):
    """A fix could not be applied or undone; nothing is left half done."""


class AlreadyApplied(FixError):
    """Everything the fix would write is in place: a second apply does nothing."""


class Stale(FixError):
    """A file no longer holds what the plan was made from: writing would undo someone's change."""


def _read(path: str) -> bytes | None:
    try:
        return atomic.read_bytes(Path(path))
    except atomic.NotWritable as exc:  # a pipe, a device or a huge file where the file was
        raise FixError(str(exc)) from exc


def preview(plan: Plan) -> str:
    """What `fix --dry-run` prints: a diff per file, a line per store write and command."""
    return outcome.preview(outcome.file_changes(plan), plan.stores, plan.commands, plan.manual)


def apply(plan: Plan, journal: Journal, stores: Mapping[str, EnvStore] | None = None) -> Entry:
    stores = stores or {}
    if plan.empty:
        raise AlreadyApplied(f"{plan.fix.id} is already in place; nothing to change")
    files = [f for f in plan.files if f.changes]
    missing = sorted({edit.store for edit in plan.stores} - set(stores))
    if missing:
        raise FixError(f"cannot reach {', '.join(missing)}; nothing was changed")
    for edit in files:
        try:
            atomic.check_writable(Path(edit.path))
        except atomic.NotWritable as exc:
            raise FixError(str(exc)) from exc
        if _read(edit.path) != edit.before:
            raise Stale(f"{edit.path} changed since the scan; scan again")
    try:
        saved = _save(plan, stores)
    except OSError as exc:
        raise FixError(f"cannot read the values the fix would change ({exc}); nothing was changed") from exc
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


def settle(journal: Journal) -> None:
    """Entries left `pending` by a writer that died (SIGKILL, a power cut) between its journal
    entry and its end, settled by what the files hold. Called under the journal's lock: every
    writer takes it before it begins an entry, so a pending entry then has no live writer.
    Every file still as before: nothing was written (files go first), so it failed; every file
    as the fix meant: it was applied. Anything else stays pending, for undo to take back."""
    for entry in journal.entries():
        if entry.state != PENDING or not entry.files:
            continue
        try:
            now = [digest(atomic.read_bytes(Path(r.path))) for r in entry.files]
        except atomic.NotWritable:
            continue
        if all(n == r.before for n, r in zip(now, entry.files, strict=True)):
            journal.finish(entry, FAILED, note="its writer stopped before writing anything")
        elif all(n == r.after for n, r in zip(now, entry.files, strict=True)):
            journal.finish(entry, APPLIED, note="its writer stopped after writing the files")


@dataclass(frozen=True)
class _Write:
    path: str
    new: bytes | None  # None: remove the file (the fix created it, nothing else is in it now)
    current: bytes | None  # what it holds now, for the roll-back


def find_entry(journal: Journal, entry_id: str | None) -> Entry:
    try:
        entry = journal.find(entry_id)
    except AmbiguousId as exc:
        raise FixError(str(exc)) from exc
    if entry is None:
        raise FixError("no applied fix to undo" if entry_id is None else f"no fix {entry_id} in the history")
    return entry


def undo(
    journal: Journal, entry_id: str | None = None, *, stores: Mapping[str, EnvStore] | None = None, force: bool = False
) -> Entry:
    """Take back the fix's own edits, keeping what the person wrote since (or with `force`,
    put back the saved bytes). All or nothing: every file and store is checked first, and
    what was written is rolled back when a later step fails."""
    entry = find_entry(journal, entry_id)
    if entry.state not in (APPLIED, PENDING) and not force:
        raise FixError(f"{entry.id} is {entry.state}; nothing to undo")
    writes = [w for w in (_undo_write(journal, entry, r, force) for r in entry.files) if w is not None]
    current = _check_targets(entry, writes, stores or {})
    done: list[_Write] = []
    restored: list[str] = []
    try:
        for write in writes:
            _put(write.path, write.new)
            done.append(write)
        for name, saved in entry.stores:
            (stores or {})[name].restore(saved)
            restored.append(name)
    except (OSError, KeyError) as exc:
        for write in reversed(done):
            _put(write.path, write.current)
        for name in restored:
            (stores or {})[name].restore(current[name])
        raise FixError(f"undo of {entry.id} failed ({exc}); everything was left as it was") from exc
    note = "commands that ran (an upgrade) are not undone" if entry.commands else ""
    return journal.finish(entry, UNDONE, note=note)


def _check_targets(entry: Entry, writes: list[_Write], stores: Mapping[str, EnvStore]) -> dict[str, list[Saved]]:
    """Before anything is written: every file writable, every store reachable (its values
    now are read, and kept to put back if a later step fails)."""
    for write in writes:
        try:
            atomic.check_writable(Path(write.path))
        except atomic.NotWritable as exc:
            raise FixError(f"{exc}; nothing was undone") from exc
    current: dict[str, list[Saved]] = {}
    for name, saved in entry.stores:
        if name not in stores:
            raise FixError(f"cannot reach {name} to restore it; nothing was undone")
        try:
            current[name] = stores[name].save([s.name for s in saved])
        except OSError as exc:
            raise FixError(f"cannot reach {name} to restore it ({exc}); nothing was undone") from exc
    return current


def _put(path: str, data: bytes | None) -> None:
    if data is None:
        atomic.remove(Path(path))
    else:
        atomic.write_atomic(Path(path), data)


def _undo_write(journal: Journal, entry: Entry, record: FileRecord, force: bool) -> _Write | None:
    """What undo writes into one file, or None when it holds the old bytes already."""
    current = _read(record.path)
    before = journal.backup(entry, record)
    if digest(current) == record.before:
        return None
    if force or digest(current) == record.after:
        return _Write(record.path, before, current)
    after = journal.written(entry, record)
    if after is None or current is None:
        what = "is gone" if current is None else "changed after the fix"
        raise FixError(f"{record.path} {what}; `undo --force {entry.id}` would put back the bytes from before the fix")
    try:
        text = undoedit.take_back((before or b"").decode("utf-8"), after.decode("utf-8"), current.decode("utf-8"))
    except undoedit.Changed as exc:
        raise FixError(
            f"{record.path}:{exc.line}: {exc}. Put that line back as uv-drive-guard wrote it (or delete the "
            f"uv-drive-guard lines by hand), or `uv-drive-guard undo --force {entry.id}` to put back the whole "
            "file as it was before the fix, discarding every change made since"
        ) from exc
    except UnicodeDecodeError as exc:
        raise FixError(f"{record.path} is no longer UTF-8 text; `undo --force {entry.id}` restores it") from exc
    if record.path.endswith(".toml"):
        try:
            tomlfile.loads(text)
        except tomlfile.TomlError as exc:
            raise FixError(f"{record.path}: without the fix's lines it would not be valid TOML ({exc})") from exc
    if before is None and not text.strip():
        return _Write(record.path, None, current)
    return _Write(record.path, text.encode("utf-8"), current)


def discarded(journal: Journal, entry_id: str | None) -> str:
    """What `undo --force` throws away: a diff from each file now to its bytes before the fix."""
    entry = find_entry(journal, entry_id)
    out: list[str] = []
    for record in entry.files:
        current = _read(record.path)
        before = journal.backup(entry, record)
        if digest(current) in (record.before, record.after):
            continue  # nothing of the person's is lost here
        now = (current or b"").decode("utf-8", errors="replace").splitlines(keepends=True)
        then = (before or b"").decode("utf-8", errors="replace").splitlines(keepends=True)
        out += difflib.unified_diff(
            now, then, fromfile=f"{record.path} (now)", tofile=f"{record.path} (before the fix)"
        )
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
    return "".join(out)
