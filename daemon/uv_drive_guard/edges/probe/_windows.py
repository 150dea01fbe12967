"""The Windows probe: try, in a scratch directory, each operation uv performs on Windows.

Each operation takes an existing, empty scratch directory on the volume and returns
(ok, code, message): ok is None when the test itself could not be set up; code is the
Win32 error (what Rust's `raw_os_error` holds) and message reads as uv prints it:
"Incorrect function. (os error 1)" (issue #11233). Everything created is removed, by what it
turned out to be: a failed junction leaves a plain directory behind (see `create_junction`).
`run` tries each operation behind its own guard, so one that fails says "not known" for itself.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

from ._common import OK, Operation, Result, Strerror, rust_message

if sys.platform == "win32":
    import _winapi
    import ctypes
    import msvcrt
    from ctypes import wintypes

log = logging.getLogger(__name__)

ERROR_INVALID_FUNCTION = 1
ERROR_ALREADY_EXISTS = 183
ERROR_PRIVILEGE_NOT_HELD = 1314
LOCKFILE_FAIL_IMMEDIATELY = 0x1
LOCKFILE_EXCLUSIVE_LOCK = 0x2
_WHOLE_FILE = 0xFFFFFFFF  # Rust's File::lock locks u32::MAX:u32::MAX bytes from 0


def system_message(code: int) -> str:
    """FormatMessageW text keeping its final period, as Rust does (Python's strerror drops it)."""
    if sys.platform == "win32":
        return ctypes.FormatError(code)
    return os.strerror(code)


def error_code(exc: OSError) -> int | None:
    """The Win32 error when there is one: Python's errno is a C-runtime translation."""
    winerror = getattr(exc, "winerror", None)
    return winerror if isinstance(winerror, int) else exc.errno


def describe(exc: OSError, strerror: Strerror = system_message) -> tuple[int | None, str]:
    """The code and message a person would see from uv for the same failure."""
    code = error_code(exc)
    if code is None:
        return None, str(exc)
    if isinstance(getattr(exc, "winerror", None), int):
        return code, rust_message(code, strerror(code))
    return code, rust_message(code, exc.strerror or os.strerror(code))


def refused(exc: OSError, strerror: Strerror = system_message) -> Result:
    """The file system said no to the operation under test."""
    code, message = describe(exc, strerror)
    return False, code, message


def not_known(exc: OSError, strerror: Strerror = system_message) -> Result:
    """Preparing the test failed, so the operation itself was never tried."""
    code, message = describe(exc, strerror)
    return None, code, message


FILE_ATTRIBUTE_DIRECTORY = 0x10


def _is_directory_entry(info: os.stat_result) -> bool:
    """A directory, or a link that is one (a junction, a directory symlink): RemoveDirectoryW's.
    Windows' lstat keeps the entry's own attributes; os.unlink refuses a plain directory
    (PermissionError, WinError 5), os.rmdir removes directories and directory links alike."""
    attributes = getattr(info, "st_file_attributes", None)
    if isinstance(attributes, int):
        return bool(attributes & FILE_ATTRIBUTE_DIRECTORY)
    return stat.S_ISDIR(info.st_mode)


def _remove(*paths: Path) -> None:
    """Remove what is there, by what it is (lstat first); a failure is logged, never raised:
    a clean-up must not replace the result it follows (the scratch directory goes anyway)."""
    for path in paths:
        try:
            if _is_directory_entry(os.lstat(path)):
                os.rmdir(path)
            else:
                os.unlink(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("probe clean-up could not remove %s: %s", path, exc)


def _write(path: Path, data: bytes) -> None:
    with open(path, "xb") as handle:
        handle.write(data)


def _attempt(
    prepare: Callable[[], object], act: Callable[[], object], cleanup: Callable[[], None], strerror: Strerror
) -> Result:
    """Set up (a failure there: not known), try the operation (a failure: no), always clean up."""
    try:
        try:
            prepare()
        except OSError as exc:
            return not_known(exc, strerror)
        try:
            act()
        except OSError as exc:
            return refused(exc, strerror)
        return OK
    finally:
        cleanup()


def hardlink(
    scratch: Path,
    *,
    link: Callable[[Path, Path], None] = os.link,
    strerror: Strerror = system_message,
) -> Result:
    """CreateHardLinkW: the default link mode from cache to venv on Windows (R2, R3)."""
    source, target = scratch / "hardlink-source", scratch / "hardlink-target"
    return _attempt(
        lambda: _write(source, b"uv"), lambda: link(source, target), lambda: _remove(target, source), strerror
    )


def symlink_file(
    scratch: Path,
    *,
    symlink: Callable[..., None] = os.symlink,
    strerror: Strerror = system_message,
) -> Result:
    """A file symlink, as UV_LINK_MODE=symlink makes; 1314 without Developer Mode (R12)."""
    target, link = scratch / "symlink-target", scratch / "symlink-file"
    return _attempt(
        lambda: _write(target, b"uv"), lambda: symlink(target.name, link), lambda: _remove(link, target), strerror
    )


def symlink_dir(
    scratch: Path,
    *,
    symlink: Callable[..., None] = os.symlink,
    strerror: Strerror = system_message,
) -> Result:
    """A directory symlink (SYMBOLIC_LINK_FLAG_DIRECTORY)."""
    target, link = scratch / "symlink-target-dir", scratch / "symlink-dir"

    return _attempt(
        lambda: os.mkdir(target),
        lambda: symlink(target.name, link, target_is_directory=True),
        lambda: _remove(link, target),
        strerror,
    )


def create_junction(target: str, link: str) -> None:
    """An NTFS mount-point reparse point, the way uv <= 0.5 linked its cache.

    CPython's `_winapi.CreateJunction` (Modules/_winapi.c) checks the target
    (GetFileAttributesW), creates `link` with CreateDirectoryW, then asks the file system for the
    reparse point (DeviceIoControl FSCTL_SET_REPARSE_POINT); when that fails (exFAT, FAT:
    ERROR_INVALID_FUNCTION) it jumps to its clean-up, which closes handles but never removes the
    directory: an empty directory stays where the junction was to be."""
    if sys.platform == "win32":
        _winapi.CreateJunction(target, link)
        return
    raise OSError(errno.ENOSYS, "junctions exist only on Windows")


def junction(
    scratch: Path,
    *,
    make_junction: Callable[[str, str], None] = create_junction,
    strerror: Strerror = system_message,
) -> Result:
    """Junctions: the old cache (R1) and the python minor-version directory (R4)."""
    target, link = scratch / "junction-target", scratch / "junction"

    return _attempt(
        lambda: os.mkdir(target),
        lambda: make_junction(str(target.resolve()), str(link)),
        lambda: _remove(link, target),
        strerror,
    )


def rename_noreplace(
    scratch: Path,
    *,
    rename: Callable[[Path, Path], None] = os.rename,
    strerror: Strerror = system_message,
) -> Result:
    """MoveFileExW without REPLACE_EXISTING: tempfile's persist_noclobber for uv's locks."""
    first, taken, other = scratch / "rename-a", scratch / "rename-b", scratch / "rename-c"
    try:
        try:
            _write(first, b"a")
            _write(other, b"c")
        except OSError as exc:
            return not_known(exc, strerror)
        try:
            rename(first, taken)
        except OSError as exc:
            return refused(exc, strerror)
        return _must_not_replace(other, taken, rename)
    finally:
        _remove(first, taken, other)


def _must_not_replace(source: Path, taken: Path, rename: Callable[[Path, Path], None]) -> Result:
    """Renaming onto an existing name must fail (ERROR_ALREADY_EXISTS), not clobber it."""
    try:
        rename(source, taken)
    except OSError:
        return OK
    return False, None, "rename replaced an existing file"


def lock_fd(fd: int, exclusive: bool) -> int:
    """LockFileEx then UnlockFileEx on the whole file; 0 or the Win32 error."""
    if sys.platform == "win32":
        kernel32 = _kernel32()
        handle = msvcrt.get_osfhandle(fd)
        overlapped = _Overlapped()
        flags = LOCKFILE_FAIL_IMMEDIATELY | (LOCKFILE_EXCLUSIVE_LOCK if exclusive else 0)
        locked = kernel32.LockFileEx(handle, flags, 0, _WHOLE_FILE, _WHOLE_FILE, ctypes.byref(overlapped))
        if not locked:
            return int(ctypes.get_last_error()) or ERROR_INVALID_FUNCTION
        kernel32.UnlockFileEx(handle, 0, _WHOLE_FILE, _WHOLE_FILE, ctypes.byref(overlapped))
        return 0
    raise OSError(errno.ENOSYS, "LockFileEx exists only on Windows")


def _lock(scratch: Path, exclusive: bool, lock: Callable[[int, bool], int], strerror: Strerror) -> Result:
    """uv holds a shared lock on <cache>/.lock and exclusive ones on tool and python dirs."""
    path = scratch / ("lock-exclusive" if exclusive else "lock-shared")
    try:
        with open(path, "xb") as handle:
            code = lock(handle.fileno(), exclusive)
    except OSError as exc:  # creating the file, or a handle without an OS handle
        return not_known(exc, strerror)
    finally:
        _remove(path)
    return OK if code == 0 else (False, code, rust_message(code, strerror(code)))


def flock_shared(
    scratch: Path,
    *,
    lock: Callable[[int, bool], int] = lock_fd,
    strerror: Strerror = system_message,
) -> Result:
    return _lock(scratch, False, lock, strerror)


def flock_exclusive(
    scratch: Path,
    *,
    lock: Callable[[int, bool], int] = lock_fd,
    strerror: Strerror = system_message,
) -> Result:
    return _lock(scratch, True, lock, strerror)


def case_sensitive(scratch: Path, *, strerror: Strerror = system_message) -> Result:
    """True only where per-directory case sensitivity is on (WSL-made dirs, fsutil)."""
    name = scratch / "CaseProbe"
    try:
        try:
            _write(name, b"uv")
        except OSError as exc:
            return not_known(exc, strerror)
        return not os.path.lexists(scratch / "caseprobe"), None, None
    finally:
        _remove(name)


if sys.platform == "win32":

    class _Overlapped(ctypes.Structure):
        """OVERLAPPED with the offset union flattened: offset 0 is all LockFileEx needs."""

        _fields_ = [
            ("Internal", ctypes.c_size_t),
            ("InternalHigh", ctypes.c_size_t),
            ("Offset", wintypes.DWORD),
            ("OffsetHigh", wintypes.DWORD),
            ("hEvent", wintypes.HANDLE),
        ]

    @functools.cache
    def _kernel32() -> ctypes.WinDLL:
        """This module's own kernel32 with LockFileEx/UnlockFileEx declared once."""
        dll = ctypes.WinDLL("kernel32", use_last_error=True)
        overlapped_p = ctypes.POINTER(_Overlapped)
        dword = wintypes.DWORD
        dll.LockFileEx.argtypes = (wintypes.HANDLE, dword, dword, dword, dword, overlapped_p)
        dll.LockFileEx.restype = wintypes.BOOL
        dll.UnlockFileEx.argtypes = (wintypes.HANDLE, dword, dword, dword, overlapped_p)
        dll.UnlockFileEx.restype = wintypes.BOOL
        return dll


def canonicalize(
    scratch: Path,
    *,
    realpath: Callable[[str], str] = lambda path: os.path.realpath(path, strict=True),
    strerror: Strerror = system_message,
) -> Result:
    """GetFinalPathNameByHandleW on the scratch directory, as Rust's `fs::canonicalize` (and so
    uv, for the interpreter and environment paths it resolves) asks it: RAM disks and virtual
    drives that the mount manager does not know answer `Incorrect function. (os error 1)`
    (uv #5651, ImDisk)."""
    try:
        realpath(str(scratch))
    except OSError as exc:
        return refused(exc, strerror)
    return OK


OPERATIONS: dict[str, Operation] = {
    "hardlink": hardlink,
    "symlink_file": symlink_file,
    "symlink_dir": symlink_dir,
    "junction": junction,
    "rename_noreplace": rename_noreplace,
    "flock_shared": flock_shared,
    "flock_exclusive": flock_exclusive,
    "case_sensitive": case_sensitive,
    "canonicalize": canonicalize,
}


def guarded(name: str, operation: Operation, scratch: Path, strerror: Strerror = system_message) -> Result:
    """One operation behind its own guard: whatever it raises makes it "not known", alone."""
    try:
        return operation(scratch)
    except OSError as exc:
        log.warning("probe step %s failed: %s", name, exc)
        return not_known(exc, strerror)
    except Exception as exc:  # a ctypes or platform surprise in one step must not cost the others
        log.exception("probe step %s failed", name)
        return None, None, f"{type(exc).__name__}: {exc}"


def run(scratch: Path, operations: dict[str, Operation] | None = None) -> dict[str, Result]:
    """Every Windows operation in `scratch`, each on its own."""
    chosen = OPERATIONS if operations is None else operations
    return {name: guarded(name, operation, scratch) for name, operation in chosen.items()}
