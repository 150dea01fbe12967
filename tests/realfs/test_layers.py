"""A setting defined in several layers, fixed so that a new terminal's uv works: real uv decides.

Each case puts uv's cache on a real exFAT stick through one or more layers uv reads (startup
files of bash, zsh and fish, environment.d, the user's, the system's and a project's config),
checks that uv fails in a new terminal, runs `scan` and the recommended fix inside a real
interactive shell on a pseudo-terminal (as a person would), then opens a NEW terminal of the
same shell and runs the uv command that failed: it must work, and the fix's verdict must have
said so. `undo` must then put back every file byte for byte. Where a layer cannot be written
(a read-only system uv.toml), uv keeps failing and the verdict must say that, with exit 1.
Needs root, loop devices and FUSE.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from . import drives
from .against_uv import VENV_BIN, env_for, require
from .drives import base_python, make_drive

FIXED = "Checked as a new terminal would run it: uv works now."
STILL_FAILS = "Applied, but uv still fails:"
WORKED = "UV-WORKED"
GENERATOR = Path("/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator")
# A login shell starts from /etc/profile's PATH: people put their own bin folder first, as here.
LOGIN_PATH = f'export PATH="{VENV_BIN}:$PATH"\n'


@dataclass(frozen=True)
class World:
    home: Path
    stick: Path  # an exFAT drive
    other: Path | None  # a second drive (FAT32) where a case needs one
    project: Path  # a project folder on the internal disk
    system: Path  # stands for /etc/xdg: the system's uv.toml lives in system/uv/uv.toml


@dataclass(frozen=True)
class Case:
    name: str
    shell: str
    files: Callable[[World], dict[Path, str]]
    login: bool = False  # the new terminal is a login shell (bash -l: ~/.bash_profile, ~/.profile)
    in_project: bool = False  # uv runs in the project folder (its own config counts)
    second_drive: bool = False
    read_only: Callable[[World], tuple[Path, ...]] = lambda w: ()
    cured: bool = True  # the fix alone makes uv work
    session: bool = False  # the desktop session's environment comes from environment.d (systemd's generator)
    expect_removed: int = 1  # definitions the fix turns off or removes
    kinds: tuple[str, ...] = field(default=("unset-env",))


def _bashrc(w: World, value: str) -> str:
    return f"# ~/.bashrc\nalias ll='ls -l'\nexport UV_CACHE_DIR={shlex.quote(value)}\nexport EDITOR=vi\n"


CASES = [
    Case(
        "variable and user uv.toml",
        "bash",
        lambda w: {
            w.home / ".bashrc": _bashrc(w, f"{w.stick}/uv-cache"),
            w.home / ".config/uv/uv.toml": f'cache-dir = "{w.stick}/c2"\n',
        },
        kinds=("unset-env", "remove-uv-setting"),
    ),
    Case(
        "variable on FAT32, user uv.toml on exFAT",
        "bash",
        lambda w: {
            w.home / ".bashrc": _bashrc(w, f"{w.other}/uv-cache"),
            w.home / ".config/uv/uv.toml": f'cache-dir = "{w.stick}/c2"\n',
        },
        second_drive=True,
        kinds=("unset-env", "remove-uv-setting"),
    ),
    Case(
        "variable and the project's pyproject.toml",
        "bash",
        lambda w: {
            w.home / ".bashrc": _bashrc(w, f"{w.stick}/uv-cache"),
            w.project / "pyproject.toml": f'{drives.PYPROJECT}cache-dir = "{w.stick}/c2"\n',
        },
        in_project=True,
        kinds=("unset-env", "remove-uv-setting"),
    ),
    Case(
        "project uv.toml beside pyproject.toml",
        "bash",
        lambda w: {
            w.home / ".bashrc": "# ~/.bashrc\n",
            w.project / "pyproject.toml": f'{drives.PYPROJECT}cache-dir = "{w.stick}/ignored"\n',
            w.project / "uv.toml": f'cache-dir = "{w.stick}/c3"\n',
        },
        in_project=True,
        kinds=("remove-uv-setting",),
    ),
    Case(
        "user and system uv.toml, the system's read-only",
        "bash",
        lambda w: {
            w.home / ".bashrc": "# ~/.bashrc\n",
            w.home / ".config/uv/uv.toml": f'cache-dir = "{w.stick}/c2"\n',
            w.system / "uv/uv.toml": f'cache-dir = "{w.other}/c4"\n',
        },
        second_drive=True,
        read_only=lambda w: (w.system / "uv/uv.toml",),
        cured=False,
        kinds=("remove-uv-setting", "remove-uv-setting"),
    ),
    Case(
        "the variable in two startup files",
        "bash",
        lambda w: {
            w.home / ".profile": (
                f"{LOGIN_PATH}export UV_CACHE_DIR={w.stick}/from-profile\n"
                'if [ -n "$BASH_VERSION" ] && [ -f "$HOME/.bashrc" ]; then . "$HOME/.bashrc"; fi\n'
            ),
            w.home / ".bashrc": _bashrc(w, f"{w.stick}/uv-cache"),
        },
        login=True,
        kinds=("unset-env", "unset-env"),
    ),
    Case(
        "in ~/.bash_profile only",
        "bash",
        lambda w: {w.home / ".bash_profile": f"{LOGIN_PATH}export UV_CACHE_DIR={w.stick}/uv-cache\n"},
        login=True,
    ),
    Case(
        "zsh with ZDOTDIR",
        "zsh",
        lambda w: {
            w.home / ".zshenv": 'export ZDOTDIR="$HOME/.config/zsh"\n',
            w.home / ".config/zsh/.zshrc": f"setopt no_beep\nexport UV_CACHE_DIR={w.stick}/uv-cache\n",
        },
    ),
    Case(
        "fish conf.d",
        "fish",
        lambda w: {
            w.home / ".config/fish/config.fish": "set -g fish_greeting ''\n",
            w.home / ".config/fish/conf.d/uv.fish": f"set -gx UV_CACHE_DIR {w.stick}/uv-cache\n",
        },
    ),
    Case(
        "environment.d",
        "bash",
        lambda w: {
            w.home / ".bashrc": "# ~/.bashrc\n",
            w.home / ".config/environment.d/50-uv.conf": f"UV_CACHE_DIR={w.stick}/uv-cache\n",
        },
        session=True,
    ),
]


def _need(case: Case) -> None:
    require("exfat", *(("vfat",) if case.second_drive else ()))
    if shutil.which(case.shell) is None or shutil.which("script") is None:
        drives.need_real(f"{case.shell} and script(1) are needed for a real interactive shell")
    if case.session and not os.access(GENERATOR, os.X_OK):
        drives.need_real(f"systemd's environment.d generator ({GENERATOR}) is not installed")


def _session_env(env: dict[str, str]) -> dict[str, str]:
    """What the desktop session hands a terminal: systemd's generator over environment.d."""
    done = subprocess.run([str(GENERATOR)], env=env, capture_output=True, text=True, check=True, timeout=30)
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def terminal(case: Case, env: dict[str, str], commands: list[str]) -> str:
    """A new terminal of the case's shell on a pseudo-terminal, one command per prompt."""
    keep = ("HOME", "PATH", "LANG", *(k for k in env if k.startswith("XDG_")), "UV_OFFLINE", "UV_PYTHON_DOWNLOADS")
    clean = {k: env[k] for k in keep if k in env}
    clean.update(TERM="dumb", SHELL=shutil.which(case.shell) or case.shell, NO_COLOR="1", UV_NO_PROGRESS="1")
    if case.session:
        clean.update(_session_env(env))
    shell = f"{case.shell} -l -i" if case.login else f"{case.shell} -i"
    script = "".join(f"{c}\n" for c in commands) + "exit\n"
    argv = ["env", "-i", *(f"{k}={v}" for k, v in clean.items()), "script", "-qec", shell, "/dev/null"]
    done = subprocess.run(argv, input=script.encode(), capture_output=True, timeout=300, check=False)
    return done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")


