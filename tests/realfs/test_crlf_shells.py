"""CR LF startup files (a dotfiles checkout made on Windows) in bash, zsh and fish, each run as
a person runs it: an interactive shell on a pseudo-terminal (`script`), one command per prompt.

Scan, fix, the verdict after the fix and undo are run from inside such a shell, so the CLI has
the environment that shell gave it; then a NEW interactive shell says what it really sets and
uses. They must agree: bash and zsh keep the CR in a value (and stop reading the file at its
first compound command), fish does not. Needs root, FUSE exFAT and the three shells; skips
without them, or fails when ``UVDG_REQUIRE_REAL=1``.
"""

from __future__ import annotations

import json
import os
import select
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from .against_uv import CLI, UV, env_for, require, under
from .drives import make_drive, need_real

SHELLS = ("bash", "zsh", "fish")
RC = {"bash": ".bashrc", "zsh": ".zshrc", "fish": ".config/fish/config.fish"}
VERIFIED = "Checked as a new terminal would run it: uv works now."


def _need(shell: str) -> None:
    for tool in (shell, "script"):
        if shutil.which(tool) is None:
            need_real(f"needs {tool} (apt-get install {tool if tool != 'script' else 'util-linux'})")


def rc_file(home: Path, shell: str, lines: list[str]) -> Path:
    """The shell's startup file, every line ending in CR LF."""
    path = home / RC[shell]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("".join(f"{line}\r\n" for line in lines).encode())
    return path


def export(shell: str, name: str, value: str) -> str:
    return f"set -gx {name} {shlex.quote(value)}" if shell == "fish" else f"export {name}={shlex.quote(value)}"


def interactive(shell: str, home: Path, work: Path, command: str) -> None:
    """A new terminal: `shell -i` on a pseudo-terminal, reading its startup file, given one
    command line at its prompt. What the command says goes to files in `work` (the terminal's
    echo is noise); it ends by writing `work/done`. zsh throws away what is typed before its
    first prompt, so each line is typed only once the terminal has fallen quiet at a prompt."""
    env = {**env_for(home), "SHELL": str(shutil.which(shell)), "TERM": "dumb", "TMPDIR": str(work)}
    done = work / "done"
    done.unlink(missing_ok=True)
    argv = ["script", "-qec", f"{shell} -i", "/dev/null"]
    with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=work) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            _quiet(proc.stdout.fileno())
            proc.stdin.write(f"{command}; echo >{done}\n".encode())
            proc.stdin.flush()
            deadline = time.monotonic() + 240
            while not done.exists() and time.monotonic() < deadline and proc.poll() is None:
                _quiet(proc.stdout.fileno(), 0.05)
            assert done.exists(), f"{shell} -i did not run {command!r}"
            proc.stdin.write(b"exit 0\n")
            proc.stdin.close()
            while proc.stdout.read(65536):
                pass
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


def _quiet(fd: int, wait: float = 0.4, limit: float = 30.0) -> None:
    """Read the terminal's output until it has said something and then nothing for `wait` s."""
    deadline, said = time.monotonic() + limit, False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            if said:
                return
            continue
        if not os.read(fd, 65536):
            return
        said = True


def run(shell: str, home: Path, work: Path, argv: list[str], name: str) -> tuple[int, str]:
    """One command in a new interactive shell: its exit status and what it printed."""
    status = "$status" if shell == "fish" else "$?"
    out = work / f"{name}.out"
    interactive(shell, home, work, f"{shlex.join(argv)} >{out} 2>&1; echo {status} >{work / name}.rc")
    return int((work / f"{name}.rc").read_text()), out.read_bytes().decode("utf-8", errors="surrogateescape")


def seen(shell: str, home: Path, work: Path, name: str) -> str | None:
    """What a new interactive shell holds in `name`, byte for byte (None: unset)."""
    where = work / "value"
    where.unlink(missing_ok=True)
    if shell == "fish":
        show = f"set -q {name}; and printf %s ${name} >{where}"
    else:
        show = f'[ -n "${{{name}+x}}" ] && printf %s "${name}" >{where}'
    interactive(shell, home, work, show)
    return where.read_bytes().decode("utf-8", errors="surrogateescape") if where.exists() else None


def scan(shell: str, home: Path, work: Path) -> dict[str, Any]:
    status, out = run(shell, home, work, [str(CLI), "scan", "--json"], "scan")
    assert status in (0, 1), out
    report: dict[str, Any] = json.loads(out)
    return report


