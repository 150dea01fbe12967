"""The one shell lexer: the reader (shellparse) and the editor (shellfile) agree on which lines
set a variable, edits read back as meant, and real bash, zsh and fish run on the same generated
files set exactly the variables, from exactly the lines, that the lexer says."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uv_drive_guard.core import shelllex
from uv_drive_guard.core.model import Definition
from uv_drive_guard.core.shellparse import parse_environment_d, parse_shell
from uv_drive_guard.fixing.shellfile import (
    CannotDisable,
    NeverRead,
    Syntax,
    disable_line,
    lines_setting,
    set_in_block,
)

NAMES = ("UV_CACHE_DIR", "UV_TOOL_DIR", "UV_LINK_MODE")
HOME = "/home/ana"
# {n} is a name, {v} a value unique to the piece (so a value seen in a shell names its line).
POSIX_SETS = [
    "export {n}={v}",
    "{n}={v}",
    "  export {n}={v}  # why",
    "export {n}={v}; echo hi >/dev/null",
    "declare -x {n}={v}",
    "declare -gx {n}={v}",
    "typeset -x {n}={v}",
    "export OTHER=1 {n}={v}",
    "OTHER=2 {n}={v}",
    "export OTHER=1 \\\n  {n}={v}",
    "export \\\n{n}={v}",
    "if true; then\n  export {n}={v}\nfi",
    "true &&\n  export {n}={v}",
]
POSIX_NOISE = [
    "# export {n}={v}",
    "  # {n}={v}",
    "echo {n}={v} >/dev/null",
    "{n}={v} true",
    "unset {n}",
    "echo 'it''s' \"a \\\" b\" # a 'comment >/dev/null",
    "alias ll='ls -l'",
    'X="one\nexport {n}={v}\n"',
    "X='one\n{n}={v}'",
    "echo a \\\n  {n}={v} >/dev/null",
    "cat >/dev/null <<EOF\nexport {n}={v}\nEOF",
    "cat >/dev/null <<-'END'\n\t{n}={v}\n\tEND",
    'cat >/dev/null << "X"\nexport {n}={v}\nX',
    "echo $((1<<2)) >/dev/null",
    "echo $'it\\'s' >/dev/null",
    "echo \\$'it' >/dev/null",
    "cat <<<'x' >/dev/null",
    "export {n}_OLD={v}",
    "",
]
FISH_SETS = [
    "set -gx {n} {v}",
    "set -x {n} {v}",
    "set -g {n} {v}",
    "set --global --export {n} {v}",
    "  set -gx {n} {v}  # why",
    "set -gx {n} {v}; echo hi >/dev/null",
    "set -gx {n} \\\n  {v}",
    "set -gx \\\n  {n} {v}",
    "if true\n  set -gx {n} {v}\nend",
]
FISH_NOISE = [
    "set -e {n}",
    "set -q {n}",
    "# set -gx {n} {v}",
    "echo set -gx {n} {v} >/dev/null",
    "echo 'one\nset -gx {n} {v}' >/dev/null",
    'echo "one\nset -gx {n} {v}" >/dev/null',
    "echo it\\'s 'a \\' b' >/dev/null",
    "set -gx {n}_OLD {v}",
    "",
]
VALUE_FORMS = ["/v{i}", "'/v{i}'", '"/v{i}"', '/v"{i}"', "$HOME/v{i}"]
FISH_VALUE_FORMS = ["/v{i}", "'/v{i}'", '"/v{i}"', "$HOME/v{i}"]


@st.composite
def startup_file(draw: st.DrawFn, fish: bool) -> str:
    """A file of assignment and noise pieces, each with its own value."""
    sets, noise = (FISH_SETS, FISH_NOISE) if fish else (POSIX_SETS, POSIX_NOISE)
    forms = FISH_VALUE_FORMS if fish else VALUE_FORMS
    pieces = draw(st.lists(st.tuples(st.sampled_from(sets + noise), st.sampled_from(NAMES), st.sampled_from(forms))))
    text = [piece.format(n=name, v=form.format(i=i)) for i, (piece, name, form) in enumerate(pieces)]
    return "".join(line + "\n" for line in text)


def _definitions(text: str, syntax: Syntax) -> list[Definition]:
    known = {"HOME": HOME}
    if syntax == "environment.d":
        return parse_environment_d(text, file="f", names=NAMES, known=known)
    file = "/home/ana/.zshrc" if syntax == "zsh" else "f"
    return parse_shell(text, file=file, names=NAMES, known=known, fish=syntax == "fish")


def _read_lines(text: str, syntax: Syntax) -> set[tuple[str, int]]:
    return {(d.name, d.source.line or 0) for d in _definitions(text, syntax)}


def _edit_lines(text: str, syntax: Syntax) -> set[tuple[str, int]]:
    return {(name, line) for name in NAMES for line in lines_setting(text, name, syntax=syntax)}


SYNTAX_FILES = st.one_of(
    startup_file(fish=False).map(lambda t: (t, "posix")), startup_file(fish=True).map(lambda t: (t, "fish"))
)


@settings(max_examples=300, deadline=None)
@given(case=SYNTAX_FILES)
def test_reader_and_editor_agree_on_which_lines_set_a_variable(case: tuple[str, Syntax]) -> None:
    text, syntax = case
    assert _read_lines(text, syntax) == _edit_lines(text, syntax)


@settings(max_examples=200, deadline=None)
@given(case=SYNTAX_FILES, name=st.sampled_from(NAMES), value=st.sampled_from(["/home/ana/.cache/uv", "/m/it's"]))
def test_an_edit_reads_back_as_meant(case: tuple[str, Syntax], name: str, value: str) -> None:
    text, syntax = case
    added = set_in_block(text, name, value, syntax=syntax)
    last = [d for d in _definitions(added, syntax) if d.name == name][-1]
    assert last.value == value and last.source.line == len(shelllex.physical_lines(added)) - 1
    before = _read_lines(text, syntax)
    off = text
    for line in lines_setting(text, name, syntax=syntax):
        try:
            off = disable_line(off, line, None, syntax=syntax)
        except CannotDisable:
            continue  # part of a multi-line construct: the person turns it off by hand
        assert (name, line) not in _read_lines(off, syntax)
        assert _read_lines(off, syntax) == before - {(name, line)}
        before = _read_lines(off, syntax)


# --- the real shells decide --------------------------------------------------------------------

TRACE = {
    "bash": "set -T\ntrap '_seen' DEBUG\n",
    "zsh": "TRAPDEBUG() { _seen; }\n",
}


def _posix_harness(shell: str) -> str:
    seen = "; ".join(f'[ -n "${{{n}+x}}" ] && printf "%s=%s\\0" {n} "${n}" >>"$_log"' for n in NAMES)
    return f'_log="$2"\n_seen() {{ {seen}; }}\n{TRACE[shell]}. "$1"\n_seen\n'


def _fish_harness() -> str:
    handlers = "".join(
        f"function _w_{n} --on-variable {n}\n  set -q {n}; and printf '%s=%s\\0' {n} \"${n}\" >>$_log\nend\n"
        for n in NAMES
    )
    return "set -g _log $argv[2]\n" + handlers + "source $argv[1]\n"


def _shell_sets(shell: str, text: str, tmp_path: Path) -> set[tuple[str, str]]:
    """Every (name, value) the shell held while running the file."""
    rc = tmp_path / "rc"
    rc.write_text(text, encoding="utf-8")
    harness = tmp_path / "harness"
    harness.write_text(_fish_harness() if shell == "fish" else _posix_harness(shell), encoding="utf-8")
    env = {"HOME": HOME, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "XDG_CONFIG_HOME": str(tmp_path)}
    log = tmp_path / "seen"
    log.write_bytes(b"")
    argv = [str(shutil.which(shell)), str(harness), str(rc), str(log)]
    subprocess.run(argv, capture_output=True, env=env, cwd=tmp_path, timeout=20, check=False)
    pairs = [item.split("=", 1) for item in log.read_bytes().decode("utf-8").split("\0") if item]
    return {(name, value) for name, value in pairs}


def _read_values(text: str, syntax: Syntax) -> set[tuple[str, str]]:
    return {(d.name, d.value) for d in _definitions(text, syntax) if d.value is not None}


@pytest.mark.parametrize("shell", ["bash", "zsh"])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=startup_file(fish=False))
def test_bash_and_zsh_set_what_the_lexer_says(shell: str, text: str, tmp_path: Path) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    assert _shell_sets(shell, text, tmp_path) == _read_values(text, "posix")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=startup_file(fish=True))
def test_fish_sets_what_the_lexer_says(text: str, tmp_path: Path) -> None:
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed")
    assert _shell_sets("fish", text, tmp_path) == _read_values(text, "fish")


def _fixed(text: str, syntax: Syntax, name: str, value: str) -> str:
    """What the set-a-variable fix writes: the person's lines off where it can, then our block."""
    for line in lines_setting(text, name, syntax=syntax):
        try:
            text = disable_line(text, line, None, syntax=syntax)
        except CannotDisable:
            continue
    return set_in_block(text, name, value, syntax=syntax)


