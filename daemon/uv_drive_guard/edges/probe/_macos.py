"""The macOS-only probe operations: clonefile, renameatx_np and AppleDouble files.

The portable operations (links, flock, exec bit, case) live in the shared POSIX probe.
`run` tries the portable ones and then each of these behind its own guard: one failing step
says "not known" for itself and keeps every other result. Each operation takes an existing,
empty scratch directory on the volume and returns
(ok, errno, message), the message as uv prints it: "Operation not supported (os error 45)".
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import logging
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ._common import OK, Operation, Result, Strerror, rust_message

log = logging.getLogger(__name__)
# A libc call: 0 on success, otherwise the errno it set.
TwoPathCall = Callable[[str, str], int]

LIBSYSTEM = "/usr/lib/libSystem.B.dylib"  # dlopen finds it in the shared cache
AT_FDCWD = -2  # macOS value (Linux uses -100)
RENAME_EXCL = 0x00000004
EEXIST = 17
XATTR_NAME = "org.uv-drive-guard.probe"
APPLEDOUBLE_PREFIX = "._"


def failure(ok: bool | None, code: int, strerror: Strerror = os.strerror) -> Result:
    return ok, code, rust_message(code, strerror(code))


def from_exc(ok: bool | None, exc: OSError, strerror: Strerror = os.strerror) -> Result:
    if exc.errno is None:
        return ok, None, str(exc)
    return failure(ok, exc.errno, strerror)


# Prototypes from the macOS man pages: clonefile(2), renameatx_np(2), setxattr(2).
_PROTOTYPES: dict[str, tuple[list[type], type]] = {
    "clonefile": ([ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint32], ctypes.c_int),
    "renameatx_np": ([ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint], ctypes.c_int),
    "setxattr": (
        [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint32, ctypes.c_int],
        ctypes.c_int,
    ),
}


@functools.cache
def _libc() -> ctypes.CDLL:
    """This module's own handle on libSystem: its function objects are nobody else's."""
    return ctypes.CDLL(LIBSYSTEM, use_errno=True)


@functools.cache
def _function(name: str) -> Any:
    """One libSystem function, declared once; AttributeError where this macOS lacks it."""
    function = getattr(_libc(), name)
    function.argtypes, function.restype = _PROTOTYPES[name]
    return function


def _call(result: object) -> int:
    """libc returns -1 and sets errno; turn that into 0 or the errno."""
    return 0 if result == 0 else (ctypes.get_errno() or 1)


def clonefile(src: str, dst: str) -> int:
    """clonefile(2) with no flags: the copy-on-write clone uv's default link mode makes."""
    if sys.platform == "darwin":
        return _call(_function("clonefile")(os.fsencode(src), os.fsencode(dst), 0))
    raise OSError(errno.ENOSYS, "clonefile exists only on macOS")


def renameatx_excl(src: str, dst: str) -> int:
    """renameatx_np(RENAME_EXCL): what tempfile's persist_noclobber calls on macOS."""
    if sys.platform == "darwin":
        return _call(_function("renameatx_np")(AT_FDCWD, os.fsencode(src), AT_FDCWD, os.fsencode(dst), RENAME_EXCL))
    raise OSError(errno.ENOSYS, "renameatx_np exists only on macOS")


def set_xattr(path: str, name: str) -> int:
    """setxattr(2); Python's os.setxattr does not exist on macOS."""
    if sys.platform == "darwin":
        value = b"1"
        return _call(_function("setxattr")(os.fsencode(path), name.encode(), value, len(value), 0, 0))
    raise OSError(errno.ENOSYS, "this setxattr signature is macOS's")


def _remove(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _write(path: Path, data: bytes) -> None:
    with open(path, "xb") as handle:
        handle.write(data)


def reflink(scratch: Path, *, clone: TwoPathCall = clonefile, strerror: Strerror = os.strerror) -> Result:
    """APFS clones; exFAT, FAT, HFS+ and SMB answer ENOTSUP and uv falls back to hard links."""
    source, target = scratch / "clone-source", scratch / "clone-target"
    try:
        try:
            _write(source, b"uv")
        except OSError as exc:
            return from_exc(None, exc, strerror)
        code = clone(str(source), str(target))
        return OK if code == 0 else failure(False, code, strerror)
    finally:
        _remove(target, source)


def rename_noreplace(
    scratch: Path, *, rename: TwoPathCall = renameatx_excl, strerror: Strerror = os.strerror
) -> Result:
    """uv 0.5.30 to 0.9.17 fail on the ENOTSUP (os error 45) exFAT gives here (R7)."""
    first, taken, other = scratch / "rename-a", scratch / "rename-b", scratch / "rename-c"
    try:
        try:
            _write(first, b"a")
            _write(other, b"c")
        except OSError as exc:
            return from_exc(None, exc, strerror)
        code = rename(str(first), str(taken))
        if code != 0:
            return failure(False, code, strerror)
        if rename(str(other), str(taken)) == 0:
            return False, None, "RENAME_EXCL replaced an existing file"
        return OK
    finally:
        _remove(first, taken, other)


def appledouble(
    scratch: Path,
    *,
    setxattr: TwoPathCall = set_xattr,
    listdir: Callable[[Path], list[str]] = os.listdir,
    strerror: Strerror = os.strerror,
) -> Result:
    """True when an xattr becomes a `._name` file (exFAT, FAT, some SMB): issue #18790, R8."""
    path = scratch / "appledouble-probe"
    sidecar = scratch / (APPLEDOUBLE_PREFIX + path.name)
    try:
        try:
            _write(path, b"uv")
        except OSError as exc:
            return from_exc(None, exc, strerror)
        code = setxattr(str(path), XATTR_NAME)
        if code != 0:  # no xattrs at all: nothing tells whether ._ files would appear
            return failure(None, code, strerror)
        return sidecar.name in listdir(scratch), None, None
    finally:
        _remove(path, sidecar)


OPERATIONS: dict[str, Operation] = {
    "reflink": reflink,
    "rename_noreplace": rename_noreplace,
    "appledouble": appledouble,
}

# What the shared POSIX probe answers (_posix.run_ops); all "not known" when its set-up fails.
PORTABLE = ("flock_shared", "flock_exclusive", "exec_bit", "hardlink", "symlink_file", "symlink_dir", "case_sensitive")


def guarded(name: str, operation: Callable[[Path], Mapping[str, Result]], scratch: Path) -> dict[str, Result]:
    """Run one step; whatever it raises is that step's "not known", with its error."""
    try:
        return dict(operation(scratch))
    except OSError as exc:
        log.warning("probe step %s failed: %s", name, exc)
        return {name: from_exc(None, exc)}
    except Exception as exc:  # a missing libSystem symbol (AttributeError) on an old macOS, say
        log.exception("probe step %s failed", name)
        return {name: (None, None, f"{type(exc).__name__}: {exc}")}


def run(
    scratch: Path,
    operations: Mapping[str, Operation] | None = None,
    *,
    portable: Callable[[Path], Mapping[str, Result]] | None = None,
) -> dict[str, Result]:
    """The portable steps, then each macOS one, each behind its own guard."""
    if portable is None:
        from . import _posix

        portable = _posix.run_ops
    shared = guarded("portable", portable, scratch)
    results = dict(shared) if "portable" not in shared else dict.fromkeys(PORTABLE, shared["portable"])
    for name, operation in (OPERATIONS if operations is None else operations).items():
        results.update(guarded(name, _one(name, operation), scratch))
    return results


def _one(name: str, operation: Operation) -> Callable[[Path], dict[str, Result]]:
    return lambda where: {name: operation(where)}