def uv_command(shell: str, wheels: Path, scratch: Path, cwd: Path) -> str:
    """The uv commands that failed, then a marker only reached when both worked (computed by
    the shell, so the echoed command line never holds it)."""
    venv = scratch / "venv"
    uv = VENV_BIN / "uv"
    make = shlex.join([str(uv), "venv", str(venv), "--python", base_python()])
    add = shlex.join(
        [str(uv), "pip", "install", "--no-index", "--find-links", str(wheels), "--python", str(venv), "tinypkg"]
    )
    forty_two = "(math 6 \\* 7)" if shell == "fish" else "$((6*7))"
    return (
        f"cd {shlex.quote(str(cwd))} && rm -rf {shlex.quote(str(venv))} && {make} && {add} && echo {WORKED}-{forty_two}"
    )


def _status(case: Case) -> str:
    return "$status" if case.shell == "fish" else "$?"


def the_fix(report: dict[str, object], world: World) -> tuple[dict[str, object], dict[str, object]]:
    drives_ = tuple(str(p) for p in (world.stick, world.other) if p is not None)
    mine = [
        f
        for f in report["findings"]  # type: ignore[attr-defined]
        if f["severity"] == "error" and f["location"] and f["location"]["path"].startswith(drives_)
    ]
    assert mine, json.dumps(report["findings"], indent=1)
    finding = mine[0]
    fix = next(x for x in finding["fixes"] if "-move-off-drive-" in x["id"])
    return finding, fix


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_layered_setting_is_fixed_in_every_layer(case: Case, mnt_dir: Path, tmp_path: Path, wheels: Path) -> None:
    _need(case)
    with make_drive("exfat", mnt_dir, label="STICK") as stick:
        other_cm = make_drive("vfat", mnt_dir, label="OLDSTICK") if case.second_drive else None
        other = other_cm.__enter__() if other_cm else None
        try:
            _run_case(case, tmp_path, stick.mountpoint, other.mountpoint if other else None, wheels)
        finally:
            if other_cm is not None:
                other_cm.__exit__(None, None, None)