@pytest.mark.parametrize("syntax", ["posix", "fish"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), name=st.sampled_from(NAMES))
def test_real_shells_run_the_edited_file_as_the_lexer_reads_it(
    syntax: Syntax, data: st.DataObject, name: str, tmp_path: Path
) -> None:
    shell = "fish" if syntax == "fish" else "bash"
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    fixed = _fixed(data.draw(startup_file(fish=syntax == "fish")), syntax, name, "/home/ana/it's $HOME")
    assert _shell_sets(shell, fixed, tmp_path) == _read_values(fixed, syntax)
    assert [d.value for d in _definitions(fixed, syntax) if d.name == name][-1] == "/home/ana/it's $HOME"


# --- the cases where reader and editor disagreed before, decided by the real shells -------------

DECIDED = [
    ("export A=1 \\\n  UV_CACHE_DIR=/x\n", {("UV_CACHE_DIR", 2)}),  # reader yes, editor no: bash sets it
    ("echo a \\\n  UV_CACHE_DIR=/x\n", set()),  # reader yes, editor no: an argument of echo
    ('X="\nexport UV_CACHE_DIR=/x\n"\n', set()),  # reader yes, editor no: text inside quotes
    ("declare -gx UV_CACHE_DIR=/x\n", {("UV_CACHE_DIR", 1)}),  # editor yes, reader no: bash sets it
    ("cat <<EOF\nexport UV_CACHE_DIR=/x\nEOF\n", set()),  # both yes: a here-document is text
    ("UV_CACHE_DIR=/x true\n", set()),  # both yes: only the command's environment
    ("export A=1 UV_CACHE_DIR=/x\n", {("UV_CACHE_DIR", 1)}),  # both no: bash sets it
]


