"""The hint after uv fails: its lines from the scan, the fix, and the code each shell is given.

The lines are the findings' own words (each rule's `cannot`); the fix is planned, previewed,
applied and undone like every fix, byte for byte; the generated code is run by real bash, zsh,
dash and fish on hostile labels and mount points (quotes, `$(...)`, backticks, spaces: a shell
that ran them would create PWNED; newlines and control characters are refused and logged), and
PowerShell's is read by its grammar (tree-sitter-powershell), since no PowerShell runs here.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from tests import builders
from tests.realfs.drives import need_real

from uv_drive_guard.core import hint
from uv_drive_guard.core.diagnose import diagnose
from uv_drive_guard.core.model import (
    ChangeKind,
    Definition,
    HintLine,
    Location,
    Os,
    PortableDrive,
    Role,
    Severity,
    Snapshot,
    Source,
    SourceKind,
)
from uv_drive_guard.core.rules import CATALOGUE
from uv_drive_guard.fixing import engine, plan
from uv_drive_guard.fixing import portable as registry
from uv_drive_guard.fixing.journal import Journal
from uv_drive_guard.fixing.portable import shell as portable_shell

DRIVE_LINE = "uv-drive-guard: STICK is exFAT; uv cannot keep environments there. Run `uv-drive-guard explain`."
CACHE_LINE = (
    "uv-drive-guard: uv's cache is on STICK (exFAT); uv cannot keep its cache there. Run `uv-drive-guard explain`."
)


def _with_cache(snap: Snapshot) -> Snapshot:
    """UV_CACHE_DIR on the stick, set in ~/.bashrc: every uv command fails, wherever it runs."""
    source = Source(SourceKind.SHELL_FILE, file=f"{snap.home}/.bashrc", line=1, name="UV_CACHE_DIR")
    cache = Location(Role.CACHE, f"{builders.STICK}/uv-cache", source, volume=builders.STICK, exists=True)
    definition = Definition(
        "UV_CACHE_DIR", f"{builders.STICK}/uv-cache", source, raw=f"export UV_CACHE_DIR={builders.STICK}/uv-cache"
    )
    return replace(snap, locations=(*snap.locations, cache), definitions=(definition,))


def test_the_lines_are_the_findings_own_words(tmp_path: Path) -> None:
    snap = _with_cache(builders.projects_on(tmp_path))
    drive, cache = hint.lines(snap, diagnose(snap))
    assert (drive.text, drive.mount, drive.witness, drive.everywhere) == (
        DRIVE_LINE,
        builders.STICK,
        f"{builders.STICK}/demo",
        False,
    )
    assert (cache.text, cache.witness, cache.everywhere) == (CACHE_LINE, f"{builders.STICK}/uv-cache", True)
    assert (cache.variable, cache.from_variable, cache.flags) == (
        "UV_CACHE_DIR",
        True,
        ("--cache-dir", "--no-cache", "-n"),
    )
    assert hint.lines(builders.projects_on(tmp_path, projects=()), ()) == ()


def test_every_rule_that_fails_on_a_drive_says_what_uv_cannot_do_there() -> None:
    """A new error rule about a drive must say it too: the hint never makes up words."""
    about_no_drive = {"UVD020"}  # an unreadable UV_NO_* value: every uv command stops, anywhere
    missing = [
        r.code
        for r in CATALOGUE
        if Severity.ERROR in r.severities and r.cannot is None and r.code not in about_no_drive
    ]
    assert missing == []


def test_the_fix_is_offered_once_per_error_and_shows_what_would_be_said(tmp_path: Path) -> None:
    snap = _with_cache(builders.projects_on(tmp_path))
    findings = diagnose(snap)
    offered = {f.code: [x for x in f.fixes if hint.is_hint(x)] for f in findings}
    assert {code: len(fixes) for code, fixes in offered.items()} == {"UVD005": 1, "UVD006": 1}
    (fix,) = offered["UVD005"]
    assert [c.kind for c in fix.changes] == [ChangeKind.FAILURE_HINT, ChangeKind.SHELL_HOOK]
    assert not fix.recommended and DRIVE_LINE in fix.detail and "fixes nothing" in fix.detail
    assert (
        fix.changes[0].summary
        == f"after a uv command fails in a folder on {builders.STICK}, print on stderr: {DRIVE_LINE}"
    )
    (cache_fix,) = offered["UVD006"]  # the line about the cache first, for the cache's own finding
    where = f"anywhere while UV_CACHE_DIR leads to {builders.STICK}"
    assert cache_fix.changes[0].summary == f"after a uv command fails {where}, print on stderr: {CACHE_LINE}"
    assert not any(hint.is_hint(x) for f in diagnose(replace(snap, failure_hint=True)) for x in f.fixes)
    assert not any(hint.is_hint(x) for f in diagnose(replace(snap, data_dir="")) for x in f.fixes)


def _hint_plan(tmp_path: Path, snap: Snapshot) -> plan.Plan:
    finding = next(f for f in diagnose(snap) if f.code == "UVD005")
    fix = next(x for x in finding.fixes if hint.is_hint(x))
    return plan.build(finding, fix, plan.Machine(snap, {"SHELL": "/bin/bash"}, None))


def test_apply_then_undo_byte_for_byte_and_the_preview_says_each_line(tmp_path: Path) -> None:
    snap = _with_cache(builders.projects_on(tmp_path))
    home, data = Path(snap.home), Path(snap.data_dir)
    (home / ".config" / "fish").mkdir(parents=True)
    bashrc, fish = home / ".bashrc", home / ".config" / "fish" / "config.fish"
    bashrc.write_bytes(b"# mine\r\nexport UV_CACHE_DIR=/media/ana/STICK/uv-cache\r\n")
    fish.write_bytes(b"set -g x 1")
    before = {p: p.read_bytes() for p in (bashrc, fish)}
    built = _hint_plan(tmp_path, snap)
    shown = engine.preview(built)
    assert f"in a folder on {builders.STICK}: {DRIVE_LINE}" in shown
    assert f"wherever uv fails while UV_CACHE_DIR leads to {builders.STICK}: {CACHE_LINE}" in shown
    assert "portable.sh, portable.fish" in shown and "+if [ -r " in shown
    journal, stores = Journal(tmp_path / "journal"), {registry.STORE: registry.Store(data, Os.LINUX)}
    engine.apply(built, journal, stores)
    assert registry.load_hint(data) == hint.lines(snap, diagnose(snap)) and registry.load(data) == ()
    generated = (data / "portable.sh").read_text()
    assert "__uvdg_hint_say" in generated and "STICK is exFAT" in generated
    assert "add-zsh-hook" not in generated  # no drive set up: no prompt hook, nothing per prompt
    on = replace(snap, failure_hint=True)
    again = plan.build(built.finding, built.fix, plan.Machine(on, {"SHELL": "/bin/bash"}, None))
    assert again.empty  # a second apply finds nothing to do
    engine.undo(journal, stores=stores)
    assert {p: p.read_bytes() for p in (bashrc, fish)} == before
    assert sorted(p.name for p in data.iterdir()) == []


def test_with_the_portable_setup_one_line_and_undo_in_either_order(tmp_path: Path) -> None:
    snap = builders.projects_on(tmp_path)
    home, data = Path(snap.home), Path(snap.data_dir)
    home.mkdir(parents=True)
    (home / ".bashrc").write_text("# mine\n")
    before = (home / ".bashrc").read_bytes()
    built, journal, stores = builders.portable_fix(tmp_path, snap)  # the drive's setup, with the hint in it
    assert "turn on the hint after uv fails" in engine.preview(built)
    engine.apply(built, journal, stores)
    assert registry.load_hint(data) is not None and len(registry.load(data)) == 1
    assert (home / ".bashrc").read_text().count("uv-drive-guard: portable projects") == 1
    engine.undo(journal, stores=stores)
    assert (home / ".bashrc").read_bytes() == before
    assert not list(data.iterdir())  # the registry and the generated files, all gone


def test_the_registry_keeps_the_hint_and_refuses_a_hand_edited_line(tmp_path: Path) -> None:
    line = HintLine(DRIVE_LINE, builders.STICK, f"{builders.STICK}/demo")
    registry.save(tmp_path, (), (line,))
    assert registry.load_hint(tmp_path) == (line,) and registry.load(tmp_path) == ()
    data = json.loads((tmp_path / "portable.json").read_text())
    data["hint"]["lines"] += [{"text": 1, "mount": "/x", "witness": "/x"}, {"mount": "/x"}, "junk"]
    (tmp_path / "portable.json").write_text(json.dumps(data))
    assert registry.load_hint(tmp_path) == (line,)
    registry.save(tmp_path, (), None)
    assert not (tmp_path / "portable.json").exists()


def test_a_hand_edited_variable_or_option_never_becomes_shell_code(tmp_path: Path) -> None:
    good = HintLine(
        CACHE_LINE,
        builders.STICK,
        builders.STICK,
        everywhere=True,
        variable="UV_CACHE_DIR",
        flags=("--cache-dir", "-n"),
    )
    bad_name = replace(good, variable="X-}$(touch PWNED)")
    bad_flag = replace(good, flags=("-n) touch PWNED;; (x",))
    said, unsaid = portable_shell.hint_entries((good, bad_name, bad_flag))
    assert said == (good,) and len(unsaid) == 2


def test_each_scan_rewrites_the_lines_a_drive_fixed_moved_or_gone(tmp_path: Path) -> None:
    snap = _with_cache(builders.projects_on(tmp_path))
    data = Path(snap.data_dir)
    registry.save(data, (), ())
    assert registry.refresh(snap, diagnose(snap), data)
    assert [x.text for x in registry.load_hint(data) or ()] == [DRIVE_LINE, CACHE_LINE]
    assert not registry.refresh(snap, diagnose(snap), data)  # nothing new: nothing written
    fixed = replace(snap, locations=(), definitions=())
    registry.refresh(fixed, diagnose(fixed), data)
    assert registry.load_hint(data) == ()
    assert "STICK" not in (data / "portable.sh").read_text()
    registry.refresh(snap, diagnose(snap), data)
    other = replace(snap, scope=())  # `scan /elsewhere`: the stick was not looked at, and is still there
    registry.refresh(other, diagnose(other), data)
    assert len(registry.load_hint(data) or ()) == 2
    gone = replace(other, volumes=snap.volumes[:1])
    registry.refresh(gone, diagnose(gone), data)
    assert registry.load_hint(data) == ()


# --- the code each shell gets -----------------------------------------------------------------

HOSTILE_LABEL = 'it\'s "my" $(touch PWNED) `touch PWNED` ${HOME} * ? [x] %s;|&><\\'
REFUSED = ("new\nline", "tab\there", "bell\x07")


def _need(shell: str) -> str:
    found = shutil.which(shell)
    if found is None:
        need_real(f"{shell} is not installed")
    assert found is not None
    return found


def _lines(root: Path) -> tuple[tuple[HintLine, ...], dict[str, Path]]:
    """Two drives whose labels and mount points are hostile, one holding uv's cache; and a third
    whose label no quoting makes safe."""
    a, b = root / "mnt" / "A it's $(touch PWNED) `x`", root / "mnt" / "B * ? [x] ${HOME}"
    for mount in (a, b, root / "mnt" / "C"):
        (mount / "demo").mkdir(parents=True)
    said = (
        HintLine(
            f"uv-drive-guard: {HOSTILE_LABEL} is exFAT; uv cannot keep environments there.", str(a), str(a / "demo")
        ),
        HintLine("uv-drive-guard: B is FAT32; uv cannot keep environments there.", str(b), str(b)),
        HintLine(f"uv-drive-guard: {REFUSED[0]} is exFAT.", str(root / "mnt" / "C"), str(root / "mnt" / "C")),
        HintLine(
            f"uv-drive-guard: uv's cache is on {HOSTILE_LABEL} (exFAT).",
            str(a),
            str(a),
            everywhere=True,
            variable="UV_CACHE_DIR",
            from_variable=True,
            flags=("--cache-dir", "--no-cache", "-n"),
        ),
    )
    return said, {"a": a, "b": b, "c": root / "mnt" / "C"}


@pytest.fixture
def made(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> tuple[Path, dict[str, Path], tuple[HintLine, ...]]:
    said, mounts = _lines(tmp_path)
    data = tmp_path / "data"
    with caplog.at_level(logging.WARNING):
        skipped = registry.regenerate(data, Os.LINUX, (), said)
    assert [s.root for s in skipped] == [str(mounts["c"])]
    assert "left out of the hint" in caplog.text and "control character" in caplog.text
    return data, mounts, said


def _say_script(mounts: dict[str, Path], hook: str, q: object) -> str:
    """cd to each place and ask what would be said after a failure there (stderr to stdout)."""
    steps = []
    for where, args in (
        (mounts["a"] / "demo", ""),
        (mounts["a"] / "demo", ""),  # twice: the second time from a subfolder, below
        (mounts["b"], ""),
        (mounts["c"], ""),
        (Path("/"), ""),
        (Path("/"), " --cache-dir /elsewhere sync"),
        (Path("/"), " -n sync"),
    ):
        steps += [f"cd {q(where)}", f"{hook}{args} 2>&1", "echo ."]  # type: ignore[operator]
    return "\n".join(steps) + "\n"


def _expected(said: tuple[HintLine, ...], cache: bool) -> list[str]:
    a, b, _c, a_cache = said
    everywhere = [a_cache.text] if cache else []
    return [a.text, ".", a.text, ".", b.text, ".", *everywhere, ".", *everywhere, ".", ".", "."]


def _q(path: Path) -> str:
    return "'" + str(path).replace("'", "'\"'\"'") + "'"


def _fq(path: Path) -> str:
    return "'" + str(path).replace("\\", "\\\\").replace("'", "\\'") + "'"


@pytest.mark.parametrize("shell", ("bash", "zsh", "dash"))
@pytest.mark.parametrize("cache", (True, False))
def test_posix_shells_say_each_line_literally(
    shell: str, cache: bool, made: tuple[Path, dict[str, Path], tuple[HintLine, ...]]
) -> None:
    data, mounts, said = made
    env = {"PATH": os.environ["PATH"], "HOME": str(data)}
    if cache:
        env["UV_CACHE_DIR"] = str(mounts["a"] / "uv-cache")
    program = f". {_q(data / 'portable.sh')}\n" + _say_script(mounts, "__uvdg_hint_say", _q)
    argv = [_need(shell), "-f", "-c", program] if shell == "zsh" else [_need(shell), "-c", program]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and not done.stderr, done.stderr
    assert done.stdout.splitlines() == _expected(said, cache)
    assert not list(data.parent.rglob("PWNED"))


@pytest.mark.parametrize("cache", (True, False))
def test_fish_says_each_line_literally(cache: bool, made: tuple[Path, dict[str, Path], tuple[HintLine, ...]]) -> None:
    data, mounts, said = made
    env = {"PATH": os.environ["PATH"], "HOME": str(data), "LANG": "C.UTF-8"}
    if cache:
        env["UV_CACHE_DIR"] = str(mounts["a"] / "uv-cache")
    program = f"source {_fq(data / 'portable.fish')}\n" + _say_script(mounts, "__uvdg_hint_say", _fq)
    done = subprocess.run(
        [_need("fish"), "--no-config", "-c", program], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and not done.stderr, done.stderr
    assert done.stdout.splitlines() == _expected(said, cache)
    assert not list(data.parent.rglob("PWNED"))


def test_a_stale_line_says_nothing(made: tuple[Path, dict[str, Path], tuple[HintLine, ...]]) -> None:
    """The drive unplugged and its mount point left behind, or gone with it: silence."""
    data, mounts, _said = made
    (mounts["a"] / "demo").rmdir()
    shutil.rmtree(mounts["b"])
    script = f". {_q(data / 'portable.sh')}\ncd {_q(mounts['a'])} && __uvdg_hint_say 2>&1\necho done\n"
    done = subprocess.run([_need("bash"), "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.stdout.splitlines() == ["done"], done.stderr


def _fake_uv(tmp_path: Path) -> Path:
    """A stand-in for uv on PATH: says its arguments on stdout and stderr, exits with $UVX."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "uv").write_text('#!/bin/sh\necho "out $*"\necho "err $*" >&2\nexit "${UVX:-0}"\n')
    (bin_dir / "uv").chmod(0o755)
    return bin_dir


