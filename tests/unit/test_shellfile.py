"""Startup-file and environment.d edits: exact round trips for our fenced block, hostile values
proven inert in real shells, environment.d values checked against systemd's own rules, safe
line disabling."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uv_drive_guard.core import shelllex
from uv_drive_guard.fixing.envdfile import envd_value
from uv_drive_guard.fixing.shellfile import (
    CannotDisable,
    InOwnBlock,
    NeverRead,
    StaleLine,
    Syntax,
    assignment,
    disable_line,
    lines_setting,
    quote_fish,
    quote_posix,
    set_in_block,
)
from uv_drive_guard.fixing.textlines import BEGIN, DISABLED, END, NOTE, UnsafeValue, check_value
from uv_drive_guard.fixing.tomledit import set_toml_key

SYNTAXES: tuple[Syntax, ...] = ("posix", "fish", "environment.d")
NAME = "UV_CACHE_DIR"
MARKER = "PWNED"  # hostile values try to create this file; it must never appear
CONDA = '# >>> conda initialize >>>\neval "$(conda shell.bash hook)"\n# <<< conda initialize <<<\n'
FILES = {
    "lf": "# my rc\nalias ll='ls -l'\n",
    "crlf": "# my rc\r\nalias ll='ls -l'\r\n",
    "no-final-newline": "# my rc\nalias ll='ls -l'",
    "crlf-no-final-newline": "# my rc\r\nalias ll='ls -l'",
    "empty": "",
    "only-newline": "\n",
    "trailing-blank-line": "a=1\n\n",
    "other-tool-block": "a=1\n\n" + CONDA,
}
HOSTILE = [
    "/media/it's mine",
    '/media/say "hi"',
    "$(rm -rf ~)",
    f"$(touch {MARKER})",
    f"`touch {MARKER}`",
    f"/media/a;touch {MARKER}",
    f"/media/a && touch {MARKER}",
    f"/media/a | touch {MARKER} #",
    "/media/My Drive",
    "/media/Ünïcødé/日本語 🚀",
    "C:\\Users\\me\\uv",
    "\\",
    "%USERPROFILE%\\uv",
    "$HOME/${HOME}/$((1+1))/~/*/?/[a]/!!/{a,b}",
    "'",
    "''\\''",
    '"',
    " leading and trailing ",
    "-n",
    "",
    "'$(touch PWNED)'\"`touch PWNED`\"",
]
UNSAFE = ["a\nb", "a\rb", "a\x00b", "a\tb", "a\x1bb", "a\x7fb", "a\x85b", "a\u2028b", "a\udcffb", "x" * 4097]


def _run(argv: list[str], home: Path) -> str:
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    done = subprocess.run(argv, capture_output=True, env=env, cwd=home, check=True, timeout=20)
    return done.stdout.decode("utf-8")


def _shells() -> list[list[str]]:
    found = [[path] for path in (shutil.which(s) for s in ("bash", "sh", "dash", "zsh")) if path]
    return [[*shell, "-c", '. "$1"; printf %s "$' + NAME + '"', "shell"] for shell in found]


def _source(tmp_path: Path, text: str, argv: list[str]) -> str:
    """Run the file in a real shell with a scratch HOME; prove nothing ran and return the value."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "canary").write_text("still here")
    rc = home / "rc"
    rc.write_text(text, encoding="utf-8")
    out = _run([*argv, str(rc)], home)
    assert not (home / MARKER).exists() and (home / "canary").exists()
    return out


# --- a tiny, independent environment.d(5) reader (systemd's parse_env_file + replace_env) ----


def _envd_unquoted(raw: str) -> str:
    out, chomp, i = [], None, 0
    while i < len(raw):
        char = raw[i]
        if char == "\\" and i + 1 < len(raw):
            out.append(raw[i + 1])
            chomp, i = None, i + 2
            continue
        chomp = (len(out) if chomp is None else chomp) if char in " \t" else None
        out.append(char)
        i += 1
    return "".join(out[:chomp])


