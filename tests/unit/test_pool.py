"""The worker's executor: a stuck scan never keeps a quitting daemon alive; writes are waited for."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from uv_drive_guard.app.pool import DaemonPool, finish

STUCK_AT_EXIT = textwrap.dedent(
    """
    import threading
    from uv_drive_guard.app.pool import DaemonPool
    pool = DaemonPool(2, "test io")
    started = threading.Event()
    pool.submit(lambda: (started.set(), threading.Event().wait()))  # a scan on a frozen drive
    started.wait(5)
    print("leaving", flush=True)
    """
)


def test_a_stuck_job_does_not_hold_the_interpreter_at_exit() -> None:
    # With ThreadPoolExecutor this process never ends: its threads are joined at exit.
    proc = subprocess.run([sys.executable, "-c", STUCK_AT_EXIT], capture_output=True, text=True, timeout=20)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "leaving"


def test_results_and_exceptions_reach_the_caller() -> None:
    pool = DaemonPool(2, "test io")
    try:
        assert pool.submit(lambda a, b=0: a + b, 2, b=3).result(timeout=5) == 5
        with pytest.raises(ZeroDivisionError):
            pool.submit(lambda: 1 / 0).result(timeout=5)
    finally:
        pool.shutdown()
    with pytest.raises(RuntimeError):
        pool.submit(print)


def test_all_threads_start_at_once_and_end_at_shutdown() -> None:
    before = threading.active_count()
    pool = DaemonPool(3, "test io")
    assert threading.active_count() == before + 3
    pool.shutdown(wait=True)
    assert threading.active_count() == before


def test_finish_waits_for_writes_up_to_its_limit() -> None:
    pool = DaemonPool(2, "test io")
    release = threading.Event()
    try:
        quick = pool.submit(time.sleep, 0.05)
        stuck = pool.submit(release.wait, 30)
        assert finish([quick], timeout=5) == 0
        assert quick.done()
        assert finish([stuck], timeout=0.1) == 1
    finally:
        release.set()
        pool.shutdown()