def _pty(shell: str, argv: list[str], commands: list[str], env: dict[str, str]) -> str:
    """An interactive shell on a pseudo-terminal, one command per prompt (as a person types)."""
    script = "".join(f"{c}\n" for c in commands) + "exit\n"
    run = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), _need("script"), "-qec", " ".join(argv), "/dev/null"]
    done = subprocess.run(run, input=script.encode(), capture_output=True, timeout=120, check=False)
    return done.stdout.decode("utf-8", "replace")


SHELLS = {
    "bash": ["bash", "--norc", "--noprofile", "-i"],
    "zsh": ["zsh", "-f", "-i"],
    "fish": ["fish", "--no-config", "-i"],
}


@pytest.mark.parametrize("shell", SHELLS)
def test_an_interactive_shell_says_it_after_a_failure_only(
    shell: str, tmp_path: Path, made: tuple[Path, dict[str, Path], tuple[HintLine, ...]]
) -> None:
    """uv's output and exit status pass through; the line comes after a failure on the drive."""
    data, mounts, said = made
    _need(shell)
    bin_dir = _fake_uv(tmp_path)
    source = f"source {_fq(data / 'portable.fish')}" if shell == "fish" else f". {_q(data / 'portable.sh')}"
    status = "$status" if shell == "fish" else "$?"
    cd = _fq if shell == "fish" else _q
    commands = [
        source,
        f"cd {cd(mounts['a'] / 'demo')}",
        f"uv sync; echo rc={status}",
        f"UVX=3 uv sync; echo rc={status}",  # fish 3.1 and later take VAR=value too
        "cd /",
        f"UVX=4 uv run x; echo rc={status}",
    ]
    env = {"HOME": str(tmp_path), "PATH": f"{bin_dir}:/usr/bin:/bin", "TERM": "dumb", "LANG": "C.UTF-8"}
    out = _pty(shell, SHELLS[shell], commands, env)
    first = said[0].text
    assert out.count(first) == 1, out  # after the failure on the drive, not after the success
    assert "rc=0" in out and "rc=3" in out and "rc=4" in out, out
    assert out.index("err sync") < out.index(first) < out.index("rc=3"), out
    assert "out run x" in out and out.count("uv-drive-guard:") == 1, out


