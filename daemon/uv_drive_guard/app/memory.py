"""What the daemon remembers per drive across plug-ins and restarts: what it last said,
which drives to ignore and which findings not to show again."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..fixing import atomic

log = logging.getLogger(__name__)


def default_path() -> Path:
    from platformdirs import user_state_dir

    return Path(user_state_dir("uv-drive-guard", appauthor=False)) / "drives.json"


@dataclass
class DriveMemory:
    shown: str = ""  # the fingerprint of the last notice
    ignored: bool = False
    muted: list[str] = field(default_factory=list)  # finding codes


class Memory:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.drives: dict[str, DriveMemory] = self._load()

    def _load(self) -> dict[str, DriveMemory]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return {key: DriveMemory(**value) for key, value in data.get("drives", {}).items()}
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
        """Disk I/O only: the daemon runs it in its executor, off the loop."""
        atomic.write_atomic(self.path, data)

    def save(self) -> None:
        self.write(self.dump())

    def drive(self, key: str) -> DriveMemory:
        return self.drives.setdefault(key, DriveMemory())

    def should_show(self, key: str, fingerprint: str) -> bool:
        entry = self.drives.get(key)
        return entry is None or (not entry.ignored and entry.shown != fingerprint)

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

    def ignored_keys(self) -> tuple[str, ...]:
        return tuple(key for key, value in self.drives.items() if value.ignored)
