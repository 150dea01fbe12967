"""Edits to the files a new session reads variables from: shell startup files (sh, bash, zsh,
fish) and environment.d: quoting, our fenced block, and turning a person's line off.

Values come from drives (untrusted), so they are quoted for the target syntax and refused when
they hold characters no quoting makes safe. Which lines set a variable, and where a logical
line starts, is the one lexer's answer (core.shelllex), the same the scanner reads with.
"""

from __future__ import annotations

import re

from ..core import shelllex
from ..core.shelllex import Syntax, syntax_of
from . import envdfile
from .textlines import (
    DISABLED,
    UnsafeValue,
    check_value,
    content,
    find_block,
    is_code,
    newline,
    set_block_line,
    split,
)

__all__ = [
    "Syntax",
    "assignment",
    "check_reaches_end",
    "disable_line",
    "line_ends",
    "lines_setting",
    "quote_fish",
    "quote_posix",
    "quote_powershell",
    "set_in_block",
    "syntax_of",
]

_OPENS_BODY = re.compile(r"(?:^|[\s;])(?:then|do|else)\s*$|\{\s*$")
_CLOSES_BODY = re.compile(r"\s*(?:fi|done|else|elif|\})(?:[\s;]|$)")


class StaleLine(ValueError):
    """The file changed since the scan: editing now could turn off the wrong line."""


class InOwnBlock(ValueError):
    """The line is inside our block: change it with set_in_block, not by commenting it out."""


class CannotDisable(ValueError):
    """Commenting the line out would break the file (multi-line construct, empty if/do body)."""


class NeverRead(ValueError):
    """The shell stops reading the file before its end: a line added there would never run."""


# bash, zsh and dash keep a CR LF line's CR in its last word: a line of ours ends in this
# comment, which takes the CR, so `export X='v'` sets v and nothing after it.
CR_COMMENT = "  # keeps the CR of this CR LF line out of the value"


def quote_posix(value: str) -> str:
    """Single quotes: nothing inside expands in sh, bash or zsh; a quote is closed, escaped, reopened."""
    check_value(value)
    return "'" + value.replace("'", "'\\''") + "'"


def quote_fish(value: str) -> str:
    """fish single quotes expand nothing; only backslash and quote need escaping there."""
    check_value(value)
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


_PS_QUOTES = ("'", "\u2018", "\u2019", "\u201a", "\u201b")  # PowerShell takes all as single quotes


def quote_powershell(value: str) -> str:
    """PowerShell's single quotes expand nothing; each kind of single quote is doubled."""
    check_value(value)
    return "'" + "".join(c + c if c in _PS_QUOTES else c for c in value) + "'"


def _check_name(name: str) -> None:
    """A name is spliced into code unquoted, so it must be a plain identifier."""
    if not shelllex.is_name(name):
        raise UnsafeValue(f"{name!r} is not a valid environment variable name")


def assignment(name: str, value: str, syntax: Syntax) -> str:
    """The one line that sets `name` in the target syntax, quoted so the value is taken literally."""
    _check_name(name)
    if syntax in ("posix", "zsh"):
        return f"export {name}={quote_posix(value)}"
    if syntax == "fish":
        return f"set -gx {name} {quote_fish(value)}"
    if syntax == "powershell":
        return f"$env:{name} = {quote_powershell(value)}"
    return envdfile.assignment(name, value)


def _sets(line: str, name: str, syntax: Syntax) -> bool:
    return shelllex.sets(content(line)[0], name, syntax)


def set_in_block(text: str, name: str, value: str | None, *, syntax: Syntax) -> str:
    """Set (or with None unset) `name` in our block, creating it or removing it when empty;
    each line as the shell reads it in this file's line ends (`line_ends`)."""
    _check_name(name)
    end, sep = line_ends(text, syntax)
    line = None
    if value is not None:
        check_reaches_end(text, syntax)
        line = assignment(name, value, syntax) + end
    return set_block_line(text, line, lambda old: _sets(old, name, syntax), sep=sep)


