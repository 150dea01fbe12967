"""Shell code from values a drive gives: quoting for each shell, and matching a path literally.

Labels and mount points are untrusted: each is quoted with the quoting every fix uses
(shellfile), and one no quoting makes safe (a control character, a line end, bytes that are not
UTF-8) is refused; the caller leaves it out and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import shellfile, textlines

Unquotable = textlines.UnsafeValue
check_path = textlines.check_value
quote_posix = shellfile.quote_posix
quote_fish = shellfile.quote_fish
quote_powershell = shellfile.quote_powershell


@dataclass(frozen=True)
class Skipped:
    root: str
    reason: str


def with_sep(root: str, sep: str) -> str:
    return root.rstrip("/\\") + sep


def pcre_literal(text: str) -> str:
    """A PCRE2 pattern matching `text` literally: a backslash before any ASCII punctuation is
    always a literal in PCRE2, and letters, digits and non-ASCII stand for themselves."""
    return "".join("\\" + c if c.isascii() and not c.isalnum() else c for c in text)


def fish_prefix(root: str) -> str:
    return f'string match -q -r -- {quote_fish("^" + pcre_literal(with_sep(root, "/")))} "$PWD/"'
