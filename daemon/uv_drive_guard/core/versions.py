"""uv version numbers, compared as uv numbers them (major.minor.patch, no epochs)."""

from __future__ import annotations

import re

Version = tuple[int, int, int]

_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def parse(text: str | None) -> Version | None:
    """Read `uv 0.13.9 (abc 2026-01-01)` or `0.13.9` into a comparable tuple."""
    if not text:
        return None
    match = _VERSION.search(text)
    if match is None:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def show(version: Version) -> str:
    return ".".join(str(part) for part in version)


def at_least(current: Version | None, wanted: Version) -> bool:
    """Unknown versions count as current uv: rules then describe today's behaviour."""
    return current is None or current >= wanted


def before(current: Version | None, wanted: Version) -> bool:
    return current is not None and current < wanted
