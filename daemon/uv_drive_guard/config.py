"""The product's own settings: config/default.toml, overlaid by the user's settings file.

config/default.toml is the one source of what may be set: its keys, their types, and for every
number the range written above it (`# Allowed: 1 to 32.`). A user's file that breaks any of
these is refused with file, line and why, never half applied.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path
from typing import Any

from .edges import tomlfile

DEFAULTS_NAME = "default.toml"
_ALLOWED = re.compile(r"#\s*Allowed:\s*(\S+)\s+to\s+(\S+?)\.?\s*$")
_HEADER = re.compile(r"\[\s*([A-Za-z0-9_.-]+)\s*\]")
_PARSER_LINE = re.compile(r"\s*\(?at line (\d+)(?:,? col(?:umn)? \d+)?\)?\s*$")


class ConfigError(ValueError):
    """A settings file the user wrote is not valid; says file, line, key and why."""


def _defaults_path() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (
        here / "config",
        here.parent.parent / "config",
        Path(getattr(sys, "_MEIPASS", here)) / "config",
    ):
        if (candidate / DEFAULTS_NAME).is_file():
            return candidate / DEFAULTS_NAME
    raise ConfigError(f"{DEFAULTS_NAME} is missing from the installation")


def _read(path: Path) -> str:
    """The file's text; a file that cannot be read or is not UTF-8 text says so, with its line."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such settings file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start : exc.start + 1].hex()
        raise ConfigError(f"{path}:{line}: not UTF-8 text (byte 0x{byte}): a settings file is TOML") from None


def _load(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomlfile.loads(text)
    except tomlfile.TomlError as exc:
        message = str(exc)
        found = _PARSER_LINE.search(message)
        if found is None:
            raise ConfigError(f"{path}: not valid TOML: {message}") from None
        raise ConfigError(f"{path}:{found.group(1)}: not valid TOML: {message[: found.start()]}") from None


def ranges(text: str) -> dict[str, tuple[float, float]]:
    """`table.key` -> (lowest, highest), from the `# Allowed: A to B.` line above each number."""
    found: dict[str, tuple[float, float]] = {}
    table, allowed = "", None
    for raw in text.splitlines():
        line = raw.strip()
        header = _HEADER.fullmatch(line)
        if header:
            table, allowed = header.group(1), None
        elif line.startswith("#"):
            match = _ALLOWED.search(line)
            allowed = (float(match.group(1)), float(match.group(2))) if match else allowed
        elif "=" in line:
            if allowed is not None:
                found[f"{table}.{line.split('=', 1)[0].strip()}"] = allowed
            allowed = None
    return found


def user_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("uv-drive-guard", appauthor=False)) / "config.toml"


def load(user_file: Path | None = None, *, required: bool = False) -> dict[str, Any]:
    """Defaults, then the user's file; unknown keys, wrong types and numbers out of their range
    are errors, not surprises. `required`: the file was named (--config), so it must exist."""
    defaults = _defaults_path()
    text = defaults.read_text(encoding="utf-8")
    settings = _load(defaults, text)
    path = user_file or user_config_path()
    if required or path.exists():
        user_text = _read(path)
        _overlay(settings, _load(path, user_text), _Where(path, user_text, ranges(text)), "")
    return settings


class _Where:
    """Where a key is set in the user's file, for the error message, and the ranges it must keep."""

    def __init__(self, path: Path, text: str, allowed: dict[str, tuple[float, float]]) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.allowed = allowed

    def __call__(self, name: str) -> str:
        """`FILE:LINE` of the line that sets `name` (dotted), or of its table."""
        table, key = name.rpartition(".")[::2]
        current = ""
        for number, raw in enumerate(self.lines, start=1):
            line = raw.strip()
            header = _HEADER.fullmatch(line)
            if header:
                current = header.group(1)
                if current == name:
                    return f"{self.path}:{number}"
                continue
            left = line.split("=", 1)[0].strip().strip("\"'") if "=" in line else None
            if left is not None and (f"{current}.{left}".strip(".") == name or (current == table and left == key)):
                return f"{self.path}:{number}"
        return str(self.path)


def _overlay(base: dict[str, Any], extra: dict[str, Any], where: _Where, prefix: str) -> None:
    for key, value in extra.items():
        name = f"{prefix}{key}"
        if key not in base:
            known = ", ".join(f"`{prefix}{k}`" for k in base)
            raise ConfigError(f"{where(name)}: unknown setting `{name}` (known here: {known})")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{where(name)}: `{name}` must be a table")
            _overlay(base[key], value, where, name + ".")
            continue
        problem = _wrong_type(base[key], value) or _out_of_range(value, where.allowed.get(name))
        if problem:
            raise ConfigError(f"{where(name)}: `{name}` {problem}")
        base[key] = value


_KINDS = {bool: "true or false", int: "a whole number", float: "a number", str: "a string", list: "a list"}


def _shown(value: object) -> str:
    """A value as it is written in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    return "a table" if isinstance(value, dict) else "a list" if isinstance(value, list) else type(value).__name__


def _wrong_type(default: object, value: object) -> str | None:
    """Why `value` cannot stand where the default is; None when it can (an int for a float too)."""
    if isinstance(default, list):
        if not isinstance(value, list):
            return f"must be a list, not {_shown(value)}"
        if not default:
            return None
        wanted = type(default[0])
        odd = next((item for item in value if type(item) is not wanted), None)
        return None if odd is None else f"must be a list of {_KINDS[wanted][2:]}s, not one holding {_shown(odd)}"
    if type(value) is type(default) or (type(default) is float and type(value) is int):
        return None
    return f"must be {_KINDS.get(type(default), type(default).__name__)}, not {_shown(value)}"


def _out_of_range(value: object, allowed: tuple[float, float] | None) -> str | None:
    if allowed is None or not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    low, high = allowed
    if (isinstance(value, float) and not math.isfinite(value)) or not low <= value <= high:
        return f"is {_shown(value)}; allowed: {_number(low)} to {_number(high)}"
    return None


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)
