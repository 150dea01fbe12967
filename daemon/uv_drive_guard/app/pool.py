"""The worker loop's executor: threads that never keep a quitting daemon alive.

`ThreadPoolExecutor` joins its threads when the interpreter exits, so a scan stuck on a drive
that stopped answering (a frozen FUSE driver, a share gone away) would keep the daemon running
after the person chose Quit, or past a log-off. These threads are daemon threads; what must
finish before the exit (a fix being written) is waited for by the service, with a limit.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from concurrent import futures
from typing import Any, TypeVar

T = TypeVar("T")
_Work = tuple["futures.Future[Any]", Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class DaemonPool(futures.Executor):
    """A fixed number of daemon threads, all started at once: the daemon's thread count is then
    flat from the first scan on, and any growth would be a walk or probe left behind."""

    def __init__(self, size: int, name: str) -> None:
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._closed = False
        self._threads = [threading.Thread(target=self._work, name=f"{name} {i}", daemon=True) for i in range(size)]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> futures.Future[T]:
        if self._closed:
            raise RuntimeError("cannot schedule new work after shutdown")
        future: futures.Future[T] = futures.Future()
        self._queue.put((future, fn, args, kwargs))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._closed = True
        for _ in self._threads:
            self._queue.put(None)
        if wait:
            for thread in self._threads:
                thread.join()

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


def finish(pending: Iterable[futures.Future[Any]], timeout: float) -> int:
    """Wait up to `timeout` seconds for `pending`; how many were still running then."""
    _done, not_done = futures.wait(list(pending), timeout=timeout)
    return len(not_done)