def _bash_after(tmp_path: Path, made: tuple[Path, dict[str, Path], tuple[HintLine, ...]], first: str) -> str:
    """A bash where the person's `first` line runs before the generated file is read, then a
    uv that fails (status 3) on the drive."""
    data, mounts, _said = made
    commands = [first, f". {_q(data / 'portable.sh')}", f"cd {_q(mounts['a'] / 'demo')}", "UVX=3 uv sync; echo rc=$?"]
    env = {"HOME": str(tmp_path), "PATH": f"{_fake_uv(tmp_path)}:/usr/bin:/bin", "TERM": "dumb"}
    return _pty("bash", SHELLS["bash"], commands, env)


def test_a_persons_own_uv_function_is_kept(
    tmp_path: Path, made: tuple[Path, dict[str, Path], tuple[HintLine, ...]]
) -> None:
    out = _bash_after(tmp_path, made, 'uv() { echo mine; command uv "$@"; }')
    assert "mine" in out and "rc=3" in out and "uv-drive-guard:" not in out, out


def test_an_alias_named_uv_is_kept_and_still_reaches_the_hint(
    tmp_path: Path, made: tuple[Path, dict[str, Path], tuple[HintLine, ...]]
) -> None:
    """bash would expand an alias inside `uv() {`: the function is written `function uv`."""
    said = made[2]
    out = _bash_after(tmp_path, made, "alias uv='uv --offline'")
    assert "syntax error" not in out and "err --offline sync" in out and said[0].text in out and "rc=3" in out, out


