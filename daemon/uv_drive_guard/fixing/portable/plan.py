"""Plan the portable-projects fix: the registry record (a store edit) and one line per startup file.

The line goes into the same fenced block every other fix writes (one block per file, see
textlines), so undo takes it out byte for byte with the rest of the fix.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Protocol

from ...core import hint as hints
from ...core import portable as core
from ...core import shells
from ...core.diagnose import diagnose
from ...core.model import (
    Change,
    FailureHint,
    HintLine,
    Os,
    PortableDrive,
    PortableRegistry,
    ShellHook,
    Volume,
    assert_never,
)
from ...edges import shells as shell_facts
from .. import portable, shellfile, textlines
from ..planned import CannotPlan, Machine, StoreEdit
from . import shell as portable_shell


class Texts(Protocol):
    """plan.build's view of each file's text as the edits so far leave it."""

    def get(self, path: str) -> str: ...

    def put(self, path: str, text: str, note: str) -> None: ...


def add(
    change: Change,
    target: PortableRegistry | ShellHook | FailureHint,
    machine: Machine,
    texts: Texts,
    stores: list[StoreEdit],
) -> None:
    """plan.build's step for our three kinds of target."""
    match target:
        case PortableRegistry(drive_id):
            edit = registry_edit(change, drive_id, machine)
            if edit is not None:
                stores.append(edit)
        case ShellHook(directory):
            _hook(Path(directory or machine.snapshot.data_dir), machine, texts)
        case FailureHint(directory):
            edit = hint_edit(Path(directory or machine.snapshot.data_dir), machine)
            if edit is not None:
                stores.append(edit)
        case _:
            assert_never(target)


def hint_edit(root: Path, machine: Machine) -> StoreEdit | None:
    """Turn the hint on with the lines this scan gives; None when it is on already (each scan
    keeps its lines current). The preview says each line, and where it is said."""
    if portable.load_hint(root) is not None:
        return None
    snapshot = machine.snapshot
    said, unsaid = portable_shell.hint_entries(hints.lines(snapshot, diagnose(snapshot)))
    names = ", ".join(portable.generated(root, snapshot.os)[s].name for s in portable.generated(root, snapshot.os))
    head = f"turn on the hint after uv fails, in {root / portable.REGISTRY} (written into {names})"
    where = [f"  {_where(line)}: {line.text}" for line in said] or ["  (no drive has trouble for uv now)"]
    left = [f"  not said, its drive's name or place cannot be quoted safely: {len(unsaid)}"] if unsaid else []
    return StoreEdit(portable.STORE, portable.HINT, portable.hint_json(said), "\n".join([head, *where, *left]))


def _where(line: HintLine) -> str:
    if line.everywhere:
        return f"wherever uv fails while {line.variable} leads to {line.mount}" + (
            "" if line.from_variable else " (or is unset)"
        )
    return f"in a folder on {line.mount}"


def _hook(generated_dir: Path, machine: Machine, texts: Texts) -> None:
    """One line in each startup file that reads the generated file for that shell (it ends in
    our mark, a comment, which also takes a CR LF line's CR in bash and zsh)."""
    for path, shell in startup_files(machine):
        name = portable.GENERATED[shell if shell in ("fish", "powershell") else "posix"]
        line = portable_shell.rc_line(shell, str(generated_dir / name))
        text = texts.get(path)
        if shell == "powershell" and not text:
            text = BOM  # a new profile: Windows PowerShell 5.1 reads a file without one as ANSI
        sep = None
        if shell != "powershell":  # PowerShell reads CR LF as the end of a line, as it should
            syntax = shellfile.syntax_of(path)
            try:
                shellfile.check_reaches_end(text, syntax)
            except shellfile.NeverRead as exc:
                raise CannotPlan(f"{path}: {exc}") from exc
            sep = shellfile.line_ends(text, syntax)[1]
        texts.put(path, set_hook(text, line, sep=sep), f"read {name} at start (portable projects)")


def _volume(machine: Machine, did: str) -> Volume:
    vol = next((v for v in machine.snapshot.volumes if core.drive_id(v) == did), None)
    if vol is None:
        raise CannotPlan(f"the drive {did} is not mounted now; plug it in and scan again")
    return vol


def registry_edit(change: Change, did: str, machine: Machine) -> StoreEdit | None:
    """The drive's new record, merged with what is there; None when it already says so."""
    snapshot = machine.snapshot
    vol = _volume(machine, did)
    rel = change.name
    if rel is not None:
        root = core.at_mount(snapshot.os, vol.mountpoint, rel)
        try:
            textlines.check_value(root)
        except textlines.UnsafeValue as exc:
            shown = root.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            raise CannotPlan(
                f"{shown!r} cannot be written into a shell file safely ({exc}); rename the folder and scan again"
            ) from exc
    root_dir = Path(snapshot.data_dir)
    old = next((d for d in portable.load(root_dir) if d.drive_id == did), None)
    projects = set(old.projects if old else ())
    projects |= {rel} if rel is not None else set()
    whole = (old.whole if old else False) or rel is None
    if old is not None and old.whole == whole and set(old.projects) == projects:
        return None
    mount = vol.mountpoint
    draft = PortableDrive(did, vol.label, whole, tuple(sorted(projects)), (), mount, mount, time.time())
    (new,) = portable.current((draft,), snapshot, time.time())
    value = json.dumps(portable.to_json(new))
    return StoreEdit(portable.STORE, did, value, f"{change.summary}; {next_step(snapshot.os, vol, new, rel)}")


def next_step(os_: Os, vol: Volume, drive: PortableDrive, rel: str | None) -> str:
    """Said once: uv-drive-guard never runs uv sync (it would build from the drive)."""
    found, skipped = portable_shell.entries(os_, "", (drive,))
    target = core.at_mount(os_, vol.mountpoint, rel) if rel is not None else (found[-1].root if found else "")
    hint = f"then, in a new terminal: cd {target} and run `{core.NEXT_STEP}`" if target else ""
    if skipped:
        hint += f" (not covered, their paths cannot be quoted safely: {len(skipped)} project(s); see the log)"
    return hint


def startup_files(machine: Machine) -> list[tuple[str, str]]:
    """(file, shell): the startup file of each shell the person has or logs in with, the
    one list the scan and every other fix use (core.shells)."""
    facts = shell_facts.facts(machine.snapshot.os, machine.home, machine.env)
    return [(item.path, item.shell.value if item.shell else "posix") for item in shells.rc_files(facts)]


BOM = "\ufeff"


def set_hook(text: str, line: str | None, *, sep: str | None = None) -> str:
    """Put our one line into the file's uv-drive-guard block (made if needed), or take it out
    (and the block with it when nothing else is left in it), keeping every other byte (and a
    byte-order mark, which PowerShell profiles often start with)."""
    if text.startswith(BOM):
        return BOM + set_hook(text[1:], line, sep=sep)
    return textlines.set_block_line(text, line, lambda old: textlines.bare(old).endswith(portable_shell.MARK), sep=sep)
