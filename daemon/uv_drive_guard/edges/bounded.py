"""Run a drive's work in a thread given up after a time, with at most one thread per drive.

One scandir or open on a frozen FUSE driver never returns and no thread can be killed: so a
walk or probe that is given up is kept, not started again on the next scan (that would leave
one stuck thread per plug-in); its late answer is used if it comes, dropped when the drive goes.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..core.paths import under

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class _Job(Generic[T]):
    thread: threading.Thread
    result: list[T] = field(default_factory=list)
    error: list[BaseException] = field(default_factory=list)


ORPHANS_PER_KEY = 2  # threads stuck on drives gone from one place before we stop starting more


class Workers(Generic[T]):
    """The outstanding threads of one kind of work (walks, probes), by key (a mount point,
    maybe with its device after a NUL)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._jobs: dict[str, _Job[T]] = {}
        self._orphans: list[tuple[str, _Job[T]]] = []  # still stuck on a drive that went away
        self._lock = threading.Lock()

    def run(self, key: str, work: Callable[[], T], timeout: float) -> tuple[bool, T | None]:
        """(True, result) when the work finished within `timeout` (its exception is raised),
        else (False, None): the thread is kept, and the next call for `key` waits on it."""
        with self._lock:
            self._orphans = [(k, job) for k, job in self._orphans if job.thread.is_alive()]
            job = self._jobs.get(key)
            if job is None:
                if sum(k == key for k, _ in self._orphans) >= ORPHANS_PER_KEY:
                    log.warning("%s of %s: earlier ones are still stuck in its driver; not started", self.kind, key)
                    return False, None
                job = self._start(key, work)
        job.thread.join(timeout)
        if job.thread.is_alive():
            return False, None
        with self._lock:
            if self._jobs.get(key) is job:
                del self._jobs[key]
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
        """The drives at `gone` (mount points; None: all) went away: their work is dropped. A
        thread still stuck in a dead driver is kept apart, so that a drive plugged in at the same
        place next gets its own walk or probe, not the old drive's late answer."""
        roots = None if gone is None else tuple(gone)
        with self._lock:
            for key, job in list(self._jobs.items()):
                place = key.split("\0", 1)[0]
                if roots is not None and not any(under(place, r, windows=os.name == "nt") for r in roots):
                    continue
                del self._jobs[key]
                if job.thread.is_alive():
                    self._orphans.append((key, job))
                    log.info("%s of %s is still stuck in the drive's driver", self.kind, key)

    def stuck(self) -> tuple[str, ...]:
        """Keys whose thread is still running, orphans included (tests and benchmarks read this)."""
        with self._lock:
            alive = [k for k, job in self._jobs.items() if job.thread.is_alive()]
            return tuple(alive + [k for k, job in self._orphans if job.thread.is_alive()])
