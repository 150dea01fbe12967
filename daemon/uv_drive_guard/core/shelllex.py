"""One lexer for shell startup files and environment.d: where a logical line starts and ends
(backslash continuations, quotes over several lines, here-document bodies), and which lines
assign which variable with what raw value text.

The reader (`shellparse`, which then works out the values) and the editor (`fixing.shellfile`,
which turns lines off and writes our block) both ask this module, so they cannot disagree on
which lines set a variable. The grammar follows what bash, zsh, fish and systemd's
environment.d parser do with the forms people write; tests run the real shells on generated
files to keep it so.

Line ends as each reads them (a dotfiles checkout made on Windows has CR LF): only LF ends a
line. bash, zsh and dash keep the CR in the line's last word, so `export X=/x` sets "/x" and
a CR, a blank line runs the command "\r", and `fi`, `done`, `then`, `in` or `{` followed by CR
are no reserved words: the first compound command (`if`, `case`, a function...) is a syntax
error at which they stop reading the file (`stops_at`). fish reads a CR as a blank (`end`
works), systemd's environment.d parser as the end of the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from .shellwords import INSIDE, parses, tokens, word_end

Syntax = Literal["posix", "zsh", "fish", "environment.d", "powershell"]  # zsh: posix, and how zsh stops reading

NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_NAME = re.compile(NAME)
_ASSIGN = re.compile(rf"({NAME})=")
_POSIX_BUILTINS = frozenset({"export", "readonly", "local", "declare", "typeset"})
_OPTION = re.compile(r"-[A-Za-z]+")
# fish's `set` options before the name: short clusters (`-gx`) and long words (`--export`).
FISH_FLAG = r"(?:-[A-Za-z]+|--[a-z]+)"
_FISH_SET = re.compile(rf"\s*set\s+((?:{FISH_FLAG}\s+)*)({NAME})(?:\s+(.*))?$", re.DOTALL)
# `set -e` erases, `set -q` asks, `set -n`/`-S` list: none of them sets a value.
FISH_NOT_SETTING = frozenset({"--erase", "--query", "--names", "--show"})
FISH_NOT_SETTING_SHORT = frozenset("eqnS")
_ENVD_ASSIGN = re.compile(rf"[ \t]*({NAME})[ \t]*=")
_COMMENT_AFTER = " \t;&|()"  # a `#` starts a comment only at the start of a word
HEREDOC = "<<"  # the state of a line inside a here-document's body
_POSIX_OUTSIDE = re.compile(r"[\\'\"#()<]")
_FISH_OUTSIDE = re.compile(r"[\\'\"#]")
_CANDIDATE = re.compile(rf"[ \t]*(?:(?:export|readonly|local|declare|typeset)[ \t]|{NAME}=)")


FISH_BLANKS = " \t\r"  # fish 3.6 splits words at a CR as at a space (seen with the real shell)


def cr_in_words(syntax: Syntax) -> bool:
    """Whether a CR before a line's LF belongs to the line's last word (bash, zsh, dash): a
    CR LF file then needs our own lines to end in a comment that takes the CR, and no blank
    line of ours (it would run the command "\r")."""
    return syntax in ("posix", "zsh")


def syntax_of(path: str) -> Syntax:
    """How the shell that reads this file reads it: fish's files, environment.d's, zsh's own
    startup files, and the rest as bash and sh do."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    if name.endswith(".fish"):
        return "fish"
    if name.lower().endswith(".ps1"):
        return "powershell"
    if path.replace("\\", "/").rsplit("/", 2)[-2:-1] == ["environment.d"]:
        return "environment.d"
    return "zsh" if name in ZSH_FILES else "posix"


ZSH_FILES = frozenset({".zshenv", ".zprofile", ".zshrc", ".zlogin", ".zlogout"})


def fish_sets(flags: Iterable[str]) -> bool:
    """True when `set` with these options assigns (rather than erases, asks or lists)."""
    words = list(flags)
    short = {c for word in words if not word.startswith("--") for c in word[1:]}
    return not (FISH_NOT_SETTING.intersection(words) or short & FISH_NOT_SETTING_SHORT)


def physical_lines(text: str) -> list[str]:
    """Lines as a shell counts them: only LF ends a line; a CR stays part of the line (and of
    an unquoted value, as bash keeps it), and form feeds are ordinary characters."""
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


@dataclass(frozen=True)
class Assignment:
    """`name` is set by the command starting on a logical line; `value` is the raw text of the
    value word (quotes and escapes as written, continuations joined); `line` is the 0-based
    physical line the name stands on."""

    name: str
    value: str
    line: int


