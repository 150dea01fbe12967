"""Read variable assignments out of shell startup files without running them.

Shell files are code; we never execute them (a drive's path may be in them, and a user's rc
file may do anything). We recognise the plain forms people use to set uv's variables and
expand only what can be known statically: `$HOME`, `${VAR}`, `~`, and earlier assignments.
Anything else (command substitution, arithmetic, unknown variables) yields value None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .model import Definition, Source, SourceKind
from .shelllex import FISH_BLANKS, Syntax, assignments, physical_lines, syntax_of
from .shelllex import NAME as _NAME

_VAR_REF = re.compile(rf"\$(?:\{{({_NAME})\}}|({_NAME}))")


@dataclass(frozen=True)
class Word:
    """A shell word after quote removal; `value` None when it needs running code to know."""

    value: str | None
    rest: str  # what followed the word on the line (a `;`, a comment, another command)


def _expand(text: str, known: Mapping[str, str]) -> str | None:
    """Expand $NAME and ${NAME}; None if any name is unknown."""
    missing = False

    def sub(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1) or match.group(2)
        if name not in known:
            missing = True
            return ""
        return known[name]

    expanded = _VAR_REF.sub(sub, text)
    return None if missing else expanded


def _dynamic(text: str) -> bool:
    """Command substitution, arithmetic, or a `${...}` that is more than `${NAME}` (`${X:-d}`,
    `${X#p}`, `${#X}`): its value needs running the shell."""
    if "$(" in text or "`" in text:
        return True
    return any(not re.match(rf"\$\{{{_NAME}\}}", text[i:]) for i in _dollar_braces(text))


def _dollar_braces(text: str) -> list[int]:
    return [m.start() for m in re.finditer(r"(?<!\\)\$\{", text)]


def _expand_shell(text: str, known: Mapping[str, str], *, double: bool) -> str | None:
    """Expand $NAME and ${NAME} as bash does in an unquoted word (`double` False) or inside
    double quotes: a backslash-escaped `$` stays a literal `$` (`\\$HOME/c`); None for a
    name we do not know or a special parameter ($1, $@, $$)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            nxt = text[i + 1 : i + 2]
            if not double or nxt in ("\\", '"', "$", "`"):
                out.append(nxt)  # unquoted: any escaped character is itself; a final `\\` continues the line
                i += 2
                continue
            out.append(ch)
            i += 1
            continue
        if ch == "$":
            match = _VAR_REF.match(text, i)
            if match is not None:
                name = match.group(1) or match.group(2)
                if name not in known:
                    return None
                out.append(known[name])
                i = match.end()
                continue
            if text[i + 1 : i + 2] and text[i + 1] in "0123456789@*#?$!-{(":
                return None
        out.append(ch)
        i += 1
    return "".join(out)


def read_word(text: str, known: Mapping[str, str]) -> Word:
    """Remove quotes from one POSIX shell word, expanding what can be known."""
    out: list[str] = []
    unknown = False
    i = 0
    if text.startswith("~") and (len(text) == 1 or text[1] in "/\"' \t;"):
        home = known.get("HOME")
        unknown = home is None
        out.append(home or "")
        i = 1
    while i < len(text):
        ch = text[i]
        if ch in " \t;&|":
            break
        if ch == "'":
            end = text.find("'", i + 1)
            if end < 0:
                return Word(None, "")
            out.append(text[i + 1 : end])
            i = end + 1
            continue
        if ch == '"':
            end = _closing_quote(text, i + 1)
            if end < 0:
                return Word(None, "")
            inner = text[i + 1 : end]
            piece = None if _dynamic(inner) else _expand_shell(inner, known, double=True)
            unknown |= piece is None
            out.append(piece or "")
            i = end + 1
            continue
        j = i
        while j < len(text) and text[j] not in " \t;&|'\"":
            j += 2 if text[j] == "\\" else 1  # `My\ Drive`: an escaped blank does not end the word
        j = min(j, len(text))
        chunk = text[i:j]
        piece = None if _dynamic(chunk) else _expand_shell(chunk, known, double=False)
        unknown |= piece is None
        out.append(piece or "")
        i = j
    return Word(None if unknown else "".join(out), text[i:])


def _closing_quote(text: str, start: int) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i
        i += 1
    return -1


def _fish_words(text: str, known: Mapping[str, str]) -> str | None:
    """fish joins list values with spaces for export; we only need the first word."""
    text = text.lstrip(FISH_BLANKS)  # the word ends at its first unescaped blank (`\\` CR is a CR)
    return read_fish_word(text, known) if text else ""


