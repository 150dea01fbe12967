"""Edits to a person's own LaunchAgent: a `launchctl setenv NAME VALUE` taken out, or its value changed.

Only the words of that pair change, found as the settings reader finds them (edges/launchctl.py):
an element of ProgramArguments, or a word of the `sh -c` script, replaced where it is written,
so the rest of the script (and its quoting) stays as the person wrote it. A run left without a
pair becomes `launchctl unsetenv NAME`, a command that still stands and says what it does. The
plist is written back in its own format (XML or binary) with its keys in their order.
"""

from __future__ import annotations

import plistlib
from collections.abc import Collection

from ..edges.launchctl import (
    expands,
    load_plist,
    program_arguments,
    runs_shell,
    setenv_pairs,
    setenv_runs,
    shell_words,
)


class CannotEdit(ValueError):
    """The agent cannot be changed safely; the message says why."""


def shell_quote(value: str) -> str:
    """POSIX single quotes: nothing inside is special except the quote, written as '\\''."""
    return "'" + value.replace("'", "'\\''") + "'"


def sets(data: bytes | None) -> set[str]:
    """The names an agent sets with `launchctl setenv`, as the settings reader sees them."""
    return {name for name, _, _ in setenv_pairs(program_arguments(data))}


def without(data: bytes, names: Collection[str]) -> bytes:
    """The agent with no `launchctl setenv` of `names`; the same bytes when it sets none of them."""
    return _edit(data, names, None)


def with_value(data: bytes, name: str, value: str) -> bytes:
    """The agent setting `name` to `value` wherever it sets it now."""
    return _edit(data, (name,), value)


def edited(data: bytes, name: str, value: str | None) -> bytes:
    """`with_value`, or `without` when the value is None."""
    return _edit(data, (name,), value)


def _edit(data: bytes, names: Collection[str], value: str | None) -> bytes:
    """Each pair of `names` given `value`, or taken out when it is None."""
    loaded = load_plist(data)
    arguments = loaded.get("ProgramArguments") if loaded is not None else None
    if loaded is None or not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
        raise CannotEdit("its ProgramArguments are not a list of strings")
    if not set(names) & {name for name, _, _ in setenv_pairs(arguments)}:
        return data
    if runs_shell(arguments):
        new = [*arguments[:2], _edit_script(arguments[2], names, value), *arguments[3:]]
    else:
        new = _edit_words(arguments, names, value)
    if new == arguments:  # the value it sets already: the file stays as it is, byte for byte
        return data
    loaded["ProgramArguments"] = new
    fmt = plistlib.FMT_BINARY if data.startswith(b"bplist00") else plistlib.FMT_XML
    return plistlib.dumps(loaded, fmt=fmt, sort_keys=False)


def _edit_words(words: list[str], names: Collection[str], value: str | None) -> list[str]:
    """ProgramArguments themselves: `/bin/launchctl setenv N V ...`."""
    new = list(words)
    for run in reversed(setenv_runs(words)):
        chosen = [at for at in run.names if words[at] in names]
        if chosen and value is None and len(chosen) == len(run.names):
            new[run.verb : run.names[-1] + 2] = ["unsetenv", words[chosen[0]]]
            continue
        for at in reversed(chosen):
            if value is None:
                del new[at : at + 2]
            else:
                new[at + 1] = value
    return new


def _edit_script(script: str, names: Collection[str], value: str | None) -> str:
    """The `sh -c` script: each word replaced where it is written."""
    words = shell_words(script)
    if words is None:
        raise CannotEdit("its script has a quote left open")
    tokens = [word.text for word in words]
    for run in reversed(setenv_runs(tokens)):
        chosen = [at for at in run.names if tokens[at] in names]
        if chosen and value is None and len(chosen) == len(run.names):
            verb, name, last = words[run.verb], words[chosen[0]], words[run.names[-1] + 1]
            script = f"{script[: verb.start]}unsetenv {script[name.start : name.end]}{script[last.end :]}"
            continue
        for at in reversed(chosen):
            written = words[at + 1]
            if value is None:  # from the end of the word before the name to the end of the value
                script = script[: words[at - 1].end] + script[written.end :]
            elif written.text != value or expands(written.text):
                script = script[: written.start] + shell_quote(value) + script[written.end :]
    return script
