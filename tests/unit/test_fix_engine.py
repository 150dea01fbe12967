"""Journal first, atomic writes, exact undo: the guarantees every fix rests on."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests import builders

from uv_drive_guard.fixing import atomic, engine
from uv_drive_guard.fixing.envstore import Saved
from uv_drive_guard.fixing.journal import APPLIED, FAILED, UNDONE, Journal
from uv_drive_guard.fixing.plan import FileEdit, Plan, StoreEdit

FINDING, FIX = builders.finding(), builders.fix()


def _plan(*edits: tuple[Path, bytes]) -> Plan:
    files = tuple(FileEdit(str(p), atomic.read_bytes(p), after, ("edit",)) for p, after in edits)
    return Plan(FINDING, FIX, files)


def test_apply_then_undo_restores_bytes_exactly(tmp_path: Path) -> None:
    crlf, bare = tmp_path / "crlf.rc", tmp_path / "bare.rc"
    crlf.write_bytes(b"export A=1\r\nexport UV_CACHE_DIR=/media/x\r\n")
    bare.write_bytes(b"no newline at the end")
    created = tmp_path / "conf" / "new.conf"
    journal = Journal(tmp_path / "journal")
    entry = engine.apply(_plan((crlf, b"changed\r\n"), (bare, b"also"), (created, b"UV_LINK_MODE=copy\n")), journal)
    assert entry.state == APPLIED and created.read_bytes() == b"UV_LINK_MODE=copy\n"
    assert [r.existed for r in entry.files] == [True, True, False]
    undone = engine.undo(journal)
    assert undone.state == UNDONE
    assert crlf.read_bytes() == b"export A=1\r\nexport UV_CACHE_DIR=/media/x\r\n"
    assert bare.read_bytes() == b"no newline at the end"
    assert not created.exists()
    with pytest.raises(engine.FixError, match="no applied fix"):
        engine.undo(journal)


def test_second_apply_is_a_no_op(tmp_path: Path) -> None:
    rc = tmp_path / ".bashrc"
    rc.write_text("x\n")
    journal = Journal(tmp_path / "j")
    engine.apply(_plan((rc, b"y\n")), journal)
    with pytest.raises(engine.AlreadyApplied):
        engine.apply(_plan((rc, b"y\n")), journal)
    assert len(journal.entries()) == 1


def test_undo_keeps_later_edits_and_refuses_only_for_its_own_lines(tmp_path: Path) -> None:
    rc = tmp_path / ".bashrc"
    rc.write_text("before\n")
    journal = Journal(tmp_path / "j")
    entry = engine.apply(_plan((rc, b"fixed\n")), journal)
    rc.write_text("fixed!\nthe user's own later line\n")
    with pytest.raises(engine.FixError, match="bashrc:1: line 1 reads `fixed!`, but uv-drive-guard wrote `fixed`"):
        engine.undo(journal, entry.id)
    engine.undo(journal, entry.id[:15], force=True)
    assert rc.read_text() == "before\n"


def test_read_only_file_is_left_alone(tmp_path: Path) -> None:
    rc = tmp_path / ".bashrc"
    rc.write_text("x\n")
    rc.chmod(stat.S_IRUSR)
    journal = Journal(tmp_path / "j")
    with pytest.raises(engine.FixError, match="read-only"):
        engine.apply(_plan((rc, b"y\n")), journal)
    assert rc.read_text() == "x\n" and journal.entries() == []


def test_a_failure_midway_puts_everything_back(tmp_path: Path) -> None:
    first = tmp_path / "a.rc"
    first.write_text("a\n")

    class Broken:
        name = "broken"

        def save(self, names: object) -> list[Saved]:
            return [Saved("UV_LINK_MODE", None)]

        def set(self, name: str, value: str) -> None:
            raise OSError(5, "the store said no")

        def unset(self, name: str) -> None: ...

        def restore(self, saved: object) -> None:
            self.restored = True

        def describe_set(self, name: str, value: str) -> str:
            return ""

        def describe_unset(self, name: str) -> str:
            return ""

    store = Broken()
    plan = Plan(FINDING, FIX, _plan((first, b"b\n")).files, (StoreEdit("broken", "UV_LINK_MODE", "copy", ""),))
    journal = Journal(tmp_path / "j")
    with pytest.raises(engine.FixError, match="put back"):
        engine.apply(plan, journal, {"broken": store})  # type: ignore[dict-item]
    assert first.read_text() == "a\n" and store.restored
    assert journal.entries()[0].state == FAILED


def test_writes_go_through_symlinked_dotfiles_and_keep_the_mode(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "bashrc"
    real.parent.mkdir()
    real.write_text("x\n")
    real.chmod(0o600)
    link = tmp_path / ".bashrc"
    link.symlink_to(real)
    atomic.write_atomic(link, b"y\n")
    assert link.is_symlink() and real.read_text() == "y\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert [p.name for p in real.parent.iterdir()] == ["bashrc"]  # no temp file left


WRITER = """
import sys
from pathlib import Path
from uv_drive_guard.fixing import atomic
target, old, new = Path(sys.argv[1]), b"o" * 2_000_000, b"n" * 3_000_000
print("ready", flush=True)
while True:
    atomic.write_atomic(target, new)
    atomic.write_atomic(target, old)
"""


def test_kill_9_during_writes_leaves_old_or_new_never_partial(tmp_path: Path) -> None:
    target = tmp_path / "rc"
    target.write_bytes(b"o" * 2_000_000)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for attempt in range(8):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, env=env)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(0.01 + attempt * 0.013)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert target.read_bytes() in (b"o" * 2_000_000, b"n" * 3_000_000)


def test_entries_a_dead_writer_left_pending_are_settled_by_what_the_files_hold(tmp_path: Path) -> None:
    """Under the journal's lock a pending entry has no live writer: nothing written means it
    failed, everything written means it was applied, anything else is left for undo."""
    journal = Journal(tmp_path / "j")
    untouched, written, mixed = (tmp_path / name for name in ("a.rc", "b.rc", "c.rc"))
    for path in (untouched, written, mixed):
        path.write_bytes(b"old\n")

    def begin(fix_id: str, *paths: Path) -> str:
        files = [(str(p), b"old\n", b"new\n") for p in paths]
        return journal.begin(fix_id=fix_id, code="UVD006", title=fix_id, files=files).id

    never = begin("killed-before-the-rename", untouched)
    done = begin("killed-after-the-rename", written)
    half = begin("killed-between-two-files", mixed, written)
    written.write_bytes(b"new\n")  # what the second writer had renamed into place when it died
    engine.settle(journal)
    states = {e.id: (e.state, e.note) for e in journal.entries()}
    assert states[never] == (FAILED, "its writer stopped before writing anything")
    assert states[done] == (APPLIED, "its writer stopped after writing the files")
    assert states[half] == ("pending", "")
    engine.undo(journal, half)  # undo takes back what was written
    assert (mixed.read_bytes(), written.read_bytes()) == (b"old\n", b"old\n")