@dataclass(frozen=True)
class Logical:
    """One logical line: physical lines first..last joined as the shell reads them."""

    first: int
    last: int
    text: str
    offsets: tuple[int, ...]  # where each physical line's part starts in `text`

    def line_at(self, at: int) -> int:
        """The physical line the character at `at` came from."""
        return self.first + sum(1 for offset in self.offsets[1:] if offset <= at)


@dataclass
class _Scan:
    state: str  # '' clean, the open quote (`'`, `"`, `$'`), or '\\' (continued)
    joined: bool  # the line ended in a backslash that joins it to the next (and is dropped)
    heredocs: list[tuple[str, bool]]  # delimiters opened on this line (word, strip leading tabs)


def _heredoc(line: str, i: int) -> tuple[tuple[str, bool] | None, int]:
    """The here-document opened by `<<` at i: its delimiter (quotes removed) and `<<-`."""
    j = i + 2
    strip = line[j : j + 1] == "-"
    j += 1 if strip else 0
    while j < len(line) and line[j] in " \t":
        j += 1
    word: list[str] = []
    quote = ""
    while j < len(line) and (quote or line[j] not in " \t;&|<>()"):
        c = line[j]
        if quote and c == quote:
            quote = ""
        elif quote:
            word.append(c)
        elif c in "'\"":
            quote = c
        elif c == "\\" and j + 1 < len(line):
            j += 1
            word.append(line[j])
        else:
            word.append(c)
        j += 1
    delimiter = "".join(word)
    return ((delimiter, strip) if delimiter else None), j


def _scan_shell(line: str, state: str, fish: bool) -> _Scan:
    """Quote state after one sh/fish line, whether it continues, and heredocs it opens (jumping
    from one character that matters to the next: rc files hold megabyte lines)."""
    quote = "" if state == "\\" else state
    heredocs: list[tuple[str, bool]] = []
    i, depth, size = 0, 0, len(line)
    while i < size:
        if quote == "'" and not fish:
            end = line.find("'", i)
            if end < 0:
                break
            quote, i = "", end + 1
            continue
        pattern = INSIDE.get(quote, _FISH_OUTSIDE if fish else _POSIX_OUTSIDE)
        match = pattern.search(line, i)
        if match is None:
            break
        j = match.start()
        char = line[j]
        if char == "\\" and quote == "'":  # fish: only \\ and \' are escapes in single quotes
            i = j + (2 if line[j + 1 : j + 2] in ("\\", "'") else 1)
        elif char == "\\":
            if j + 1 == size:
                return _Scan(quote or "\\", True, heredocs)
            i = j + 2
        elif quote:  # the closing quote
            quote, i = "", j + 1
        elif char == "'" and not fish and line[j - 1 : j] == "$" and line[j - 2 : j - 1] != "\\":
            quote, i = "$'", j + 1
        elif char in "'\"":
            quote, i = char, j + 1
        elif char == "#":
            if j == 0 or line[j - 1] in _COMMENT_AFTER or (fish and line[j - 1] == "\r"):
                break
            i = j + 1
        elif char in "()":
            depth, i = max(0, depth + (1 if char == "(" else -1)), j + 1
        elif line.startswith("<<<", j):  # a here-string, not a here-document
            i = j + 3
        elif line.startswith(HEREDOC, j) and depth == 0:
            opened, i = _heredoc(line, j)
            heredocs += [opened] if opened else []
        else:
            i = j + 1
    return _Scan(quote, False, heredocs)


def _scan_envd(line: str, state: str) -> _Scan:
    """The same for environment.d as systemd parses it: quotes only open a value, `#`/`;` a line."""
    quote = "" if state == "\\" else state
    if not state and line.lstrip(" \t")[:1] in ("#", ";"):
        return _Scan("", False, [])
    opening = bool(quote)
    i = 0
    while i < len(line):
        char = line[i]
        if quote == '"' and char == "\\":
            if i + 1 == len(line):
                return _Scan(quote, True, [])
            i += 1
        elif quote:
            quote = "" if char == quote else quote
        elif char == "\\":
            if i + 1 == len(line):
                return _Scan("\\", True, [])
            i, opening = i + 1, False
        elif char in "'\"" and opening:
            quote = char
        else:
            opening = (char == "=" and not state) or (opening and char in " \t")
        i += 1
    return _Scan(quote, False, [])


_PS_HERE = re.compile(r"@(['\"])[ \t]*$")
_PS_OUTSIDE = re.compile(r"[`'\"#<@]")


