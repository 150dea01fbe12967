"""The operations uv performs, tried once each in a scratch directory on a POSIX system.

Sequential on purpose: one file serves several tests, which keeps a probe near 18 file
operations on a slow USB stick (benchmarks/bench_scan.py counts them).
"""

from __future__ import annotations

import errno as errnos
import fcntl
import os
import shutil
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

from ._common import OK, Operation, Result, rust_message


def os_message(code: int) -> str:
    """An errno as uv prints it."""
    return rust_message(code, os.strerror(code))


def refused(exc: OSError) -> Result:
    code = exc.errno or 0
    return False, code, os_message(code)


def _try(action: Callable[[], object]) -> Result:
    try:
        action()
    except OSError as exc:
        return refused(exc)
    return OK


def _exec_bit(fd: int) -> Result:
    try:
        os.fchmod(fd, 0o755)
        mode = os.fstat(fd).st_mode
    except OSError as exc:
        return refused(exc)
    return bool(mode & stat.S_IXUSR), None, None


def _case_sensitive(scratch: Path) -> Result:
    """`a` exists; if `A` resolves to it, names are folded."""
    try:
        os.stat(scratch / "A")
    except FileNotFoundError:
        return OK
    except OSError as exc:
        return None, exc.errno, os_message(exc.errno or 0)
    return False, None, None


def _symlink_follow(scratch: Path) -> Result:
    """A link pointing off the drive, then followed and read back: nosymfollow mounts and some
    FUSE drivers create links they will not follow (`Too many levels of symbolic links`, #15528)."""
    link = scratch / "f"
    try:
        os.symlink("/", link, target_is_directory=True)
    except OSError as exc:
        return None, exc.errno, os_message(exc.errno or 0)
    try:
        os.readlink(link)
        os.stat(link)
    except OSError as exc:
        return refused(exc)
    return OK


def _exec_file(path: Path) -> Result:
    """Whether the kernel would run a file here (a `noexec` mount says no), asked with
    access(2) on the file `_exec_bit` made executable: nothing is executed."""
    if os.access(path, os.X_OK):
        return OK
    return False, errnos.EACCES, os_message(errnos.EACCES)


def link_then_unlink(src: Path, dst: Path) -> None:
    """tempfile's fallback for persist_noclobber when renameat2 says ENOSYS or EINVAL."""
    os.link(src, dst)
    os.unlink(src)


def run_ops(
    scratch: Path,
    extra: Mapping[str, Operation] = {},
    *,
    clone: Callable[[int, int], None] | None = None,
    rename_noreplace: Callable[[Path, Path], None] | None = None,
) -> dict[str, Result]:
    """Try every portable operation; `extra` adds or replaces OS-specific ones.

    `clone(src_fd, dst_fd)` and `rename_noreplace(src, dst)` reuse the files made here, so
    the probe stays near 18 file operations including its own clean-up.
    """
    results: dict[str, Result] = {}
    first = scratch / "a"
    fd = os.open(first, os.O_CREAT | os.O_RDWR | os.O_EXCL, 0o644)
    try:
        os.write(fd, b"uv-drive-guard probe\n")
        results["flock_shared"] = _try(lambda: fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB))
        # Converting the shared lock to exclusive; closing the file releases it.
        results["flock_exclusive"] = _try(lambda: fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB))
        results["exec_bit"] = _exec_bit(fd)
        if clone is not None:
            results["reflink"] = _clone_into(scratch / "c", fd, clone)
    finally:
        os.close(fd)
    results["hardlink"] = _try(lambda: os.link(first, scratch / "h"))
    results["symlink_file"] = _try(lambda: os.symlink("a", scratch / "s"))
    results["symlink_dir"] = _try(lambda: os.symlink(".", scratch / "d", target_is_directory=True))
    results["case_sensitive"] = _case_sensitive(scratch)
    results["symlink_follow"] = _symlink_follow(scratch) if results["symlink_file"][0] else (None, None, None)
    results["exec_file"] = _exec_file(first)
    if rename_noreplace is not None:
        # uv persists a temp file as `<dir>/.lock`; the hard link (or `a`) plays the temp file.
        temp = scratch / "h" if results["hardlink"][0] else first
        results["rename_noreplace"] = persist_noclobber(rename_noreplace, temp)(scratch)
    for name, operation in extra.items():
        try:
            results[name] = operation(scratch)
        except OSError as exc:  # an operation's own set-up failed: say unknown, keep going
            results[name] = (None, exc.errno, os_message(exc.errno or 0))
    return results


def _clone_into(target: Path, src_fd: int, clone: Callable[[int, int], None]) -> Result:
    dst_fd = os.open(target, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o644)
    try:
        return _try(lambda: clone(src_fd, dst_fd))
    finally:
        os.close(dst_fd)


def remove_scratch(scratch: Path, names: tuple[str, ...] = ("a", "h", "s", "d", "c", "f", "lock")) -> None:
    """Remove what run_ops made by name (no directory listing), then the directory."""
    for name in names:
        try:
            os.unlink(scratch / name)
        except FileNotFoundError:
            continue
        except OSError:
            break
    try:
        os.rmdir(scratch)
    except OSError:
        shutil.rmtree(scratch, ignore_errors=True)


def persist_noclobber(rename_noreplace: Callable[[Path, Path], None], temp: Path | None = None) -> Operation:
    """Persist a temp file without replacing, exactly as uv creates its lock files."""

    def operation(scratch: Path) -> Result:
        source, final = temp or scratch / ".tmpprobe", scratch / "lock"
        if temp is None:
            source.write_bytes(b"")
        try:
            rename_noreplace(source, final)
        except OSError as exc:
            if exc.errno not in (errnos.ENOSYS, errnos.EINVAL):
                return refused(exc)
            return _try(lambda: link_then_unlink(source, final))
        return OK

    return operation
