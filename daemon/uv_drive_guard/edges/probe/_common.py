"""What every per-OS probe shares: the shape of one operation's answer, and uv's error text.

An operation takes an existing, empty scratch directory on the volume and answers
(ok, code, message): ok is None when the test itself could not be set up, code the OS error
(errno, or the Win32 error on Windows), message the error as uv prints it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Result = tuple[bool | None, int | None, str | None]
Operation = Callable[[Path], Result]
Strerror = Callable[[int], str]

OK: Result = (True, None, None)


def rust_message(code: int, text: str) -> str:
    """How Rust's io::Error displays an OS error, and so how uv prints it:
    "Operation not supported (os error 95)"."""
    return f"{text} (os error {code})"