def _scan_powershell(line: str, state: str) -> _Scan:
    """PowerShell (about_Quoting_Rules, about_Comments): '...' doubles its quote, "..." escapes
    with a backtick, here-strings open with @' or @" at a line's end and close with '@ or "@
    at the start of a line, <# ... #> comments span lines, a final backtick continues the line."""
    if state in ("@'", '@"'):
        return _Scan("" if line.startswith(state[1] + "@") else state, False, [])
    quote = "" if state == "\\" else state
    i, size = 0, len(line)
    while i < size:
        if quote == "<#":
            end = line.find("#>", i)
            if end < 0:
                break
            quote, i = "", end + 2
            continue
        if quote in ("'", '"'):
            j = i
            while j < size and line[j] != quote and not (quote == '"' and line[j] == "`"):
                j += 1
            if j >= size:
                break
            if line[j] == "`" or line[j + 1 : j + 2] == quote:
                i = j + 2
            else:
                quote, i = "", j + 1
            continue
        match = _PS_OUTSIDE.search(line, i)
        if match is None:
            break
        j = match.start()
        char = line[j]
        if char == "`":
            if j + 1 == size:
                return _Scan("\\", True, [])
            i = j + 2
        elif char in "'\"":
            quote, i = char, j + 1
        elif char == "<" and line.startswith("<#", j):
            quote, i = "<#", j + 2
        elif char == "#":
            if j == 0 or line[j - 1] in _COMMENT_AFTER:
                break
            i = j + 1
        elif char == "@" and _PS_HERE.match(line, j):
            return _Scan("@" + line[j + 1], False, [])
        else:
            i = j + 1
    return _Scan(quote, False, [])


def _scan(line: str, state: str, syntax: Syntax) -> _Scan:
    if syntax == "environment.d":
        return _scan_envd(line, state)
    if syntax == "powershell":
        return _scan_powershell(line, state)
    return _scan_shell(line, state, syntax == "fish")


def _heredoc_end(line: str, delimiter: tuple[str, bool]) -> bool:
    word, strip = delimiter
    return (line.lstrip("\t") if strip else line) == word


def _analyse(lines: list[str], syntax: Syntax) -> tuple[list[str], list[Logical]]:
    """The state at the start of each line (and after the last), and the logical lines."""
    states: list[str] = [""]
    logical: list[Logical] = []
    pending: list[tuple[str, bool]] = []
    parts: list[str] = []
    offsets: list[int] = []
    first, size = 0, 0
    for index, line in enumerate(lines):
        if states[-1] == HEREDOC:  # a here-document's body: text, not commands
            if _heredoc_end(line, pending[0]):
                pending.pop(0)
            states.append(HEREDOC if pending else "")
            continue
        if not states[-1]:
            first, parts, offsets, size = index, [], [], 0
        scan = _scan(line, states[-1], syntax)
        piece = line[:-1] if scan.joined else line
        if scan.state and not scan.joined:
            piece += "\n"  # a newline inside quotes is part of the value
        parts.append(piece)
        offsets.append(size)
        size += len(piece)
        pending += scan.heredocs
        states.append(scan.state)
        if not scan.state:
            logical.append(Logical(first, index, "".join(parts), tuple(offsets)))
            states[-1] = HEREDOC if pending else ""
    if states[-1] and states[-1] != HEREDOC:  # an unterminated quote or continuation at the end
        text = "".join(parts)
        logical.append(Logical(first, len(lines) - 1, text.removesuffix("\n"), tuple(offsets)))
    return states, logical


def starts(lines: list[str], syntax: Syntax) -> list[str]:
    """Lexer state at the start of each physical line, and after the last: '' when a new
    command can start there; a quote, '\\' (continued) or HEREDOC when it is inside one."""
    return _analyse(lines, syntax)[0]


def logical_lines(lines: list[str], syntax: Syntax) -> list[Logical]:
    """The commands of the file, each joined over the physical lines it spans."""
    return _analyse(lines, syntax)[1]


