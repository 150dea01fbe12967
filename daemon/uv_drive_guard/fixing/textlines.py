"""Lines of a user's text file, as every edit handles them: newline style, split, our fenced
block, append and cut, and the values no quoting makes safe.

No I/O here: callers read a file, edit its text, show the diff and write it atomically. Our
edits live in one conda-initialize-style block that can be rewritten or removed exactly.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

BEGIN = "# >>> uv-drive-guard >>>"
END = "# <<< uv-drive-guard <<<"
NOTE = "# Managed by uv-drive-guard: `uv-drive-guard undo` or `history` to see why."
DISABLED = "# uv-drive-guard disabled: "

MAX_VALUE = 4096
# Cc: C0, DEL, C1 (NEL); Cs: lone surrogates (undecodable path bytes, not UTF-8-writable);
# Zl/Zp: U+2028/U+2029, which Python's splitlines() (and so our own scanner) treats as line ends.
_REFUSED = {
    "Cc": "a control character",
    "Cs": "an undecodable byte",
    "Zl": "a line separator",
    "Zp": "a line separator",
}


class UnsafeValue(ValueError):
    """A value we refuse to write: no quoting makes it safe or faithful in the target file."""


def check_value(value: str) -> None:
    """Refuse what could end a line, hide code, or not survive UTF-8: a drive names it, not us."""
    if len(value) > MAX_VALUE:
        raise UnsafeValue(f"value is {len(value)} characters long; the limit is {MAX_VALUE}")
    for index, char in enumerate(value):
        what = _REFUSED.get(unicodedata.category(char))
        if what is not None:
            raise UnsafeValue(f"value contains {what} (U+{ord(char):04X}) at position {index}")


def newline(text: str) -> str:
    """The file's newline: CRLF when most line ends are CRLF, so our own lines never flip it."""
    crlf = text.count("\r\n")
    return "\r\n" if crlf > text.count("\n") - crlf else "\n"


def split(text: str) -> list[str]:
    """Lines with their ends, split on LF only: shells do not break lines at U+2028 or FF."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    return [*lines, parts[-1]] if parts[-1] else lines


def content(line: str) -> tuple[str, str]:
    """Split a line into its text and its line end, so edits keep the end it had."""
    for end in ("\r\n", "\n"):
        if line.endswith(end):
            return line[: -len(end)], end
    return line, ""


def bare(line: str) -> str:
    """The line's text without its end and surrounding blanks."""
    return content(line)[0].strip(" \t")


def is_code(line: str) -> bool:
    """Neither blank nor a comment."""
    text = bare(line)
    return bool(text) and not text.startswith("#")


def find_block(lines: list[str]) -> tuple[int, int] | None:
    """Index of our BEGIN and END lines; a damaged or doubled block is an error, not a guess."""
    begins = [i for i, line in enumerate(lines) if bare(line) == BEGIN]
    ends = [i for i, line in enumerate(lines) if bare(line) == END]
    if not begins and not ends:
        return None
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise ValueError(
            f"damaged uv-drive-guard block ({len(begins)} start and {len(ends)} end markers): "
            "fix or remove it by hand; nothing was changed"
        )
    return begins[0], ends[0]


def cut(lines: list[str], start: int, stop: int, nl: str, *, sep: str | None = None) -> str:
    """Remove lines[start:stop] and what `append` put before them: the blank line (ending in
    `sep`, the file's newline unless said otherwise), or the end of an unfinished last line."""
    sep = sep or nl
    prefix, suffix = "".join(lines[:start]), "".join(lines[stop:])
    if suffix:
        return prefix + suffix
    if prefix.endswith("\n" + sep):
        return prefix[: -len(sep)]
    return prefix[: -len(nl)] if prefix.endswith(nl) else prefix


def append(text: str, chunk: str, nl: str, *, sep: str | None = None) -> str:
    """Append after a blank line ending in `sep` (the file's newline unless said otherwise), or
    just end the last line if it had no newline: `cut` with the same `sep` undoes it exactly."""
    if not text:
        return chunk
    return text + ((sep or nl) if text.endswith("\n") else nl) + chunk


def set_block_line(text: str, line: str | None, owns: Callable[[str], bool], *, sep: str | None = None) -> str:
    """Put `line` in our block in place of the first line there that `owns` picks (dropping any
    other such line), or with None take those lines out; the block is made when needed and
    removed when nothing is left in it, keeping every other byte. `sep` ends the blank line
    before a new block (a plain LF in a CR LF file for bash, which would run a blank line's CR)."""
    lines, nl = split(text), newline(text)
    found = find_block(lines)
    if found is None:
        return text if line is None else append(text, nl.join([BEGIN, NOTE, line, END]) + nl, nl, sep=sep)
    begin, end = found
    body: list[str] = []
    placed = line is None
    for old in lines[begin + 1 : end]:
        if not owns(old):
            body.append(old)
        elif not placed:
            body.append(line + nl if line is not None else old)
            placed = True
    if not placed:
        body.append(f"{line}{nl}")
    if not any(is_code(old) for old in body):
        return cut(lines, begin, end + 1, nl, sep=sep)
    return "".join([*lines[: begin + 1], *body, *lines[end:]])
