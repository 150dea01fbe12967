"""The writers' locks: one order, a bounded wait said once, a changed file refused, and a lock
whose holder was killed with SIGKILL never blocking anyone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests import builders

from uv_drive_guard.app.memory import DriveMemory, Memory
from uv_drive_guard.core.model import Fix, Os
from uv_drive_guard.fixing import atomic, locks, portable, workflow
from uv_drive_guard.fixing.journal import Journal
from uv_drive_guard.fixing.outcome import Result
from uv_drive_guard.fixing.plan import FileEdit, Plan

FINDING = builders.finding()

HOLDER = """
import sys, time
from pathlib import Path
from uv_drive_guard.fixing import locks
where, journal, paths = Path(sys.argv[1]), sys.argv[2] == "journal", sys.argv[3:]
with locks.Writer(where, journal=journal, paths=paths):
    print("held", flush=True)
    time.sleep(float(600))
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[list[subprocess.Popen[str]]]:
    """Other processes holding locks (started by `hold`); killed at the end whatever happened."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        assert proc.stdout is not None
        proc.stdout.close()


def hold(started: list[subprocess.Popen[str]], where: Path, *paths: str, journal: bool = True) -> subprocess.Popen[str]:
    """Another process that takes these locks and keeps them until it is killed."""
    argv = [sys.executable, "-c", HOLDER, str(where), "journal" if journal else "files", *paths]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    started.append(proc)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


# --- the order --------------------------------------------------------------------------


def test_journal_first_then_files_by_real_path_one_lock_per_real_file(tmp_path: Path) -> None:
    where = tmp_path / "state" / "locks"
    real = tmp_path / "dotfiles" / "bashrc"
    real.parent.mkdir()
    real.write_text("x\n")
    link = tmp_path / "home" / ".bashrc"
    link.parent.mkdir()
    link.symlink_to(real)
    other = tmp_path / "a.toml"
    with locks.Writer(where) as held:
        held.add([other, link, real])  # the symlinked dotfile is the file it points at: one lock
        assert [key for key, _lock in held._taken] == [
            (0, str(where)),
            (1, locks.real(other)),
            (1, locks.real(real)),
        ]
    names = sorted(p.name for p in where.iterdir())
    assert names == sorted([locks.JOURNAL, locks.lock_file(where, other).name, locks.lock_file(where, real).name])
    assert sorted(p.name for p in real.parent.iterdir()) == ["bashrc"]  # nothing beside the person's files
    assert sorted(p.name for p in link.parent.iterdir()) == [".bashrc"]


def test_a_lock_asked_for_out_of_order_is_refused_before_anything_waits(tmp_path: Path) -> None:
    where = tmp_path / "locks"
    with locks.Writer(where) as held:
        held.add([tmp_path / "b"])
        with pytest.raises(locks.OrderError, match="the order is journal, then paths"):
            held.add([tmp_path / "a"])
        assert held._taken == []  # the writer let go of everything it held, the journal too
    with locks.files([tmp_path / "b"], where), pytest.raises(locks.OrderError), locks.Writer(where):
        pass  # a journal after a file
    with locks.Writer(where, paths=[tmp_path / "a", tmp_path / "b"], wait=0):
        pass  # nothing is left held: all of them at once, in order


def test_a_thread_asking_again_for_what_it_holds_has_it_at_once(tmp_path: Path) -> None:
    where = tmp_path / "locks"
    rc = tmp_path / ".bashrc"
    with locks.Writer(where, paths=[rc]), locks.files([rc], where, wait=0) as inner:
        assert inner.waited == 0.0
    with locks.Writer(where, wait=0):  # and all of it was let go
        pass


# --- the wait ---------------------------------------------------------------------------


def test_a_busy_lock_is_said_once_waited_for_and_then_refused(
    tmp_path: Path, holder: list[subprocess.Popen[str]]
) -> None:
    where = tmp_path / "locks"
    hold(holder, where)
    said: list[str] = []
    started = time.monotonic()
    with pytest.raises(locks.Busy) as refused, locks.Writer(where, wait=0.6, say=said.append):
        pass
    took = time.monotonic() - started
    assert said == [locks.WAITING] == ["another fix is being applied; waiting"]
    assert str(refused.value) == (
        "another fix is still being applied after 0.6 s; nothing was changed. Try again when it is done"
    )
    assert 0.6 <= took < 3.0, took  # the stated wait, not forever


def test_the_wait_is_one_budget_for_all_the_locks(tmp_path: Path, holder: list[subprocess.Popen[str]]) -> None:
    where = tmp_path / "locks"
    first, second = tmp_path / "a", tmp_path / "b"
    hold(holder, where, str(second), journal=False)
    said: list[str] = []
    started = time.monotonic()
    with locks.Writer(where, wait=0.5, say=said.append) as held, pytest.raises(locks.Busy):
        held.add([first, second])
    assert time.monotonic() - started < 2.5
    assert said == [locks.WAITING]
    with locks.files([first], where, wait=0):  # the lock taken before the refusal was let go
        pass


def test_a_lock_is_taken_as_soon_as_its_holder_lets_go(tmp_path: Path, holder: list[subprocess.Popen[str]]) -> None:
    where = tmp_path / "locks"
    other = hold(holder, where)
    threading.Timer(0.3, other.terminate).start()
    said: list[str] = []
    with locks.Writer(where, wait=30, say=said.append) as held:
        assert said == [locks.WAITING] and 0.2 < held.waited < 10


def test_a_holder_killed_with_sigkill_blocks_nobody(tmp_path: Path, holder: list[subprocess.Popen[str]]) -> None:
    where = tmp_path / "locks"
    rc = tmp_path / ".bashrc"
    other = hold(holder, where, str(rc))
    with pytest.raises(locks.Busy), locks.Writer(where, wait=0.2, say=lambda _line: None):
        pass
    os.kill(other.pid, signal.SIGKILL)
    other.wait(timeout=10)
    assert (where / locks.JOURNAL).exists()  # the killed process's lock file is still there...
    said: list[str] = []
    started = time.monotonic()
    with locks.Writer(where, paths=[rc], wait=0, say=said.append):  # ...and holds nothing
        pass
    assert said == [] and time.monotonic() - started < 1.0


def test_two_threads_of_one_process_exclude_each_other(tmp_path: Path) -> None:
    """The daemon's executor threads: each hold has its own FileLock objects, so threads wait
    for each other through the OS lock as processes do (a shared object would let both in)."""
    where = tmp_path / "locks"
    rc = tmp_path / ".bashrc"
    inside: list[int] = []
    overlaps: list[int] = []

    def writer(number: int) -> None:
        for _ in range(20):
            with locks.files([rc], where, wait=30):
                inside.append(number)
                if len(inside) > 1:
                    overlaps.append(number)
                time.sleep(0.001)
                inside.remove(number)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert overlaps == []


# --- fix and undo under the locks ------------------------------------------------------


def _appending_plan(rc: Path, line: str) -> Plan:
    """A plan made from the file as it is when planned: one more line at its end."""
    before = atomic.read_bytes(rc) or b""
    fix = Fix(f"fix-{line}", f"add {line}", "d", ())
    return Plan(FINDING, fix, (FileEdit(str(rc), before, before + f"{line}\n".encode(), ("edit",)),))


def test_fixes_started_together_each_plan_against_what_the_other_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rc = tmp_path / ".bashrc"
    rc.write_text("# mine\n")
    journal = Journal(tmp_path / "state" / "journal")

    def prepare(fix_id: str, *_args: object) -> Plan:
        time.sleep(0.05)  # a scan takes a while: without the lock, every writer reads "# mine" alone
        return _appending_plan(rc, fix_id)

    monkeypatch.setattr(workflow, "prepare", prepare)
    results: dict[str, Result] = {}

    def fix(name: str) -> None:
        outcome = workflow.run_fix(
            name,
            {},
            None,
            dry_run=False,
            confirm=lambda _q: True,
            journal=journal,
            check=False,  # type: ignore[arg-type]
        )
        results[name] = outcome.result

    threads = [threading.Thread(target=fix, args=(f"line{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == {f"line{n}": Result.APPLIED for n in range(4)}
    assert sorted(rc.read_text().splitlines()) == ["# mine", "line0", "line1", "line2", "line3"]
    for _ in range(4):
        assert workflow.run_undo(None, force=False, journal=journal).result is Result.UNDONE
    assert rc.read_text() == "# mine\n"


def test_a_file_changed_since_the_scan_is_refused_in_one_line_and_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rc = tmp_path / ".bashrc"
    rc.write_text("# mine\n")
    journal = Journal(tmp_path / "state" / "journal")

    def prepare(*_args: object) -> Plan:
        planned = _appending_plan(rc, "ours")
        rc.write_text("# mine\nexport EDITOR=vi\n")  # the person's editor saves meanwhile
        return planned

    monkeypatch.setattr(workflow, "prepare", prepare)
    outcome = workflow.run_fix("x", {}, None, dry_run=False, confirm=lambda _q: True, journal=journal)  # type: ignore[arg-type]
    assert outcome.result is Result.REFUSED
    assert outcome.lines == (f"uv-drive-guard: {rc} changed since the scan; scan again",)
    assert rc.read_text() == "# mine\nexport EDITOR=vi\n" and journal.entries() == []


def test_fix_and_undo_wait_for_another_writer_say_so_and_refuse_after_the_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, holder: list[subprocess.Popen[str]]
) -> None:
    rc = tmp_path / ".bashrc"
    rc.write_text("# mine\n")
    journal = Journal(tmp_path / "state" / "journal")
    monkeypatch.setattr(workflow, "prepare", lambda *_a: _appending_plan(rc, "ours"))
    monkeypatch.setattr(locks, "WAIT", 0.5)
    hold(holder, locks.directory(journal.root))
    said: list[str] = []
    outcome = workflow.run_fix(
        "x",
        {},
        None,
        dry_run=False,
        confirm=lambda _q: True,
        journal=journal,
        say=said.append,  # type: ignore[arg-type]
    )
    assert outcome.result is Result.REFUSED and outcome.status == 2
    assert outcome.lines == (
        "uv-drive-guard: another fix is still being applied after 0.5 s; nothing was changed. "
        "Try again when it is done",
    )
    undone = workflow.run_undo(None, force=False, journal=journal, say=said.append)
    assert undone.result is Result.REFUSED and "another fix is still being applied" in undone.lines[0]
    assert said == [locks.WAITING, locks.WAITING]  # once for each command
    assert rc.read_text() == "# mine\n"


def test_the_cli_says_it_waits_on_stderr(tmp_path: Path, holder: list[subprocess.Popen[str]]) -> None:
    state = tmp_path / "state"
    hold(holder, state / "uv-drive-guard" / "locks")
    env = {**os.environ, "XDG_STATE_HOME": str(state), "HOME": str(tmp_path)}
    cli = Path(sys.executable).with_name("uv-drive-guard")
    proc = subprocess.Popen([str(cli), "undo"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    assert proc.stderr.readline() == "uv-drive-guard: another fix is being applied; waiting\n"
    holder[0].kill()  # the other writer dies: the undo goes on at once
    _out, err = proc.communicate(timeout=30)
    assert (proc.returncode, err) == (1, "uv-drive-guard: no applied fix to undo\n")


# --- the daemon's own writes --------------------------------------------------------------


def test_drive_memory_is_read_and_changed_under_the_lock_keeping_other_writers_drives(tmp_path: Path) -> None:
    path = tmp_path / "state" / "drives.json"
    first, second = Memory(path), Memory(path)  # two daemons of one person, in two sessions
    first.ignore("uuid:AAAA")
    second.mute("uuid:BBBB", "UVD003")
    first.shown("uuid:AAAA", "fp1")
    data = json.loads(path.read_text())["drives"]
    assert set(data) == {"uuid:AAAA", "uuid:BBBB"}
    assert Memory(path).drives["uuid:BBBB"] == DriveMemory(muted=["UVD003"])
    assert Memory(path).drives["uuid:AAAA"] == DriveMemory(shown="fp1", ignored=True)
    assert sorted(p.name for p in path.parent.iterdir()) == ["drives.json", "locks"]


def test_the_portable_registry_and_its_generated_files_are_locked_together(tmp_path: Path) -> None:
    store = portable.Store(tmp_path / "data", Os.LINUX)
    assert [p.name for p in store.files()] == ["portable.json", "portable.sh", "portable.fish"]
    assert [p.name for p in portable.files(tmp_path, Os.WINDOWS)] == ["portable.json", "portable.ps1"]


def test_following_a_moved_drive_waits_for_the_registry_s_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, holder: list[subprocess.Popen[str]]
) -> None:
    """The daemon's follow reads, changes and writes the registry under its locks: while a
    fix holds them it waits (and after the wait gives up, logged by app/portable.py)."""
    from uv_drive_guard.core.model import PortableDrive

    snap = builders.projects_on(tmp_path)
    root, where = Path(snap.data_dir), tmp_path / "state" / "locks"
    old = PortableDrive("1a2b-3c4d", "STICK", True, (), ("demo",), "/media/ana/OLD", "/media/ana/OLD")
    portable.save(root, [old])
    other = hold(holder, where, *(str(p) for p in portable.files(root, snap.os)), journal=False)
    monkeypatch.setattr(locks, "WAIT", 0.3)
    with pytest.raises(locks.Busy):
        portable.refresh(snap, (), root, where)
    assert portable.load(root)[0].mount == "/media/ana/OLD"  # nothing was written meanwhile
    other.kill()
    other.wait(timeout=10)
    assert portable.refresh(snap, (), root, where)
    assert portable.load(root)[0].mount == builders.STICK
