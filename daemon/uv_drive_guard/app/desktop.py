"""The daemon's place on the desktop: its log, its settings file, one instance per user."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import ntpath
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from ..core.model import Os
from ..edges import platforms, proc

log = logging.getLogger(__name__)
APP = "uv-drive-guard"


def log_file() -> Path:
    from platformdirs import user_log_dir

    return Path(user_log_dir(APP, appauthor=False)) / f"{APP}.log"


def settings_file() -> Path:
    """The user's settings file, created with a pointer to the defaults when missing."""
    from ..config import user_config_path

    path = user_config_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "# uv-drive-guard settings: copy keys from the documented defaults and change them.\n"
            "# Every key is described in config/default.toml of the installation.\n",
            encoding="utf-8",
        )
    return path


def setup_logging(verbose: int) -> None:
    """A rotating log file always, in UTF-8 (the locale's encoding is Windows' ANSI code page under
    pythonw, which cannot hold a drive's label or a person's name, and a record that fails to
    encode is dropped); the console too with -v."""
    path = log_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [
        logging.handlers.RotatingFileHandler(
            path, maxBytes=1 << 20, backupCount=3, encoding="utf-8", errors="backslashreplace"
        )
    ]
    if verbose:
        handlers.append(logging.StreamHandler())
    logging.basicConfig(
        level=logging.DEBUG if verbose > 1 else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )


def text_editor_command(path: Path, platform: str | None = None, environ: Mapping[str, str] = os.environ) -> list[str]:
    """A text editor that is always there: notepad on Windows (no program may be associated with
    .toml or .log, and os.startfile then fails), TextEdit's default through `open -t` on macOS,
    the desktop's choice (xdg-open) elsewhere."""
    os_ = platforms.current(platform)
    if os_ is Os.WINDOWS:
        return [ntpath.join(environ.get("SystemRoot", "C:\\Windows"), "System32", "notepad.exe"), str(path)]
    if os_ is Os.MACOS:
        return ["/usr/bin/open", "-t", str(path)]
    return ["xdg-open", str(path)]


def open_path(path: Path) -> None:
    """Show one of our own text files (log, settings) in an editor; never a program from a drive."""
    try:
        proc.popen(text_editor_command(path))
    except OSError as exc:
        log.warning("could not open %s: %s", path, exc)


class SingleInstance:
    """One daemon per user: an exclusive lock on a file in the user's runtime directory, held
    while running. On Windows through filelock (LockFileEx on byte 0, not msvcrt.locking's range
    from the file position, which moved with the file); elsewhere flock, which filelock would call
    too, at the cost of 2 MB resident for its imports."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            path = _lock_dir() / f"{APP}.lock"
        self.path = path
        self.pid_file = path.with_suffix(".pid")  # who holds the lock, for `autostart status`
        self._release: Callable[[], None] | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._release = _exclusive(self.path)
        if self._release is not None:
            try:
                self.pid_file.write_text(f"{os.getpid()}\n", encoding="ascii")
            except OSError as exc:  # only `autostart status` reads it
                log.info("could not write %s: %s", self.pid_file, exc)
        return self._release is not None

    def release(self) -> None:
        if self._release is not None:
            with contextlib.suppress(OSError):
                self.pid_file.unlink(missing_ok=True)
            self._release()
            self._release = None


def running(instance: SingleInstance | None = None) -> int | None:
    """The process id of this user's daemon, when one runs: the pid its lock holder wrote, checked
    against the process table (a daemon that crashed leaves a stale file behind)."""
    import psutil

    pid_file = (instance or SingleInstance()).pid_file
    try:
        pid = int(pid_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    if pid == os.getpid():
        return None
    try:
        command = psutil.Process(pid).cmdline()
    except (psutil.Error, OSError):
        return None
    words = " ".join(command)
    return pid if APP in words or "uv_drive_guard" in words else None


def _exclusive(path: Path) -> Callable[[], None] | None:
    """Take the lock without waiting; how to let it go, or None when another process holds it."""
    if sys.platform == "win32":  # a type guard (fcntl is POSIX's), see edges.platforms
        from filelock import FileLock, Timeout

        lock = FileLock(str(path), thread_local=False)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return None
        return lock.release
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return lambda: os.close(fd)


def _lock_dir() -> Path:
    """The runtime directory where there is one (XDG_RUNTIME_DIR), else the state directory:
    platformdirs' fallback for a missing runtime dir is a shared /tmp path."""
    from platformdirs import user_runtime_dir, user_state_dir

    if platforms.known() is Os.LINUX and not os.environ.get("XDG_RUNTIME_DIR"):
        return Path(user_state_dir(APP, appauthor=False))
    return Path(user_runtime_dir(APP, appauthor=False))
