"""The product's own settings: config/default.toml, overlaid by the user's settings file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .edges import tomlfile

DEFAULTS_NAME = "default.toml"


class ConfigError(ValueError):
    """A settings file the user wrote is not valid; says file, key and why."""


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


def _load(path: Path) -> dict[str, Any]:
    try:
        return tomlfile.loads(path.read_text(encoding="utf-8"))
    except tomlfile.TomlError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def user_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("uv-drive-guard", appauthor=False)) / "config.toml"


def load(user_file: Path | None = None) -> dict[str, Any]:
    """Defaults, then the user's file; unknown keys and wrong types are errors, not surprises."""
    settings = _load(_defaults_path())
    path = user_file or user_config_path()
    if path.is_file():
        _overlay(settings, _load(path), path, "")
    return settings


def _line(path: Path, key: str) -> str:
    """`:LINE` of the first line that sets `key` in the user's file, for the error message."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    for number, line in enumerate(lines, start=1):
        if line.split("=", 1)[0].strip().strip('"') == key or line.strip() == f"[{key}]":
            return f":{number}"
    return ""


def _overlay(base: dict[str, Any], extra: dict[str, Any], path: Path, prefix: str) -> None:
    for key, value in extra.items():
        name = f"{prefix}{key}"
        where = f"{path}{_line(path, key)}"
        if key not in base:
            known = ", ".join(f"`{prefix}{k}`" for k in base)
            raise ConfigError(f"{where}: unknown setting `{name}` (known here: {known})")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: `{name}` must be a table")
            _overlay(base[key], value, path, name + ".")
        elif not isinstance(value, type(base[key])) and not (isinstance(base[key], float) and isinstance(value, int)):
            raise ConfigError(f"{where}: `{name}` must be {type(base[key]).__name__}, not {type(value).__name__}")
        else:
            base[key] = value
