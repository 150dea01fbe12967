"""Pure text edits to a user's files: quoting, one fenced block, turning lines off, TOML keys.

No I/O here: callers read a file, call one of these, show the diff and write it atomically.
Our shell edits live in one conda-initialize-style block that can be rewritten or removed
exactly; values come from drives (untrusted), so they are quoted for the target syntax and
refused when they hold characters no quoting makes safe.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Literal

import tomlkit
from tomlkit.exceptions import TOMLKitError

BEGIN = "# >>> uv-drive-guard >>>"
END = "# <<< uv-drive-guard <<<"
NOTE = "# Managed by uv-drive-guard: `uv-drive-guard undo` or `history` to see why."
DISABLED = "# uv-drive-guard disabled: "
Syntax = Literal["posix", "fish", "environment.d"]

MAX_VALUE = 4096
# Cc: C0, DEL, C1 (NEL); Cs: lone surrogates (undecodable path bytes, not UTF-8-writable);
# Zl/Zp: U+2028/U+2029, which Python's splitlines() (and so our own scanner) treats as line ends.
_REFUSED = {
    "Cc": "a control character",
    "Cs": "an undecodable byte",
    "Zl": "a line separator",
    "Zp": "a line separator",
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FISH_FLAGS = r"(?:(?:-[A-Za-z]+|--[a-z]+)\s+)*"
_FISH_NOT_SETTING = {"--erase", "--query", "--names", "--show"}
_OPENS_BODY = re.compile(r"(?:^|[\s;])(?:then|do|else)\s*$|\{\s*$")
_CLOSES_BODY = re.compile(r"\s*(?:fi|done|else|elif|\})(?:[\s;]|$)")


class UnsafeValue(ValueError):
    """A value we refuse to write: no quoting makes it safe or faithful in the target file."""


class StaleLine(ValueError):
    """The file changed since the scan: editing now could turn off the wrong line."""


class InOwnBlock(ValueError):
    """The line is inside our block: change it with set_in_block, not by commenting it out."""


class CannotDisable(ValueError):
    """Commenting the line out would break the file (multi-line construct, empty if/do body)."""


# --- values and quoting -------------------------------------------------------------------


def check_value(value: str) -> None:
    """Refuse what could end a line, hide code, or not survive UTF-8: a drive names it, not us."""
    if len(value) > MAX_VALUE:
        raise UnsafeValue(f"value is {len(value)} characters long; the limit is {MAX_VALUE}")
    for index, char in enumerate(value):
        what = _REFUSED.get(unicodedata.category(char))
        if what is not None:
            raise UnsafeValue(f"value contains {what} (U+{ord(char):04X}) at position {index}")


def quote_posix(value: str) -> str:
    """Single quotes: nothing inside expands in sh, bash or zsh; a quote is closed, escaped, reopened."""
    check_value(value)
    return "'" + value.replace("'", "'\\''") + "'"


def quote_fish(value: str) -> str:
    """fish single quotes expand nothing; only backslash and quote need escaping there."""
    check_value(value)
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def envd_value(value: str) -> str:
    """environment.d(5) as systemd reads it: `\\` escapes, `$$` is a literal `$` (`\\$` would still expand)."""
    check_value(value)
    out = value.replace("\\", "\\\\").replace("$", "$$").replace(" ", "\\ ")
    return "\\" + out if out[:1] in ("'", '"') else out


def _check_name(name: str) -> None:
    """A name is spliced into code unquoted, so it must be a plain identifier."""
    if not _NAME.fullmatch(name):
        raise UnsafeValue(f"{name!r} is not a valid environment variable name")


def assignment(name: str, value: str, syntax: Syntax) -> str:
    """The one line that sets `name` in the target syntax, quoted so the value is taken literally."""
    _check_name(name)
    if syntax == "posix":
        return f"export {name}={quote_posix(value)}"
    if syntax == "fish":
        return f"set -gx {name} {quote_fish(value)}"
    return f"{name}={envd_value(value)}"


# --- lines and newlines -------------------------------------------------------------------


def _newline(text: str) -> str:
    """The file's newline: CRLF when most line ends are CRLF, so our own lines never flip it."""
    crlf = text.count("\r\n")
    return "\r\n" if crlf > text.count("\n") - crlf else "\n"