@pytest.mark.parametrize(("text", "lines"), DECIDED)
def test_former_disagreements_follow_bash(text: str, lines: set[tuple[str, int]], tmp_path: Path) -> None:
    assert _read_lines(text, "posix") == _edit_lines(text, "posix") == lines
    assert {name for name, _ in _shell_sets("bash", text, tmp_path)} == {name for name, _ in lines}


def test_joined_values_are_what_bash_holds_and_a_value_over_lines_is_unknown(tmp_path: Path) -> None:
    text = 'export UV_CACHE_DIR=/very/long\\\n/path\nexport UV_TOOL_DIR="/a\nb"\n'
    assert _shell_sets("bash", text, tmp_path) == {("UV_CACHE_DIR", "/very/long/path"), ("UV_TOOL_DIR", "/a\nb")}
    assert [(d.name, d.value) for d in _definitions(text, "posix")] == [
        ("UV_CACHE_DIR", "/very/long/path"),
        ("UV_TOOL_DIR", None),
    ]


def test_environment_d_lines_inside_a_value_are_not_assignments() -> None:
    text = "A=/a\\\nUV_CACHE_DIR=/in-a-continued-value\nX='\nUV_TOOL_DIR=/in-quotes'\nUV_LINK_MODE=copy\n"
    assert _read_lines(text, "environment.d") == _edit_lines(text, "environment.d") == {("UV_LINK_MODE", 5)}


def test_states_mark_heredoc_bodies_and_their_opener() -> None:
    lines = shelllex.physical_lines("cat <<EOF\nexport X=1\nEOF\necho\n")
    assert shelllex.starts(lines, "posix") == ["", shelllex.HEREDOC, shelllex.HEREDOC, "", ""]


# --- environment.d, against systemd's own generator ----------------------------------------------