def _run_case(case: Case, tmp_path: Path, stick: Path, other: Path | None, wheels: Path) -> None:
    home = tmp_path / "home"
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(drives.PYPROJECT)
    world = World(home, stick, other, project, tmp_path / "xdg")
    env = env_for(home, XDG_CONFIG_DIRS=str(world.system), SHELL=shutil.which(case.shell) or case.shell)
    written = case.files(world)
    for path, text in written.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for path in case.read_only(world):
        path.chmod(0o444)
    before = {path: path.read_bytes() for path in written}
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    cwd = project if case.in_project else scratch
    command = uv_command(case.shell, wheels, scratch, cwd)

    failed = terminal(case, env, [command])
    assert f"{WORKED}-42" not in failed, f"the setup did not make uv fail:\n{failed}"

    out = tmp_path / "out"
    out.mkdir()
    scan_args = [str(VENV_BIN / "uv-drive-guard"), "scan", "--json"] + ([str(project)] if case.in_project else [])
    terminal(case, env, [f"cd {shlex.quote(str(cwd))}", f"{shlex.join(scan_args)} > {out}/scan.json"])
    report = json.loads((out / "scan.json").read_text())
    finding, fix = the_fix(report, world)
    assert [c["kind"] for c in fix["changes"]] == list(case.kinds), fix["changes"]
    if case.expect_removed > 1 or len(case.kinds) > 1:
        assert "also set in" in finding["detail"], finding["detail"]

    fix_args = [str(VENV_BIN / "uv-drive-guard"), "fix", str(fix["id"])]
    fix_args += [str(project), "--yes"] if case.in_project else ["--yes"]
    terminal(
        case,
        env,
        [
            f"cd {shlex.quote(str(cwd))}",
            f"{shlex.join(fix_args)} > {out}/fix.txt 2>&1",
            f"echo {_status(case)} > {out}/rc",
        ],
    )
    said, status = (out / "fix.txt").read_text(), (out / "rc").read_text().strip()
    new_terminal = terminal(case, env, [command])
    if case.cured:
        assert status == "0" and FIXED in said and STILL_FAILS not in said, said
        assert f"{WORKED}-42" in new_terminal, f"the fix said {said}\nbut a new terminal's uv:\n{new_terminal}"
    else:
        assert status == "1" and STILL_FAILS in said and FIXED not in said, said
        assert "by hand:" in said and "administrator" in said, said
        assert f"{WORKED}-42" not in new_terminal, new_terminal

    terminal(case, env, [f"{shlex.join([str(VENV_BIN / 'uv-drive-guard'), 'undo'])} > {out}/undo.txt 2>&1"])
    for path, data in before.items():
        assert path.read_bytes() == data, f"undo left {path} changed:\n{(out / 'undo.txt').read_text()}"
