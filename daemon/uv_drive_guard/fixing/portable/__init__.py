"""The portable registry on this computer written, the files generated from it, and its journaled store.

The registry (`portable.json` in the user data directory, written atomically) says which
drives (by identity) and projects (by path inside the drive) keep their environments here.
The generated files (`portable.sh`, `portable.fish`, `portable.ps1`) are a function of it and
of where each drive is mounted now: rewritten whenever that changes, removed with the last
record. Environments themselves are uv's to make and never removed here without a person
asking (`uv-drive-guard envs --remove`). Reading the registry is edges.portable_registry's:
the scan reads it too, and the scan does not import the fix engine.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ...core import hint as hints
from ...core.model import Finding, HintLine, Os, PortableDrive, Snapshot
from ...edges import platforms
from ...edges.portable_registry import REGISTRY as REGISTRY
from ...edges.portable_registry import current as current
from ...edges.portable_registry import data_dir as data_dir
from ...edges.portable_registry import from_json as from_json
from ...edges.portable_registry import line_from_json as line_from_json
from ...edges.portable_registry import line_to_json as line_to_json
from ...edges.portable_registry import load as load
from ...edges.portable_registry import load_hint as load_hint
from ...edges.portable_registry import to_json as to_json
from .. import atomic, locks
from ..envstore import Saved

if TYPE_CHECKING:
    from .shell import Skipped

log = logging.getLogger(__name__)
STORE = "portable projects registry"
HINT = ":failure-hint"  # the store's name for the hint: never a drive's identity (those start with a letter or digit)
GENERATED = {"posix": "portable.sh", "fish": "portable.fish", "powershell": "portable.ps1"}


# --- the registry file ----------------------------------------------------------------------


def save(root: Path, drives: Iterable[PortableDrive], hint: tuple[HintLine, ...] | None = None) -> None:
    """Atomically; with the last record gone and the hint off, the file goes too (undo leaves
    nothing behind). `hint`: the hint after uv fails is on, with these lines."""
    items = sorted(drives, key=lambda d: d.drive_id)
    path = root / REGISTRY
    if not items and hint is None:
        atomic.remove(path)
        return
    data: dict[str, object] = {"version": 1, "drives": [to_json(d) for d in items]}
    if hint is not None:
        data["hint"] = {"lines": [line_to_json(line) for line in hint]}
    text = json.dumps(data, indent=2, ensure_ascii=False)
    atomic.write_atomic(path, (text + "\n").encode("utf-8"))


# --- the generated files ----------------------------------------------------------------------


def generated(root: Path, os_: Os) -> dict[str, Path]:
    names = ("powershell",) if os_ is Os.WINDOWS else ("posix", "fish")
    return {shell: root / GENERATED[shell] for shell in names}


def regenerate(
    root: Path, os_: Os, drives: tuple[PortableDrive, ...], hint: tuple[HintLine, ...] | None = None
) -> tuple[Skipped, ...]:
    """Write what each shell reads, only where it changed; remove it all with no drive left and
    the hint off. The renderer loads only here (without tomlkit): a scan with nothing set up never does."""
    from . import shell as portable_shell

    found, skipped = portable_shell.entries(os_, str(root), drives)
    said, unsaid = portable_shell.hint_entries(hint or ())
    render = {
        "posix": portable_shell.render_posix,
        "fish": portable_shell.render_fish,
        "powershell": portable_shell.render_powershell,
    }
    shown = said if hint is not None else None
    for shell, path in generated(root, os_).items():
        if not drives and hint is None:
            atomic.remove(path)
            continue
        # UTF-8 with a byte-order mark for PowerShell: 5.1 reads a file without one as ANSI.
        text = ("\ufeff" if shell == "powershell" else "") + render[shell](str(path), found, shown, bool(drives))
        data = text.encode("utf-8")
        if atomic.read_bytes(path) != data:
            atomic.write_atomic(path, data)
    for item in skipped:
        log.warning("not covered by the shell integration: %r: %s", item.root, item.reason)
    for item in unsaid:
        log.warning("left out of the hint after uv fails: %r: %s", item.root, item.reason)
    return (*skipped, *unsaid)


# --- keeping it current -----------------------------------------------------------------------


def files(root: Path, os_: Os) -> list[Path]:
    """What the registry's writers write: the registry and the files generated from it."""
    return [root / REGISTRY, *generated(root, os_).values()]


def refresh(
    snapshot: Snapshot, findings: tuple[Finding, ...], root: Path | None = None, where: Path | None = None
) -> bool:
    """After a scan: the drives' new places, and what the hint after uv fails says, into the
    registry and the generated files, silently. True when something was rewritten. Read,
    changed and written under the registry's locks (`where`: the lock directory), so a fix or
    undo writing it meanwhile is never overwritten."""
    root = root or data_dir()
    if not load(root) and load_hint(root) is None:
        return False
    with locks.files(files(root, snapshot.os), where):
        return _refresh(snapshot, findings, root)