def _split(text: str) -> list[str]:
    """Lines with their ends, split on LF only: shells do not break lines at U+2028 or FF."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    return [*lines, parts[-1]] if parts[-1] else lines


def _content(line: str) -> tuple[str, str]:
    """Split a line into its text and its line end, so edits keep the end it had."""
    for end in ("\r\n", "\n"):
        if line.endswith(end):
            return line[: -len(end)], end
    return line, ""


def _bare(line: str) -> str:
    return _content(line)[0].strip(" \t")


def _find_block(lines: list[str]) -> tuple[int, int] | None:
    """Index of our BEGIN and END lines; a damaged or doubled block is an error, not a guess."""
    begins = [i for i, line in enumerate(lines) if _bare(line) == BEGIN]
    ends = [i for i, line in enumerate(lines) if _bare(line) == END]
    if not begins and not ends:
        return None
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise ValueError(
            f"damaged uv-drive-guard block ({len(begins)} start and {len(ends)} end markers): "
            "fix or remove it by hand; nothing was changed"
        )
    return begins[0], ends[0]


def _cut(lines: list[str], start: int, stop: int, nl: str) -> str:
    """Remove lines[start:stop] and the separator we added before them when they were appended."""
    prefix, suffix = "".join(lines[:start]), "".join(lines[stop:])
    if suffix or not prefix.endswith(nl):
        return prefix + suffix
    return prefix[: -len(nl)]


def _append(text: str, chunk: str, nl: str) -> str:
    """Append after a blank line (or just end the last line if it had no newline): `_cut` undoes it."""
    return text + nl + chunk if text else chunk


# --- the fenced block ---------------------------------------------------------------------


def _setter(name: str, syntax: Syntax) -> re.Pattern[str]:
    """A line that assigns `name` in `syntax` (the forms the scanner recognises, and ours)."""
    if syntax == "posix":
        prefix = r"(?:(?:export|readonly|local|(?:declare|typeset)(?:\s+-[A-Za-z]+)*)\s+)?"
        return re.compile(rf"\s*{prefix}{name}=")
    if syntax == "fish":
        return re.compile(rf"\s*set\s+({_FISH_FLAGS}){name}(?:\s|$)")
    return re.compile(rf"[ \t]*{name}[ \t]*=")


def _sets(line: str, name: str, syntax: Syntax) -> bool:
    """True if the line assigns `name` (for fish: not `set -e` / `set -q`, which only erase or ask)."""
    match = _setter(name, syntax).match(_content(line)[0])
    if match is None or syntax != "fish":
        return match is not None
    flags = match.group(1).split()
    short = {c for flag in flags if not flag.startswith("--") for c in flag[1:]}
    return not (_FISH_NOT_SETTING.intersection(flags) or short & set("eqnS"))


def _is_code(line: str) -> bool:
    text = _bare(line)
    return bool(text) and not text.startswith("#")


def _new_body(body: list[str], name: str, line: str | None, syntax: Syntax, nl: str) -> list[str]:
    """The block's inner lines with `name` set in place of its first line there (or unset)."""
    out: list[str] = []
    placed = line is None
    for old in body:
        if not _sets(old, name, syntax):
            out.append(old)
        elif not placed:
            out.append(line + nl if line is not None else old)
            placed = True
    return out if placed else [*out, f"{line}{nl}"]


def set_in_block(text: str, name: str, value: str | None, *, syntax: Syntax) -> str:
    """Set (or with None unset) `name` in our block, creating it or removing it when empty."""
    _check_name(name)
    line = None if value is None else assignment(name, value, syntax)
    lines, nl = _split(text), _newline(text)
    found = _find_block(lines)
    if found is None:
        return text if line is None else _append(text, nl.join([BEGIN, NOTE, line, END]) + nl, nl)
    begin, end = found
    body = _new_body(lines[begin + 1 : end], name, line, syntax, nl)
    if not any(_is_code(old) for old in body):
        return _cut(lines, begin, end + 1, nl)
    return "".join([*lines[: begin + 1], *body, *lines[end:]])


def lines_setting(text: str, name: str, *, syntax: Syntax) -> list[int]:
    """1-based lines outside our block that assign `name`: all must go before our block can win."""
    _check_name(name)
    lines = _split(text)
    found = _find_block(lines)
    ours = range(found[0], found[1] + 1) if found else range(0)
    clean = _starts(lines, syntax)  # a line that starts inside a quote is text, not an assignment
    return [i + 1 for i, line in enumerate(lines) if i not in ours and not clean[i] and _sets(line, name, syntax)]


# --- turning a user's line off ------------------------------------------------------------