def line_ends(text: str, syntax: Syntax) -> tuple[str, str | None]:
    """How a line we add to this file ends before its newline, and how the blank line before
    our block ends (None: with the file's newline). In a CR LF file that bash or zsh reads, a
    comment that takes the CR, and a blank line of a plain LF (a CR LF one would run its CR as
    a command, "$'\\r': command not found"); elsewhere nothing special."""
    if newline(text) == "\r\n" and shelllex.cr_in_words(syntax):
        return CR_COMMENT, "\n"
    return "", None


def check_reaches_end(text: str, syntax: Syntax) -> None:
    """Refuse to add lines at the end of a file the shell stops reading before it, or that ends
    inside a quote or a here-document, where a line added would be text, never a command."""
    lines = shelllex.physical_lines(text)
    shell = {"zsh": "zsh", "fish": "fish", "powershell": "PowerShell"}.get(syntax, "bash")
    open_at_end = shelllex.starts(lines, syntax)[-1]
    if open_at_end not in ("", "\\"):
        inside = "a here-document" if open_at_end == shelllex.HEREDOC else f"a quote ({open_at_end}) opened before it"
        raise NeverRead(
            f"it ends inside {inside}, so {shell} would read a line added at the end as part of that text, "
            "never as a command. Close the quote (or the here-document) and scan again"
        )
    stop = shelllex.stops_at(lines, syntax)
    if stop is None:
        return
    shown = " ".join(stop.text.split())[:60]
    raise NeverRead(
        f"{shell} stops reading it at line {stop.first + 1} (`{shown}`): its lines end in CR LF, and {shell} "
        "takes the CR for part of the line's last word, which makes that line an error, so a line added at "
        "the end would never run. Give the file LF line ends (`dos2unix` does) and scan again"
    )


def lines_setting(text: str, name: str, *, syntax: Syntax) -> list[int]:
    """1-based lines outside our block that assign `name`: all must go before our block can win."""
    _check_name(name)
    lines = split(text)
    found = find_block(lines)
    ours = range(found[0], found[1] + 1) if found else range(0)
    assigned = shelllex.assignments(shelllex.physical_lines(text), syntax)
    return sorted({a.line + 1 for a in assigned if a.name == name and a.line not in ours})


# --- turning a user's line off ------------------------------------------------------------


def _empties_body(lines: list[str], index: int) -> bool:
    """`if ...; then` / `do` / `{` left with no command before `fi` / `done` / `}` is a sh syntax error."""
    before = [re.sub(r"\s#.*$", "", content(x)[0]) for x in lines[:index] if is_code(x)]
    after = [content(x)[0] for x in lines[index + 1 :] if is_code(x)]
    if not before or not after:
        return False
    return bool(_OPENS_BODY.search(before[-1].rstrip())) and bool(_CLOSES_BODY.match(after[0]))


def _check_can_disable(lines: list[str], index: int, syntax: Syntax) -> None:
    """Refuse to comment out part of a multi-line construct or the only command of a block."""
    states = shelllex.starts(shelllex.physical_lines("".join(lines)), syntax)
    if states[index] or states[index + 1]:
        raise CannotDisable(f"line {index + 1} is part of a multi-line construct; turn it off by hand")
    if syntax in ("posix", "zsh") and _empties_body(lines, index):
        raise CannotDisable(f"line {index + 1} is the only command in its block; turn it off by hand")


def disable_line(text: str, line: int, expected: str | None, *, syntax: Syntax) -> str:
    """Comment out a user's line (reversibly, with our marker) after checking it is still the one seen."""
    lines = split(text)
    if not 1 <= line <= len(lines):
        raise StaleLine(f"line {line} does not exist (the file has {len(lines)} lines)")
    found = find_block(lines)
    if found and found[0] <= line - 1 <= found[1]:
        raise InOwnBlock(f"line {line} is inside the uv-drive-guard block")
    body, end = content(lines[line - 1])
    if body.startswith(DISABLED):
        if expected is None or body[len(DISABLED) :].strip() == expected.strip():
            return text  # already off: a second apply is a no-op
        raise StaleLine(f"line {line} is already turned off and differs from what the scan saw")
    if expected is not None and body.strip() != expected.strip():
        raise StaleLine(f"line {line} now reads {body.strip()!r}, not {expected.strip()!r}")
    _check_can_disable(lines, line - 1, syntax)
    lines[line - 1] = DISABLED + body + end
    return "".join(lines)
