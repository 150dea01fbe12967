"""The daemon's place on the desktop: its log, its settings file, one instance per user."""

from __future__ import annotations

import logging
import logging.handlers
import os
import subprocess
import sys
from pathlib import Path
from typing import IO

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
    """A rotating log file always; the console too with -v."""
    path = log_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [logging.handlers.RotatingFileHandler(path, maxBytes=1 << 20, backupCount=3)]
    if verbose:
        handlers.append(logging.StreamHandler())
    logging.basicConfig(
        level=logging.DEBUG if verbose > 1 else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )


def open_path(path: Path) -> None:
    """Hand a file to the desktop's default program; never a program from a drive."""
    try:
        if sys.platform == "win32":
            os.startfile(path)  # type: ignore[attr-defined]
        else:
            opener = "open" if sys.platform == "darwin" else "xdg-open"
            subprocess.Popen([opener, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError as exc:
        log.warning("could not open %s: %s", path, exc)


class SingleInstance:
    """An exclusive lock on a file in the user's runtime directory, held while running."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            path = _lock_dir() / f"{APP}.lock"
        self.path = path
        self._handle: IO[bytes] | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+b")  # noqa: SIM115 - held open for the daemon's lifetime
        try:
            _lock(handle)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()).encode())
        handle.flush()
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _lock_dir() -> Path:
    """The runtime directory where there is one (XDG_RUNTIME_DIR), else the state directory:
    platformdirs' fallback for a missing runtime dir is a shared /tmp path."""
    from platformdirs import user_runtime_dir, user_state_dir

    if sys.platform.startswith("linux") and not os.environ.get("XDG_RUNTIME_DIR"):
        return Path(user_state_dir(APP, appauthor=False))
    return Path(user_runtime_dir(APP, appauthor=False))


def _lock(handle: IO[bytes]) -> None:
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
