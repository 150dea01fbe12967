"""One TOML loader for every file we read (our own settings, uv.toml, pyproject.toml): tomllib
where Python has it (3.11+), tomlkit before; text that is not TOML raises TomlError."""

from __future__ import annotations

import sys
from typing import Any


class TomlError(ValueError):
    """Not valid TOML; the message is the parser's own (line and column included)."""


def loads(text: str) -> dict[str, Any]:
    """The document as plain dicts and lists; a drive's file is untrusted, so only the errors
    the parsers raise for bad input are caught, and each becomes TomlError."""
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            return tomllib.loads(text)
        except (tomllib.TOMLDecodeError, RecursionError) as exc:  # tomllib recurses per nesting level
            raise TomlError(str(exc)) from exc
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        return dict(tomlkit.parse(text).unwrap())
    except (TOMLKitError, RecursionError) as exc:  # tomlkit before 0.13 has no nesting limit
        raise TomlError(str(exc)) from exc
