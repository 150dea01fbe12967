"""After a fix: scan again as a new terminal would, and let uv itself confirm.

uv is run only from where it is installed (never from a drive), offline, on a wheel built
here, into a scratch environment that is removed afterwards. Nothing from the drive runs.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

from ..core.model import Definition, Finding, Role, Snapshot
from ..edges import proc, untrusted

WHEEL_NAME = "uv_drive_guard_check"
HARDLINK_WARNING = "Failed to hardlink files"


def new_terminal_env(env: Mapping[str, str], definitions: tuple[Definition, ...]) -> dict[str, str]:
    """This process's environment less what the user's startup files gave it: a new terminal
    reads those files again, as changed by the fix."""
    persisted = {(d.name, d.value) for d in definitions}
    return {k: v for k, v in env.items() if (k, v) not in persisted}


def with_startup_files(env: Mapping[str, str], definitions: tuple[Definition, ...]) -> dict[str, str]:
    """Add what the startup files set now (the last definition of each name wins, as the
    shell reads them in order): the environment a new terminal starts uv with."""
    fresh = dict(env)
    for definition in definitions:
        if definition.value is not None:
            fresh[definition.name] = definition.value
    return fresh


def same_finding(a: Finding, b: Finding) -> bool:
    return a.code == b.code and (a.location.path if a.location else None) == (b.location.path if b.location else None)


def tiny_wheel(directory: Path) -> Path:
    """A valid pure-Python wheel written by hand: no build backend, no network."""
    dist = f"{WHEEL_NAME}-1.0"
    files = {
        f"{WHEEL_NAME}/__init__.py": b"",
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {WHEEL_NAME}\nVersion: 1.0\n".encode(),
        f"{dist}.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: uv-drive-guard\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = io.StringIO()
    for name, data in files.items():
        sha = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.write(f"{name},sha256={sha},{len(data)}\n")
    record.write(f"{dist}.dist-info/RECORD,,\n")
    path = directory / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(f"{dist}.dist-info/RECORD", record.getvalue())
    return path


def uv_install_check(uv: str, env: Mapping[str, str], where: Path, cwd: str | None) -> tuple[bool, str]:
    """Create a scratch venv under `where` and install the tiny wheel offline, as the user would."""
    scratch = Path(tempfile.mkdtemp(prefix=".uv-drive-guard-verify-", dir=where))
    try:
        wheels = scratch / "wheels"
        wheels.mkdir()
        tiny_wheel(wheels)
        run_env = {**env, "UV_OFFLINE": "1", "UV_PYTHON_DOWNLOADS": "never", "NO_COLOR": "1"}
        run_env.pop("VIRTUAL_ENV", None)
        steps = (
            [uv, "venv", str(scratch / "venv"), *_python()],
            [
                uv,
                "pip",
                "install",
                "--no-index",
                "--find-links",
                str(wheels),
                "--python",
                str(scratch / "venv"),
                WHEEL_NAME,
            ],
        )
        output = ""
        for argv in steps:
            done = proc.run(argv, text=True, env=run_env, cwd=cwd, timeout=120)
            output += done.stderr
            if done.returncode != 0:
                return False, done.stderr.strip()
        return HARDLINK_WARNING not in output, output.strip()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _python() -> list[str]:
    """This interpreter for the scratch venv; a frozen app is no interpreter, so uv finds one."""
    return [] if getattr(sys, "frozen", False) else ["--python", sys.executable]


def check_with_uv(finding: Finding, after: Snapshot, env: Mapping[str, str]) -> list[str]:
    uv = after.uv.executable
    if not uv:
        return ["uv is not installed here, so uv could not confirm the fix."]
    lines = []
    done = proc.run([uv, "cache", "dir"], text=True, env=env, timeout=30)
    if done.returncode == 0:
        lines.append(f"uv now keeps its cache at {done.stdout.strip()}")
    loc = finding.location
    target = Path(loc.path) if loc else None
    where = _existing_parent(target) if target and loc and loc.role is not Role.CACHE else None
    where = where or Path(tempfile.gettempdir())
    ok, output = uv_install_check(uv, env, where, cwd=loc.project if loc else None)
    verdict = "installed a test package without errors or warnings" if ok else f"still reports:\n{output}"
    lines.append(f"uv {verdict} (scratch environment in {where}, removed)")
    return lines


def _existing_parent(path: Path) -> Path | None:
    """The nearest existing writable directory, if the path may be touched at all: a drive's
    project can name a share or an automount path as its cache (edges/untrusted)."""
    if not untrusted.touchable(str(path)):
        return None
    for candidate in (path, *path.parents):
        if candidate.is_dir() and os.access(candidate, os.W_OK):
            return candidate
    return None
