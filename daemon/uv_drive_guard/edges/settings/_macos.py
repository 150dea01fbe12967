"""uv variables given to GUI apps on macOS: `launchctl setenv`, and the agents that repeat it.

launchctl's environment is lost at logout, so people persist it with a LaunchAgent whose
ProgramArguments run `launchctl setenv NAME VALUE` at login: both places are read here. How an
agent is read (its files, its arguments, the shell words) lives in edges/launchctl.py, which the
store that edits agents shares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from uv_drive_guard.core.model import Definition, Source, SourceKind
from uv_drive_guard.core.resolve import WATCHED
from uv_drive_guard.edges.launchctl import (
    MAX_AGENTS,
    agent_files,
    launchctl_getenv,
    program_arguments,
    read_bounded,
    setenv_pairs,
)

UV_VARIABLES: tuple[str, ...] = WATCHED  # one list, kept in core.resolve
__all__ = [
    "MAX_AGENTS",
    "agent_files",
    "launch_agent_definitions",
    "program_arguments",
    "read_bounded",
    "read_definitions",
    "setenv_pairs",
]


def read_definitions(
    *,
    names: Iterable[str] = UV_VARIABLES,
    getenv: Callable[[str], str | None] = launchctl_getenv,
) -> list[Definition]:
    """What launchd gives apps started from the Dock, Finder and the menu bar."""
    found: list[Definition] = []
    for name in names:
        value = getenv(name)
        if value is not None:
            source = Source(SourceKind.LAUNCHCTL, name=name)
            found.append(Definition(name, value, source, raw=value))
    return found


def launch_agent_definitions(home: str | Path, *, names: Iterable[str] = UV_VARIABLES) -> list[Definition]:
    """`launchctl setenv` pairs in ~/Library/LaunchAgents, read at most 200 files of 1 MiB."""
    wanted = frozenset(names)
    found: list[Definition] = []
    for path in agent_files(Path(home) / "Library" / "LaunchAgents"):
        arguments = program_arguments(read_bounded(path))
        for name, value, raw in setenv_pairs(arguments):
            if name in wanted:
                source = Source(SourceKind.LAUNCHCTL, file=str(path), name=name)
                found.append(Definition(name, value, source, raw=raw))
    return found
