"""launchctl as the product runs it, and the LaunchAgents people write to repeat it at login.

Shared by the settings reader (what GUI apps get) and the environment store that writes it, so
the two read an agent's `launchctl setenv NAME VALUE` the same way: in ProgramArguments
themselves, or in the script of `sh -c "launchctl setenv A x; launchctl setenv B y"`. Shell
words are split as Python's shlex splits them (POSIX mode, punctuation characters, whitespace
split), with the place each is written, so the store can edit the one word it means.
"""

from __future__ import annotations

import os
import plistlib
import re
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.parsers.expat import ExpatError

from . import proc

LAUNCHCTL = "/bin/launchctl"  # absolute: never let PATH pick the tool
LAUNCHCTL_TIMEOUT = 5.0
MAX_AGENT_BYTES = 1 << 20  # a LaunchAgent plist is a few hundred bytes; a larger one is not read
MAX_AGENTS = 200
SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh"})
_SHELL_OPERATORS = frozenset({";", "&&", "||", "|", "&", "(", ")"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_WHITESPACE = " \t\r\n"  # shlex's
_PUNCTUATION = "();<>|&"  # shlex's punctuation_chars=True


def launchctl_getenv(name: str) -> str | None:
    """`launchctl getenv NAME` prints the value and a newline, or nothing when unset."""
    try:
        done = proc.run([LAUNCHCTL, "getenv", name], text=True, timeout=LAUNCHCTL_TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        return None
    return getenv_value(done.stdout, done.returncode)


def getenv_value(stdout: str, returncode: int) -> str | None:
    """An unset name and an empty value look the same to launchctl: both are "not set"."""
    value = stdout.removesuffix("\n")
    return value if returncode == 0 and value else None


# --- the agents' files ---------------------------------------------------------------------------


def agent_files(directory: Path) -> list[Path]:
    """Plain *.plist files, sorted so results do not depend on directory order; at most 200."""
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


def load_plist(data: bytes | None) -> dict[str, object] | None:
    """An XML or binary plist whose top is a dictionary; None for anything else."""
    if not data:
        return None
    try:
        loaded = plistlib.loads(data)
    except (ValueError, ExpatError):
        return None
    return loaded if isinstance(loaded, dict) else None


def program_arguments(data: bytes | None) -> list[str]:
    """ProgramArguments of an XML or binary plist; [] for anything else."""
    loaded = load_plist(data)
    arguments = loaded.get("ProgramArguments") if loaded is not None else None
    if not isinstance(arguments, list):
        return []
    return [argument for argument in arguments if isinstance(argument, str)]


# --- `launchctl setenv` in the arguments ---------------------------------------------------------


@dataclass(frozen=True)
class Word:
    """One shell word: its text as the command receives it, and where it is written."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Run:
    """`launchctl setenv N1 V1 N2 V2 ...`: the index of `setenv` and of each name (its value follows)."""

    verb: int
    names: tuple[int, ...]


def runs_shell(arguments: Sequence[str]) -> bool:
    """`sh -c "launchctl setenv A x; launchctl setenv B y"`, the other common form."""
    return len(arguments) >= 3 and os.path.basename(arguments[0]) in SHELLS and arguments[1] in ("-c", "-lc")


def shell_words(script: str) -> list[Word] | None:
    """The words of a script as shlex splits them, with their places; None where shlex raises
    (a quote left open, a backslash at the end). `#` starts a comment, even inside a word."""
    words: list[Word] = []
    i, size = 0, len(script)
    while i < size:
        char = script[i]
        if char in _WHITESPACE:
            i += 1
        elif char == "#":
            i = _line_end(script, i)
        elif char in _PUNCTUATION:
            end = i
            while end < size and script[end] in _PUNCTUATION:
                end += 1
            words.append(Word(script[i:end], i, end))
            i = end
        else:
            word = _word(script, i)
            if word is None:
                return None
            words.append(word)
            i = word.end
    return words


def _line_end(script: str, i: int) -> int:
    end = script.find("\n", i)
    return len(script) if end < 0 else end + 1


def _word(script: str, start: int) -> Word | None:
    """One word from `start`: quotes joined and removed, backslashes applied as shlex does."""
    text: list[str] = []
    i, size = start, len(script)
    while i < size and script[i] not in _WHITESPACE and script[i] not in _PUNCTUATION and script[i] != "#":
        char = script[i]
        if char == "'":
            end = script.find("'", i + 1)
            if end < 0:
                return None
            text.append(script[i + 1 : end])
            i = end + 1
        elif char == '"':
            found = _double_quoted(script, i + 1)
            if found is None:
                return None
            part, i = found
            text.append(part)
        elif char == "\\":
            if i + 1 >= size:
                return None
            text.append(script[i + 1])
            i += 2
        else:
            text.append(char)
            i += 1
    return Word("".join(text), start, i)


def _double_quoted(script: str, i: int) -> tuple[str, int] | None:
    """Inside "...": a backslash escapes only `"` and itself (shlex's escapedquotes)."""
    text: list[str] = []
    size = len(script)
    while i < size:
        char = script[i]
        if char == '"':
            return "".join(text), i + 1
        if char == "\\":
            if i + 1 >= size:
                return None
            following = script[i + 1]
            text.append(following if following in '"\\' else char + following)
            i += 2
            continue
        text.append(char)
        i += 1
    return None


def setenv_runs(tokens: Sequence[str]) -> list[Run]:
    """Every `launchctl setenv NAME VALUE [NAME VALUE ...]` in a token list."""
    runs: list[Run] = []
    index = 0
    while index < len(tokens) - 1:
        if os.path.basename(tokens[index]) == "launchctl" and tokens[index + 1] == "setenv":
            verb, index = index + 1, index + 2
            names: list[int] = []
            while index + 1 < len(tokens) and _is_pair(tokens[index], tokens[index + 1]):
                names.append(index)
                index += 2
            runs.append(Run(verb, tuple(names)))
        else:
            index += 1
    return runs


def setenv_pairs(arguments: Sequence[str]) -> Iterator[tuple[str, str | None, str]]:
    """(name, value or None if a shell would expand it, raw value) for each setenv."""
    shell = runs_shell(arguments)
    if shell:
        words = shell_words(arguments[2])
        tokens = [word.text for word in words] if words is not None else []
    else:
        tokens = list(arguments)
    for run in setenv_runs(tokens):
        for at in run.names:
            name, raw = tokens[at], tokens[at + 1]
            yield name, None if shell and expands(raw) else raw, raw


def expands(raw: str) -> bool:
    """Whether a shell would rewrite the word: $VAR, `cmd`, or a leading ~."""
    return raw.startswith("~") or "$" in raw or "`" in raw


def _is_pair(name: str, value: str) -> bool:
    return bool(_NAME.match(name)) and value not in _SHELL_OPERATORS
