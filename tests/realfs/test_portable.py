"""Portable projects on a real exFAT drive, two computers (two homes), three mount points.

On each computer `fix --yes` takes the offered "Keep the environments of STICK's projects on
this computer"; then a REAL interactive bash, zsh and fish on a pseudo-terminal `cd` into the
project on the drive, run `uv sync` and `uv run` a console script from a local wheel
(offline): both work, and nothing appears on the drive. Mounted at a third place, it still
works once the headless daemon saw the mount. `undo` gives each home back byte for byte.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from . import drives
from .against_uv import CLI, VENV_BIN, show, under
from .drives import make_drive

SHELLS = ("bash", "zsh", "fish")
PROJECT = """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = ["tinypkg"]

[tool.uv]
package = false
"""
# What the shells, uv and the running daemon write in a home of their own accord (fish makes its
# folders at first start, the daemon its settings folder to watch); the fix's journal and the
# environments it keeps (never deleted silently) are checked separately.
NOT_OURS = (
    ".cache",
    ".bash_history",
    ".local/share/fish",
    ".config/fish/fish_variables",
    ".config/fish/completions",
    ".config/fish/conf.d",
    ".config/fish/functions",
    ".local/state",
)


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args], env=env, capture_output=True, text=True, timeout=180, check=False, stdin=subprocess.DEVNULL
    )


def make_home(path: Path, wheels: Path) -> tuple[Path, dict[str, str]]:
    """A computer: a home with startup files for three shells and an offline uv.toml."""
    path.mkdir(parents=True)
    (path / ".bashrc").write_text("# my bashrc\nalias ll='ls -l'\n")
    (path / ".zshrc").write_text("# my zshrc\nsetopt no_beep\n")
    fish = path / ".config" / "fish"
    fish.mkdir(parents=True)
    (fish / "config.fish").write_text("# my config.fish\nset -g fish_greeting ''\n")
    uv_config = path / ".config" / "uv"
    uv_config.mkdir(parents=True)
    (uv_config / "uv.toml").write_text(f'no-index = true\nfind-links = ["{wheels}"]\n')
    env = drives.uv_env(path, SHELL="/bin/bash")
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env['PATH']}"
    return path, env


def tree(home: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and directory (None) in a home, less what shells and uv write there."""
    out: dict[str, bytes | None] = {}
    for item in sorted(home.rglob("*")):
        rel = item.relative_to(home).as_posix()
        if any(rel == n or rel.startswith(n + "/") for n in NOT_OURS):
            continue
        if rel == ".local/share/uv-drive-guard" or rel.startswith(".local/share/uv-drive-guard/envs"):
            continue  # the environments uv made stay, and so their folder
        out[rel] = item.read_bytes() if item.is_file() and not item.is_symlink() else None
    return out


def drive_files(mount: Path) -> set[str]:
    return {p.relative_to(mount).as_posix() for p in mount.rglob("*")}


def in_shell(shell: str, home: Path, env: dict[str, str], commands: list[str]) -> str:
    """A person's terminal: an interactive shell on a pty, one command per prompt."""
    clean = {
        "HOME": str(home),
        "PATH": env["PATH"],
        "TERM": "dumb",
        "LANG": "C.UTF-8",
        "UV_NO_PROGRESS": "1",
        "NO_COLOR": "1",
        "UV_PYTHON_DOWNLOADS": "never",
    }
    script = "".join(f"{c}\n" for c in commands) + "exit\n"
    argv = ["env", "-i", *(f"{k}={v}" for k, v in clean.items()), "script", "-qec", f"{shell} -i", "/dev/null"]
    done = subprocess.run(argv, input=script.encode(), capture_output=True, timeout=300, check=False)
    return done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")


def offered(env: dict[str, str], mount: Path) -> tuple[list[dict[str, object]], str]:
    scanned = cli(["scan", "--json"], env)
    mine = [f for f in under(json.loads(scanned.stdout), mount) if f["code"] == "UVD005"]
    drive_fixes = {x["id"] for f in mine for x in f["fixes"] if "-portable-drive-" in x["id"]}  # type: ignore[attr-defined]
    assert len(drive_fixes) == 1, show(scanned)
    return mine, drive_fixes.pop()


def use_project(shell: str, home: Path, env: dict[str, str], project: Path) -> str:
    out = in_shell(
        shell,
        home,
        env,
        # one line, as people type it: bash's hook runs at the prompt, so uv itself must look
        [f"cd {shlex.quote(str(project))} && uv sync", "uv run tinypkg", 'echo "UPE=$UV_PROJECT_ENVIRONMENT"', "cd /"],
    )
    assert "tinypkg 0.1.0" in out, f"{shell}:\n{out}"
    return out


@pytest.fixture
def world(tmp_path: Path, mnt_dir: Path, wheels: Path) -> tuple[Path, Path, Path]:
    reason = drives.requirement("exfat")
    if reason:
        drives.need_real(reason)
    for shell in SHELLS:
        if shutil.which(shell) is None:
            drives.need_real(f"{shell} is not installed")
    return tmp_path, mnt_dir, wheels


