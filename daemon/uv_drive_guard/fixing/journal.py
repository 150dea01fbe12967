"""The journal: every fix is written down, with the previous bytes, before anything changes.

One directory per applied fix under the user's state directory: `entry.json` (what was
changed and its state) and one `N.bak` per file with the bytes it had before. A crash between
journal and rename leaves a `pending` entry, which `undo` restores like any other.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

from . import atomic
from .envstore import Saved


class State(str, Enum):
    """Where a fix's entry stands; entry.json holds the value."""

    PENDING = "pending"  # journaled, being written: a crash here is settled at the next start
    APPLIED = "applied"
    UNDONE = "undone"
    FAILED = "failed"


PENDING, APPLIED, UNDONE, FAILED = State.PENDING, State.APPLIED, State.UNDONE, State.FAILED


def digest(data: bytes | None) -> str | None:
    """sha256 of a file's bytes (in the daemon, Python's own sha256: app.main keeps OpenSSL out)."""
    return None if data is None else hashlib.sha256(data).hexdigest()


def default_root() -> Path:
    from platformdirs import user_state_dir

    return Path(user_state_dir("uv-drive-guard", appauthor=False)) / "journal"


@dataclass(frozen=True)
class FileRecord:
    path: str
    existed: bool
    backup: str | None  # the N.bak file holding the previous bytes
    before: str | None  # sha256 of the previous bytes
    after: str | None  # sha256 of what the fix wrote
    written: str | None = None  # the N.after file holding those bytes: undo finds our edit by them


@dataclass(frozen=True)
class Entry:
    id: str
    fix_id: str
    code: str
    title: str
    created: float
    state: State
    files: tuple[FileRecord, ...] = ()
    stores: tuple[tuple[str, tuple[Saved, ...]], ...] = ()
    commands: tuple[str, ...] = ()
    manual: tuple[str, ...] = ()
    note: str = ""
    subject: str = ""  # the path the finding was about (a fallback is reverted when it is back)
    seq: int = 0  # the order fixes were applied in: clocks tie within a second and can go back
    directory: str = field(default="", compare=False)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("directory")
        data["stores"] = [{"store": name, "saved": [asdict(s) for s in saved]} for name, saved in self.stores]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], directory: Path) -> Entry:
        stores = tuple((item["store"], tuple(_saved(s) for s in item["saved"])) for item in data.get("stores", []))
        return cls(
            id=data["id"],
            fix_id=data["fix_id"],
            code=data["code"],
            title=data["title"],
            created=data["created"],
            state=State(data["state"]),
            files=tuple(FileRecord(**f) for f in data.get("files", [])),
            stores=stores,
            commands=tuple(data.get("commands", [])),
            manual=tuple(data.get("manual", [])),
            note=data.get("note", ""),
            subject=data.get("subject", ""),
            seq=int(data.get("seq", 0)),
            directory=str(directory),
        )


def _saved(data: dict[str, Any]) -> Saved:
    return Saved(
        name=data["name"],
        value=data["value"],
        kind=data.get("kind"),
        extra=tuple(tuple(pair) for pair in data.get("extra", [])),  # type: ignore[misc]
    )


class AmbiguousId(LookupError):
    """An id prefix that names more than one fix: refused, never guessed."""


class Journal:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_root()

    def begin(
        self,
        *,
        fix_id: str,
        code: str,
        title: str,
        files: Iterable[tuple[str, bytes | None, bytes | None]],
        stores: Iterable[tuple[str, tuple[Saved, ...]]] = (),
        commands: Iterable[str] = (),
        manual: Iterable[str] = (),
        subject: str = "",
    ) -> Entry:
        """Write the previous bytes and a pending entry, durably, before any change is made.
        The planned new bytes' digest is recorded too: a crash right after a rename still
        leaves an entry that knows the file holds the fix, so undo can take it back."""
        seq = max((e.seq for e in self.entries()), default=0) + 1
        stamp = time.strftime("%Y%m%dT%H%M%S")
        directory = self.root / f"{stamp}-{fix_id}-{os.urandom(2).hex()}"
        directory.mkdir(parents=True)
        records = []
        for number, (path, before, after) in enumerate(files):
            backup = None
            if before is not None:
                backup = f"{number}.bak"
                atomic.write_atomic(directory / backup, before)
            written = None
            if after is not None:
                written = f"{number}.after"
                atomic.write_atomic(directory / written, after)
            records.append(FileRecord(path, before is not None, backup, digest(before), digest(after), written))
        entry = Entry(
            id=directory.name,
            fix_id=fix_id,
            code=code,
            title=title,
            created=time.time(),
            state=PENDING,
            files=tuple(records),
            stores=tuple(stores),
            commands=tuple(commands),
            manual=tuple(manual),
            subject=subject,
            seq=seq,
            directory=str(directory),
        )
        self._write(entry)
        return entry

    def finish(
        self, entry: Entry, state: State, *, after: dict[str, bytes | None] | None = None, note: str = ""
    ) -> Entry:
        files = entry.files
        if after is not None:
            files = tuple(replace(f, after=digest(after.get(f.path))) for f in files)
        done = replace(entry, state=state, files=files, note=note or entry.note)
        self._write(done)
        return done

    def backup(self, entry: Entry, record: FileRecord) -> bytes | None:
        if record.backup is None:
            return None
        return (Path(entry.directory) / record.backup).read_bytes()

    def written(self, entry: Entry, record: FileRecord) -> bytes | None:
        """What the fix wrote into the file; None for entries made before this was kept."""
        if record.written is None:
            return None
        try:
            return (Path(entry.directory) / record.written).read_bytes()
        except FileNotFoundError:
            return None

    def entries(self) -> list[Entry]:
        """Last applied first (by sequence, then time: entries from before sequences had 0);
        unreadable entries are skipped, not fatal."""
        found: list[Entry] = []
        if not self.root.is_dir():
            return found
        for directory in self.root.iterdir():
            try:
                data = json.loads((directory / "entry.json").read_text(encoding="utf-8"))
                found.append(Entry.from_json(data, directory))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return sorted(found, key=lambda e: (e.seq, e.created, e.id), reverse=True)

    def find(self, entry_id: str | None) -> Entry | None:
        """An entry by id, unique id prefix or fix id (its last application); by default the
        last applied not yet undone. A prefix shared by several entries raises AmbiguousId."""
        entries = self.entries()
        if entry_id is None:
            return next((e for e in entries if e.state in (APPLIED, PENDING)), None)
        exact = [e for e in entries if e.id == entry_id]
        if exact:
            return exact[0]
        by_fix = [e for e in entries if e.fix_id == entry_id]
        if by_fix:
            return next((e for e in by_fix if e.state in (APPLIED, PENDING)), by_fix[0])
        matches = [e for e in entries if e.id.startswith(entry_id)]
        if len(matches) > 1:
            names = ", ".join(e.id for e in matches[:10])
            raise AmbiguousId(f"{entry_id!r} names {len(matches)} fixes ({names}); give more of the id")
        return matches[0] if matches else None

    def _write(self, entry: Entry) -> None:
        data = json.dumps(entry.to_json(), indent=2).encode()
        atomic.write_atomic(Path(entry.directory) / "entry.json", data)


def encode(data: bytes) -> str:
    return base64.b64encode(data).decode()


__all__ = [
    "APPLIED",
    "FAILED",
    "PENDING",
    "UNDONE",
    "AmbiguousId",
    "Entry",
    "FileRecord",
    "Journal",
    "State",
    "digest",
    "encode",
    "os",
]
