"""Run a drive's work in a thread given up after a time, with at most one thread per drive.

One scandir or open on a frozen FUSE driver never returns and no thread can be killed: so a
walk or probe that is given up is kept, not started again on the next scan (that would leave
one stuck thread per plug-in); its late answer is used if it comes, dropped when the drive goes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class _Job(Generic[T]):
    thread: threading.Thread
    result: list[T] = field(default_factory=list)
    error: list[BaseException] = field(default_factory=list)
    stale: bool = False  # its drive went away meanwhile: its answer is for a drive gone


class Workers(Generic[T]):
    """The outstanding threads of one kind of work (walks, probes), by key (a mount point)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._jobs: dict[str, _Job[T]] = {}
        self._lock = threading.Lock()

    def run(self, key: str, work: Callable[[], T], timeout: float) -> tuple[bool, T | None]:
        """(True, result) when the work finished within `timeout` (its exception is raised),
        else (False, None): the thread is kept, and the next call for `key` waits on it."""
        with self._lock:
            for old, done in list(self._jobs.items()):  # answers for drives gone, come late
                if done.stale and not done.thread.is_alive():
                    del self._jobs[old]
            job = self._jobs.get(key)
            if job is None:
                job = self._start(key, work)
        job.thread.join(timeout)
        if job.thread.is_alive():
            return False, None
        with self._lock:
            if self._jobs.get(key) is job:
                del self._jobs[key]
        if job.stale:
            return False, None  # the old drive's answer, come late: ask again next time
        if job.error:
            raise job.error[0]
        return True, job.result[0] if job.result else None

    def _start(self, key: str, work: Callable[[], T]) -> _Job[T]:
        def target() -> None:
            try:
                job.result.append(work())
            except BaseException as exc:  # handed to the caller that waits for it
                job.error.append(exc)

        job: _Job[T] = _Job(threading.Thread(target=target, name=f"{self.kind} {key}", daemon=True))
        self._jobs[key] = job
        job.thread.start()
        return job

    def reap(self, gone: Iterable[str] | None = None) -> None:
        """Forget finished work, and the answers for drives that went away (`gone`: mount points)."""
        roots = None if gone is None else tuple(m.rstrip("/\\") for m in gone)
        with self._lock:
            for key, job in list(self._jobs.items()):
                dropped = roots is None or any(key == r or key.startswith(r + "/") for r in roots)
                if not dropped:
                    continue
                if job.thread.is_alive():
                    job.stale = True
                    log.info("%s of %s is still stuck in the drive's driver", self.kind, key)
                else:
                    del self._jobs[key]

    def stuck(self) -> tuple[str, ...]:
        """Keys whose thread is still running (tests and benchmarks read this)."""
        with self._lock:
            return tuple(k for k, job in self._jobs.items() if job.thread.is_alive())
