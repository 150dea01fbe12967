"""Reading uv's variables out of shell files without running them."""

from __future__ import annotations

import os
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uv_drive_guard.core.model import SourceKind
from uv_drive_guard.core.shellparse import parse_environment_d, parse_shell

HOME = {"HOME": "/home/ana"}
NAMES = ("UV_CACHE_DIR", "UV_TOOL_DIR", "UV_LINK_MODE")


def values(text: str, *, fish: bool = False, known: dict[str, str] | None = None) -> list[str | None]:
    found = parse_shell(text, file="/home/ana/.bashrc", names=NAMES, known=known or HOME, fish=fish)
    return [d.value for d in found]


def one(text: str, **kwargs: object) -> str | None:
    found = values(text, **kwargs)  # type: ignore[arg-type]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(autouse=True)
def nothing_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing must never start a process, whatever the file says."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the parser tried to run something")

    monkeypatch.setattr(os, "system", refuse)
    monkeypatch.setattr(os, "popen", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)


# --- POSIX shells ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "UV_CACHE_DIR=/media/ana/STICK/cache",
        "export UV_CACHE_DIR=/media/ana/STICK/cache",
        "  export UV_CACHE_DIR=/media/ana/STICK/cache",
        "declare -x UV_CACHE_DIR=/media/ana/STICK/cache",
        "typeset -x UV_CACHE_DIR=/media/ana/STICK/cache",
        "export UV_CACHE_DIR='/media/ana/STICK/cache'",
        'export UV_CACHE_DIR="/media/ana/STICK/cache"',
        "export UV_CACHE_DIR=/media/ana/STICK/cache  # my cache",
        "export UV_CACHE_DIR=/media/ana/STICK/cache; echo done",
        'export UV_CACHE_DIR="/media/ana/"STICK/cache',
    ],
)
def test_export_forms(line: str) -> None:
    assert one(line) == "/media/ana/STICK/cache"


def test_source_is_file_and_line() -> None:
    text = "# uv\n\nexport UV_CACHE_DIR=/media/ana/STICK/cache\n"
    (found,) = parse_shell(text, file="/home/ana/.bashrc", names=NAMES, known=HOME)
    assert found.name == "UV_CACHE_DIR"
    assert found.source.kind is SourceKind.SHELL_FILE
    assert (found.source.file, found.source.line) == ("/home/ana/.bashrc", 3)
    assert found.raw == "export UV_CACHE_DIR=/media/ana/STICK/cache"


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ('export UV_CACHE_DIR="/media/ana/My Drive/cache"', "/media/ana/My Drive/cache"),
        ("export UV_CACHE_DIR='/media/ana/My Drive/cache'", "/media/ana/My Drive/cache"),
        ("export UV_CACHE_DIR=/media/ana/My\\ Drive/cache", "/media/ana/My Drive/cache"),
        ('export UV_CACHE_DIR="/media/ana/say \\"hi\\""', '/media/ana/say "hi"'),
        ("export UV_CACHE_DIR='$HOME/cache'", "$HOME/cache"),  # single quotes: no expansion
        ('export UV_CACHE_DIR="~/cache"', "~/cache"),  # quoted tilde stays
        ("export UV_CACHE_DIR='$'", "$"),  # a dollar in single quotes, not bash's $'...'
        ("export UV_CACHE_DIR='/media/a$'b", "/media/a$b"),
        ('export UV_CACHE_DIR="/media/a$\'b"', "/media/a$'b"),
    ],
)
def test_quotes(line: str, value: str) -> None:
    assert one(line) == value


@pytest.mark.parametrize(
    "line",
    [
        "export UV_CACHE_DIR=$HOME/.uv-cache",
        "export UV_CACHE_DIR=${HOME}/.uv-cache",
        'export UV_CACHE_DIR="$HOME/.uv-cache"',
        'export UV_CACHE_DIR="${HOME}/.uv-cache"',
        "export UV_CACHE_DIR=~/.uv-cache",
    ],
)
def test_home_expansion(line: str) -> None:
    assert one(line) == "/home/ana/.uv-cache"


def test_bare_tilde() -> None:
    assert one("UV_CACHE_DIR=~") == "/home/ana"


def test_earlier_assignments_are_expanded() -> None:
    text = "STICK=/media/ana/STICK\nexport UV_CACHE_DIR=$STICK/cache\nexport UV_TOOL_DIR=${STICK}/tools\n"
    assert values(text) == ["/media/ana/STICK/cache", "/media/ana/STICK/tools"]


def test_later_assignment_wins_in_order() -> None:
    text = "export UV_CACHE_DIR=/a\nexport UV_CACHE_DIR=/b\n"
    assert values(text) == ["/a", "/b"]


@pytest.mark.parametrize(
    "line",
    [
        "export UV_CACHE_DIR=$(pwd)/cache",
        'export UV_CACHE_DIR="$(pwd)/cache"',
        "export UV_CACHE_DIR=`pwd`/cache",
        'export UV_CACHE_DIR="`pwd`/cache"',
        "export UV_CACHE_DIR=${STICK:-/media/ana/STICK}/cache",
        "export UV_CACHE_DIR=$UNKNOWN/cache",
        'export UV_CACHE_DIR="unterminated',
        "export UV_CACHE_DIR=$'/media/a\\tb'",  # bash's $'...' escapes are not worked out
    ],
)
def test_unknowable_values_are_none(line: str) -> None:
    assert one(line) is None


def test_unknowable_value_does_not_poison_later_lines() -> None:
    text = "export UV_CACHE_DIR=$(pwd)\nexport UV_TOOL_DIR=/media/ana/STICK/tools\n"
    assert values(text) == [None, "/media/ana/STICK/tools"]


