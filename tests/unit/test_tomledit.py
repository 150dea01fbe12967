"""TOML edits to uv.toml and pyproject.toml [tool.uv]: exact round trips, comments kept,
malformed files never rewritten."""

from __future__ import annotations

import pytest
import tomlkit

from uv_drive_guard.fixing.tomledit import remove_toml_key, set_toml_key

UV_TOML = '# uv settings for this machine\ncache-dir = "/home/me/.cache/uv"  # keep local\n\n[pip]\nindex-url = "x"\n'
PYPROJECT = '[project]\nname = "demo"  # the name\nversion = "1"\n'


def _parsed(text: str) -> dict[str, object]:
    return tomlkit.parse(text).unwrap()


@pytest.mark.parametrize(
    ("original", "table"),
    [
        (UV_TOML, ()),
        ('[pip]\nindex-url = "x"\n', ()),
        ('#:schema https://x\n\n[[index]]\nurl = "u"\n', ()),
        ("", ()),
        ('cache-dir = "c"', ()),
        (PYPROJECT, ("tool", "uv")),
        (PYPROJECT.rstrip("\n"), ("tool", "uv")),
        (PYPROJECT.replace("\n", "\r\n"), ("tool", "uv")),
        (PYPROJECT + "\n[tool.ruff]\nline-length = 120\n", ("tool", "uv")),
        (PYPROJECT + "\n[tool.uv]\n# ours\npackage = false\n\n[tool.ruff]\nx = 1\n", ("tool", "uv")),
        ("", ("tool", "uv")),
    ],
)
def test_toml_set_then_remove_gives_back_the_original(original: str, table: tuple[str, ...]) -> None:
    written = set_toml_key(original, "link-mode", "copy", table=table)
    node: object = _parsed(written)
    for part in table:
        assert isinstance(node, dict)
        node = node[part]
    assert isinstance(node, dict) and node["link-mode"] == "copy"
    if "\r\n" in original:
        assert "\n" not in written.replace("\r\n", "")
    assert set_toml_key(written, "link-mode", "copy", table=table) == written
    assert remove_toml_key(written, "link-mode", table=table) == original


def test_toml_comments_are_kept_and_values_replaced_in_place() -> None:
    written = set_toml_key(UV_TOML, "cache-dir", '/media/usb/it\'s "q" \\ $HOME')
    assert written.startswith("# uv settings for this machine\ncache-dir = ")
    assert written.splitlines()[1].endswith("  # keep local")
    assert _parsed(written)["cache-dir"] == '/media/usb/it\'s "q" \\ $HOME'
    assert remove_toml_key(written, "cache-dir") == '# uv settings for this machine\n\n[pip]\nindex-url = "x"\n'


def test_pyproject_gets_a_real_tool_uv_table() -> None:
    written = set_toml_key(PYPROJECT, "link-mode", "copy", table=("tool", "uv"))
    assert written == PYPROJECT + '\n[tool.uv]\nlink-mode = "copy"\n'
    dotted = set_toml_key(PYPROJECT + "\n[tool.ruff]\nx = 1\n", "link-mode", "copy", table=("tool", "uv"))
    assert "[tool.uv]\n" in dotted and "tool.uv.link-mode" not in dotted and "{" not in dotted


def test_toml_remove_of_an_absent_key_changes_nothing() -> None:
    assert remove_toml_key(UV_TOML, "link-mode") == UV_TOML
    assert remove_toml_key(PYPROJECT, "link-mode", table=("tool", "uv")) == PYPROJECT


@pytest.mark.parametrize("bad", ["a = ", "[tool\nx=1", 'a = "unterminated', "a = 1\na = 2\n"])
def test_malformed_toml_is_never_rewritten(bad: str) -> None:
    with pytest.raises(ValueError):
        set_toml_key(bad, "link-mode", "copy")
    with pytest.raises(ValueError):
        remove_toml_key(bad, "link-mode", table=("tool", "uv"))


def test_toml_tool_that_is_not_a_table_is_refused() -> None:
    with pytest.raises(ValueError, match="not a table"):
        set_toml_key("tool = 3\n", "link-mode", "copy", table=("tool", "uv"))
