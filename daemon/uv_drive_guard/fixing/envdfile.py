"""Edits to systemd environment.d(5) files: how a value is written so systemd reads it back
exactly. Which lines set a variable comes from the one lexer (core.shelllex)."""

from __future__ import annotations

from .textlines import check_value


def envd_value(value: str) -> str:
    """environment.d(5) as systemd reads it: `\\` escapes, `$$` is a literal `$` (`\\$` would still expand)."""
    check_value(value)
    out = value.replace("\\", "\\\\").replace("$", "$$").replace(" ", "\\ ")
    return "\\" + out if out[:1] in ("'", '"') else out


def assignment(name: str, value: str) -> str:
    """`NAME=value`, escaped so systemd takes the value literally (the name is checked by the caller)."""
    return f"{name}={envd_value(value)}"