def _carry_shell(state: str, line: str, fish: bool) -> str:
    """Quote state after a sh/fish line: '' (clean), the open quote, or '\\' (continued)."""
    quote = "" if state == "\\" else state
    i, prev = 0, " "
    while i < len(line):
        char = line[i]
        if quote and char == "\\" and (quote == '"' or fish):
            i += 1
        elif quote:
            quote = "" if char == quote else quote
        elif char == "\\":
            if i + 1 == len(line):
                return "\\"
            i += 1
        elif char in "'\"":
            quote = char
        elif char == "#" and prev in " \t;&|()":
            return ""
        prev = line[min(i, len(line) - 1)]  # a closing `\\"` at the very end leaves i past it
        i += 1
    return quote


def _carry_envd(state: str, line: str) -> str:
    """The same for environment.d as systemd parses it: quotes only open a value, `#`/`;` a line."""
    quote = "" if state == "\\" else state
    if not state and line.lstrip(" \t")[:1] in ("#", ";"):
        return ""
    opening = bool(quote)
    i = 0
    while i < len(line):
        char = line[i]
        if quote and char == "\\" and quote == '"':
            i += 1
        elif quote:
            quote = "" if char == quote else quote
        elif char == "\\":
            if i + 1 == len(line):
                return "\\"
            i, opening = i + 1, False
        elif char in "'\"" and opening:
            quote = char
        else:
            opening = (char == "=" and not state) or (opening and char in " \t")
        i += 1
    return quote


def _starts(lines: list[str], syntax: Syntax) -> list[str]:
    """Quote state at the start of each line, and after the last one."""
    states = [""]
    for line in lines:
        text = _content(line)[0]
        if syntax == "environment.d":
            states.append(_carry_envd(states[-1], text))
        else:
            states.append(_carry_shell(states[-1], text, syntax == "fish"))
    return states


def _empties_body(lines: list[str], index: int) -> bool:
    """`if ...; then` / `do` / `{` left with no command before `fi` / `done` / `}` is a sh syntax error."""
    before = [re.sub(r"\s#.*$", "", _content(x)[0]) for x in lines[:index] if _is_code(x)]
    after = [_content(x)[0] for x in lines[index + 1 :] if _is_code(x)]
    if not before or not after:
        return False
    return bool(_OPENS_BODY.search(before[-1].rstrip())) and bool(_CLOSES_BODY.match(after[0]))


def _check_can_disable(lines: list[str], index: int, syntax: Syntax) -> None:
    """Refuse to comment out part of a multi-line construct or the only command of a block."""
    states = _starts(lines[: index + 1], syntax)
    if states[index] or states[index + 1]:
        raise CannotDisable(f"line {index + 1} is part of a multi-line construct; turn it off by hand")
    if syntax == "posix" and _empties_body(lines, index):
        raise CannotDisable(f"line {index + 1} is the only command in its block; turn it off by hand")


def disable_line(text: str, line: int, expected: str | None, *, syntax: Syntax) -> str:
    """Comment out a user's line (reversibly, with our marker) after checking it is still the one seen."""
    lines = _split(text)
    if not 1 <= line <= len(lines):
        raise StaleLine(f"line {line} does not exist (the file has {len(lines)} lines)")
    found = _find_block(lines)
    if found and found[0] <= line - 1 <= found[1]:
        raise InOwnBlock(f"line {line} is inside the uv-drive-guard block")
    body, end = _content(lines[line - 1])
    if body.startswith(DISABLED):
        if expected is None or body[len(DISABLED) :].strip() == expected.strip():
            return text  # already off: a second apply is a no-op
        raise StaleLine(f"line {line} is already turned off and differs from what the scan saw")
    if expected is not None and body.strip() != expected.strip():
        raise StaleLine(f"line {line} now reads {body.strip()!r}, not {expected.strip()!r}")
    _check_can_disable(lines, line - 1, syntax)
    lines[line - 1] = DISABLED + body + end
    return "".join(lines)


# --- TOML (uv.toml, pyproject.toml [tool.uv]) ----------------------------------------------


def _parse(text: str) -> tomlkit.TOMLDocument:
    """Parse or refuse: a file we cannot parse is never rewritten."""
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ValueError(f"not valid TOML: {exc}") from exc


def _value(text: str) -> Any:
    try:
        return tomlkit.parse(text).unwrap()
    except TOMLKitError:
        return None


def _container(doc: tomlkit.TOMLDocument, table: tuple[str, ...], create: bool) -> Any:
    """The table holding our key; None when absent and not created."""
    node: Any = doc
    for depth, part in enumerate(table):
        if part not in node:
            if not create:
                return None
            node[part] = tomlkit.table(is_super_table=depth < len(table) - 1)
        node = node[part]
        if not isinstance(node, dict):
            raise ValueError(f"{'.'.join(table[: depth + 1])} is not a table")
    return node


