"""The CLI's scan and real uv, run side by side in a throwaway home: what the real-uv tests share.

The venv's own `uv-drive-guard` and `uv` come first on PATH; uv runs offline against a local
find-links directory; a project is made by real `uv init` locally and copied onto the drive
(fusefat refuses the chmod a copy would do).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import drives
from .drives import base_python, need_real, requirement, uv_env

VENV_BIN = Path(sys.executable).parent
CLI = VENV_BIN / "uv-drive-guard"
UV = VENV_BIN / "uv"
W_HARDLINK = "Failed to hardlink files; falling back to full copy"  # uv's warning when it copies


def require(*kinds: str) -> None:
    for kind in kinds:
        reason = requirement(kind)
        if reason:
            need_real(reason)
    if not CLI.is_file():
        need_real(f"the uv-drive-guard CLI is not installed beside {sys.executable}")
    if not UV.is_file():
        need_real(f"real uv is not installed beside {sys.executable}")


def env_for(home: Path, **overrides: str | None) -> dict[str, str]:
    """drives.uv_env(home) with this venv (the CLI and real uv) first on PATH."""
    env = uv_env(home, **overrides)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env['PATH']}"
    return env


def run_scan(env: dict[str, str], *paths: Path | str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`uv-drive-guard scan PATH... --json` as a person runs it, from `cwd`."""
    return subprocess.run(
        [str(CLI), "scan", *(str(p) for p in paths), "--json"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def scan(env: dict[str, str], *paths: Path | str, cwd: Path | None = None) -> tuple[int, dict[str, Any]]:
    proc = run_scan(env, *paths, cwd=cwd)
    assert proc.returncode in (0, 1), f"scan exited {proc.returncode}:\n{proc.stderr}\n{proc.stdout}"
    report = json.loads(proc.stdout)
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert proc.returncode == (1 if errors else 0), (
        f"exit status {proc.returncode} does not match the error findings {[f['code'] for f in errors]}"
    )
    return proc.returncode, report


def under(report: dict[str, Any], *roots: Path) -> list[dict[str, Any]]:
    """Findings about paths below ``roots`` (another test's drive under /mnt is not ours)."""
    prefixes = tuple(f"{r}/" for r in roots)
    out = []
    for f in report["findings"]:
        path = (f["location"] or {}).get("path") or f["volume"] or ""
        if f"{path}/".startswith(prefixes) or path in {str(r) for r in roots}:
            out.append(f)
    return out


def loud(findings: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    """(code, severity, location path) of the error and warning findings."""
    return [
        (f["code"], f["severity"], (f["location"] or {}).get("path"))
        for f in findings
        if f["severity"] in ("error", "warning")
    ]


def uv(
    args: list[str | Path], env: dict[str, str], cwd: Path | None = None, *, shell_file: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Real uv; with ``shell_file`` it is sourced first, as the user's shell would."""
    argv = [str(UV), *(str(a) for a in args)]
    if shell_file is not None:
        argv = ["bash", "-c", f'. {shlex.quote(str(shell_file))} && exec "$@"', "uv", *argv]
    return subprocess.run(
        argv,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=drives.UV_TIMEOUT_S,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def show(proc: subprocess.CompletedProcess[str]) -> str:
    return f"rc={proc.returncode}\n--- stderr\n{proc.stderr}\n--- stdout\n{proc.stdout}"


_PREFIX = re.compile(r"^\s*(?:error:|warning:|Caused by:|cause:)\s*")


def normal(line: str) -> str:
    return _PREFIX.sub("", line).strip()


def install(venv: Path, wheels: Path, *extra: str) -> list[str | Path]:
    return ["pip", "install", "--no-index", "--find-links", wheels, "--python", venv, *extra, "tinypkg"]


def make_venv(path: Path) -> list[str | Path]:
    return ["venv", "--python", base_python(), path]


def write_bashrc(home: Path, name: str, value: Path) -> tuple[Path, int]:
    """A realistic ~/.bashrc that exports ``name``; returns it and the export's line number."""
    bashrc = home / ".bashrc"
    lines = [
        "# ~/.bashrc: executed by bash(1) for non-login shells.",
        "case $- in *i*) ;; *) : ;; esac",
        "alias ll='ls -l'",
        f"export {name}={shlex.quote(str(value))}",
        "export EDITOR=vi",
    ]
    bashrc.write_text("\n".join(lines) + "\n")
    return bashrc, 4


PHRASES = (
    "failed to symlink file",
    "Failed to hardlink files",
    "Read-only file system (os error 30)",
    "Permission denied (os error 13)",
    "Too many levels of symbolic links (os error 40)",
    "No space left on device (os error 28)",
    "No such file or directory (os error 2)",
    "File exists (os error 17)",
    "expected directory but found a file",
    "no `pyvenv.cfg` file was found",
    "redirect file at",
)


def said(item: dict[str, Any], proc: subprocess.CompletedProcess[str], *, fails: bool) -> None:
    """uv failed (or worked) as the finding says and printed each predicted line."""
    assert (proc.returncode != 0) is fails, (
        f"{item['code']} predicted {'failure' if fails else 'success'}:\n{show(proc)}"
    )
    predicted = item["uv_message"]
    phrase = next((p for p in PHRASES if p in predicted), None)
    assert phrase and phrase in proc.stderr, f"predicted {predicted!r}, uv printed:\n{show(proc)}"
    real = "\n".join(normal(line) for line in proc.stderr.splitlines())
    for line in predicted.splitlines():
        want = normal(line)
        pattern = re.escape(want).replace("XXXXXX", r"[^`\s/\"]+").replace(r"\.\.\.", ".*?")
        assert not want or re.search(pattern, real), f"{item['code']}: {line.strip()!r} not in:\n{show(proc)}"


def init(kind: str, where: Path, scratch: Path, name: str = "demo") -> Path:
    """A project by real `uv init` (app, lib) depending on tinypkg, copied to `where/name`."""
    local = scratch / f"init-{name}"
    local.mkdir(parents=True)
    made = uv(
        ["init", f"--{kind}", "--vcs", "none", "--no-workspace", "--python", base_python(), name],
        env_for(scratch / "ih"),
        cwd=local,
    )
    assert made.returncode == 0, show(made)
    manifest = local / name / "pyproject.toml"
    manifest.write_text(manifest.read_text().replace("dependencies = []", 'dependencies = ["tinypkg"]'))
    copy_tree(local / name, where / name)
    return where / name


def sync(wheels: Path, *extra: str) -> list[str | Path]:
    return ["sync", "--no-index", "--find-links", wheels, "--python", base_python(), *extra]


def only(findings: list[dict[str, Any]], code: str) -> dict[str, Any]:
    (item,) = [f for f in findings if f["code"] == code]
    return item


def copy_tree(src: Path, dst: Path) -> None:
    """Copy what `uv init` wrote, contents only: fusefat refuses chmod (copystat)."""
    dst.mkdir(parents=True, exist_ok=True)
    for child in src.iterdir():
        if child.is_dir():
            copy_tree(child, dst / child.name)
        else:
            shutil.copyfile(child, dst / child.name)


def fix_slugs(item: dict[str, Any]) -> list[str]:
    return [re.sub(r"^uvd\d+-|-[0-9a-f]{6}$", "", fix["id"]) for fix in item["fixes"]]


def assert_silent(proc: subprocess.CompletedProcess[str], what: str) -> None:
    assert proc.returncode == 0, f"{what}: uv failed:\n{show(proc)}"
    assert "warning: Failed to" not in proc.stderr, f"{what}: uv warned:\n{show(proc)}"
    assert "error" not in proc.stderr.lower(), f"{what}:\n{show(proc)}"


def assert_tinypkg_runs(venv: Path) -> None:
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import tinypkg; print(tinypkg.__version__)"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "0.1.0", proc.stderr