ENVD_PIECES = [
    "{n}={v}",
    "  {n} = {v}",
    "{n}={v}\\\n/more",
    "# {n}={v}",
    "; {n}={v}",
    "X='one\n{n}={v}'",
    'X="one\n{n}={v}"',
    "A=/a\\\n{n}={v}",
    "",
]
GENERATOR = Path("/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator")


@st.composite
def envd_file(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(st.tuples(st.sampled_from(ENVD_PIECES), st.sampled_from(NAMES))))
    return "".join(piece.format(n=name, v=f"/v{i}") + "\n" for i, (piece, name) in enumerate(pieces))


def _systemd_final(text: str, tmp_path: Path) -> dict[str, str]:
    conf = tmp_path / "xdg" / "environment.d"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "50-test.conf").write_text(text, encoding="utf-8")
    env = {"HOME": HOME, "XDG_CONFIG_HOME": str(tmp_path / "xdg"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([str(GENERATOR)], capture_output=True, env=env, check=True, timeout=20).stdout.decode()
    pairs = [line.split("=", 1) for line in out.splitlines()]
    return {name: value for name, value in pairs if name in NAMES}


@settings(max_examples=200, deadline=None)
@given(text=envd_file())
def test_environment_d_reader_and_editor_agree(text: str) -> None:
    assert _read_lines(text, "environment.d") == _edit_lines(text, "environment.d")


@pytest.mark.skipif(not GENERATOR.exists(), reason="systemd's environment.d generator is not installed")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=envd_file())
def test_systemd_sets_what_the_lexer_says(text: str, tmp_path: Path) -> None:
    last = {d.name: d.value for d in _definitions(text, "environment.d")}
    assert _systemd_final(text, tmp_path) == last


# --- CR LF files, as each shell reads them -------------------------------------------------------


def _crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=startup_file(fish=False).map(_crlf))
def test_bash_reads_a_crlf_file_as_the_lexer_says(text: str, tmp_path: Path) -> None:
    """The CR stays in the last word, and the first compound command ends the file."""
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    assert _shell_sets("bash", text, tmp_path) == _read_values(text, "posix")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=startup_file(fish=True).map(_crlf))
def test_fish_reads_a_crlf_file_as_the_lexer_says(text: str, tmp_path: Path) -> None:
    """fish takes a CR for a blank."""
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed")
    assert _shell_sets("fish", text, tmp_path) == _read_values(text, "fish")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=startup_file(fish=False).map(_crlf))
def test_zsh_reads_its_own_crlf_file_as_the_lexer_says(text: str, tmp_path: Path) -> None:
    """zsh also stops at `export NAME`, `unset NAME` and their kin followed by the line's CR."""
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed")
    assert _shell_sets("zsh", text, tmp_path) == _read_values(text, "zsh")


# Lines of real startup files: on a CR LF line, which of them stop bash and zsh reading the file
# (the reader sees no assignment inside a compound command on one line: nothing is set in them).
CRLF_FORMS = [
    "if [ -f ~/.bash_aliases ]; then",
    "if true; then true; fi",
    "if true; then true; fi;",
    "if true; then true; fi # done",
    "case $- in",
    "case x in *) true;; esac",
    "case x in *) true;; esac;",
    "for d in a b; do true; done",
    "for d in a b; do true; done 2>/dev/null;",
    "while false; do :; done",
    "f() {",
    "f() { :; }",
    "f() { :; };",
    "function f { :; }",
    "(true)",
    "(true);",
    "{ true; }",
    "{ true; };",
    "[[ -n x ]] && true",
    '[ -x /usr/bin/lesspipe ] && eval "$(true)"',
    "PS1='${debian_chroot:+($debian_chroot)}\\u@\\h:\\w\\$ '",
    "alias ll='ls -l'",
    "X=(a 'b c')",
    "export PATH",
    "unset UV_LINK_MODE",
    "readonly R",
    "export R=1 \\",
    "true &&",
    "",
    "# a comment",
    "cat >/dev/null <<EOF\nexport UV_LINK_MODE=/c\nEOF",
    'echo "$(echo fi)" >/dev/null',
]


