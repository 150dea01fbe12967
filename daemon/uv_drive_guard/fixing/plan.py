"""Turn a fix's changes into exact edits: new bytes per file, store writes, commands.

Computed from the files as they are now, so a dry run shows precisely what `fix` would do,
and a second apply finds nothing left to change.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..core.model import Change, ChangeKind, Definition, Finding, Fix, Os, Snapshot
from . import atomic, packaged, textedit
from .envstore import EnvStore

USER_ENVIRONMENT = "user environment"
ENVD_FILE = "60-uv-drive-guard.conf"
RC_FILES = {"bash": ".bashrc", "zsh": ".zshrc", "fish": ".config/fish/config.fish"}


class CannotPlan(ValueError):
    """The fix cannot be applied safely as things are; the message says why."""


@dataclass(frozen=True)
class FileEdit:
    path: str
    before: bytes | None  # None: the file does not exist yet
    after: bytes
    summary: tuple[str, ...]

    @property
    def changes(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class StoreEdit:
    store: str
    name: str
    value: str | None  # None: unset
    summary: str


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


def syntax_of(path: str) -> textedit.Syntax:
    if path.endswith(".fish"):
        return "fish"
    if Path(path).parent.name == "environment.d":
        return "environment.d"
    return "posix"


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


@dataclass(frozen=True)
class Context:
    snapshot: Snapshot
    env: Mapping[str, str]
    store: EnvStore | None

    @property
    def home(self) -> str:
        return self.snapshot.home


def build(finding: Finding, fix: Fix, ctx: Context) -> Plan:
    texts = _Texts()
    stores: list[StoreEdit] = []
    commands: list[tuple[str, ...]] = []
    manual: list[str] = []
    # Turning lines off keeps line numbers; blocks go at the end: so unsets come first.
    ordered = sorted(fix.changes, key=lambda c: c.kind is not ChangeKind.UNSET_ENV)
    for change in ordered:
        try:
            _one(change, ctx, texts, stores, commands, manual)
        except textedit.UnsafeValue as exc:
            raise CannotPlan(f"refusing to write {change.name}: {exc}") from exc
        except textedit.CannotDisable as exc:
            raise CannotPlan(f"{change.target}: {exc}; change it by hand") from exc
        except UnicodeDecodeError as exc:
            raise CannotPlan(f"{change.target} is not UTF-8 text; it was not changed") from exc
        except atomic.NotWritable as exc:
            raise CannotPlan(str(exc)) from exc
    return Plan(finding, fix, texts.edits(), tuple(stores), tuple(commands), tuple(manual), ctx.snapshot.definitions)


def _one(
    change: Change,
    ctx: Context,
    texts: _Texts,
    stores: list[StoreEdit],
    commands: list[tuple[str, ...]],
    manual: list[str],
) -> None:
    kind = change.kind
    if kind is ChangeKind.MANUAL:
        manual.append(change.summary)
    elif kind is ChangeKind.RUN:
        hint = distribution_hint(ctx.snapshot)
        argv = None if hint else upgrade_command(ctx.snapshot)
        if hint:
            manual.append(hint)  # never pip into the distribution's Python, nor `uv self update`
        elif argv is None:
            manual.append("upgrade uv the way you installed it (for the standalone installer: `uv self update`)")
        else:
            commands.append(argv)
    elif kind in (ChangeKind.SET_UV_SETTING, ChangeKind.REMOVE_UV_SETTING):
        _toml(change, texts)
    elif kind is ChangeKind.UNSET_ENV:
        _unset(change, ctx, texts, stores, manual)
    elif kind is ChangeKind.SET_ENV:
        _set(change, ctx, texts, stores)
    elif kind in (ChangeKind.PORTABLE_ENVS, ChangeKind.SHELL_HOOK):
        from . import portable_plan  # it imports this module

        portable_plan.add(change, ctx, texts, stores)
    else:
        manual.append(change.summary)


def _toml(change: Change, texts: _Texts) -> None:
    path = change.target
    table = ("tool", "uv") if Path(path).name == "pyproject.toml" else ()
    text = texts.get(path)
    assert change.name is not None
    try:
        if change.kind is ChangeKind.SET_UV_SETTING:
            new = textedit.set_toml_key(text, change.name, change.value or "", table=table)
        else:
            new = textedit.remove_toml_key(text, change.name, table=table)
    except ValueError as exc:
        raise CannotPlan(f"{path} is not valid TOML ({exc}); it was not changed") from exc
    texts.put(path, new, change.summary)


def _definition_at(snapshot: Snapshot, path: str, line: int | None) -> Definition | None:
    return next((d for d in snapshot.definitions if d.source.file == path and d.source.line == line), None)


def _unset(change: Change, ctx: Context, texts: _Texts, stores: list[StoreEdit], manual: list[str]) -> None:
    assert change.name is not None
    if ctx.store is not None and change.target == ctx.store.name:
        stores.append(StoreEdit(ctx.store.name, change.name, None, ctx.store.describe_unset(change.name)))
        return
    if not os.path.isabs(change.target):
        manual.append(change.summary)
        return
    path, syntax = change.target, syntax_of(change.target)
    text = texts.get(path)
    seen = _definition_at(ctx.snapshot, path, change.line)
    try:
        new = textedit.disable_line(text, change.line or 0, seen.raw if seen else None, syntax=syntax)
    except textedit.StaleLine as exc:
        raise CannotPlan(f"{path} changed since the scan ({exc}); scan again") from exc
    except textedit.InOwnBlock:  # the line is in our own block: take it out of the block
        new = textedit.set_in_block(text, change.name, None, syntax=syntax)
    texts.put(path, new, change.summary)


def _set(change: Change, ctx: Context, texts: _Texts, stores: list[StoreEdit]) -> None:
    assert change.name is not None and change.value is not None
    textedit.check_value(change.value)
    if ctx.store is not None and change.target in (ctx.store.name, USER_ENVIRONMENT):
        line = ctx.store.describe_set(change.name, change.value)
        stores.append(StoreEdit(ctx.store.name, change.name, change.value, line))
        if ctx.snapshot.os is Os.WINDOWS:
            return
    files = [change.target] if os.path.isabs(change.target) else user_files(ctx)
    for path in files:
        syntax = syntax_of(path)
        text = texts.get(path)
        for number in textedit.lines_setting(text, change.name, syntax=syntax):
            text = textedit.disable_line(text, number, None, syntax=syntax)
        new = textedit.set_in_block(text, change.name, change.value, syntax=syntax)
        texts.put(path, new, f"set {change.name}={change.value} in a marked block")


def user_files(ctx: Context) -> list[str]:
    """Where a new session of this user reads variables: environment.d for the graphical
    session (Linux), and the rc file of every shell the user has (or logs in with)."""
    home = Path(ctx.home)
    files = []
    if ctx.snapshot.os is Os.LINUX:
        config = ctx.env.get("XDG_CONFIG_HOME") or str(home / ".config")
        files.append(str(Path(config, "environment.d", ENVD_FILE)))
    login = Path(ctx.env.get("SHELL", "")).name
    for shell, rc in RC_FILES.items():
        if (home / rc).exists() or shell == login:
            files.append(str(home / rc))
    if len(files) == (1 if ctx.snapshot.os is Os.LINUX else 0):
        files.append(str(home / ".profile"))
    return files


def distribution_hint(snapshot: Snapshot) -> str | None:
    """The package manager's command when dpkg, rpm or pacman installed this uv (or its Python
    is marked EXTERNALLY-MANAGED); None otherwise."""
    exe = snapshot.uv.executable
    if not exe or sys.platform == "win32":
        return None
    python = Path(os.path.realpath(exe)).with_name("python")
    return packaged.upgrade_hint(exe, python if python.exists() else None)


def upgrade_command(snapshot: Snapshot) -> tuple[str, ...] | None:
    """Upgrade uv the way it was installed; None when we cannot tell."""
    exe = snapshot.uv.executable
    if not exe:
        return None
    real = os.path.realpath(exe)
    parts = Path(real).parts
    if "pipx" in parts and "venvs" in parts:
        return ("pipx", "upgrade", "uv")
    if "tools" in parts and "uv" in parts[parts.index("tools") + 1 : parts.index("tools") + 2]:
        return (exe, "tool", "upgrade", "uv")
    if "Cellar" in parts or "homebrew" in parts or "linuxbrew" in parts:
        return ("brew", "upgrade", "uv")
    if "WinGet" in real:
        return ("winget", "upgrade", "--id", "astral-sh.uv")
    python = Path(real).with_name("python.exe" if sys.platform == "win32" else "python")
    if python.exists():
        return (str(python), "-m", "pip", "install", "--upgrade", "uv")
    return (exe, "self", "update")
