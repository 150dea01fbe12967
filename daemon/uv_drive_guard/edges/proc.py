"""Every child process the product starts goes through here, so none opens a console window.

On Windows the daemon is a windowed program (pythonw, or the frozen GUI exe) and uv.exe is a
console program: started plainly, each uv call would flash a new console window (about six per
scan). CREATE_NO_WINDOW runs a console child without one (Microsoft's "Process Creation Flags");
it is ignored for GUI children such as notepad. tests/unit/test_no_console.py fails when a
module calls `subprocess` directly instead of these two functions.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Literal, overload

if sys.platform == "win32":
    NO_WINDOW = subprocess.CREATE_NO_WINDOW
else:
    NO_WINDOW = 0

Stream = int | IO[bytes] | IO[str] | None


def creationflags(extra: int = 0) -> int:
    """The flags every child gets: CREATE_NO_WINDOW on Windows, nothing elsewhere."""
    return extra | NO_WINDOW


@overload
def run(
    argv: Sequence[str],
    *,
    timeout: float,
    text: Literal[True],
    env: Mapping[str, str] | None = ...,
    cwd: str | None = ...,
    stdin: Stream = ...,
) -> subprocess.CompletedProcess[str]: ...


@overload
def run(
    argv: Sequence[str],
    *,
    timeout: float,
    text: Literal[False] = ...,
    env: Mapping[str, str] | None = ...,
    cwd: str | None = ...,
    stdin: Stream = ...,
) -> subprocess.CompletedProcess[bytes]: ...


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    text: bool = False,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    stdin: Stream = subprocess.DEVNULL,
) -> subprocess.CompletedProcess[str] | subprocess.CompletedProcess[bytes]:
    """subprocess.run with output captured, never a shell, bounded in time, no console window."""
    return subprocess.run(
        list(argv),
        capture_output=True,
        text=text,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdin=stdin,
        timeout=timeout,
        check=False,
        creationflags=creationflags(),
    )


def popen(
    argv: Sequence[str],
    *,
    stdout: Stream = subprocess.DEVNULL,
    stderr: Stream = subprocess.DEVNULL,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> subprocess.Popen[str]:
    """A child that runs alongside (uv's queries started together, an editor): no console window."""
    return subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        text=True,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        creationflags=creationflags(),
    )
