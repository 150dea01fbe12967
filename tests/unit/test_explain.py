"""`explain` reads uv's own words: a corpus of real output (tests/data/uv-output) names its rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from uv_drive_guard.core import explain
from uv_drive_guard.core.explain import Kind
from uv_drive_guard.core.rules import CATALOGUE

CORPUS = sorted((Path(__file__).resolve().parents[1] / "data" / "uv-output").glob("*/*.txt"))


def _expected(path: Path) -> list[str]:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect:"):
            return line.split(":", 1)[1].split()
    raise AssertionError(f"{path.name} has no `# expect:` line")


@pytest.mark.parametrize("path", CORPUS, ids=[f"{p.parent.name}/{p.name}" for p in CORPUS])
def test_every_recorded_message_is_named(path: Path) -> None:
    expected = _expected(path)
    messages = explain.read(path.read_text(encoding="utf-8"))
    assert messages, f"{path.name}: no message found"
    if expected == ["not-drive"]:
        assert all(m.kind is not Kind.DRIVE for m in messages), [m.first_line for m in messages]
        assert any(m.kind is Kind.NOT_DRIVE for m in messages), [m.first_line for m in messages]
        return
    named = {code for m in messages for code in m.codes}
    assert named & set(expected), f"{path.name}: explain names {sorted(named)}, the scan predicted {expected}"


def test_the_corpus_covers_the_recorded_systems_and_non_drive_errors() -> None:
    kinds = {p.parent.name for p in CORPUS}
    assert kinds == {"linux", "windows", "macos"}
    assert sum(_expected(p) == ["not-drive"] for p in CORPUS) >= 4
    named = {code for p in CORPUS for code in _expected(p) if code.startswith("UVD")}
    assert {"UVD001", "UVD004", "UVD005", "UVD006", "UVD007", "UVD009", "UVD021"} <= named


def test_every_sign_names_rules_that_exist() -> None:
    codes = {rule.code for rule in CATALOGUE}
    for sign in explain.SIGNS:
        assert set(sign.codes) <= codes, sign.key
        assert (sign.kind is Kind.DRIVE) == bool(sign.codes), sign.key


def test_messages_are_split_as_uv_prints_them() -> None:
    output = (
        "Resolved 3 packages in 2ms\n"
        "\x1b[31merror\x1b[0m: Could not acquire lock\n"
        "  Caused by: Could not persist temporary file `/media/ana/STICK/c/.tmpAbCdEf`\n"
        "  Caused by: Operation not permitted (os error 1)\n"
        "warning: Failed to hardlink files; falling back to full copy. This may lead to degraded performance.\n"
        "         If the cache and target directories are on different filesystems, hardlinking may not be supported.\n"
        "  × Failed to download `typing-extensions==4.12.2`\n"
        "  ├─▶ Failed to read from the distribution cache\n"
        "  ╰─▶ Incorrect function. (os error 1)\n"
    )
    messages = explain.read(output)
    assert [m.codes[:1] for m in messages] == [("UVD006",), ("UVD003",), ("UVD001",)]
    assert messages[0].paths == ("/media/ana/STICK/c/.tmpAbCdEf",)
    assert messages[0].first_line == "error: Could not acquire lock"


@pytest.mark.parametrize(
    ("text", "paths"),
    [
        ("error: failed to create directory `E:\\proj\\.venv`: File exists", ("E:\\proj\\.venv",)),
        ("symlink file from /m/S/v/bin/python to /usr/bin/py: x", ("/m/S/v/bin/python", "/usr/bin/py")),
        ("error: Failed to query Python interpreter at '/m/S/p/.venv/bin/python3'", ("/m/S/p/.venv/bin/python3",)),
        ("at \\\\server\\share\\uv-cache\\.lock", ("\\\\server\\share\\uv-cache\\.lock",)),
        ("error: Failed to spawn: `tinypkg`", ()),
    ],
)  # fmt: skip
def test_the_paths_a_message_names(text: str, paths: tuple[str, ...]) -> None:
    assert explain.paths_in(text) == paths


def test_windows_paths_are_text() -> None:
    assert explain.windows_path("E:\\uv-cache") and explain.windows_path("\\\\nas\\x")
    assert not explain.windows_path("/media/ana/STICK")