def _refresh(snapshot: Snapshot, findings: tuple[Finding, ...], root: Path) -> bool:
    drives, hint = load(root), load_hint(root)
    if not drives and hint is None:
        return False
    fresh = current(drives, snapshot, time.time())
    said = None if hint is None else current_hint(hint, snapshot, findings)
    changed = fresh != drives or said != hint
    if changed:
        save(root, fresh, said)
    before = {p: atomic.read_bytes(p) for p in generated(root, snapshot.os).values()}
    regenerate(root, snapshot.os, fresh, said)
    return changed or before != {p: atomic.read_bytes(p) for p in generated(root, snapshot.os).values()}


def current_hint(old: tuple[HintLine, ...], snapshot: Snapshot, findings: tuple[Finding, ...]) -> tuple[HintLine, ...]:
    """What this scan says, and the lines of drives it did not look at (`scan PATH`) that are
    still mounted where they were: a drive gone, or another one there now, loses its line."""
    fresh = hints.lines(snapshot, findings)
    mounted = {v.mountpoint for v in snapshot.volumes}
    kept = [line for line in old if line.mount not in snapshot.scope and line.mount in mounted]
    ordered = sorted((*fresh, *kept), key=lambda line: (line.everywhere, -len(line.mount), line.mount))
    return tuple(dict.fromkeys(ordered))


# --- the journaled store ----------------------------------------------------------------------


class Store:
    """The registry as the fix engine's store: saved before a fix, restored by undo. Its
    writes read the registry and change it: `fix` and `undo` hold the locks of `files()`."""

    name = STORE

    def __init__(self, root: Path | None = None, os_: Os | None = None) -> None:
        self.root = root or data_dir()
        self.os = os_ or platforms.current()

    def files(self) -> list[Path]:
        return files(self.root, self.os)

    def _drives(self) -> dict[str, PortableDrive]:
        return {d.drive_id: d for d in load(self.root)}

    def _write(self, drives: dict[str, PortableDrive], hint: tuple[HintLine, ...] | None) -> None:
        items = tuple(drives.values())
        save(self.root, items, hint)
        regenerate(self.root, self.os, items, hint)

    def save(self, names: Iterable[str]) -> list[Saved]:
        drives, hint = self._drives(), load_hint(self.root)
        return [
            Saved(name, _hint_json(hint) if name == HINT else _drive_json(drives.get(name)), kind="portable")
            for name in names
        ]

    def set(self, name: str, value: str) -> None:
        drives, hint = self._drives(), load_hint(self.root)
        if name == HINT:
            hint = _hint_from(value)
        else:
            drive = from_json(json.loads(value))
            if drive is None or drive.drive_id != name:
                raise ValueError(f"not a portable record for {name}")
            drives[name] = drive
        self._write(drives, hint)

    def unset(self, name: str) -> None:
        drives, hint = self._drives(), load_hint(self.root)
        if name == HINT:
            hint = None
        drives.pop(name, None)
        self._write(drives, hint)

    def restore(self, saved: Iterable[Saved]) -> None:
        drives, hint = self._drives(), load_hint(self.root)
        for item in saved:
            if item.name == HINT:
                hint = None if item.value is None else _hint_from(item.value)
                continue
            old = from_json(json.loads(item.value)) if item.value is not None else None
            if old is None:
                drives.pop(item.name, None)
            else:
                drives[item.name] = old
        self._write(drives, hint)

    def describe_set(self, name: str, value: str) -> str:
        if name == HINT:
            return f"turn on the hint after uv fails, in {self.root / REGISTRY}"
        return f"record drive {name} in {self.root / REGISTRY}"

    def describe_unset(self, name: str) -> str:
        if name == HINT:
            return f"turn off the hint after uv fails, in {self.root / REGISTRY}"
        return f"remove drive {name} from {self.root / REGISTRY}"


def _drive_json(drive: PortableDrive | None) -> str | None:
    return None if drive is None else json.dumps(to_json(drive))


def hint_json(lines: tuple[HintLine, ...]) -> str:
    """The store's value for the hint: the lines it says (a journal entry keeps them to put back)."""
    return json.dumps([line_to_json(line) for line in lines])


def _hint_json(lines: tuple[HintLine, ...] | None) -> str | None:
    return None if lines is None else hint_json(lines)


def _hint_from(value: str) -> tuple[HintLine, ...]:
    items = json.loads(value)
    if not isinstance(items, list):
        raise ValueError("not the lines of a hint")
    lines = tuple(line_from_json(item) for item in items if isinstance(item, dict))
    return tuple(line for line in lines if line is not None)