@pytest.mark.parametrize("shell", ["bash", "zsh"])
@pytest.mark.parametrize("form", CRLF_FORMS)
def test_where_bash_and_zsh_stop_reading_a_crlf_file(shell: str, form: str, tmp_path: Path) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    text = _crlf(f"export UV_TOOL_DIR=/a\n{form}\nexport UV_CACHE_DIR=/z\n")
    syntax: Syntax = "zsh" if shell == "zsh" else "posix"
    assert _shell_sets(shell, text, tmp_path) == _read_values(text, syntax)


@pytest.mark.parametrize("syntax", ["posix", "zsh", "fish"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), name=st.sampled_from(NAMES))
def test_real_shells_run_an_edited_crlf_file_as_the_lexer_reads_it(
    syntax: Syntax, data: st.DataObject, name: str, tmp_path: Path
) -> None:
    shell = {"posix": "bash", "zsh": "zsh", "fish": "fish"}[syntax]
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    text = _crlf(data.draw(startup_file(fish=syntax == "fish")))
    try:
        fixed = _fixed(text, syntax, name, "/home/ana/it's $HOME")
    except NeverRead:  # the shell stops before the end, or ends inside a quote: a block there would never run
        lines = shelllex.physical_lines(text)
        assert shelllex.stops_at(lines, syntax) is not None or shelllex.starts(lines, syntax)[-1] not in ("", "\\")
        return
    assert _shell_sets(shell, fixed, tmp_path) == _read_values(fixed, syntax)
    assert [d.value for d in _definitions(fixed, syntax) if d.name == name][-1] == "/home/ana/it's $HOME"
    if text:  # an empty file has no line ends of its own to keep: ours are LF
        lone = fixed.replace("\r\n", "").count("\n")  # lines ending in LF alone: only our blank one
        assert lone == (0 if syntax == "fish" else 1)


@pytest.mark.parametrize("shell", ["bash", "zsh", "dash", "fish"])
def test_a_crlf_file_edited_sets_exactly_the_value_and_says_nothing_more(shell: str, tmp_path: Path) -> None:
    """No CR in the value, no "$'\\r': command not found" from a line of ours."""
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    fish = shell == "fish"
    mine = "set -gx UV_CACHE_DIR /media/ana/STICK/c" if fish else "export UV_CACHE_DIR=/media/ana/STICK/c"
    text = f"# mine\r\n{mine}\r\nalias ll='ls -l'\r\n"
    syntax: Syntax = "fish" if fish else "zsh" if shell == "zsh" else "posix"
    fixed = _fixed(text, syntax, "UV_CACHE_DIR", "/home/ana/.cache/uv")
    rc = tmp_path / "rc"
    rc.write_bytes(text.encode())
    show = ["-c", f"source {rc}; printf %s $UV_CACHE_DIR"] if fish else ["-c", f'. {rc}; printf %s "$UV_CACHE_DIR"']
    env = {"HOME": HOME, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "XDG_CONFIG_HOME": str(tmp_path)}
    before = subprocess.run([shell, *show], capture_output=True, env=env, timeout=20, check=False)
    rc.write_bytes(fixed.encode())
    after = subprocess.run([shell, *show], capture_output=True, env=env, timeout=20, check=False)
    assert after.stdout == b"/home/ana/.cache/uv"
    assert after.stderr == before.stderr == b""
    assert fixed.count("\r\n") == fixed.count("\n") - (0 if fish else 1)  # our lines end as the file's do


def test_a_crlf_file_bash_stops_reading_gets_no_block_it_would_never_run() -> None:
    text = "# ~/.bashrc\r\ncase $- in\r\n  *i*) ;;\r\n  *) return;;\r\nesac\r\nexport UV_LINK_MODE=hardlink\r\n"
    assert shelllex.stops_at(shelllex.physical_lines(text), "posix") is not None
    assert _read_lines(text, "posix") == set()  # bash never gets to the export
    with pytest.raises(NeverRead, match=r"bash stops reading it at line 2 \(`case \$- in`\): its lines end in CR LF"):
        set_in_block(text, "UV_LINK_MODE", "copy", syntax="posix")
    lf = text.replace("\r\n", "\n")
    assert _read_lines(lf, "posix") == {("UV_LINK_MODE", 6)}
    assert "export UV_LINK_MODE='copy'" in set_in_block(lf, "UV_LINK_MODE", "copy", syntax="posix")
