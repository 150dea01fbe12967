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


def at_least(current: Version | None, wanted: Version) -> bool:
    """A known version at `wanted` or later. An unknown uv (not found, or `uv --version` failed)
    is never taken for a current one: a rule about a failure asks `may_be_before` or
    `may_be_at_least`, so that it holds for a uv whose version could not be read."""
    return current is not None and current >= wanted


def before(current: Version | None, wanted: Version) -> bool:
    """A known version older than `wanted`."""
    return current is not None and current < wanted


def may_be_before(current: Version | None, wanted: Version) -> bool:
    """Older than `wanted`, or not known: a failure that a newer uv fixed may still be there."""
    return current is None or current < wanted


def may_be_at_least(current: Version | None, wanted: Version) -> bool:
    """`wanted` or later, or not known: a failure that a newer uv brought may be there."""
    return current is None or current >= wanted
