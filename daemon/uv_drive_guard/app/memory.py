"""What the daemon remembers per drive across plug-ins and restarts: what it last said,
which drives to ignore and which findings not to show again."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..fixing import atomic, locks
from .policy import Known

log = logging.getLogger(__name__)


def default_path() -> Path:
    from platformdirs import user_state_dir

    return Path(user_state_dir("uv-drive-guard", appauthor=False)) / "drives.json"


@dataclass
class DriveMemory:
    shown: str = ""  # the fingerprint of the last notice about absent drives (the "absent" entry)
    ignored: bool = False
    muted: list[str] = field(default_factory=list)  # finding codes
    announced: str = ""  # the mount of the drive the last notice was about (app/policy.py)
    said: list[str] = field(default_factory=list)  # the problems told for that mount
    quiet: bool = False  # "Don't tell me again for this drive": no notices, the tray still shows it

    def known(self) -> Known:
        return Known(self.announced, frozenset(self.said), self.quiet, self.ignored)

    def remember(self, known: Known) -> None:
        self.announced, self.said = known.announced, sorted(known.said)


class Memory:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.drives: dict[str, DriveMemory] = self._load()

    def _load(self) -> dict[str, DriveMemory]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            known = set(DriveMemory.__dataclass_fields__)
            return {
                key: DriveMemory(**{k: v for k, v in value.items() if k in known})
                for key, value in data.get("drives", {}).items()
            }
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            log.warning("ignoring unreadable %s: %s", self.path, exc)
            return {}

    def dump(self) -> bytes:
        """The bytes `save` writes: taken where the dicts are changed (the daemon's loop)."""
        data = {"drives": {key: vars(value) for key, value in self.drives.items()}}
        return json.dumps(data, indent=2).encode()

    def write(self, data: bytes) -> None:
        """Disk I/O only: the daemon runs it in its executor, off the loop. Under the file's
        lock, what is there now with our drives laid over it: a drive another daemon of this
        user (another session, one started over ssh) wrote meanwhile is kept, not lost."""
        ours = json.loads(data)["drives"]
        with locks.files([self.path], self.path.parent / "locks"):
            there = {key: vars(value) for key, value in self._load().items()}
            merged = {"drives": {**there, **ours}}
            atomic.write_atomic(self.path, json.dumps(merged, indent=2).encode())

    def save(self) -> None:
        self.write(self.dump())

    def drive(self, key: str) -> DriveMemory:
        return self.drives.setdefault(key, DriveMemory())

    def shown(self, key: str, fingerprint: str, *, save: bool = True) -> None:
        self.drive(key).shown = fingerprint
        if save:
            self.save()

    def ignore(self, key: str, *, save: bool = True) -> None:
        self.drive(key).ignored = True
        if save:
            self.save()

    def mute(self, key: str, code: str, *, save: bool = True) -> None:
        entry = self.drive(key)
        if code not in entry.muted:
            entry.muted.append(code)
            if save:
                self.save()

    def set_quiet(self, key: str, quiet: bool = True, *, save: bool = True) -> None:
        self.drive(key).quiet = quiet
        if save:
            self.save()

    def ignored_keys(self) -> tuple[str, ...]:
        return tuple(key for key, value in self.drives.items() if value.ignored)

    def quiet_keys(self) -> tuple[str, ...]:
        return tuple(key for key, value in self.drives.items() if value.quiet)