def read_fish_word(text: str, known: Mapping[str, str]) -> str | None:
    """One fish word: in single quotes only \\ and \' are escapes (unlike POSIX shells);
    `(...)` and `$(...)` are command substitutions, so the value cannot be known. A CR ends
    the word, as a space does (a CR LF config.fish)."""
    out: list[str] = []
    i = 0
    if text.startswith("~") and (len(text) == 1 or text[1] in f"/;{FISH_BLANKS}"):
        if "HOME" not in known:
            return None
        out.append(known["HOME"])
        i = 1
    while i < len(text) and text[i] not in f";{FISH_BLANKS}":
        ch = text[i]
        if ch == "'":
            piece, i = _fish_single(text, i + 1)
        elif ch == '"':
            piece, i = _fish_double(text, i + 1, known)
        elif ch == "\\" and i + 1 < len(text):
            piece, i = text[i + 1], i + 2
        elif ch == "(" or text.startswith("$(", i):
            return None
        elif ch == "$":
            piece, i = _fish_variable(text, i, known)
        else:
            piece, i = ch, i + 1
        if piece is None:
            return None
        out.append(piece)
    return "".join(out)


def _fish_single(text: str, i: int) -> tuple[str | None, int]:
    out: list[str] = []
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in "\\'":
            out.append(text[i + 1])
            i += 2
        elif text[i] == "'":
            return "".join(out), i + 1
        else:
            out.append(text[i])
            i += 1
    return None, i  # unterminated


def _fish_double(text: str, i: int, known: Mapping[str, str]) -> tuple[str | None, int]:
    out: list[str] = []
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in '\\"$':
            out.append(text[i + 1])
            i += 2
        elif ch == '"':
            return "".join(out), i + 1
        elif text.startswith("$(", i):
            return None, i
        elif ch == "$":
            piece, i = _fish_variable(text, i, known)
            if piece is None:
                return None, i
            out.append(piece)
        else:
            out.append(ch)
            i += 1
    return None, i


def _fish_variable(text: str, i: int, known: Mapping[str, str]) -> tuple[str | None, int]:
    match = re.compile(_NAME).match(text, i + 1)
    if match is None:
        return "$", i + 1
    name = match.group(0)
    return known.get(name), match.end()


def parse_shell(
    text: str,
    *,
    file: str,
    names: Iterable[str],
    known: Mapping[str, str],
    fish: bool = False,
) -> list[Definition]:
    """Definitions of `names` in a bash/zsh/sh (or fish) file, in file order (zsh's own files,
    by name, as zsh reads them)."""
    wanted = set(names)
    scope = dict(known)
    found: list[Definition] = []
    lines = physical_lines(text)
    syntax: Syntax = "fish" if fish else ("zsh" if syntax_of(file) == "zsh" else "posix")
    for assigned in assignments(lines, syntax):
        value = _fish_words(assigned.value, scope) if fish else _posix_value(assigned.value, scope)
        value = _one_line(value)
        if value is not None:
            scope[assigned.name] = value
        if assigned.name in wanted:
            source = Source(SourceKind.SHELL_FILE, file=file, line=assigned.line + 1, name=assigned.name)
            found.append(Definition(assigned.name, value, source, raw=lines[assigned.line].strip()))
    return found


def _one_line(value: str | None) -> str | None:
    """A value quoted over several lines is no path a person means: unknown, not guessed."""
    return None if value is None or "\n" in value else value


def _posix_value(raw: str, scope: Mapping[str, str]) -> str | None:
    """The value of one assignment word; an array (`X=(a b)`) is not a plain value, and
    bash's `$'...'` escapes are not worked out here."""
    return None if raw.startswith("(") or _ansi_c_quoted(raw) else read_word(raw, scope).value


def _ansi_c_quoted(raw: str) -> bool:
    """Whether the word holds a `$'...'` quote: only where `$` is unquoted (`'$'` is a dollar)."""
    quote, i = "", 0
    while i < len(raw):
        ch = raw[i]
        if quote == "'":
            quote = "" if ch == "'" else quote
        elif ch == "\\":
            i += 1
        elif quote == '"':
            quote = "" if ch == '"' else quote
        elif raw.startswith("$'", i):
            return True
        elif ch in "'\"":
            quote = ch
        i += 1
    return False


_PS_VARIABLE = re.compile(rf"\$(?:env:({_NAME})|\{{env:({_NAME})\}}|(HOME)\b)", re.IGNORECASE)
_PS_ESCAPES = {"`": "`", '"': '"', "$": "$", "'": "'", "0": "\0", "n": "\n", "r": "\r", "t": "\t"}


