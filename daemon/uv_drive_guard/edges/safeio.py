"""Read a file that may lie on a drive without waiting on a pipe or device, or following it elsewhere.

A drive is untrusted: `pyproject.toml` may be a named pipe (open() waits for a writer that
never comes), a device node (endless bytes, or a tape rewinding), a socket, or a symlink to
any of those. Every read of drive content goes through `read_bytes`: lstat first, regular
files only, open with O_NOFOLLOW | O_NONBLOCK, fstat the open file (same file, still
regular), read at most `limit` bytes, close. What is skipped is noted, not hung on.
A regular file on a wedged drive (a FUSE driver that stopped answering) can still block in
read(2): nothing here can prevent that, so drive reads run in bounded threads (edges/bounded.py)
with deadlines, and a stuck one holds only its own thread.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import stat
from collections.abc import Iterator

log = logging.getLogger(__name__)

_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)  # a symlink swapped in after the lstat fails with ELOOP
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in after the lstat opens without waiting
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_NOTES: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("uvdg_safeio_notes", default=None)


class NotRegular(OSError):
    """The path is not a regular file (or changed into something else while being opened)."""


def kind_of(mode: int) -> str:
    """What a person would call a file of this mode."""
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device node"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


@contextlib.contextmanager
def collect() -> Iterator[list[str]]:
    """Gather the notes of files skipped in this thread (a walk's) into the yielded list."""
    notes: list[str] = []
    token = _NOTES.set(notes)
    try:
        yield notes
    finally:
        _NOTES.reset(token)


def _note(path: str, what: str) -> None:
    message = f"{path} is {what}: skipped, not read"
    log.info("%s", message)
    notes = _NOTES.get()
    if notes is not None and message not in notes:
        notes.append(message)


def read_bytes(path: str | os.PathLike[str], limit: int, *, follow: bool = False) -> bytes | None:
    """At most `limit` + 1 bytes of a regular file (so callers can tell "too large"); None when
    absent, unreadable or not a regular file. `follow` resolves symlinks first: only for the
    user's own files (dotfile managers link them), never for a drive's."""
    name = os.fspath(path)
    if follow:
        name = os.path.realpath(name)
    try:
        return _read(name, limit)
    except NotRegular as exc:
        _note(name, str(exc))
        return None
    except OSError:
        return None


def read_strict(path: str | os.PathLike[str], limit: int) -> bytes:
    """`read_bytes` that raises: FileNotFoundError, NotRegular (a pipe, socket, device or
    symlink), or another OSError. For callers that must tell "absent" from "not a file"."""
    return _read(os.fspath(path), limit)


def _read(name: str, limit: int) -> bytes:
    before = os.lstat(name)
    if not stat.S_ISREG(before.st_mode):
        raise NotRegular(kind_of(before.st_mode))
    fd = os.open(name, _FLAGS)
    try:
        after = os.fstat(fd)
        if not stat.S_ISREG(after.st_mode):
            raise NotRegular(kind_of(after.st_mode))
        if not _same(before, after):
            raise NotRegular("replaced while being opened")
        if getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)  # a regular file: O_NONBLOCK has done its part
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    """Same file: inode and device (where the OS reports them: some Windows drives say 0)."""
    if a.st_ino and b.st_ino and a.st_ino != b.st_ino:
        return False
    return not (a.st_dev and b.st_dev and a.st_dev != b.st_dev)


def read_text(path: str | os.PathLike[str], limit: int, *, follow: bool = False) -> str | None:
    """The text of a small regular file, or None if absent, not regular, binary or too large."""
    data = read_bytes(path, limit, follow=follow)
    if data is None or len(data) > limit or b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


def is_regular(path: str | os.PathLike[str]) -> bool:
    """lstat only: True for a regular file that is not a symlink; anything else that is there
    (a pipe, a socket, a device, a link) is noted as skipped."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    if not stat.S_ISREG(mode):
        _note(os.fspath(path), kind_of(mode))
        return False
    return True


__all__ = ["NotRegular", "collect", "is_regular", "kind_of", "read_bytes", "read_strict", "read_text"]
