"""The fix engine's plan: one Fix's changes turned into exact edits on this machine.

The core says which fixes exist and what each changes, in typed targets (core/model.py:
`Change`, `StartupFile`, `UvConfig`...). This module reads the files as they are now and makes
a `Plan`: new bytes per file, store writes, commands, and steps left for the person; so a dry
run shows precisely what `fix` would do, and a second apply finds nothing left to change.
`Machine` is what the plan is made against: the scan, the environment, the OS's variable store.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from ..core import shelllex, shells
from ..core.model import (
    Change,
    ChangeKind,
    Command,
    Definition,
    EnvTarget,
    FailureHint,
    Finding,
    Fix,
    Manual,
    Os,
    PortableRegistry,
    ShellHook,
    Snapshot,
    StartupFile,
    ThisTerminal,
    UserEnvironment,
    UvConfig,
    UvUpgrade,
    VariableStore,
    assert_never,
)
from ..core.render import target_text
from ..edges import shells as shell_facts
from . import atomic, shellfile, textlines, tomledit, uvinstall
from .envstore import EnvStoreError
from .planned import CannotPlan as CannotPlan
from .planned import FileEdit as FileEdit
from .planned import Machine as Machine
from .planned import StoreEdit as StoreEdit
from .portable import plan as portable_plan

ENVD_FILE = shells.ENVD_FILE


@dataclass(frozen=True)
class Plan:
    finding: Finding
    fix: Fix
    files: tuple[FileEdit, ...] = ()
    stores: tuple[StoreEdit, ...] = ()
    commands: tuple[tuple[str, ...], ...] = ()
    manual: tuple[str, ...] = field(default=())
    definitions: tuple[Definition, ...] = ()  # what the startup files set before the fix

    @property
    def empty(self) -> bool:
        """Nothing left to do: the fix is in place already (a second apply is a no-op)."""
        return not any(f.changes for f in self.files) and not self.stores and not self.commands and not self.manual

    @property
    def automatic(self) -> bool:
        """Something for uv-drive-guard to do, beyond steps only the user can take."""
        return any(f.changes for f in self.files) or bool(self.stores or self.commands)


def find_fix(findings: tuple[Finding, ...], fix_id: str) -> tuple[Finding, Fix] | None:
    for item in findings:
        for fix in item.fixes:
            if fix.id == fix_id:
                return item, fix
    return None


def syntax_of(path: str) -> shellfile.Syntax:
    return shelllex.syntax_of(path)


class _Texts:
    """The text of each file as the edits so far leave it."""

    def __init__(self) -> None:
        self.original: dict[str, bytes | None] = {}
        self.text: dict[str, str] = {}
        self.notes: dict[str, list[str]] = {}

    def get(self, path: str) -> str:
        if path not in self.text:
            data = atomic.read_bytes(Path(path))
            self.original[path] = data
            self.text[path] = "" if data is None else data.decode("utf-8")
        return self.text[path]

    def put(self, path: str, text: str, note: str) -> None:
        self.text[path] = text
        self.notes.setdefault(path, []).append(note)

    def edits(self) -> tuple[FileEdit, ...]:
        return tuple(
            FileEdit(path, self.original[path], self.text[path].encode("utf-8"), tuple(self.notes.get(path, [])))
            for path in self.text
        )


def build(finding: Finding, fix: Fix, machine: Machine) -> Plan:
    texts = _Texts()
    stores: list[StoreEdit] = []
    commands: list[tuple[str, ...]] = []
    manual: list[str] = []
    # Turning lines off keeps line numbers; blocks go at the end: so unsets come first.
    ordered = sorted(fix.changes, key=lambda c: c.kind is not ChangeKind.UNSET_ENV)
    for change in ordered:
        where = target_text(change.target)
        try:
            _one(change, machine, texts, stores, commands, manual)
        except textlines.UnsafeValue as exc:
            raise CannotPlan(f"refusing to write {change.name}: {exc}") from exc
        except shellfile.CannotDisable as exc:
            raise CannotPlan(f"{where}: {exc}; change it by hand") from exc
        except UnicodeDecodeError as exc:
            raise CannotPlan(f"{where} is not UTF-8 text; it was not changed") from exc
        except atomic.NotWritable as exc:
            raise CannotPlan(str(exc)) from exc
        except EnvStoreError as exc:
            raise CannotPlan(str(exc)) from exc
    definitions = machine.snapshot.definitions
    unique = tuple({(s.store, s.name, s.value): s for s in stores}.values())  # a variable set in two places
    return Plan(finding, fix, texts.edits(), unique, tuple(commands), tuple(manual), definitions)


def _one(
    change: Change,
    machine: Machine,
    texts: _Texts,
    stores: list[StoreEdit],
    commands: list[tuple[str, ...]],
    manual: list[str],
) -> None:
    """One change, by where it goes: every kind of target is handled here, none by default."""
    target = change.target
    match target:
        case Manual():
            manual.append(change.summary)
        case UvUpgrade():
            _upgrade(machine, commands, manual)
        case Command(argv):  # dot_clean rewrites files on the drive: no journal could put them back
            manual.append(f"run `{shlex.join(argv)}`")
        case UvConfig():
            _toml(change, target, texts, manual)
        case PortableRegistry() | ShellHook() | FailureHint():
            portable_plan.add(change, target, machine, texts, stores)
        case StartupFile() | UserEnvironment() | VariableStore() | ThisTerminal():
            _environment(change, target, machine, texts, stores, manual)
        case _:
            assert_never(target)


def _upgrade(machine: Machine, commands: list[tuple[str, ...]], manual: list[str]) -> None:
    hint = uvinstall.distribution_hint(machine.snapshot)
    argv = None if hint else uvinstall.upgrade_command(machine.snapshot)
    if hint:
        manual.append(hint)  # never pip into the distribution's Python, nor `uv self update`
    elif argv is None:
        manual.append("upgrade uv the way you installed it (for the standalone installer: `uv self update`)")
    else:
        commands.append(argv)


def _environment(
    change: Change, target: EnvTarget, machine: Machine, texts: _Texts, stores: list[StoreEdit], manual: list[str]
) -> None:
    if change.kind is ChangeKind.SET_ENV:
        _set(change, target, machine, texts, stores)
    elif change.kind is ChangeKind.UNSET_ENV:
        _unset(change, target, machine, texts, stores, manual)
    elif change.kind is ChangeKind.MANUAL:  # a terminal's own environment: only the person can change it
        manual.append(change.summary)
    else:  # Change refuses such a pair when it is made
        raise CannotPlan(f"{change.kind.value} cannot change {target_text(target)}")


def _toml(change: Change, config: UvConfig, texts: _Texts, manual: list[str]) -> None:
    path = config.path
    try:
        atomic.check_writable(Path(path))
    except atomic.NotWritable:  # a system-wide uv.toml: the person (as an administrator) edits it
        admin = "" if "administrator" in change.summary else " (it needs administrator rights)"
        manual.append(f"{change.summary}{admin}; until then uv keeps reading it")
        return
    text = texts.get(path)
    assert change.name is not None
    try:
        if change.kind is ChangeKind.SET_UV_SETTING:
            new = tomledit.set_toml_key(text, change.name, change.value or "", table=config.table)
        else:
            new = tomledit.remove_toml_key(text, change.name, table=config.table)
    except ValueError as exc:
        raise CannotPlan(f"{path} is not valid TOML ({exc}); it was not changed") from exc
    texts.put(path, new, change.summary)


def _definition_at(snapshot: Snapshot, path: str, line: int | None) -> Definition | None:
    return next((d for d in snapshot.definitions if d.source.file == path and d.source.line == line), None)


def _file(target: EnvTarget) -> str | None:
    """The startup file to edit; None for a store, the terminal, or a path that is not absolute."""
    return target.path if isinstance(target, StartupFile) and os.path.isabs(target.path) else None


def _is_store(target: EnvTarget, machine: Machine, *, or_user: bool) -> bool:
    """The OS's store of this machine is where the change goes (or "your environment", for a set)."""
    if machine.store is None:
        return False
    named = isinstance(target, VariableStore) and target.name == machine.store.name
    return named or (or_user and isinstance(target, UserEnvironment))


