"""What the portable-project and hint tests share: a home of its own with uv and the CLI on
PATH, a project, the person's real shells run on it, and what the home holds afterwards."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

from . import drives
from .against_uv import CLI, VENV_BIN, show, under

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