def _header(table: tuple[str, ...]) -> re.Pattern[str]:
    dotted = r"\s*\.\s*".join(re.escape(part) for part in table)
    return re.compile(rf"\s*\[\s*{dotted}\s*\]\s*(?:#.*)?$")


def _key_line(key: str) -> re.Pattern[str]:
    quoted = "|".join(re.escape(k) for k in (key, f'"{key}"', f"'{key}'"))
    return re.compile(rf"\s*(?:{quoted})\s*=")


def _insert(text: str, index: int, line: str, nl: str) -> str:
    """Insert one line before lines[index]; at the end of a file without final newline, keep it so."""
    lines = _split(text)
    if index < len(lines) or not text or text.endswith("\n"):
        return "".join([*lines[:index], line + nl, *lines[index:]])
    return text + nl + line


def _drop(text: str, index: int) -> str:
    """Remove lines[index], the exact inverse of `_insert`."""
    lines = _split(text)
    if index == len(lines) - 1 and index > 0 and not lines[index].endswith("\n"):
        before = "".join(lines[:index])
        return before[: len(before) - len(_content(lines[index - 1])[1])]
    return "".join([*lines[:index], *lines[index + 1 :]])


def _with_newline(text: str, nl: str) -> str:
    """tomlkit writes LF; a CRLF file keeps CRLF."""
    return re.sub(r"(?<!\r)\n", "\r\n", text) if nl == "\r\n" else text


def _minimal_insert(old: str, new: str, nl: str) -> str:
    """Redo tomlkit's insertion as one added line, so removing it later restores the bytes."""
    ours, theirs = _split(old), _split(new)
    pairs = enumerate(zip(ours, theirs, strict=False))
    index = next((i for i, (a, b) in pairs if _content(a)[0] != _content(b)[0]), len(ours))
    if index >= len(theirs):
        return _with_newline(new, nl)
    candidate = _insert(old, index, _content(theirs[index])[0], nl)
    return candidate if _value(candidate) == _value(new) else _with_newline(new, nl)


def set_toml_key(text: str, key: str, value: str, *, table: tuple[str, ...] = ()) -> str:
    """Set key = "value" at the top level or in [tool.uv], keeping the user's comments and layout."""
    check_value(value)
    doc, nl = _parse(text), _newline(text)
    if table and _container(doc, table, create=False) is None:
        line = f"{tomlkit.key(key).as_string()} = {tomlkit.string(value).as_string()}"
        candidate = _append(text, f"[{'.'.join(table)}]{nl}{line}{nl}", nl)
        _container(doc, table, create=True)[key] = value
        return candidate if _value(candidate) == doc.unwrap() else _with_newline(doc.as_string(), nl)
    container = _container(doc, table, create=False)
    existed = key in container
    container[key] = value
    return _with_newline(doc.as_string(), nl) if existed else _minimal_insert(text, doc.as_string(), nl)


def _prune(doc: tomlkit.TOMLDocument, table: tuple[str, ...]) -> None:
    """Drop tables left empty by the removal, innermost first, as if we had never added them."""
    for depth in range(len(table), 0, -1):
        parent = _container(doc, table[: depth - 1], create=False)
        if parent is None or parent.get(table[depth - 1]) != {}:
            return
        del parent[table[depth - 1]]


def _minimal_remove(text: str, key: str, table: tuple[str, ...], want: Any) -> str | None:
    """Remove the key's line (and our table header if it is left empty) by lines; None if that is wrong."""
    nl = _newline(text)
    for index, line in enumerate(_split(text)):
        if not _key_line(key).match(_content(line)[0]):
            continue
        candidate = _drop(text, index)
        if _value(candidate) == want:
            return candidate
        lines = _split(candidate)
        header = index - 1
        if table and 0 <= header < len(lines) and _header(table).match(_content(lines[header])[0]):
            trimmed = _cut(lines, header, header + 1, nl)
            if _value(trimmed) == want:
                return trimmed
    return None


def remove_toml_key(text: str, key: str, *, table: tuple[str, ...] = ()) -> str:
    """Remove key (and an emptied [tool.uv]), restoring what set_toml_key added byte for byte."""
    doc = _parse(text)
    container = _container(doc, table, create=False)
    if container is None or key not in container:
        return text
    del container[key]
    _prune(doc, table)
    exact = _minimal_remove(text, key, table, doc.unwrap())
    return exact if exact is not None else _with_newline(doc.as_string(), _newline(text))