def test_comments_and_other_names_are_ignored() -> None:
    text = (
        "# export UV_CACHE_DIR=/media/ana/STICK/cache\n"
        "  # UV_TOOL_DIR=/x\n"
        "export PATH=$HOME/.local/bin:$PATH\n"
        "echo UV_CACHE_DIR=/nope\n"
        "export UV_CACHE_DIR_OLD=/nope\n"
    )
    assert values(text) == []


def test_crlf_file() -> None:
    """bash keeps the CR of a CRLF file in the value (the classic broken-rc symptom): so do we,
    or the value a terminal has would not match the file that set it."""
    text = "export UV_CACHE_DIR=/media/ana/STICK/cache\r\nexport UV_LINK_MODE=copy\r\n"
    assert values(text) == ["/media/ana/STICK/cache\r", "copy\r"]


def test_no_trailing_newline() -> None:
    assert values("export A=1\nexport UV_LINK_MODE=copy") == ["copy"]


def test_empty_value() -> None:
    assert one("export UV_CACHE_DIR=") == ""


def test_hostile_mount_path_is_read_literally_in_single_quotes() -> None:
    """A drive label may hold quotes and `$(...)`: in single quotes it is plain text."""
    line = """export UV_CACHE_DIR='/media/ana/it'"'"'s $(rm -rf ~)/cache'"""
    assert one(line) == "/media/ana/it's $(rm -rf ~)/cache"


def test_hostile_mount_path_unquoted_is_unknown_not_run() -> None:
    assert one('export UV_CACHE_DIR=/media/ana/"x"$(rm -rf ~)/cache') is None
    assert one('export UV_CACHE_DIR="/media/ana/$(rm -rf ~)"') is None


# --- fish --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "set -gx UV_CACHE_DIR /media/ana/STICK/cache",
        "set -Ux UV_CACHE_DIR /media/ana/STICK/cache",
        "set -x UV_CACHE_DIR /media/ana/STICK/cache",
        "set --global --export UV_CACHE_DIR /media/ana/STICK/cache",
        "set -gx UV_CACHE_DIR '/media/ana/STICK/cache'",
        'set -gx UV_CACHE_DIR "/media/ana/STICK/cache"',
        "  set -gx UV_CACHE_DIR /media/ana/STICK/cache  # comment",
    ],
)
def test_fish_set(line: str) -> None:
    assert one(line, fish=True) == "/media/ana/STICK/cache"


def test_fish_expands_home_and_earlier_sets() -> None:
    text = "set -l stick /media/ana/STICK\nset -gx UV_CACHE_DIR $stick/cache\nset -gx UV_TOOL_DIR $HOME/t\n"
    assert values(text, fish=True) == ["/media/ana/STICK/cache", "/home/ana/t"]


@pytest.mark.parametrize("line", ["set -e UV_CACHE_DIR", "set --erase UV_CACHE_DIR", "set -eU UV_CACHE_DIR"])
def test_fish_erase_is_not_a_definition(line: str) -> None:
    assert values(line, fish=True) == []


def test_fish_command_substitution_is_none() -> None:
    assert one("set -gx UV_CACHE_DIR (pwd)/cache", fish=True) in (None, "(pwd)/cache")
    assert one("set -gx UV_CACHE_DIR $(pwd)/cache", fish=True) is None


def test_fish_ignores_posix_assignments() -> None:
    assert values("UV_CACHE_DIR=/x\n", fish=True) == []


# --- environment.d -----------------------------------------------------------------------


def env_d(text: str, known: dict[str, str] | None = None) -> list[str | None]:
    found = parse_environment_d(
        text, file="/home/ana/.config/environment.d/50-uv.conf", names=NAMES, known=known or HOME
    )
    assert all(d.source.kind is SourceKind.ENVIRONMENT_D for d in found)
    return [d.value for d in found]


def test_environment_d() -> None:
    text = (
        "# uv on the stick\n"
        "STICK=/media/ana/STICK\r\n"
        "UV_CACHE_DIR=${STICK}/cache\n"
        "UV_TOOL_DIR=$HOME/tools\n"
        "\n"
        "UV_LINK_MODE=copy"
    )
    assert env_d(text) == ["/media/ana/STICK/cache", "/home/ana/tools", "copy"]


def test_environment_d_lines() -> None:
    text = "# c\n\nUV_CACHE_DIR=/media/ana/STICK/cache\n"
    (found,) = parse_environment_d(text, file="f.conf", names=NAMES, known=HOME)
    assert found.source.line == 3


def test_environment_d_unknown_and_defaulted_are_none() -> None:
    assert env_d("UV_CACHE_DIR=$NOPE/cache\n") == [None]
    assert env_d("UV_CACHE_DIR=${NOPE:-/media/ana/STICK}/cache\n") == [None]


def test_environment_d_ignores_shell_syntax() -> None:
    assert env_d("export UV_CACHE_DIR=/x\n") == []


# --- never raises ------------------------------------------------------------------------

_shellish = st.text(
    alphabet=st.sampled_from(list("UV_CACHE_DIR=TOOL$HOME{}()`'\"\\~/ \t\r\n#;&|-sexgUport:ab")),
    max_size=200,
)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=300), _shellish), fish=st.booleans())
def test_parse_shell_never_raises(text: str, fish: bool) -> None:
    found = parse_shell(text, file="f", names=NAMES, known=HOME, fish=fish)
    assert all(d.name in NAMES for d in found)
    assert all(d.value is None or isinstance(d.value, str) for d in found)


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(st.text(max_size=300), _shellish))
def test_parse_environment_d_never_raises(text: str) -> None:
    found = parse_environment_d(text, file="f", names=NAMES, known=HOME)
    assert all(d.name in NAMES for d in found)
