"""Every child process the product starts goes through here, so none opens a console window.

On Windows the daemon is a windowed program (pythonw, or the frozen GUI exe) and uv.exe is a
console program: started plainly, each uv call would flash a new console window (about six per
scan). CREATE_NO_WINDOW runs a console child without one (Microsoft's "Process Creation Flags");
it is ignored for GUI children such as notepad. tests/unit/test_no_console.py fails when a
module calls `subprocess` directly instead of these two functions.

Text mode means UTF-8 here, never the locale's encoding: uv prints UTF-8 (Rust strings, paths
through `Path::display`, e.g. crates/uv/src/commands/cache_dir.rs), as launchctl and blkid do.
Windows' ANSI code page (cp1252) would turn `C:\\Users\\José` into `JosÃ©`, and a byte it lacks
makes subprocess's reader thread fail, so that communicate() returns None for the output. A byte
that is not UTF-8 (a child that writes its own code page) becomes U+FFFD instead of an error.
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
ENCODING = "utf-8"
ERRORS = "replace"


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
    """subprocess.run with output captured, never a shell, bounded in time, no console window;
    with `text`, the output decoded as UTF-8."""
    return subprocess.run(
        list(argv),
        capture_output=True,
        encoding=ENCODING if text else None,
        errors=ERRORS if text else None,
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
    """A child that runs alongside (uv's queries started together, an editor): no console
    window, its output read as UTF-8."""
    return subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        encoding=ENCODING,
        errors=ERRORS,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        creationflags=creationflags(),
    )