def the_fix(report: dict[str, Any], root: Path, code: str, slug: str) -> dict[str, Any]:
    (finding,) = [f for f in under(report, root) if f["code"] == code]
    return next(fix for fix in finding["fixes"] if f"-{slug}-" in fix["id"])


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.mark.parametrize("shell", SHELLS)
def test_a_crlf_cache_setting_on_exfat_is_turned_off_as_the_shell_sees_it(
    shell: str, mnt_dir: Path, home: Path, work: Path
) -> None:
    require("exfat")
    _need(shell)
    with make_drive("exfat", mnt_dir, label="STICK") as drive:
        cache = str(drive.mountpoint / "uv-cache")
        rc = rc_file(home, shell, ["# from a Windows checkout", export(shell, "UV_CACHE_DIR", cache), "# end"])
        original = rc.read_bytes()
        value = seen(shell, home, work, "UV_CACHE_DIR")
        assert value == (cache if shell == "fish" else cache + "\r")  # fish reads a CR as a blank

        report = scan(shell, home, work)
        (finding,) = [f for f in under(report, mnt_dir) if f["code"] == "UVD006"]
        assert finding["location"]["path"] == value  # where uv really puts it
        assert finding["location"]["source"]["file"] == str(rc), finding["location"]
        fix = the_fix(report, mnt_dir, "UVD006", "move-off-drive")

        status, out = run(shell, home, work, [str(CLI), "fix", fix["id"], "--yes"], "fix")
        assert status == 0 and VERIFIED in out, out
        assert rc.read_bytes().count(b"\r\n") == rc.read_bytes().count(b"\n")  # its line ends kept

        assert seen(shell, home, work, "UV_CACHE_DIR") is None
        status, out = run(shell, home, work, [str(UV), "cache", "dir"], "uv")
        assert (status, out.strip()) == (0, str(home / ".cache" / "uv")), out

        status, out = run(shell, home, work, [str(CLI), "undo"], "undo")
        assert status == 0, out
        assert rc.read_bytes() == original
        assert seen(shell, home, work, "UV_CACHE_DIR") == value


@pytest.mark.parametrize("shell", SHELLS)
def test_a_crlf_file_gets_a_fallback_the_shell_reads_without_a_cr(
    shell: str, mnt_dir: Path, home: Path, work: Path
) -> None:
    """The fix writes a value: the shell must get exactly it, not the value and a CR."""
    require()
    _need(shell)
    cache = str(mnt_dir / "STICK" / "uv-cache")  # a drive that is not plugged in
    rc = rc_file(home, shell, ["# from a Windows checkout", export(shell, "UV_CACHE_DIR", cache), "alias ll='ls -l'"])
    original = rc.read_bytes()
    report = scan(shell, home, work)
    fix = the_fix(report, mnt_dir, "UVD011", "fallback")
    fallback = str(home / ".cache" / "uv")

    status, out = run(shell, home, work, [str(CLI), "fix", fix["id"], "--yes"], "fix")
    assert status == 0 and VERIFIED in out, out
    written = rc.read_bytes()
    assert b"uv-drive-guard disabled" in written and b"\n# >>> uv-drive-guard >>>\r\n" in written
    assert seen(shell, home, work, "UV_CACHE_DIR") == fallback  # exactly: no CR after it
    status, out = run(shell, home, work, [str(UV), "cache", "dir"], "uv")
    assert (status, out.strip()) == (0, fallback), out
    status, out = run(shell, home, work, [str(CLI), "scan", "--json"], "after")
    assert not [f for f in under(json.loads(out), mnt_dir) if f["code"] == "UVD011"], out

    status, out = run(shell, home, work, [str(CLI), "undo"], "undo")
    assert status == 0, out
    assert rc.read_bytes() == original


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_a_crlf_file_the_shell_stops_reading_is_judged_as_the_shell_runs_it(
    shell: str, mnt_dir: Path, home: Path, work: Path
) -> None:
    """bash and zsh stop at a CR LF file's first compound command: a setting after it is never
    made, so the scan reports nothing from it; and a fix that would add its block at the end,
    where the shell never looks, is refused in one line."""
    require("exfat")
    _need(shell)
    with make_drive("exfat", mnt_dir, label="STICK") as drive:
        lines = [
            "case $- in",
            "  *i*) ;;",
            "  *) return;;",
            "esac",
            export(shell, "UV_CACHE_DIR", str(drive.mountpoint)),
        ]
        rc = rc_file(home, shell, lines)
        original = rc.read_bytes()
        assert seen(shell, home, work, "UV_CACHE_DIR") is None
        report = scan(shell, home, work)
        assert [f["code"] for f in under(report, mnt_dir)] == [], json.dumps(under(report, mnt_dir), indent=1)
        status, out = run(shell, home, work, [str(UV), "cache", "dir"], "uv")
        assert (status, out.strip()) == (0, str(home / ".cache" / "uv")), out

    # This terminal points uv at a drive that is not plugged in: the fallback would go into the file.
    away = f"UV_CACHE_DIR={mnt_dir / 'STICK' / 'uv-cache'}"
    status, out = run(shell, home, work, ["env", away, str(CLI), "scan", "--json"], "scan2")
    fix = the_fix(json.loads(out), mnt_dir, "UVD011", "fallback")
    status, out = run(shell, home, work, ["env", away, str(CLI), "fix", fix["id"], "--yes"], "fix")
    assert status == 2, out
    assert out == (
        f"uv-drive-guard: {rc}: {shell} stops reading it at line 1 (`case $- in`): its lines end in CR LF, "
        f"and {shell} takes the CR for part of the line's last word, which makes that line an error, so a line "
        "added at the end would never run. Give the file LF line ends (`dos2unix` does) and scan again\n"
    )
    assert rc.read_bytes() == original
