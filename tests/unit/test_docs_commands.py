"""Every `uv-drive-guard ...` command the README and the docs show is one the program accepts as
written: its options before or after the command, its arguments where the usage line puts them."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from uv_drive_guard import cli

REPO = Path(__file__).resolve().parents[2]
PAGES = [
    REPO / "README.md",
    REPO / "config" / "default.toml",
    *sorted(p for p in (REPO / "docs").glob("*.md") if p.name != "benchmarks.md"),  # that one shows output
]
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
SPAN = re.compile(r"`([^`\n]+)`")
SHELL_END = re.compile(r"\s(?:#|&&|\|\|?|;|&)(?:\s|$)|\s&$")


def _code(text: str) -> list[str]:
    """The lines of code blocks and the inline code spans of a page (or of a TOML file's comments)."""
    lines = [line for block in FENCE.findall(text) for line in block.splitlines()]
    return lines + SPAN.findall(FENCE.sub("", text))


def _commands() -> list[tuple[str, str]]:
    """(page, the words after the program's name) of each code line that runs uv-drive-guard."""
    found = []
    for page in PAGES:
        for line in _code(page.read_text(encoding="utf-8")):
            line = line.strip().removeprefix("$ ")
            if line.startswith("uv-drive-guard "):
                words = SHELL_END.split(line.removeprefix("uv-drive-guard "), maxsplit=1)[0].strip()
                found.append((page.relative_to(REPO).as_posix(), words))
    return sorted(set(found))


COMMANDS = _commands()
NAMES = {
    name
    for action in cli._parser()._actions
    if isinstance(action, argparse._SubParsersAction)
    for name in action.choices
}


def test_the_docs_show_every_command() -> None:
    shown = {words.split()[0] for _, words in COMMANDS}
    assert shown == NAMES, shown


@pytest.mark.parametrize(("page", "words"), COMMANDS, ids=[f"{p}: {w}" for p, w in COMMANDS])
def test_each_command_in_the_docs_parses(page: str, words: str, capsys: pytest.CaptureFixture[str]) -> None:
    if words in NAMES:  # the command named in a sentence ("the same path as `uv-drive-guard fix`")
        return
    try:
        cli._parser().parse_args(shlex.split(words))
    except SystemExit as exc:  # --help prints and exits 0; a usage error exits 2
        assert exc.code == 0, f"{page}: `uv-drive-guard {words}`: {capsys.readouterr().err}"