def _unset(
    change: Change, target: EnvTarget, machine: Machine, texts: _Texts, stores: list[StoreEdit], manual: list[str]
) -> None:
    assert change.name is not None
    if machine.store is not None and _is_store(target, machine, or_user=False):
        stores.append(StoreEdit(machine.store.name, change.name, None, machine.store.describe_unset(change.name)))
        return
    path = _file(target)
    if path is None:  # another computer's store, this terminal, "your environment": the person's step
        manual.append(change.summary)
        return
    syntax = syntax_of(path)
    text = texts.get(path)
    seen = _definition_at(machine.snapshot, path, change.line)
    try:
        new = shellfile.disable_line(text, change.line or 0, seen.raw if seen else None, syntax=syntax)
    except shellfile.StaleLine as exc:
        raise CannotPlan(f"{path} changed since the scan ({exc}); scan again") from exc
    except shellfile.InOwnBlock:  # the line is in our own block: take it out of the block
        new = shellfile.set_in_block(text, change.name, None, syntax=syntax)
    texts.put(path, new, change.summary)


def _set(change: Change, target: EnvTarget, machine: Machine, texts: _Texts, stores: list[StoreEdit]) -> None:
    assert change.name is not None and change.value is not None
    textlines.check_value(change.value)
    if machine.store is not None and _is_store(target, machine, or_user=True):
        line = machine.store.describe_set(change.name, change.value)
        stores.append(StoreEdit(machine.store.name, change.name, change.value, line))
        if machine.snapshot.os is Os.WINDOWS:
            return
    path = _file(target)
    files = [path] if path is not None else user_files(machine)
    for path in files:
        syntax = syntax_of(path)
        text = texts.get(path)
        for number in shellfile.lines_setting(text, change.name, syntax=syntax):
            text = shellfile.disable_line(text, number, None, syntax=syntax)
        try:
            new = shellfile.set_in_block(text, change.name, change.value, syntax=syntax)
        except shellfile.NeverRead as exc:
            raise CannotPlan(f"{path}: {exc}") from exc
        texts.put(path, new, f"set {change.name}={change.value} in a marked block")


def user_files(machine: Machine) -> list[str]:
    """Where a new session of this user reads variables: environment.d for the graphical
    session (Linux), and the startup file of every shell the person has or logs in with
    (core.shells: the one list the scan reads too)."""
    facts = shell_facts.facts(machine.snapshot.os, machine.home, machine.env)
    return [item.path for item in shells.write_targets(facts)]
