"""Atomic file writes: a reader (or a crash) sees the old bytes or the new ones, never a mix."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from pathlib import Path

from ..edges import safeio

log = logging.getLogger(__name__)

TEMP_SUFFIX = ".uv-drive-guard-tmp"


class NotWritable(OSError):
    """The user made this file read-only, or we may not write it: we leave it alone."""


def real_path(path: Path) -> Path:
    """Write through symlinked dotfiles (stow, chezmoi) to the file they point at."""
    return Path(os.path.realpath(path))


def check_writable(path: Path) -> None:
    real = real_path(path)
    # The mode bits say what the user meant (root's access() would say yes to anything).
    if real.exists() and (not real.stat().st_mode & 0o222 or not os.access(real, os.W_OK)):
        raise NotWritable(f"{path} is read-only; it was not changed")
    parent = real.parent
    if not parent.exists():
        return
    if not os.access(parent, os.W_OK | os.X_OK):
        raise NotWritable(f"{parent} is not writable; {path.name} was not changed")


def write_atomic(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Temp file in the same directory, fsync, keep the old mode and owner (or set `mode`),
    rename, fsync the directory."""
    real = real_path(path)
    check_writable(real)
    real.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=TEMP_SUFFIX, dir=real.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            flush_to_disk(handle.fileno())
        _copy_metadata(real, Path(temp))
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_directory(real.parent)
    _clean_stale(real)


def _clean_stale(real: Path) -> None:
    """Temp files a killed writer left beside this file (the rename never happened)."""
    for stale in real.parent.glob(f".{glob_escape(real.name)}.*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            stale.unlink()


def glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def _copy_metadata(original: Path, temp: Path) -> None:
    try:
        info = original.stat()
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        return
    os.chmod(temp, info.st_mode & 0o7777)
    if hasattr(os, "chown") and hasattr(info, "st_uid"):
        with contextlib.suppress(PermissionError):
            os.chown(temp, info.st_uid, info.st_gid)


def fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); Windows has no directory handles for this."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # some filesystems cannot open a directory; the rename already happened
    try:
        with contextlib.suppress(OSError):
            flush_to_disk(fd)
    finally:
        os.close(fd)


def flush_to_disk(fd: int) -> None:
    """fsync, and on macOS F_FULLFSYNC: there fsync(2) only hands the data to the drive, whose
    own cache can lose it on a power cut or a yanked cable (Apple's fsync(2) and fcntl(2) man
    pages); F_FULLFSYNC asks the drive to write it out. File systems that refuse it (some
    network and FUSE ones) get the plain fsync."""
    if sys.platform == "darwin":
        import fcntl

        try:
            fcntl.fcntl(fd, fcntl.F_FULLFSYNC)
            return
        except OSError as exc:
            log.debug("F_FULLFSYNC refused (%s): plain fsync", exc)
    os.fsync(fd)


def remove(path: Path) -> None:
    """Undo of a file we created: remove it (through a symlink, the file it points at)."""
    real = real_path(path)
    with contextlib.suppress(FileNotFoundError):
        real.unlink()
    fsync_directory(real.parent)


MAX_READ = 64 << 20  # no startup or settings file is this large; a device node is endless


def read_bytes(path: Path) -> bytes | None:
    """A file's bytes through its symlinks, or None if absent. Never blocks: a named pipe or
    device where the file should be (a drive's pyproject.toml swapped since the scan) is
    refused as NotWritable, and so is a file larger than we would ever rewrite."""
    try:
        data = safeio.read_strict(real_path(path), MAX_READ)
    except FileNotFoundError:
        return None
    except safeio.NotRegular as exc:
        raise NotWritable(f"{path} is {exc}, not a file; it was not changed") from exc
    if len(data) > MAX_READ:
        raise NotWritable(f"{path} is larger than {MAX_READ >> 20} MiB; it was not changed")
    return data
