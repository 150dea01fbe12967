"""The one place that orders writers: `fix`, `undo`, the daemon's button and its own writes.

Every write atomic on its own is not enough: two writers that read the same ~/.bashrc before
either renamed its copy into place each write their edit over the other's. So every writer
takes OS locks (filelock: flock on Linux and macOS, LockFileEx on Windows; a lock held by a
process that is killed goes with the process, so a crash never blocks anyone) in one order,
and two writers can never wait on each other in a circle:

1. the journal's lock, first (every fix and undo takes it, before the scan it plans from);
2. then one lock per file the change touches, sorted by real path (a symlinked dotfile is
   locked as the file it points at, the one that gets written).

A writer that holds locks only adds locks later in that order (`Writer.add` refuses anything
else, loudly); a thread that asks again for a lock it holds has it at once. Each hold makes
its own FileLock objects: a FileLock shared by the daemon's threads with `thread_local=False`
lets a second thread in while the first holds it, and with filelock's thread-local default it
cannot be released from another thread; separate objects exclude each other through the OS
lock, between threads exactly as between processes.

The lock files live in one directory per user, beside the journal (`<state>/locks`), each
named by a digest of the real path it stands for; nothing is ever created beside the
person's files. They are left in place (a lock file that disappears while another process
waits on it would let two writers in).

The wait is bounded. A busy lock is said once ("another fix is being applied; waiting"), then
waited for at most WAIT seconds in all, and the write is refused with `Busy`: nothing was
changed, never a traceback, never forever. WAIT is two minutes because a fix holds its locks
through its own verification: a scan as a new terminal would, then uv creating a scratch
environment and installing a wheel offline. That takes under a second here, a few seconds on a
slow laptop, longer for an upgrade of uv that downloads; two minutes covers several fixes
queued behind each other. A writer that holds the locks longer is stuck (uv hung, a drive that
stopped answering), and refusing is then the safe answer.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from filelock import BaseFileLock

log = logging.getLogger(__name__)

WAIT = 120.0  # seconds a writer waits for its locks in all; see the module's docstring
WAITING = "another fix is being applied; waiting"
JOURNAL = "journal.lock"

Key = tuple[int, str]  # (0, lock directory) for a journal, (1, real path) for a file: the lock order


class Busy(TimeoutError):
    """Another writer held a lock for longer than the wait: nothing was changed."""


class OrderError(RuntimeError):
    """A lock asked for out of order: a bug in the caller, which could deadlock two writers."""


def directory(journal_root: Path) -> Path:
    """The lock directory of a journal: beside it, in the same per-user state directory."""
    return journal_root.parent / "locks"


def default_directory() -> Path:
    from .journal import default_root

    return directory(default_root())


def real(path: str | os.PathLike[str]) -> str:
    """The path as locked and written: symlinks resolved, case folded where the OS folds it."""
    return os.path.normcase(os.path.realpath(path))


def lock_file(where: Path, path: str | os.PathLike[str]) -> Path:
    """The lock file standing for `path`: named by a digest, so any path makes a short, safe name."""
    import hashlib  # CPython's own sha256 where the daemon keeps OpenSSL out

    return where / f"{hashlib.sha256(real(path).encode('utf-8', 'surrogateescape')).hexdigest()[:32]}.lock"


class _Held(threading.local):
    """What this thread holds: key -> how many holds are open on it."""

    def __init__(self) -> None:
        self.count: dict[Key, int] = {}


_held = _Held()


class Writer:
    """The locks of one writer, taken in order and let go together, within one bounded wait.

    `with Writer(where) as held:` takes the journal's lock (and `paths`' locks, if given);
    `held.add(paths)` then takes more files' locks, sorted by real path."""

    def __init__(
        self,
        where: Path,
        *,
        journal: bool = True,
        paths: Iterable[str | os.PathLike[str]] = (),
        wait: float | None = None,
        say: Callable[[str], None] = log.info,
    ) -> None:
        self.where = where
        self.journal = journal
        self.paths = tuple(paths)
        self.wait = WAIT if wait is None else wait
        self.say = say
        self.waited = 0.0  # seconds spent waiting for busy locks
        self._deadline = 0.0
        self._said = False
        self._taken: list[tuple[Key, BaseFileLock | None]] = []  # None: this thread held it already

    def __enter__(self) -> Writer:
        self._deadline = time.monotonic() + self.wait
        wanted = [((0, str(self.where)), self.where / JOURNAL)] if self.journal else []
        self._take(wanted + _sorted(self.where, self.paths))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._release()

    def add(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        """Lock these files too, in the order of their real paths, after what is held."""
        self._take(_sorted(self.where, paths))

    def _take(self, wanted: list[tuple[Key, Path]]) -> None:
        """All or nothing: a failure lets go of every lock this writer took."""
        try:
            for key, path in wanted:
                if _held.count.get(key):
                    _held.count[key] += 1
                    self._taken.append((key, None))
                    continue
                latest = max(_held.count, default=None)
                if latest is not None and key < latest:
                    raise OrderError(f"lock for {key[1]} asked for after {latest[1]}: the order is journal, then paths")
                lock = self._acquire(path)
                _held.count[key] = 1
                self._taken.append((key, lock))
        except BaseException:
            self._release()
            raise

    def _acquire(self, path: Path) -> BaseFileLock:
        from filelock import FileLock, Timeout

        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = FileLock(path, mode=0o600, thread_local=False)
        try:
            lock.acquire(timeout=0)
            return lock
        except Timeout:
            pass
        if not self._said:
            self.say(WAITING)
            self._said = True
        started = time.monotonic()
        try:
            lock.acquire(timeout=max(0.0, self._deadline - started))
        except Timeout:
            raise Busy(
                f"another fix is still being applied after {self.wait:g} s; nothing was changed. "
                "Try again when it is done"
            ) from None
        finally:
            self.waited += time.monotonic() - started
        return lock

    def _release(self) -> None:
        while self._taken:
            key, lock = self._taken.pop()
            _held.count[key] -= 1
            if not _held.count[key]:
                del _held.count[key]
            if lock is not None:
                lock.release()


def _sorted(where: Path, paths: Iterable[str | os.PathLike[str]]) -> list[tuple[Key, Path]]:
    return sorted({(1, real(p)): lock_file(where, p) for p in paths}.items())


def files(
    paths: Iterable[str | os.PathLike[str]],
    where: Path | None = None,
    *,
    wait: float | None = None,
    say: Callable[[str], None] = log.info,
) -> Writer:
    """Only these files' locks, for the daemon's own read-modify-writes (the portable registry,
    drives.json), which never touch the journal: `with locks.files([path]):`."""
    return Writer(where or default_directory(), journal=False, paths=paths, wait=wait, say=say)
