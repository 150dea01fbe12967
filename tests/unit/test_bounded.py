"""The daemon's threads (edges/bounded.py): fixed pools that never keep a quitting process alive
and never change their number, batches waited for together, and one thread per drive's work."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest

from uv_drive_guard.edges import bounded
from uv_drive_guard.edges.bounded import Pool, finish

STUCK_AT_EXIT = textwrap.dedent(
    """
    import threading
    from uv_drive_guard.edges.bounded import Pool
    pool = Pool(2, "test io")
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
    pool = Pool(2, "test io")
    try:
        assert pool.submit(lambda a, b=0: a + b, 2, b=3).result(timeout=5) == 5
        with pytest.raises(ZeroDivisionError):
            pool.submit(lambda: 1 / 0).result(timeout=5)
    finally:
        pool.shutdown()
    with pytest.raises(RuntimeError):
        pool.submit(print)


def _named(prefix: str) -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith(prefix)}


def test_all_threads_start_with_the_first_task_and_end_at_shutdown() -> None:
    pool = Pool(3, "first task")
    assert _named("first task") == set()  # a command that never scans starts none
    pool.submit(lambda: None).result(timeout=5)
    assert _named("first task") == set(pool.threads()) and len(pool.threads()) == 3
    pool.shutdown(wait=True)
    assert _named("first task") == set()


def test_the_same_threads_do_all_the_work() -> None:
    """Flat: a thousand tasks, in batches as scans hand them over, run on the first three threads."""
    pool = Pool(3, "test io")
    try:
        ran: set[threading.Thread] = set()
        for _ in range(100):
            with pool.batch() as batch:
                for _ in range(10):
                    batch.submit(lambda: ran.add(threading.current_thread()))
        assert ran == set(pool.threads())
    finally:
        pool.shutdown()


def test_leaving_a_batch_waits_for_its_tasks_whatever_raised() -> None:
    """As leaving a `with ThreadPoolExecutor` block: Ctrl-C during a scan still lets its probes
    remove their scratch directories."""
    pool = Pool(2, "test io")
    release, finished = threading.Event(), threading.Event()

    def probe() -> None:
        release.wait(5)
        finished.set()

    try:
        with pytest.raises(KeyboardInterrupt), pool.batch() as batch:
            batch.submit(probe)
            threading.Timer(0.05, release.set).start()
            raise KeyboardInterrupt
        assert finished.is_set()
    finally:
        pool.shutdown()


def test_finish_waits_for_writes_up_to_its_limit() -> None:
    pool = Pool(2, "test io")
    release = threading.Event()
    try:
        quick = pool.submit(lambda: None)
        stuck = pool.submit(release.wait, 30)
        assert finish([quick], timeout=5) == 0
        assert quick.done()
        assert finish([stuck], timeout=0.1) == 1
    finally:
        release.set()
        pool.shutdown()


def test_a_drive_that_hangs_keeps_one_thread_however_often_it_is_asked() -> None:
    workers: bounded.Workers[str] = bounded.Workers("hung probe")
    release = threading.Event()
    try:
        for _ in range(20):
            assert workers.run("/media/S\0/dev/sdb1", lambda: release.wait(10) and "late", 0.01) == (False, None)
        assert [t.name for t in _named("hung probe")] == ["hung probe /media/S\0/dev/sdb1"]
    finally:
        release.set()
    for thread in _named("hung probe"):
        thread.join(5)
    assert workers.stuck() == ()