def _envd_expand(value: str, env: dict[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        return "$" if match.group(0) == "$$" else env.get(match.group(1) or match.group(2), "")

    return re.sub(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", sub, value)


def envd_read(text: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """KEY=VALUE per line, `#`/`;` comments, backslash escapes, then $$/$VAR/${VAR} expansion."""
    result = dict(env or {})
    for line in re.split(r"\r?\n|\r", text):
        stripped = line.lstrip(" \t")
        if not stripped or stripped[0] in "#;" or "=" not in stripped:
            continue
        key, raw = stripped.split("=", 1)
        assert raw.lstrip(" \t")[:1] not in ("'", '"'), "our writer never emits a quoted value"
        result[key.strip()] = _envd_expand(_envd_unquoted(raw.lstrip(" \t")), result)
    return result


GENERATOR = Path("/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator")


def _systemd_reads(tmp_path: Path, text: str) -> dict[str, str]:
    """What systemd's own environment.d generator makes of the file (when installed)."""
    conf = tmp_path / "xdg" / "environment.d"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "50-uv-drive-guard.conf").write_text(text, encoding="utf-8")
    env = {"HOME": "/home/someone", "XDG_CONFIG_HOME": str(tmp_path / "xdg"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([str(GENERATOR)], capture_output=True, env=env, check=True, timeout=20).stdout.decode()
    result = {}
    for line in out.splitlines():
        key, value = line.split("=", 1)
        if value.startswith('"') and value.endswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        result[key] = value
    return result


# --- the fenced block ------------------------------------------------------------------------


@pytest.mark.parametrize("syntax", SYNTAXES)
@pytest.mark.parametrize("kind", FILES)
def test_set_then_unset_gives_back_the_original_bytes(kind: str, syntax: Syntax) -> None:
    original = FILES[kind]
    written = set_in_block(original, NAME, "/media/usb/uv cache", syntax=syntax)
    assert written.count(BEGIN) == 1 and written.count(END) == 1 and NOTE in written
    assert written.endswith(END + ("\r\n" if "\r\n" in original else "\n"))
    assert set_in_block(written, NAME, None, syntax=syntax) == original


@pytest.mark.parametrize("syntax", SYNTAXES)
@pytest.mark.parametrize("kind", ["lf", "crlf", "no-final-newline", "empty"])
def test_newline_style_is_kept(kind: str, syntax: Syntax) -> None:
    written = set_in_block(FILES[kind], NAME, "/v", syntax=syntax)
    if "\r\n" in FILES[kind] and syntax == "posix":  # bash would run a CR LF blank line's CR
        assert written.replace("\r\n", "").count("\n") == 1 and f"\r\n\n{BEGIN}\r\n" in written
    elif "\r\n" in FILES[kind]:
        assert "\n" not in written.replace("\r\n", "")
    else:
        assert "\r" not in written
    if kind == "no-final-newline":
        assert written.startswith(FILES[kind] + "\n" + BEGIN)  # the last line ended, no blank line
    if kind == "lf":
        assert written.startswith(FILES[kind] + "\n" + BEGIN)  # a blank line before the block


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_set_twice_is_idempotent_and_replaces_in_place(syntax: Syntax) -> None:
    once = set_in_block(FILES["lf"], NAME, "/a", syntax=syntax)
    assert set_in_block(once, NAME, "/a", syntax=syntax) == once
    changed = set_in_block(once, NAME, "/b", syntax=syntax)
    assert changed == once.replace(assignment(NAME, "/a", syntax), assignment(NAME, "/b", syntax))


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_two_names_then_remove_one_keeps_the_other(syntax: Syntax) -> None:
    both = set_in_block(set_in_block(FILES["lf"], NAME, "/a", syntax=syntax), "UV_TOOL_DIR", "/t", syntax=syntax)
    assert both.count(BEGIN) == 1
    one = set_in_block(both, NAME, None, syntax=syntax)
    assert assignment("UV_TOOL_DIR", "/t", syntax) in one and NAME not in one
    assert one == set_in_block(FILES["lf"], "UV_TOOL_DIR", "/t", syntax=syntax)
    assert set_in_block(one, "UV_TOOL_DIR", None, syntax=syntax) == FILES["lf"]


@pytest.mark.parametrize("syntax", SYNTAXES)
def test_existing_block_is_rewritten_in_place_and_its_other_content_kept(syntax: Syntax) -> None:
    ours = set_in_block("", "UV_TOOL_DIR", "/t", syntax=syntax)
    original = "before\n\n" + ours + "after\n"
    written = set_in_block(original, NAME, "/c", syntax=syntax)
    assert written.count(BEGIN) == 1 and written.endswith(END + "\nafter\n")
    assert set_in_block(written, NAME, None, syntax=syntax) == original
    gone = set_in_block(original, "UV_TOOL_DIR", None, syntax=syntax)
    assert gone == "before\n\nafter\n"  # block in the middle: the surroundings are left alone


def test_unset_without_block_is_a_no_op() -> None:
    assert set_in_block(FILES["lf"], NAME, None, syntax="posix") == FILES["lf"]


@pytest.mark.parametrize("damage", [BEGIN + "\nexport A=1\n", "x\n" + END + "\n", (BEGIN + "\n" + END + "\n") * 2])
def test_damaged_block_is_an_error_not_a_guess(damage: str) -> None:
    with pytest.raises(ValueError, match="damaged"):
        set_in_block(damage, NAME, "/x", syntax="posix")
    with pytest.raises(ValueError, match="damaged"):
        lines_setting(damage, NAME, syntax="posix")


def test_bad_names_are_refused() -> None:
    for name in ["", "1A", "A-B", "A B", "A;rm", "$(x)"]:
        with pytest.raises(ValueError):
            assignment(name, "v", "posix")
        with pytest.raises(ValueError):
            set_in_block("", name, "v", syntax="fish")


# --- hostile values --------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_posix_values_are_inert_and_exact_in_every_installed_shell(tmp_path: Path, value: str) -> None:
    text = set_in_block("# rc\n", NAME, value, syntax="posix")
    for argv in _shells():
        assert _source(tmp_path, text, argv) == value, argv[0]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
@pytest.mark.parametrize("value", HOSTILE)
def test_fish_values_are_inert_and_exact(tmp_path: Path, value: str) -> None:
    text = set_in_block("# config.fish\n", NAME, value, syntax="fish")
    argv = [str(shutil.which("fish")), "-c", 'source $argv[1]; printf %s "$' + NAME + '"']
    assert _source(tmp_path, text, argv) == value


@pytest.mark.parametrize("value", HOSTILE)
def test_fish_quoting_by_fish_rules(value: str) -> None:
    quoted = quote_fish(value)
    inner = quoted[1:-1]
    assert quoted[0] == quoted[-1] == "'"
    assert re.sub(r"\\([\\'])", r"\1", inner) == value
    assert not re.search(r"(?<!\\)(?:\\\\)*'", inner)  # every quote inside is escaped


@pytest.mark.parametrize("value", HOSTILE)
def test_envd_values_read_back_exactly(value: str) -> None:
    text = set_in_block("# env\n", NAME, value, syntax="environment.d")
    assert envd_read(text, {"HOME": "/home/someone"})[NAME] == value


@pytest.mark.skipif(not GENERATOR.exists(), reason="systemd's environment.d generator is not installed")
def test_envd_values_read_back_exactly_by_systemd_itself(tmp_path: Path) -> None:
    names = [f"UVDG_T{i}" for i in range(len(HOSTILE))]
    text = ""
    for name, value in zip(names, HOSTILE, strict=True):
        text = set_in_block(text, name, value, syntax="environment.d")
    got = _systemd_reads(tmp_path, text)
    assert [got.get(name, "") for name in names] == HOSTILE


def test_envd_escapes_dollar_as_systemd_requires() -> None:
    assert envd_value("$HOME") == "$$HOME"  # `\$HOME` would still be expanded by systemd
    assert envd_value("a\\b c") == "a\\\\b\\ c"
    assert envd_value("'q") == "\\'q" and envd_value('"q') == '\\"q'
    assert envd_read("A=\\$HOME\nB=$$HOME\n", {"HOME": "/h"}) == {"HOME": "/h", "A": "/h", "B": "$HOME"}


@pytest.mark.parametrize("value", UNSAFE)
def test_control_characters_and_overlong_values_are_refused(value: str) -> None:
    for quote in (check_value, quote_posix, quote_fish, envd_value):
        with pytest.raises(UnsafeValue):
            quote(value)
    for syntax in SYNTAXES:
        with pytest.raises(UnsafeValue):
            set_in_block("", NAME, value, syntax=syntax)
    with pytest.raises(UnsafeValue):
        set_toml_key("", "cache-dir", value)


def test_longest_allowed_value_is_accepted() -> None:
    check_value("x" * 4096)


# --- turning a user's line off ---------------------------------------------------------------

RC = "alias ll='ls -l'\nexport UV_CACHE_DIR=/media/usb/cache\necho hi\n"


def test_disable_line_comments_it_out_with_our_marker(tmp_path: Path) -> None:
    out = disable_line(RC, 2, "  export UV_CACHE_DIR=/media/usb/cache ", syntax="posix")
    assert out.splitlines()[1] == DISABLED + "export UV_CACHE_DIR=/media/usb/cache"
    assert out.splitlines()[0] == "alias ll='ls -l'" and out.splitlines()[2] == "echo hi"
    assert disable_line(out, 2, "export UV_CACHE_DIR=/media/usb/cache", syntax="posix") == out  # no-op twice
    assert _source(tmp_path, out, ["bash", "-c", '. "$1" >/dev/null; printf %s "${UV_CACHE_DIR-unset}"', "sh"]) == (
        "unset"
    )


def test_disable_line_refuses_a_changed_or_missing_line() -> None:
    with pytest.raises(StaleLine):
        disable_line(RC, 2, "export UV_CACHE_DIR=/somewhere/else", syntax="posix")
    with pytest.raises(StaleLine):
        disable_line(RC, 9, None, syntax="posix")
    with pytest.raises(StaleLine):
        disable_line(RC, 0, None, syntax="posix")


def test_disable_line_keeps_crlf_and_indentation() -> None:
    text = "if true; then\r\n  echo a\r\n  export UV_CACHE_DIR=/x\r\nfi\r\n"
    out = disable_line(text, 3, "export UV_CACHE_DIR=/x", syntax="posix")
    assert out == "if true; then\r\n  echo a\r\n" + DISABLED + "  export UV_CACHE_DIR=/x\r\nfi\r\n"


def test_disable_line_never_touches_our_block() -> None:
    text = set_in_block(RC, NAME, "/ours", syntax="posix")
    inside = text.splitlines().index(assignment(NAME, "/ours", "posix")) + 1
    with pytest.raises(InOwnBlock):
        disable_line(text, inside, None, syntax="posix")
    with pytest.raises(ValueError):
        disable_line(text, inside - 2, None, syntax="posix")  # the BEGIN line


@pytest.mark.parametrize(
    ("syntax", "text", "line"),
    [
        ("posix", 'export UV_CACHE_DIR="/media/a\nb"\necho\n', 1),
        ("posix", 'export UV_CACHE_DIR="/media/a\nUV_CACHE_DIR=b"\n', 2),
        ("posix", "export A=1 \\\n  UV_CACHE_DIR=/x\n", 2),
        ("posix", "export UV_CACHE_DIR=/x \\\n  A=1\n", 1),
        ("posix", "if [ -d /m ]; then\n  export UV_CACHE_DIR=/m\nfi\n", 2),
        ("posix", "f() {\n  export UV_CACHE_DIR=/m\n}\n", 2),
        ("posix", "for d in /m; do\n  # why\n  export UV_CACHE_DIR=$d\n\ndone\n", 3),
        ("fish", "set -gx UV_CACHE_DIR '/a\nb'\n", 1),
        ("environment.d", "UV_CACHE_DIR='/a\nb'\n", 1),
        ("environment.d", "UV_CACHE_DIR=/a\\\nb\n", 1),
    ],
)
def test_disable_line_refuses_what_would_break_the_file(syntax: Syntax, text: str, line: int) -> None:
    with pytest.raises(CannotDisable):
        disable_line(text, line, None, syntax=syntax)


@pytest.mark.parametrize(
    ("syntax", "text", "line"),
    [
        ("posix", "if true; then\n  echo a\n  export UV_CACHE_DIR=/m\nfi\n", 3),
        ("posix", "echo 'it''s' # a 'comment\nexport UV_CACHE_DIR=/m\n", 2),
        ("posix", 'echo "a \\" b"\nexport UV_CACHE_DIR=/m\n', 2),
        ("fish", "echo 'it\\'s'\nset -gx UV_CACHE_DIR /m\n", 2),
        ("environment.d", "NAME=Bob's drive\nUV_CACHE_DIR=/m\n", 2),
        ("environment.d", "# it's a comment\nUV_CACHE_DIR=/m\n", 2),
    ],
)
def test_disable_line_allows_ordinary_neighbours(syntax: Syntax, text: str, line: int) -> None:
    out = disable_line(text, line, None, syntax=syntax)
    assert _split_keep(out)[line - 1].startswith(DISABLED)


def _split_keep(text: str) -> list[str]:
    return text.split("\n")


def test_disable_line_in_environment_d_uses_hash_comments() -> None:
    text = "A=1\r\nUV_CACHE_DIR=/media/x\r\n"
    out = disable_line(text, 2, "UV_CACHE_DIR=/media/x", syntax="environment.d")
    assert out == "A=1\r\n# uv-drive-guard disabled: UV_CACHE_DIR=/media/x\r\n"
    assert envd_read(out) == {"A": "1"}


def test_lines_setting_finds_every_assignment_form_outside_our_block() -> None:
    posix = "\n".join(
        [
            "export UV_CACHE_DIR=/a",
            "UV_CACHE_DIR=/b",
            "  declare -x UV_CACHE_DIR=/c",
            "declare -gx UV_CACHE_DIR=/d",
            "typeset -x UV_CACHE_DIR=/e",
            "export UV_CACHE_DIR",
            "# export UV_CACHE_DIR=/commented",
            "UV_CACHE_DIRS=/other",
            "echo UV_CACHE_DIR=/not-an-assignment",
            "",
        ]
    )
    text = set_in_block(posix, NAME, "/ours", syntax="posix")
    assert lines_setting(text, NAME, syntax="posix") == [1, 2, 3, 4, 5]


def test_lines_setting_fish_and_environment_d() -> None:
    fish = "set -gx UV_CACHE_DIR /a\nset -Ux UV_CACHE_DIR /b\nset -x UV_CACHE_DIR /c\n"
    fish += "set --global --export UV_CACHE_DIR /d\n"
    fish += "set -e UV_CACHE_DIR\nset -q UV_CACHE_DIR\nset -gx UV_CACHE_DIRS /e\n"
    assert lines_setting(set_in_block(fish, NAME, "/o", syntax="fish"), NAME, syntax="fish") == [1, 2, 3, 4]
    envd = "UV_CACHE_DIR=/a\n  UV_CACHE_DIR = /b\n#UV_CACHE_DIR=/c\nX='\nUV_CACHE_DIR=/in-a-quoted-value'\n"
    text = set_in_block(envd, NAME, "/o", syntax="environment.d")
    assert lines_setting(text, NAME, syntax="environment.d") == [1, 2]


def test_lines_setting_then_disable_all_then_set_leaves_only_our_line(tmp_path: Path) -> None:
    text = "export UV_CACHE_DIR=/media/a\nalias x=y\nUV_CACHE_DIR=/media/b\n"
    for number in lines_setting(text, NAME, syntax="posix"):
        text = disable_line(text, number, None, syntax="posix")
    text = set_in_block(text, NAME, "/home/me/.cache/uv", syntax="posix")
    assert lines_setting(text, NAME, syntax="posix") == []
    assert _source(tmp_path, text, _shells()[0]) == "/home/me/.cache/uv"


# --- properties ------------------------------------------------------------------------------

PRINTABLE = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=40)
PIECES = ["a", " ", "#", "'", '"', "\\", "\n", "\r\n", "\r", "=", "é", "\t", "\x0c", "\u2028", "export X=1"]
FILE_TEXT = st.one_of(st.lists(st.sampled_from(PIECES), max_size=30).map("".join), st.text(max_size=60))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=PRINTABLE)
def test_quote_posix_round_trips_through_bash(tmp_path: Path, value: str) -> None:
    out = _run(["bash", "-c", f"printf %s {quote_posix(value)}"], tmp_path)
    assert out == value and not (tmp_path / MARKER).exists()


@settings(max_examples=200, deadline=None)
@given(text=FILE_TEXT, value=PRINTABLE, syntax=st.sampled_from(SYNTAXES))
def test_set_then_unset_round_trips_for_any_file(text: str, value: str, syntax: Syntax) -> None:
    try:
        written = set_in_block(text, NAME, value, syntax=syntax)
    except NeverRead:  # refused only where the shell would never run a line added at the end
        lines = shelllex.physical_lines(text)
        assert shelllex.starts(lines, syntax)[-1] not in ("", "\\") or shelllex.stops_at(lines, syntax)
        return
    assert set_in_block(written, NAME, value, syntax=syntax) == written
    assert set_in_block(written, NAME, None, syntax=syntax) == text


@settings(max_examples=100, deadline=None)
@given(value=PRINTABLE)
def test_envd_value_round_trips_through_the_reference_reader(value: str) -> None:
    assert envd_read(f"X={envd_value(value)}\n", {"HOME": "/h"})["X"] == value
