"""The one TOML loader: both parsers' errors for bad input, and only those, become TomlError."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uv_drive_guard import config
from uv_drive_guard.edges import projects, tomlfile
from uv_drive_guard.edges.settings import _parse_toml

BAD = [
    "a = ",
    "[tool\nx=1",
    'a = "unterminated',
    "a = 1\na = 2\n",  # a duplicate key
    "d = 1979-02-30",  # no such date
    "a = [" * 3000 + "]" * 3000,  # deeper than either parser goes
    "a = \x00",
]


@pytest.fixture(params=["tomllib", "tomlkit"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run each test with tomllib, and with tomlkit as on Python 3.10."""
    if request.param == "tomlkit":
        monkeypatch.setattr(tomlfile, "sys", SimpleNamespace(version_info=(3, 10)))
    elif sys.version_info < (3, 11):
        pytest.skip("tomllib is Python 3.11+")
    return str(request.param)


def test_valid_toml_loads_as_plain_data(parser: str) -> None:
    data = tomlfile.loads('cache-dir = "/c"\n[tool.uv]\nmanaged = false\n')
    assert data == {"cache-dir": "/c", "tool": {"uv": {"managed": False}}}
    assert type(data) is dict


@pytest.mark.parametrize("text", BAD, ids=range(len(BAD)))
def test_bad_toml_is_a_toml_error(parser: str, text: str) -> None:
    with pytest.raises(tomlfile.TomlError):
        tomlfile.loads(text)


@pytest.mark.parametrize("text", BAD, ids=range(len(BAD)))
def test_every_reader_handles_bad_toml_its_way(parser: str, text: str, tmp_path: Path) -> None:
    assert _parse_toml(text) == {}  # a drive's settings file: nothing set
    assert isinstance(projects._parse(text), str)  # a project: the parser's complaint is shown
    user = tmp_path / "config.toml"
    user.write_text(text, encoding="utf-8")
    with pytest.raises(config.ConfigError, match=r"config\.toml"):
        config.load(user)


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.sampled_from(list("[]{}=\"'.,#\n \t\\abc1-:")), max_size=40))
def test_nothing_but_toml_error_escapes(text: str) -> None:
    with contextlib.suppress(tomlfile.TomlError):  # any other exception fails the test
        tomlfile.loads(text)
