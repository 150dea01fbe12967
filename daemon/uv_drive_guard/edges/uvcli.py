"""Ask the installed uv what it is and where it puts things; never run a uv from a drive."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping

from ..core.model import UvInfo
from ..core.paths import under
from . import proc

log = logging.getLogger(__name__)
QUERIES = {
    "cache": ["cache", "dir"],
    "tool": ["tool", "dir"],
    "tool-bin": ["tool", "dir", "--bin"],
    "python": ["python", "dir"],
    "python-bin": ["python", "dir", "--bin"],
}


def find_uv(env: Mapping[str, str], forbidden: Iterable[str] = ()) -> str | None:
    """uv on PATH, unless its real path lies on one of the `forbidden` (drive) mount points."""
    found = shutil.which("uv", path=env.get("PATH"))
    found = os.path.abspath(found) if found else None
    if found is None:
        return None
    real = os.path.realpath(found)
    for mount in forbidden:  # "/" itself is no drive (in scope only for a path named on it)
        if mount.rstrip("/\\") and under(real, mount, windows=os.name == "nt"):
            log.warning("not running %s: it is on a drive", real)
            return None
    return found


def ask(
    executable: str | None,
    env: Mapping[str, str],
    *,
    confirm: bool = True,
    cwd: str | None = None,
    timeout: float = 10.0,
) -> UvInfo:
    """`uv --version` and, with `confirm`, the dir queries: started together, so the wall time
    is about one uv start-up."""
    if executable is None:
        return UvInfo(version=None, executable=None)
    commands = {"version": ["--version"], **(QUERIES if confirm else {})}
    clean = {k: v for k, v in env.items() if k != "VIRTUAL_ENV"}
    started: dict[str, subprocess.Popen[str]] = {}
    for key, args in commands.items():
        try:
            started[key] = proc.popen([executable, *args], stdout=subprocess.PIPE, env=clean, cwd=cwd)
        except OSError as exc:
            log.warning("could not run %s: %s", executable, exc)
            return UvInfo(version=None, executable=executable)
    answers = {key: _answer(child, timeout) for key, child in started.items()}
    version = answers.pop("version", None)
    reported = tuple((k, v) for k, v in answers.items() if v)
    return UvInfo(version=version, executable=executable, reported=reported)


def _answer(child: subprocess.Popen[str], timeout: float) -> str | None:
    """The child's one line of output (read as UTF-8 by edges/proc); None when it failed or said nothing."""
    try:
        out, _ = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        return None
    text = (out or "").strip()  # None: the output could not be read at all
    return text if child.returncode == 0 and text else None
