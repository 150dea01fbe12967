"""The daemon's threads, one model: fixed pools for work that returns, one thread per drive for
work on a drive, which may never return (docs/architecture.md, "Threads in the daemon").

- `Pool`: a fixed number of daemon threads, all started with the first task and reused: the
  worker loop's executor (scans, fixes, the journal, drives.json) and the scan's fan-out (uv
  itself and one probe per drive at once). Their threads never keep a quitting process alive
  (`ThreadPoolExecutor` joins its threads at exit), and their number never changes.
- `Workers`: a drive's walk or probe, in a thread of its own given up after a time. One scandir
  or open on a frozen FUSE driver never returns and no thread can be killed: so a walk or probe
  that is given up is kept, not started again on the next scan (that would leave one stuck
  thread per plug-in); its late answer is used if it comes, dropped when the drive goes.

So between scans the thread count is flat; a scan adds at most one walk and one probe thread per
drive, which end with their work; a drive that hangs keeps at most one of each while mounted, and
a place whose drives went away while stuck at most ORPHANS_PER_KEY (tests/realfs/test_threads.py
measures it on the daemon).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Iterable
from concurrent import futures
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Generic, TypeVar

from ..core.paths import under

log = logging.getLogger(__name__)
T = TypeVar("T")
_Work = tuple["futures.Future[Any]", Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class Pool(futures.Executor):
    """A fixed number of daemon threads, started together with the first task."""

    def __init__(self, size: int, name: str) -> None:
        self.size, self.name = size, name
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._closed = False
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> futures.Future[T]:
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new work after shutdown")
            if not self._threads:
                self._start()
        future: futures.Future[T] = futures.Future()
        self._queue.put((future, fn, args, kwargs))
        return future

    def _start(self) -> None:
        self._threads = [
            threading.Thread(target=self._work, name=f"{self.name} {i}", daemon=True) for i in range(self.size)
        ]
        for thread in self._threads:
            thread.start()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(None)
        if wait:
            for thread in threads:
                thread.join()

    def threads(self) -> tuple[threading.Thread, ...]:
        """Its threads (none before the first task): tests and benchmarks count them."""
        return tuple(self._threads)

    def batch(self) -> Batch:
        return Batch(self)

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            future, fn, args, kwargs = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to whoever awaits the future, as ThreadPoolExecutor does
                future.set_exception(exc)
            else:
                future.set_result(result)


class Batch:
    """Tasks handed to a pool together and waited for together: leaving the `with` block waits
    for all of them, whatever raised (Ctrl-C included), as leaving a `with ThreadPoolExecutor`
    block does, so that a probe interrupted half-way still removes its scratch directory."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._futures: list[futures.Future[Any]] = []

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> futures.Future[T]:
        future = self._pool.submit(fn, *args, **kwargs)
        self._futures.append(future)
        return future

    def __enter__(self) -> Batch:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        futures.wait(self._futures)


def finish(pending: Iterable[futures.Future[Any]], timeout: float) -> int:
    """Wait up to `timeout` seconds for `pending`; how many were still running then."""
    _done, not_done = futures.wait(list(pending), timeout=timeout)
    return len(not_done)


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
