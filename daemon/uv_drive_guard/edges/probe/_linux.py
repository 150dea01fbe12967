"""Linux-only operations: FICLONE reflinks and renameat2(RENAME_NOREPLACE)."""

from __future__ import annotations

import ctypes
import fcntl
import os
from pathlib import Path

FICLONE = 0x40049409
RENAME_NOREPLACE = 1
AT_FDCWD = -100
_SYSCALL_RENAMEAT2 = {"x86_64": 316, "aarch64": 276, "riscv64": 276, "armv7l": 382, "i686": 353}

_libc = ctypes.CDLL(None, use_errno=True)


def renameat2_noreplace(src: Path, dst: Path) -> None:
    """What Rust's tempfile calls for persist_noclobber on Linux."""
    args = (AT_FDCWD, os.fsencode(src), AT_FDCWD, os.fsencode(dst), RENAME_NOREPLACE)
    function = getattr(_libc, "renameat2", None)
    if function is not None:
        result = function(*args)
    else:
        number = _SYSCALL_RENAMEAT2.get(os.uname().machine)
        if number is None:
            raise OSError(38, os.strerror(38))
        result = _libc.syscall(number, *args)
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def ficlone(src_fd: int, dst_fd: int) -> None:
    """ioctl(FICLONE): uv's default link mode on Linux since 0.10.5 (PR #18117)."""
    fcntl.ioctl(dst_fd, FICLONE, src_fd)
