"""Rewrite the generated table of docs/rules.md from the rule catalogue (`--check`: only compare).

The table sits between the marker comments; the prose around it is written by hand and kept.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "rules.md"
sys.path.insert(0, str(ROOT / "daemon"))

from uv_drive_guard.core.rules import MARKDOWN_BEGIN, MARKDOWN_END, markdown  # noqa: E402


def generated(text: str) -> tuple[str, str, str]:
    """(before, the generated part with its markers, after); ValueError without the markers."""
    start, end = text.find(MARKDOWN_BEGIN), text.find(MARKDOWN_END)
    if start < 0 or end < start:
        raise ValueError(f"{DOC.name} lacks the markers {MARKDOWN_BEGIN!r} ... {MARKDOWN_END!r}")
    end = text.index("\n", end) + 1 if "\n" in text[end:] else len(text)
    return text[:start], text[start:end], text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="print the difference and exit 1, write nothing")
    args = parser.parse_args(argv)
    text = DOC.read_text(encoding="utf-8")
    before, old, after = generated(text)
    new = markdown()
    if old == new:
        return 0
    if args.check:
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True), "docs", "catalogue"))
        return 1
    DOC.write_text(before + new + after, encoding="utf-8")
    print(f"rewrote the rules table in {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