@pytest.mark.parametrize("shell", ("bash", "zsh"))
def test_a_script_gets_no_line(
    shell: str, tmp_path: Path, made: tuple[Path, dict[str, Path], tuple[HintLine, ...]]
) -> None:
    """Only a person at a prompt: a script that reads the startup file keeps uv's stderr as it was."""
    data, mounts, _said = made
    bin_dir = _fake_uv(tmp_path)
    lines = [f". {_q(data / 'portable.sh')}", f"cd {_q(mounts['a'] / 'demo')}", 'function uv { __uvdg_uv "$@"; }']
    program = "\n".join([*lines, "UVX=5 uv sync", ""])
    env = {"HOME": str(tmp_path), "PATH": f"{bin_dir}:/usr/bin:/bin"}
    argv = [_need(shell), "-f", "-c", program] if shell == "zsh" else [_need(shell), "-c", program]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 5 and done.stderr == "err sync\n" and done.stdout == "out sync\n"


@pytest.mark.parametrize("shell", ("bash", "zsh", "fish"))
def test_no_process_is_started_but_uv(
    shell: str, tmp_path: Path, made: tuple[Path, dict[str, Path], tuple[HintLine, ...]]
) -> None:
    """strace counts every program started: the shell itself and uv, once per command, whatever
    uv did and wherever it ran; the matching after a failure is builtins only."""
    data, mounts, said = made
    strace = _need("strace")
    bin_dir = _fake_uv(tmp_path)
    fish = shell == "fish"
    source = f"source {_fq(data / 'portable.fish')}" if fish else f". {_q(data / 'portable.sh')}"
    cd = _fq if fish else _q
    uvx = "set -gx UVX 3" if fish else "export UVX=3"
    program = "\n".join([source, f"cd {cd(mounts['a'] / 'demo')}", "uv sync", uvx, "uv sync", "cd /", "uv sync", ""])
    log = tmp_path / "trace"
    argv = {
        "bash": ["bash", "--norc", "-i", "-c"],
        "zsh": ["zsh", "-f", "-i", "-c"],
        "fish": ["fish", "--no-config", "-i", "-c"],
    }
    env = {"HOME": str(tmp_path), "PATH": f"{bin_dir}:/usr/bin:/bin", "TERM": "dumb", "LANG": "C.UTF-8"}
    done = subprocess.run(
        [strace, "-f", "-qq", "-e", "trace=execve", "-o", str(log), *argv[shell], program],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert said[0].text in done.stderr, done.stderr  # -i: the shell is interactive, the line is said
    started = [line.split('"')[1] for line in log.read_text().splitlines() if "execve(" in line and "= 0" in line]
    assert [Path(p).name for p in started] == [shell, "uv", "uv", "uv"], started


# --- PowerShell, by its grammar -------------------------------------------------------------

_PS_QUOTES = ("'", "\u2018", "\u2019", "\u201a", "\u201b")


def _ps_strings(text: str) -> list[str]:
    """Every single-quoted string literal, as PowerShell reads it: any of its five single
    quotes ends the string unless doubled (about_Quoting_Rules); a lone one inside fails here,
    whatever the grammar below thinks of it."""
    import tree_sitter
    import tree_sitter_powershell

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    source = text.encode("utf-8")
    tree = parser.parse(source)
    assert not tree.root_node.has_error, "PowerShell's grammar refuses the generated file"
    found: list[str] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "string_literal":
            raw = source[node.start_byte : node.end_byte].decode("utf-8")
            if raw[0] in _PS_QUOTES:
                found.append(_ps_unquote(raw))
            continue
        stack.extend(node.children)
    return found


def _ps_unquote(raw: str) -> str:
    assert raw[0] in _PS_QUOTES and raw[-1] in _PS_QUOTES, raw
    body, out, i = raw[1:-1], [], 0
    while i < len(body):
        if body[i] in _PS_QUOTES:
            assert i + 1 < len(body) and body[i + 1] in _PS_QUOTES, f"a lone quote ends the string early: {raw!r}"
            i += 1
        out.append(body[i])
        i += 1
    return "".join(out)


def test_powershell_code_parses_and_takes_every_label_and_path_literally(tmp_path: Path) -> None:
    label = HOSTILE_LABEL + " \u2018q\u2019 \u201aq\u201b"
    line = HintLine(f"uv-drive-guard: {label} is exFAT.", "E:\\", "E:\\it's $(x)")
    cache = HintLine(
        f"uv-drive-guard: uv's cache is on {label}.",
        "F:\\",
        "F:\\",
        everywhere=True,
        variable="UV_CACHE_DIR",
        flags=("--cache-dir", "-n"),
    )
    record = PortableDrive("5e7a-1c3b", "STICK", True, (), ("it's $(x)",), "E:\\", "E:\\")
    data = tmp_path / "data"
    registry.regenerate(data, Os.WINDOWS, (record,), (line, cache))
    text = (data / "portable.ps1").read_text(encoding="utf-8-sig")
    strings = _ps_strings(text)
    for value in (line.text, cache.text, "E:\\", "E:\\it's $(x)", "E:\\it's $(x)\\", "F:\\"):
        assert value in strings, value
    assert "function global:uv {" in text and "[Console]::Error.WriteLine($line)" in text
    assert "$input | & $uv @args" in text  # what is piped into uv reaches uv
    hint_only = portable_shell.render_powershell(str(data / "portable.ps1"), (), (line,), drives=False)
    _ps_strings(hint_only)
    assert "function global:prompt" not in hint_only  # nothing per prompt without a drive set up
    portable_only = portable_shell.render_powershell(str(data / "portable.ps1"), ())
    _ps_strings(portable_only)
    assert "__uvdg_uv" not in portable_only


def test_the_hint_is_quiet_in_the_shellcheck_of_both_dialects(
    made: tuple[Path, dict[str, Path], tuple[HintLine, ...]],
) -> None:
    data, _mounts, _said = made
    for dialect in ("sh", "bash"):
        argv = [_need("shellcheck"), "-s", dialect, "-S", "info", str(data / "portable.sh")]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stdout


def test_the_hint_fix_is_applied_without_a_uv_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It cures nothing, so uv is not asked to confirm anything: applied, and said so."""
    from uv_drive_guard.fixing import workflow
    from uv_drive_guard.fixing.outcome import Result

    snap = _with_cache(builders.projects_on(tmp_path))
    Path(snap.home).mkdir(parents=True)
    fix_id = next(x.id for f in diagnose(snap) for x in f.fixes if hint.is_hint(x))
    monkeypatch.setattr(workflow.scan, "gather", lambda env, options, **kw: snap)
    monkeypatch.setattr(workflow, "after_fix", lambda *a: pytest.fail("no uv check for the hint"))
    monkeypatch.setattr(registry, "data_dir", lambda: Path(snap.data_dir))
    stores = registry.Store(Path(snap.data_dir), Os.LINUX)
    monkeypatch.setattr(registry, "Store", lambda: stores)
    outcome = workflow.run_fix(
        fix_id,
        {"SHELL": "/bin/bash"},
        None,
        dry_run=False,
        confirm=lambda q: True,
        journal=Journal(tmp_path / "j"),  # type: ignore[arg-type]
    )
    assert outcome.result is Result.APPLIED, outcome.lines
    assert outcome.verification is None and any("new terminal" in line.lower() for line in outcome.lines)


def test_the_tray_offers_it_after_the_cures_a_notice_not_and_done_is_said(tmp_path: Path) -> None:
    from uv_drive_guard.app import actions, results
    from uv_drive_guard.fixing.outcome import Outcome, Result

    snap = _with_cache(builders.projects_on(tmp_path))
    (report,) = [r for r in actions.reports(snap, diagnose(snap)) if r.mountpoint == builders.STICK]
    cache = next(f for f in report.findings if f.code == "UVD006")
    menu = [a for a in report.actions(cache) if a.kind is actions.Kind.FIX]
    assert [a.button for a in menu] == ["Move cache off the drive", "Say why when uv fails"]
    buttons = [a for a in report.actions(cache, notice=True) if a.kind is actions.Kind.FIX]
    assert [a.button for a in buttons] == ["Move cache off the drive"]  # a notice keeps to the cures
    notice = actions.notice(report)
    assert notice is not None and not any(a.fix_id and "failure-hint" in a.fix_id for a in notice.actions)
    fix = next(x for x in cache.fixes if hint.is_hint(x))
    title, _body = results.fix_notice(Outcome(Result.APPLIED, fix=fix, finding=cache))
    assert title == "Done: Say why in the terminal when uv fails on a drive"


def test_undo_keeps_the_shared_line_while_a_later_setup_needs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hint wrote the line; the drive's setup, later, found it there. Undoing the hint alone
    would leave the setup without it: refused, saying why; last first, both undo cleanly."""
    from uv_drive_guard.fixing import workflow
    from uv_drive_guard.fixing.outcome import Result

    snap = builders.projects_on(tmp_path)
    home, data = Path(snap.home), Path(snap.data_dir)
    home.mkdir(parents=True)
    (home / ".bashrc").write_text("# mine\n")
    before = (home / ".bashrc").read_bytes()
    stores = {registry.STORE: registry.Store(data, Os.LINUX)}
    monkeypatch.setattr(registry, "data_dir", lambda: data)
    monkeypatch.setattr(registry, "Store", lambda: stores[registry.STORE])
    journal = Journal(tmp_path / "journal")
    hint_entry = engine.apply(_hint_plan(tmp_path, snap), journal, stores)
    finding = next(f for f in diagnose(replace(snap, failure_hint=True)) if f.code == "UVD005")
    setup = plan.build(finding, finding.fixes[0], plan.Machine(replace(snap, failure_hint=True), {}, None))
    assert not any(f.changes for f in setup.files)  # the line is there already
    engine.apply(setup, journal, stores)
    refused = workflow.run_undo(hint_entry.id, force=False, journal=journal, store=None)
    assert refused.result is Result.FAILED and "STICK's portable projects" in refused.error, refused.error
    assert "portable projects" in (home / ".bashrc").read_text()
    assert workflow.run_undo(None, force=False, journal=journal, store=None).result is Result.UNDONE
    assert workflow.run_undo(None, force=False, journal=journal, store=None).result is Result.UNDONE
    assert (home / ".bashrc").read_bytes() == before and not list(data.iterdir())