def _setup_drive(root: Path, env: dict[str, str]) -> Path:
    """The drive's first use: two projects, each locked by real uv offline where it can."""
    with make_drive("exfat", root / "first", label="STICK", name="STICK") as drive:
        for rel in ("demo", "work/other"):
            shadow = root / "shadow" / rel
            shadow.mkdir(parents=True)
            (shadow / "pyproject.toml").write_text(PROJECT.replace('"demo"', f'"{rel.split("/")[-1]}"'))
            locked = subprocess.run(
                [str(VENV_BIN / "uv"), "lock"], cwd=shadow, env=env, capture_output=True, text=True, check=False
            )
            assert locked.returncode == 0, locked.stderr
            target = drive.mountpoint / rel
            target.mkdir(parents=True)
            for name in ("pyproject.toml", "uv.lock"):
                shutil.copyfile(shadow / name, target / name)
        assert drive.image is not None
        return drive.image


def _computer(home: Path, env: dict[str, str], mount: Path) -> tuple[dict[str, bytes | None], str]:
    """Scan, take the fix, and work in the project from bash, zsh and fish."""
    before = tree(home)
    files = drive_files(mount)
    findings, fix = offered(env, mount)
    assert len(findings) == 2, findings
    applied = cli(["fix", fix, "--yes"], env)
    assert applied.returncode == 0, show(applied)
    assert "uv sync" in applied.stdout and "uv works now" in applied.stdout, applied.stdout
    for shell in SHELLS:
        out = use_project(shell, home, env, mount / "demo")
        assert f"UPE={home}/.local/share/uv-drive-guard/envs/" in out, out
    assert drive_files(mount) == files, "something appeared on the drive"
    assert not list(mount.rglob(".venv"))
    again = cli(["scan", "--json"], env)
    assert not [f for f in under(json.loads(again.stdout), mount) if f["code"] == "UVD005"], show(again)
    return before, fix


def _wait(predicate: object, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_two_computers_three_mount_points(world: tuple[Path, Path, Path]) -> None:
    tmp, root, wheels = world
    home1, env1 = make_home(tmp / "pc1", wheels)
    home2, env2 = make_home(tmp / "pc2", wheels)
    for home in (home1, home2):  # only this test's drives: others' under /mnt slow every scan
        settings = home / ".config" / "uv-drive-guard" / "config.toml"
        settings.parent.mkdir(parents=True)
        settings.write_text(f"[scope]\nmount_roots = [{json.dumps(str(root))}]\n")
    image = _setup_drive(root, env1)

    with make_drive("exfat", root / "pc1", name="STICK", image=image) as drive:
        before1, _ = _computer(home1, env1, drive.mountpoint)
        env_dirs = list((home1 / ".local/share/uv-drive-guard/envs").glob("*/demo-*"))
        assert len(env_dirs) == 1 and (env_dirs[0] / "bin" / "python").exists()
        listed = cli(["envs"], env1)
        assert "STICK: demo" in listed.stdout, listed.stdout
        printed = cli(["env", str(drive.mountpoint / "demo"), "--python"], env1)
        assert printed.stdout.strip() == str(env_dirs[0] / "bin" / "python"), show(printed)

    with make_drive("exfat", root / "pc2", name="STICK", image=image) as drive:
        before2, _ = _computer(home2, env2, drive.mountpoint)

    # Back on the first computer, at a third mount point (a hostile name), with the daemon on.
    daemon = subprocess.Popen(
        [str(CLI), "run", "--headless"], env=env1, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    log = home1 / ".local" / "state" / "uv-drive-guard" / "log" / "uv-drive-guard.log"
    try:
        _wait(lambda: log.exists() and "is running" in log.read_text())
        third = root / "it's $(touch PWNED) `x` 3rd"
        third.mkdir()
        with make_drive("exfat", third, name="STICK", image=image) as drive:
            generated = home1 / ".local/share/uv-drive-guard/portable.sh"
            _wait(lambda: str(drive.mountpoint).replace("'", "'\\''") in generated.read_text())
            for shell in SHELLS:
                use_project(shell, home1, env1, drive.mountpoint / "demo")
            assert not list(Path("/").glob("PWNED")) and not list(home1.rglob("PWNED"))
    finally:
        drives.stop_daemon(daemon)

    for home, env, before in ((home1, env1, before1), (home2, env2, before2)):
        undone = cli(["undo"], env)
        assert undone.returncode == 0, show(undone)
        assert tree(home) == before, sorted(set(tree(home)) ^ set(before))
        # The environments stay (listed, never deleted silently).
        assert list((home / ".local/share/uv-drive-guard/envs").glob("*/demo-*"))
        assert "not set up" in cli(["envs"], env).stdout

    # Plugged in again after the undo: the drive is named by its label and where it is mounted.
    with make_drive("exfat", root / "pc1", name="STICK", image=image) as drive:
        listed = cli(["envs"], env1).stdout
        assert "STICK: project unknown" in listed and f"mounted at {drive.mountpoint}" in listed, listed
