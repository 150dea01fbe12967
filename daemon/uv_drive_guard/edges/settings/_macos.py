"""uv variables given to GUI apps on macOS: `launchctl setenv`, and the agents that repeat it.

launchctl's environment is lost at logout, so people persist it with a LaunchAgent whose
ProgramArguments run `launchctl setenv NAME VALUE` at login: both places are read here.
"""

from __future__ import annotations

import os
import plistlib
import re
import shlex
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from xml.parsers.expat import ExpatError

from uv_drive_guard.core.model import Definition, Source, SourceKind
from uv_drive_guard.core.resolve import WATCHED
from uv_drive_guard.edges.launchctl import MAX_AGENT_BYTES, launchctl_getenv

UV_VARIABLES: tuple[str, ...] = WATCHED  # one list, kept in core.resolve

MAX_AGENTS = 200
SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh"})
_SHELL_OPERATORS = frozenset({";", "&&", "||", "|", "&", "(", ")"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


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


def agent_files(directory: Path) -> list[Path]:
    """Plain *.plist files, sorted so results do not depend on directory order."""
    try:
        with os.scandir(directory) as entries:
            files = [
                Path(entry.path)
                for entry in entries
                if entry.name.endswith(".plist") and entry.is_file(follow_symlinks=False)
            ]
    except OSError:  # no LaunchAgents directory, or not readable
        return []
    return sorted(files)[:MAX_AGENTS]


def read_bounded(path: Path, limit: int = MAX_AGENT_BYTES) -> bytes | None:
    """The file, or None when it is larger than the limit or cannot be read."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError:
        return None
    return data if len(data) <= limit else None


def program_arguments(data: bytes | None) -> list[str]:
    """ProgramArguments of an XML or binary plist; [] for anything else."""
    if not data:
        return []
    try:
        loaded = plistlib.loads(data)
    except (ValueError, ExpatError):
        return []
    arguments = loaded.get("ProgramArguments") if isinstance(loaded, dict) else None
    if not isinstance(arguments, list):
        return []
    return [argument for argument in arguments if isinstance(argument, str)]


def setenv_pairs(arguments: Sequence[str]) -> Iterator[tuple[str, str | None, str]]:
    """(name, value or None if a shell would expand it, raw value) for each setenv."""
    if _runs_shell(arguments):
        yield from _pairs(_shell_tokens(arguments[2]), shell=True)
    else:
        yield from _pairs(list(arguments), shell=False)


def _runs_shell(arguments: Sequence[str]) -> bool:
    """`sh -c "launchctl setenv A x; launchctl setenv B y"`, the other common form."""
    return len(arguments) >= 3 and os.path.basename(arguments[0]) in SHELLS and arguments[1] in ("-c", "-lc")


def _shell_tokens(script: str) -> list[str]:
    try:
        lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        return list(lexer)
    except ValueError:  # unbalanced quotes
        return []


def _pairs(tokens: list[str], *, shell: bool) -> Iterator[tuple[str, str | None, str]]:
    """Walk `launchctl setenv NAME VALUE [NAME VALUE ...]` runs inside a token list."""
    index = 0
    while index < len(tokens) - 1:
        if os.path.basename(tokens[index]) == "launchctl" and tokens[index + 1] == "setenv":
            index += 2
            while index + 1 < len(tokens) and _is_pair(tokens[index], tokens[index + 1]):
                name, raw = tokens[index], tokens[index + 1]
                yield name, None if shell and _expands(raw) else raw, raw
                index += 2
        else:
            index += 1


def _expands(raw: str) -> bool:
    """Whether a shell would rewrite the word: $VAR, `cmd`, or a leading ~."""
    return raw.startswith("~") or "$" in raw or "`" in raw


def _is_pair(name: str, value: str) -> bool:
    return bool(_NAME.match(name)) and value not in _SHELL_OPERATORS
