"""Whatever goes wrong, the command line says it in one line, never with a traceback: Ctrl-C on a
terminal, a reader that closes the pipe early, a full disk, settings that cannot be used. Each is
driven as a person would meet it: the real program in a subprocess."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from uv_drive_guard import cli, config

EXE = [sys.executable, "-m", "uv_drive_guard"]
PIPE_STATUS = 128 + signal.SIGPIPE  # what a shell reports for `ls` in `ls | head`


def _env(home: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(home), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "LANG": "C.UTF-8", **extra}


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EXE, *args], env=_env(home), capture_output=True, text=True, timeout=120, check=False)


def _one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


# --- settings that cannot be used: file and line, one line, exit 2 ----------------------------


SETTINGS = [
    ("binary", b"[walk]\n\x00\xff\xfe\x01", ":2: not UTF-8 text (byte 0xff)"),
    ("not toml", b"[walk]\nmax_depth = \n", ":2: not valid TOML"),
    ("unknown key", b"# mine\n[notify]\nloud = 1\n", ":3: unknown setting `notify.loud`"),
    ("depth below its range", b"[walk]\nmax_depth = -5\n", ":2: `walk.max_depth` is -5; allowed: 1 to 32"),
    ("seconds below its range", b"[walk]\nseconds = -3\n", ":2: `walk.seconds` is -3; allowed: 0.1 to 600"),
    ("overflowing timeout", b"[probe]\ntimeout = 1e400\n", ":2: `probe.timeout` is inf; allowed: 0.1 to 60"),
    ("nan timeout", b"[probe]\n\ntimeout = nan\n", ":3: `probe.timeout` is nan; allowed: 0.1 to 60"),
    ("entries too many", b"walk.max_entries = 100000000000\n", ":1: `walk.max_entries` is 100000000000"),
    ("a boolean for a number", b"[walk]\nmax_depth = true\n", ":2: `walk.max_depth` must be a whole number, not true"),
    ("a fraction for a count", b"[walk]\nmax_depth = 2.5\n", ":2: `walk.max_depth` must be a whole number, not 2.5"),
    ("a list of numbers", b"[scope]\nmount_roots = [1]\n", ":2: `scope.mount_roots` must be a list of strings"),
    ("a table for a value", b"[probe]\n[probe.timeout]\n", ":2: `probe.timeout` must be a number, not a table"),
]


@pytest.mark.parametrize(("content", "said"), [case[1:] for case in SETTINGS], ids=[case[0] for case in SETTINGS])
def test_settings_that_cannot_be_used_are_one_line_with_file_and_line(
    tmp_path: Path, content: bytes, said: str
) -> None:
    settings = tmp_path / "config.toml"
    settings.write_bytes(content)
    done = _run(tmp_path, "scan", "--config", str(settings), str(tmp_path))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert _one_line(done.stderr).startswith(f"uv-drive-guard: {settings}{said}"), done.stderr


def test_every_command_that_reads_settings_says_so(tmp_path: Path) -> None:
    settings = tmp_path / "config.toml"
    settings.write_bytes(SETTINGS[0][1])
    for command in (["fix", "uvd006-x", "--dry-run"], ["env", str(tmp_path)], ["envs"]):
        done = _run(tmp_path, *command, "--config", str(settings))
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert _one_line(done.stderr).startswith(f"uv-drive-guard: {settings}{SETTINGS[0][2]}"), command


def test_the_users_own_file_is_checked_too(tmp_path: Path) -> None:
    own = tmp_path / ".config" / "uv-drive-guard" / "config.toml"
    own.parent.mkdir(parents=True)
    own.write_text("[walk]\nmax_depth = -5\n")
    done = _run(tmp_path, "scan", str(tmp_path))
    assert done.returncode == 2 and _one_line(done.stderr).endswith("`walk.max_depth` is -5; allowed: 1 to 32")


def test_a_named_settings_file_must_be_there_and_readable(tmp_path: Path) -> None:
    missing = _run(tmp_path, "scan", "--config", str(tmp_path / "nope.toml"), str(tmp_path))
    assert missing.returncode == 2
    assert _one_line(missing.stderr) == f"uv-drive-guard: {tmp_path / 'nope.toml'}: no such settings file"
    folder = _run(tmp_path, "scan", "--config", str(tmp_path), str(tmp_path))
    assert folder.returncode == 2 and _one_line(folder.stderr).endswith(": cannot be read: Is a directory")


def test_every_number_in_the_defaults_names_its_range_and_keeps_it() -> None:
    text = config._defaults_path().read_text(encoding="utf-8")
    allowed = config.ranges(text)
    defaults = config.load(Path("/nonexistent/config.toml"))
    numbers = {
        f"{table}.{key}": value
        for table, keys in defaults.items()
        for key, value in keys.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    }
    assert numbers and sorted(allowed) == sorted(numbers)
    for name, value in numbers.items():
        low, high = allowed[name]
        assert low <= value <= high, name


def test_the_edges_of_each_range_are_accepted(tmp_path: Path) -> None:
    allowed = config.ranges(config._defaults_path().read_text(encoding="utf-8"))
    for name, (low, high) in allowed.items():
        table, key = name.split(".")
        for value in (low, high):
            number = int(value) if value.is_integer() else value
            settings = tmp_path / "edge.toml"
            settings.write_text(f"[{table}]\n{key} = {number!r}\n")
            assert config.load(settings)[table][key] == number


# --- global options and usage lines --------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["-v", "history"],
        ["history", "-v"],
        ["-v", "history", "-v"],
        ["history", "--version"],
        ["-vv", "envs", "--json"],
    ],
)
def test_global_options_before_or_after_the_command(tmp_path: Path, argv: list[str]) -> None:
    done = _run(tmp_path, *argv)
    assert done.returncode == 0, done.stderr


def test_run_takes_its_options_in_any_order(tmp_path: Path) -> None:
    for argv in (["run", "--headless", "-v", "--help"], ["-v", "run", "--headless", "--help"]):
        done = _run(tmp_path, *argv)
        assert done.returncode == 0 and "--headless" in done.stdout, done.stderr


def test_fix_without_an_id_asks_for_the_id_only(tmp_path: Path) -> None:
    done = _run(tmp_path, "fix")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == "uv-drive-guard fix: error: the following arguments are required: ID"
    assert "ID [PATH ...]" in done.stderr


def test_help_prints_where_the_settings_file_is(tmp_path: Path) -> None:
    """config/default.toml sends people to `uv-drive-guard scan --help` to find their file."""
    assert "`uv-drive-guard scan --help` prints where it is" in config._defaults_path().read_text()
    for command in ("scan", "fix", "run", "env", "envs"):
        helped = _run(tmp_path, command, "--help")
        assert "(default: ~/.config/uv-drive-guard/config.toml)" in " ".join(helped.stdout.split()), command


# --- a closed pipe: quiet, as `ls | head` ------------------------------------------------------


def _into(stdout: Any, tmp_path: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """The CLI with its standard output sent to `stdout` (a pipe's end, /dev/full); `{tmp}` in
    `argv` stands for `tmp_path`."""
    return subprocess.run(
        [*EXE, *(a.format(tmp=tmp_path) for a in argv)],
        env=_env(tmp_path),
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "argv", [["scan", "{tmp}"], ["scan", "--json", "{tmp}"], ["envs"], ["history"], ["--help"], ["--version"]]
)
def test_a_pipe_closed_early_is_quiet(tmp_path: Path, argv: list[str]) -> None:
    """The reader is gone before anything is written (`cmd | head -0`): no word on stderr."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = _into(write, tmp_path, argv)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (PIPE_STATUS, "")


def test_head_takes_what_it_wants(tmp_path: Path) -> None:
    """`scan --json | head -c 10` through a real shell, as people type it: quiet, whatever the timing."""
    for _ in range(3):
        done = subprocess.run(
            ["sh", "-c", f"{' '.join(EXE)} scan --json {tmp_path} | head -c 10"],
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.stdout == '{\n  "schem' and done.stderr == ""


# --- output that cannot be written -------------------------------------------------------------


@pytest.mark.parametrize("argv", [["scan", "{tmp}"], ["history", "--json"], ["--version"], ["scan", "--help"]])
def test_a_full_disk_is_one_line(tmp_path: Path, argv: list[str]) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "w") as full:
        done = _into(full, tmp_path, argv)
    assert done.returncode == 2
    assert _one_line(done.stderr) == "uv-drive-guard: cannot write the output: No space left on device"


# --- Ctrl-C on a terminal ----------------------------------------------------------------------


FAKE_UV = """#!/bin/sh
touch "$UV_STARTED"
exec sleep 30
"""


def _on_a_terminal(argv: list[str], env: dict[str, str], ready: Path, timeout: float = 60) -> tuple[int, str]:
    """Run on a pseudo-terminal, press Ctrl-C once `ready` exists; (exit status, what the terminal showed)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal's foreground process
        os.execve(argv[0], argv, env)
    shown = b""
    deadline = time.monotonic() + timeout
    try:
        while not ready.exists():
            assert time.monotonic() < deadline, f"never got ready: {shown!r}"
            shown += _read(fd, 0.05)
        time.sleep(0.2)
        os.write(fd, b"\x03")  # the terminal's line discipline sends SIGINT to the foreground group
        while True:
            chunk = _read(fd, deadline - time.monotonic())
            if not chunk:
                break
            shown += chunk
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def _read(fd: int, wait: float) -> bytes:
    if not select.select([fd], [], [], max(wait, 0))[0]:
        return b""
    try:
        return os.read(fd, 4096)
    except OSError:  # the terminal's other end closed: the child is gone
        return b""


def test_ctrl_c_during_a_scan(tmp_path: Path) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "uv").write_text(FAKE_UV)
    (fake / "uv").chmod(0o755)
    started = tmp_path / "uv-started"
    env = {**_env(tmp_path), "PATH": f"{fake}:/usr/bin:/bin", "UV_STARTED": str(started), "TERM": "dumb"}
    status, shown = _on_a_terminal([sys.executable, "-m", "uv_drive_guard", "scan", str(tmp_path)], env, started)
    assert status == 130
    assert shown.replace("^C", "").strip() == "uv-drive-guard: interrupted", shown


def test_ctrl_c_stops_the_daemon(tmp_path: Path) -> None:
    env = {**_env(tmp_path), "TERM": "dumb", "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    (tmp_path / "run").mkdir(mode=0o700)
    log = tmp_path / ".local" / "state" / "uv-drive-guard" / "log" / "uv-drive-guard.log"
    ready = tmp_path / "running"

    # The daemon is ready once its log says so; a watcher thread turns that into the file the helper waits for.
    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if log.exists() and "is running" in log.read_text():
                ready.touch()
                return
            time.sleep(0.05)

    import threading

    threading.Thread(target=watch, daemon=True).start()
    argv = [sys.executable, "-m", "uv_drive_guard", "run", "--headless", "--config", str(tmp_path / "s.toml")]
    (tmp_path / "s.toml").write_text(f'[scope]\nmount_roots = ["{tmp_path}/none"]\n')
    status, shown = _on_a_terminal(argv, env, ready)
    assert status == 130
    assert shown.replace("^C", "").strip() == "uv-drive-guard: interrupted", shown
    assert "uv-drive-guard stopped (interrupted)" in log.read_text()


def test_ctrl_d_at_a_question_is_a_no(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def ask(_question: str) -> bool:
        raise EOFError

    assert cli._ask_terminal(ask)("Apply it?") is False


# --- a real bug says "internal error" and where its traceback is -------------------------------


def test_internal_error_is_one_line_naming_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)

    def broken(_args: object) -> int:
        raise KeyError("a bug")

    monkeypatch.setitem(cli.COMMANDS, "scan", broken)
    assert cli.main(["scan", str(tmp_path)]) == 2
    said = _one_line(capsys.readouterr().err)
    log = "~/.local/state/uv-drive-guard/log/uv-drive-guard.log"
    assert said == f"uv-drive-guard: internal error (KeyError: 'a bug'); details in {log}"
    written = (tmp_path / log[2:]).read_text()
    assert "internal error in `scan" in written and "Traceback" in written and "KeyError: 'a bug'" in written


def test_a_system_refusal_is_not_called_a_bug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refused(_args: object) -> int:
        raise PermissionError(13, "Permission denied", "/var/x")

    monkeypatch.setitem(cli.COMMANDS, "history", refused)
    assert cli.main(["history"]) == 2
    assert _one_line(capsys.readouterr().err) == "uv-drive-guard: /var/x: Permission denied"


def test_the_daemon_says_why_its_settings_are_not_applied(tmp_path: Path) -> None:
    """Started from a terminal with settings it cannot use: one line, then it runs with the defaults."""
    settings = tmp_path / "bad.toml"
    settings.write_text("[probe]\ntimeout = 1e400\n")
    log = tmp_path / ".local" / "state" / "uv-drive-guard" / "log" / "uv-drive-guard.log"
    daemon = subprocess.Popen(
        [*EXE, "run", "--headless", "--config", str(settings)], env=_env(tmp_path), stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not (log.exists() and "is running" in log.read_text()):
            assert daemon.poll() is None and time.monotonic() < deadline, "the daemon did not start"
            time.sleep(0.05)
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0
    assert _one_line(err) == (
        f"uv-drive-guard: settings not applied: {settings}:2: `probe.timeout` is inf; allowed: 0.1 to 60;"
        " running with the defaults"
    )