def _words(text: str) -> list[tuple[int, str]]:
    """The words of the first simple command of a POSIX logical line, with their offsets."""
    words: list[tuple[int, str]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in " \t":
            i += 1
            continue
        if char in ";&|<>()#\n":
            break
        end = word_end(text, i)
        if end < len(text) and text[end] == "(" and text[i:end].endswith("="):
            end = word_end(text, end + 1) + 1  # `X=(a b)`: an array, read as one word
        words.append((i, text[i:end]))
        i = max(end, i + 1)
    return words


def _posix_assignments(line: Logical) -> list[Assignment]:
    """Assignments of the command a logical line starts: `NAME=v ...` alone (not the
    temporary ones before a command: `NAME=v cmd`), or the arguments of export and friends."""
    if not _CANDIDATE.match(line.text):
        return []
    words = _words(line.text)
    if words and words[0][1] in _POSIX_BUILTINS:
        rest = words[1:]
        while rest and _OPTION.fullmatch(rest[0][1]):
            rest = rest[1:]
        chosen = [(at, word) for at, word in rest if _ASSIGN.match(word)]
    else:
        chosen = [(at, word) for at, word in words if _ASSIGN.match(word)]
        if len(chosen) != len(words):
            chosen = []  # a command follows: the assignments are its environment, not the shell's
    found = []
    for at, word in chosen:
        name = word.split("=", 1)[0]
        found.append(Assignment(name, word[len(name) + 1 :], line.line_at(at)))
    return found


def _fish_assignments(line: Logical) -> list[Assignment]:
    match = _FISH_SET.match(line.text)
    if match is None or not fish_sets(match.group(1).split()):
        return []
    return [Assignment(match.group(2), match.group(3) or "", line.line_at(match.start(2)))]


def _envd_assignments(line: Logical) -> list[Assignment]:
    match = _ENVD_ASSIGN.match(line.text)
    if match is None:
        return []
    value = line.text[match.end() :]
    return [Assignment(match.group(1), value, line.line_at(match.start(1)))]


# `$env:NAME = ...` and `${env:NAME} = ...` (about_Environment_Variables); names ignore case.
_PS_ASSIGN = re.compile(rf"[ \t]*(?:\$env:({NAME})|\$\{{env:({NAME})\}})[ \t]*=(?![=])", re.IGNORECASE)


def _powershell_assignments(line: Logical) -> list[Assignment]:
    match = _PS_ASSIGN.match(line.text)
    if match is None:
        return []
    name = match.group(1) or match.group(2)
    at = match.start(1) if match.group(1) else match.start(2)
    return [Assignment(name, line.text[match.end() :].strip(" \t"), line.line_at(at))]


def assignments(lines: list[str], syntax: Syntax) -> list[Assignment]:
    """Every assignment in the file, in order, as the shell (or systemd) would make them:
    none from the line where the shell stops reading (`stops_at`) on."""
    pick = {
        "posix": _posix_assignments,
        "zsh": _posix_assignments,
        "fish": _fish_assignments,
        "environment.d": _envd_assignments,
        "powershell": _powershell_assignments,
    }[syntax]
    logical = logical_lines(lines, syntax)
    stop = _stop(logical, syntax)
    return [
        found
        for line in logical
        if line.text.strip() and (stop is None or line.first < stop.first)
        for found in pick(line)
    ]


def stops_at(lines: list[str], syntax: Syntax) -> Logical | None:
    """The command at which the shell stops reading the file with a syntax error, or None.
    Only CR LF lines are judged (see the module's docstring): a CR line whose compound
    command does not close on it, or that puts a word where bash wants an operator."""
    return _stop(logical_lines(lines, syntax), syntax)


def _stop(logical: list[Logical], syntax: Syntax) -> Logical | None:
    if not cr_in_words(syntax):
        return None
    for line in logical:
        if "\r" in line.text and (not parses(line.text) or (syntax == "zsh" and not _zsh_goes_on(line.text))):
            return line
    return None


_ZSH_FATAL = frozenset({"export", "readonly", "unset", "typeset", "declare", "local", "integer", "float"})


def _zsh_goes_on(text: str) -> bool:
    """zsh stops reading a file at `export`, `unset` and their kin given a word that names no
    variable ("not valid in this context", "invalid parameter name"): on a CR LF line, a name
    followed by the line's CR (`export PATH`, `unset X`), or the CR alone after a `\\`. bash
    says so and goes on."""
    words = tokens(text)
    starts = [0] + [i + 1 for i, word in enumerate(words) if word in (";", "&&", "||", "|", "&", "(", ")")]
    for start in starts:
        if words[start : start + 1] and words[start] in _ZSH_FATAL:
            unset = words[start] == "unset"
            for word in words[start + 1 :]:
                if word in (";", "&&", "||", "|", "&", "(", ")", "<", ">"):
                    break
                if word.startswith("-"):
                    continue
                if not (is_name(word) or (not unset and _ASSIGN.match(word))):
                    return False
    return True


def sets(line: str, name: str, syntax: Syntax) -> bool:
    """True if this one line, read on its own, assigns `name`."""
    return any(found.name == name for found in assignments([line], syntax))


def is_name(name: str) -> bool:
    return _NAME.fullmatch(name) is not None
