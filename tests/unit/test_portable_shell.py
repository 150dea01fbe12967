"""The generated portable files, sourced by real bash, zsh, fish and dash.

Project paths come from a drive: quotes, `$(...)`, backticks, spaces and 4,000-character
paths must be taken literally (a shell that ran them would create PWNED); newlines and
undecodable bytes are refused, never written. And the hook's promise: inside a project it
exports UV_PROJECT_ENVIRONMENT, outside it unsets it, and a person's own value wins.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.realfs.drives import need_real

from uv_drive_guard.core.model import Os, PortableDrive
from uv_drive_guard.core.portable import env_dir
from uv_drive_guard.fixing import portable
from uv_drive_guard.fixing.portable import shell as portable_shell

HOSTILE = (
    "plain",
    'it\'s "my" $(touch PWNED) `touch PWNED` dir',
    "star * and ? and [x]",
    "back\\slash ${HOME} %s;|&><",
)
REFUSED = ("new\nline", "bad-\udcff-byte", "tab\there")
POSIX = ("bash", "zsh", "dash")


def _q(path: Path) -> str:
    """Quoted for sh."""
    return "'" + str(path).replace("'", "'\"'\"'") + "'"


def _fq(path: Path) -> str:
    return "'" + str(path).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _need(shell: str) -> str:
    found = shutil.which(shell)
    if found is None:
        need_real(f"{shell} is not installed")
    assert found is not None
    return found


def _long(mount: Path) -> str:
    """A project path of 4,000 characters with the mount point (components of 240)."""
    size = 4000 - len(str(mount)) - 1
    parts = ["l" * 240] * (size // 241)
    return "/".join([*parts, "x" * (size - 241 * len(parts))])


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, Path, PortableDrive]:
    global HOSTILE
    mount = tmp_path / "STICK it's $(touch PWNED)"
    HOSTILE = (*HOSTILE[:4], _long(mount))
    assert len(str(mount / HOSTILE[-1])) == 4000
    for rel in HOSTILE:
        (mount / rel).mkdir(parents=True)
    data = tmp_path / "data"
    drive = PortableDrive("1234-abcd", "STICK", True, ("plain",), (*HOSTILE, *REFUSED), str(mount), str(mount))
    skipped = portable.regenerate(data, Os.LINUX, (drive,))
    assert sorted(s.root.rsplit("/", 1)[-1] for s in skipped) == sorted(REFUSED)
    return data, mount, drive


def _posix(shell: str, data: Path, script: str, cwd: Path, **env: str) -> list[str]:
    program = f". '{data / 'portable.sh'}'\n{script}"
    clean = {"PATH": os.environ["PATH"], "HOME": str(cwd), **env}
    argv = [_need(shell), "-f", "-c", program] if shell == "zsh" else [_need(shell), "-c", program]
    done = subprocess.run(argv, cwd=cwd, env=clean, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and not done.stderr, done.stderr
    return done.stdout.splitlines()


def _fish(data: Path, script: str, cwd: Path, **env: str) -> list[str]:
    program = f"source '{data / 'portable.fish'}'\n{script}"
    clean = {"PATH": os.environ["PATH"], "HOME": str(cwd), "LANG": "C.UTF-8", **env}
    argv = [_need("fish"), "--no-config", "-c", program]
    done = subprocess.run(argv, cwd=cwd, env=clean, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and not done.stderr, done.stderr
    return done.stdout.splitlines()


def _visit(mount: Path, hook: str, show: str) -> str:
    """cd into each project (and a subfolder of it, and out again), printing what uv would see."""
    lines = []
    for rel in HOSTILE:
        lines += [f"cd {_q(mount / rel)}", hook, show, "mkdir -p sub && cd sub", hook, show, "cd /", hook, show]
    return "\n".join(lines) + "\n"


def _expected(data: Path, drive: PortableDrive) -> list[str]:
    out = []
    for rel in HOSTILE:
        env = env_dir(Os.LINUX, str(data), drive.drive_id, rel)
        out += [env, env, ""]
    return out


@pytest.mark.parametrize("shell", POSIX)
def test_posix_shells_take_hostile_paths_literally(shell: str, world: tuple[Path, Path, PortableDrive]) -> None:
    data, mount, drive = world
    script = _visit(mount, "__uvdg_portable_hook", 'printf "%s\\n" "${UV_PROJECT_ENVIRONMENT-}"')
    assert _posix(shell, data, script, mount.parent) == _expected(data, drive)
    assert not list(mount.parent.rglob("PWNED"))


def test_fish_takes_hostile_paths_literally(world: tuple[Path, Path, PortableDrive]) -> None:
    data, mount, drive = world
    lines = []
    for rel in HOSTILE:
        show = 'printf "%s\\n" "$UV_PROJECT_ENVIRONMENT"'
        lines += [f"cd {_fq(mount / rel)}", show, "mkdir -p sub; and cd sub", show, "cd /", show]  # --on-variable PWD
    assert _fish(data, "\n".join(lines), mount.parent) == _expected(data, drive)
    assert not list(mount.parent.rglob("PWNED"))


def test_refused_paths_are_never_written(world: tuple[Path, Path, PortableDrive]) -> None:
    data, _mount, _drive = world
    for name in ("portable.sh", "portable.fish"):
        text = (data / name).read_bytes()
        assert b"new\nline" not in text and b"tab\there" not in text and b"bad-" not in text
        text.decode("utf-8")


@pytest.mark.parametrize("shell", POSIX)
def test_a_persons_own_value_wins(shell: str, world: tuple[Path, Path, PortableDrive]) -> None:
    data, mount, drive = world
    show = 'printf "%s\\n" "${UV_PROJECT_ENVIRONMENT-unset}"'
    ours = env_dir(Os.LINUX, str(data), drive.drive_id, "plain")
    script = "\n".join(
        [
            f"cd {_q(mount / 'plain')}",
            "__uvdg_portable_hook",
            show,  # ours
            "export UV_PROJECT_ENVIRONMENT=/mine",  # the person sets their own
            "__uvdg_portable_hook",
            show,
            "cd /",
            "__uvdg_portable_hook",
            show,  # still theirs outside
            "unset UV_PROJECT_ENVIRONMENT",
            "__uvdg_portable_hook",
            show,
        ]
    )
    assert _posix(shell, data, script, mount.parent) == [ours, "/mine", "/mine", "unset"]
    enter = f"cd {_q(mount / 'plain')}\n__uvdg_portable_hook\n{show}"
    started = _posix(shell, data, enter, mount.parent, UV_PROJECT_ENVIRONMENT="/x")
    assert started == ["/x"]


def test_fish_leaves_a_persons_own_value(world: tuple[Path, Path, PortableDrive]) -> None:
    data, mount, _drive = world
    show = "if set -q UV_PROJECT_ENVIRONMENT; echo $UV_PROJECT_ENVIRONMENT; else; echo unset; end"
    script = "\n".join(
        [
            f"cd {_fq(mount / 'plain')}",
            "set -gx UV_PROJECT_ENVIRONMENT /mine",
            "cd /",
            show,
            "set -e UV_PROJECT_ENVIRONMENT",
            "cd /tmp",
            show,
        ]
    )
    assert _fish(data, script, mount.parent) == ["/mine", "unset"]


@pytest.mark.parametrize("shell", ("bash", "zsh"))
def test_an_open_shell_follows_a_drive_that_moved(
    shell: str, tmp_path: Path, world: tuple[Path, Path, PortableDrive]
) -> None:
    """The daemon rewrites the file; an open shell re-reads it at its next prompt (no process)."""
    data, mount, drive = world
    moved = tmp_path / "elsewhere"
    (moved / "plain").mkdir(parents=True)
    script = "\n".join(
        [
            f"cd {_q(moved / 'plain')}",
            "__uvdg_portable_hook",
            'printf "%s\\n" "${UV_PROJECT_ENVIRONMENT-unset}"',
            f"{_python()} -c 'from tests.unit.test_portable_shell import _move; _move()'",
            "__uvdg_portable_hook",
            'printf "%s\\n" "${UV_PROJECT_ENVIRONMENT-unset}"',
        ]
    )
    env = {"UVDG_TEST_DATA": str(data), "UVDG_TEST_MOUNT": str(moved), "PYTHONPATH": str(Path.cwd())}
    out = _posix(shell, data, script, mount.parent, **env)
    assert out == ["unset", env_dir(Os.LINUX, str(data), drive.drive_id, "plain")]


def _python() -> str:
    import sys

    return sys.executable


def _move() -> None:
    data, mount = Path(os.environ["UVDG_TEST_DATA"]), os.environ["UVDG_TEST_MOUNT"]
    drive = PortableDrive("1234-abcd", "STICK", False, ("plain",), (), mount, mount)
    portable.regenerate(data, Os.LINUX, (drive,))


def test_missing_file_is_quiet_and_undoes_our_value(world: tuple[Path, Path, PortableDrive]) -> None:
    data, mount, _drive = world
    script = (
        f"cd {_q(mount / 'plain')}\n__uvdg_portable_hook\nrm {_q(data / 'portable.sh')}\n__uvdg_portable_hook\n"
        + 'printf "%s\\n" "${UV_PROJECT_ENVIRONMENT-unset}"'
    )
    assert _posix("bash", data, script, mount.parent) == ["unset"]


@pytest.mark.parametrize("shell", ("bash", "zsh", "dash", "fish"))
def test_rc_line_is_quiet_without_the_file(shell: str, tmp_path: Path) -> None:
    kind = "fish" if shell == "fish" else "posix"
    line = portable_shell.rc_line(kind, str(tmp_path / "it's gone" / "portable.sh"))
    argv = [_need(shell), "--no-config", "-c", line] if shell == "fish" else [_need(shell), "-c", line]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert not done.stderr


def test_powershell_quoting_doubles_every_single_quote_form() -> None:
    assert portable_shell.quote_powershell("a'b\u2019c") == "'a''b\u2019\u2019c'"
    with pytest.raises(portable_shell.Unquotable):
        portable_shell.quote_powershell("a\nb")


@pytest.mark.parametrize("dialect", ("sh", "bash"))
def test_shellcheck_finds_nothing(dialect: str, world: tuple[Path, Path, PortableDrive]) -> None:
    data, _mount, _drive = world
    rc = data / "rc.sh"
    rc.write_text(portable_shell.rc_line("posix", str(data / "portable.sh")) + "\n")
    argv = [_need("shellcheck"), "-s", dialect, "-S", "info", str(data / "portable.sh"), str(rc)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout


def test_bash_uv_sees_the_environment_right_after_cd_on_one_line(
    world: tuple[Path, Path, PortableDrive], tmp_path: Path
) -> None:
    """bash has no cd hook: `cd project && uv sync` must not reach uv with the previous value.
    A stand-in `uv` on PATH prints what the real one would read."""
    data, mount, drive = world
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "uv"
    fake.write_text('#!/bin/sh\nprintf "uv:%s\\n" "${UV_PROJECT_ENVIRONMENT-unset}"\n')
    fake.chmod(0o755)
    ours = env_dir(Os.LINUX, str(data), drive.drive_id, "plain")
    script = f"cd {_q(mount / 'plain')} && uv sync\ncd / && uv sync\n"
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    assert _posix("bash", data, script, mount.parent, PATH=path) == [f"uv:{ours}", "uv:unset"]
    done = subprocess.run(  # a person's own uv function is left alone
        [_need("bash"), "-c", f"uv() {{ echo mine; }}\n. '{data / 'portable.sh'}'\n{script}"],
        cwd=mount.parent,
        env={"PATH": path, "HOME": str(mount.parent)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.split() == ["mine", "mine"], done.stderr
