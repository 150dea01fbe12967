"""What a plan is made of and made against: the edits it holds, this machine, and why it may refuse.

Kept apart from `plan.py` so that the planners of each kind of change (`plan.py` for startup
files, stores and uv settings, `portable_plan.py` for portable projects) share them without
importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..core.model import Snapshot
from .envstore import EnvStore


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
class Machine:
    """This computer as a plan sees it: the scan, the environment, the OS's variable store."""

    snapshot: Snapshot
    env: Mapping[str, str]
    store: EnvStore | None

    @property
    def home(self) -> str:
        return self.snapshot.home
