"""What every environment store shares: the saved value undo needs, the error, the interface.

The base of `envstore` (psutil's `_common.py`): the per-OS stores import this, never the facade.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Saved:
    """What undo needs to put a variable back exactly."""

    name: str
    value: str | None  # None: was not set
    kind: str | None = None  # registry type name ("REG_SZ", "REG_EXPAND_SZ") where the store has types
    extra: tuple[tuple[str, str], ...] = ()  # store-specific, e.g. the LaunchAgent plist's previous bytes


class EnvStoreError(OSError):
    """The operating system refused a read or write; nothing is retried."""


class EnvStore(Protocol):
    """Read before change, change, and put back; describe lines feed --dry-run."""

    name: str  # "HKCU\\Environment", "launchctl"

    def save(self, names: Iterable[str]) -> list[Saved]: ...

    def set(self, name: str, value: str) -> None: ...

    def unset(self, name: str) -> None: ...

    def restore(self, saved: Iterable[Saved]) -> None: ...

    def describe_set(self, name: str, value: str) -> str: ...

    def describe_unset(self, name: str) -> str: ...


def control_characters(text: str) -> bool:
    """NUL, newlines, escapes and the rest of Unicode's Cc: none belongs in a variable."""
    return any(unicodedata.category(char) == "Cc" for char in text)


def quoted(value: str) -> str:
    """A value as dry-run lines show it: in double quotes, verbatim (control characters are refused)."""
    return f'"{value}"'