def powershell_value(raw: str, known: Mapping[str, str]) -> str | None:
    """The string a `$env:NAME = ...` assigns, when it is a plain string (about_Quoting_Rules):
    '...' is literal ('' is a quote); "..." expands $env:NAME, ${env:NAME} and $HOME and takes
    backtick escapes. Anything else (an expression, a command, `$(...)`) needs PowerShell: None."""
    text = raw.strip()
    if text[:1] == "'":
        value, end = _ps_single(text)
    elif text[:1] == '"':
        value, end = _ps_double(text, {k.upper(): v for k, v in known.items()})
    else:
        return None
    rest = text[end:].strip()
    return value if value is not None and (not rest or rest[0] in ";#") else None


def _ps_single(text: str) -> tuple[str | None, int]:
    out, i = [], 1
    while i < len(text):
        if text[i] == "'":
            if text[i + 1 : i + 2] == "'":
                out.append("'")
                i += 2
                continue
            return "".join(out), i + 1
        out.append(text[i])
        i += 1
    return None, len(text)


def _ps_double(text: str, known: Mapping[str, str]) -> tuple[str | None, int]:
    out, i = [], 1
    while i < len(text):
        char = text[i]
        if char == "`" and i + 1 < len(text):
            escaped = _PS_ESCAPES.get(text[i + 1])
            if escaped is None:
                out.append(text[i + 1])
            else:
                out.append(escaped)
            i += 2
        elif char == '"' and text[i + 1 : i + 2] == '"':
            out.append('"')
            i += 2
        elif char == '"':
            return "".join(out), i + 1
        elif char == "$":
            match = _PS_VARIABLE.match(text, i)
            if match is None:
                return (None, i) if text[i + 1 : i + 2].strip() else ("".join(out) + "$", i + 1)
            name = (match.group(1) or match.group(2) or match.group(3)).upper()
            if name not in known:
                return None, i
            out.append(known[name])
            i = match.end()
        else:
            out.append(char)
            i += 1
    return None, len(text)


def parse_powershell(text: str, *, file: str, names: Iterable[str], known: Mapping[str, str]) -> list[Definition]:
    """`$env:NAME = 'value'` in a PowerShell profile; names ignore case, as on Windows."""
    wanted = {name.upper(): name for name in names}
    scope = {k.upper(): v for k, v in known.items()}
    found: list[Definition] = []
    lines = physical_lines(text.removeprefix("\ufeff"))
    for assigned in assignments(lines, "powershell"):
        value = _one_line(powershell_value(assigned.value, scope))
        upper = assigned.name.upper()
        if value is not None:
            scope[upper] = value
        if upper in wanted:
            source = Source(SourceKind.SHELL_FILE, file=file, line=assigned.line + 1, name=wanted[upper])
            found.append(Definition(wanted[upper], value, source, raw=lines[assigned.line].strip()))
    return found


def envd_value(raw: str, known: Mapping[str, str]) -> str | None:
    """systemd's reading of a value: unescaped blanks around it dropped, backslash escapes
    removed, then `$$` is a literal `$` and $X / ${X} are expanded; ${X:-default} needs X's
    runtime value, so None."""
    if re.search(r"\$\{[^}]*:", raw):
        return None
    chars: list[tuple[str, bool]] = []  # (character, was escaped)
    text, i = raw.lstrip(" \t\r"), 0  # systemd's whitespace is ASCII only
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            chars.append((text[i + 1], True))
            i += 2
        else:
            chars.append((text[i], False))
            i += 1
    while chars and not chars[-1][1] and chars[-1][0] in " \t\r":
        chars.pop()
    dollar = "\0"  # NUL never occurs in a line we read
    unescaped = "".join(c for c, _ in chars)  # systemd expands `\$HOME` too: only `$$` is literal
    expanded = _expand(unescaped.replace("$$", dollar), known)
    return None if expanded is None else expanded.replace(dollar, "$")


def parse_environment_d(text: str, *, file: str, names: Iterable[str], known: Mapping[str, str]) -> list[Definition]:
    """systemd environment.d(5): KEY=VALUE lines, $VAR and ${VAR} expanded, no quotes."""
    wanted = set(names)
    scope = dict(known)
    found: list[Definition] = []
    lines = physical_lines(text)
    for assigned in assignments(lines, "environment.d"):
        value = _one_line(envd_value(assigned.value, scope))  # it keeps its escaped trailing blanks
        if value is not None:
            scope[assigned.name] = value
        if assigned.name in wanted:
            source = Source(SourceKind.ENVIRONMENT_D, file=file, line=assigned.line + 1, name=assigned.name)
            found.append(Definition(assigned.name, value, source, raw=lines[assigned.line].strip()))
    return found
