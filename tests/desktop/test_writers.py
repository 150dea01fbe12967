"""Many writers at once: `fix` and `undo` from four processes on the same ~/.bashrc, round after
round, with the real daemon (`run --headless`, under a private dunst session) whose fix button is
pressed in the middle, and participants killed with SIGKILL, one of them while it holds the locks.

uv's cache and tool directory are both set in ~/.bashrc onto an exFAT stick; each has its own
fix, which turns its line off. After every round: every fix reported as applied has its edit in
the file (or was reported undone since), the journal matches the file, and the file is whole.
At the end undoing everything (with the CLI) gives the file back byte for byte, and no command
waited longer than the stated wait (fixing/locks.py WAIT).

The four participants are processes that each run `fix` and `undo` as the CLI does
(`workflow.run_fix` / `run_undo`, the same options, the same words), one command per round,
so fifty rounds do not pay fifty times for Python's start. Their fixes skip the verification,
as `fix --no-verify` does: it is not what is under test here (a scan again and uv creating a
scratch environment, a second or more each) and would make the rounds take minutes. It runs
where it matters: the daemon's button always verifies, and the participant killed while it
holds the locks is killed during its verification.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.realfs import drives

from uv_drive_guard.fixing import locks
from uv_drive_guard.fixing.journal import APPLIED, PENDING, UNDONE, Journal
from uv_drive_guard.fixing.textlines import DISABLED

from . import session
from .daemons import BIN, notices, wait_for

ROUNDS = 50
WORKERS = 4
PRESS_AT = 25  # the round in which the daemon's fix button is pressed
KILL_HOLDER_AT = 12  # the round in which a fix is killed during its verification, holding the locks
KILL_SOMEONE = (33, 41, 47)  # rounds in which a fixing participant is killed at a random moment
APPLIED_LINE = re.compile(r"^Applied\. To undo: uv-drive-guard undo (\S+)$", re.MULTILINE)
UNDONE_LINE = re.compile(r"^Undone: .* \((\S+)\)\.$", re.MULTILINE)
CLI = BIN / "uv-drive-guard"

PARTICIPANT = """
import json, os, sys, time
from uv_drive_guard import config, scan
from uv_drive_guard.fixing import workflow
options = scan.Options.from_config(config.load(None), [])

def say(line):
    print(json.dumps({"said": line}), flush=True)  # at once: the test sees who is waiting

print("ready", flush=True)
for line in sys.stdin:
    verb, fix, verify = line.split()
    started = time.monotonic()
    if verb == "fix":
        outcome = workflow.run_fix(
            fix, dict(os.environ), options, dry_run=False, confirm=lambda _q: True, check=verify == "verify", say=say
        )
    else:
        outcome = workflow.run_undo(fix, force=False, say=say)
    answer = {"status": outcome.status, "out": "\\n".join(outcome.lines)}
    print(json.dumps({**answer, "took": time.monotonic() - started}), flush=True)
"""


@dataclass
class Op:
    """One command a participant ran, and what it said."""

    verb: str
    fix: str
    status: int = 0
    out: str = ""
    said: list[str] = field(default_factory=list)
    took: float = 0.0
    killed: bool = False


class Participant:
    """A process that runs `fix` and `undo` as the CLI does, one command at a time; what it
    says while it waits reaches the test at once."""

    def __init__(self, env: dict[str, str], work: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", PARTICIPANT], env=env, cwd=work, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self.pending = b""
        assert self._line(60) == "ready"
        self.op: Op | None = None

    def send(self, verb: str, fix: str, *, verify: bool = False) -> None:
        assert self.proc.stdin is not None
        self.op = Op(verb, fix)
        self.proc.stdin.write(f"{verb} {fix} {'verify' if verify else 'no-verify'}\n".encode())
        self.proc.stdin.flush()

    def _line(self, timeout: float) -> str | None:
        """The next line it printed, within `timeout` seconds (None: nothing yet)."""
        assert self.proc.stdout is not None
        fd, deadline = self.proc.stdout.fileno(), time.monotonic() + timeout
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left < 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 65536)
            assert chunk, f"participant {self.proc.pid} ended ({self.proc.poll()})"
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode()

    def _hear(self, timeout: float) -> bool:
        """Take in what it says within `timeout` seconds; True once its answer has come."""
        assert self.op is not None
        while (line := self._line(timeout)) is not None:
            data: dict[str, Any] = json.loads(line)
            if "said" in data:
                self.op.said.append(data["said"])
                continue
            self.op.status, self.op.out, self.op.took = data["status"], data["out"], data["took"]
            return True
        return False

    def waiting(self) -> bool:
        """It said it waits for another writer, and has not answered yet."""
        return self.op is not None and not self.answered() and locks.WAITING in self.op.said

    def answered(self) -> bool:
        assert self.op is not None
        return self.op.took > 0 or self._hear(0)

    def answer(self) -> Op:
        assert self.op is not None
        if not self.answered():
            assert self._hear(locks.WAIT + 60), f"participant {self.proc.pid} did not answer"
        op, self.op = self.op, None
        return op

    def kill(self) -> Op:
        """SIGKILL, as a crash or an impatient person would."""
        assert self.op is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.stop()
        op, self.op = self.op, None
        op.killed = True
        return op

    def stop(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)


@dataclass
class Tally:
    ops: list[Op] = field(default_factory=list)
    daemon_waited: bool = False  # the daemon's log says its fix waited for another writer


class Bench:
    """The person's machine: HOME, ~/.bashrc on the stick, the journal, the CLI, four participants."""

    def __init__(self, home: Path, env: dict[str, str], work: Path) -> None:
        self.home, self.env, self.work = home, env, work
        self.bashrc = home / ".bashrc"
        self.journal = Journal(home / ".local/state/uv-drive-guard/journal")
        self.original = self.bashrc.read_bytes()
        self.lines = self.original.decode().split("\n")
        self.people: list[Participant] = []

    def start(self) -> None:
        self.people = [Participant(self.env, self.work) for _ in range(WORKERS)]

    def replace(self, index: int) -> None:
        self.people[index] = Participant(self.env, self.work)

    def stop(self) -> None:
        for person in self.people:
            person.stop()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CLI), *args], env=self.env, cwd=self.work, capture_output=True, text=True, timeout=300, check=False
        )

    def expected(self, on: dict[str, bool], where: dict[str, int]) -> bytes:
        lines = list(self.lines)
        for fix, active in on.items():
            if active:
                lines[where[fix]] = DISABLED + lines[where[fix]]
        return "\n".join(lines).encode()

    def undo_all(self, fix: str) -> None:
        """Take back every application of one fix, one undo at a time (a round's precondition)."""
        while any(e.fix_id == fix and e.state in (APPLIED, PENDING) for e in self.journal.entries()):
            done = self.cli("undo", fix)
            assert done.returncode == 0, done.stdout + done.stderr


def _check_round(bench: Bench, ops: list[Op], where: dict[str, int], daemon_entry: str | None = None) -> None:
    """The invariants, read from the journal and the file once every writer of the round is done."""
    for op in ops:
        assert "Traceback" not in op.out and "internal error" not in op.out, op.out
        assert "changed since the scan" not in op.out, op.out  # a writer read a file another was writing
        assert "still being applied" not in op.out, op.out  # a wait ran out
        assert op.took < locks.WAIT, (op.verb, op.fix, op.took)
        assert op.killed or op.status in (0, 1, 2), op.out
    entries = {e.id: e for e in bench.journal.entries()}
    now = bench.bashrc.read_bytes()
    on: dict[str, bool] = {}
    for fix in where:
        active = [e for e in entries.values() if e.fix_id == fix and e.state in (APPLIED, PENDING)]
        assert len(active) <= 1, [(e.id, e.state) for e in active]  # never two applications at once
        if active and active[0].state == PENDING:  # a killed writer's, between two of its steps
            on[fix] = (DISABLED + bench.lines[where[fix]]).encode() in now
        else:
            on[fix] = bool(active)
    assert now == bench.expected(on, where), (on, now.decode())  # whole, and as the journal says
    undone = {m for op in ops for m in UNDONE_LINE.findall(op.out)}
    applied = [m for op in ops if not op.killed for m in APPLIED_LINE.findall(op.out)]
    applied += [daemon_entry] if daemon_entry else []
    for entry_id in applied:  # reported applied: its edit is in the file, or someone reported undoing it
        entry = entries[entry_id]
        assert entry.state == APPLIED or (entry.state == UNDONE and entry_id in undone), (entry_id, entry.state)
        assert entry.state != APPLIED or on[entry.fix_id], entry_id


def _send(person: Participant, rng: random.Random, fixes: list[str]) -> None:
    person.send(rng.choice(("fix", "undo")), rng.choice(fixes))


def _round(bench: Bench, rng: random.Random, fixes: list[str]) -> list[Op]:
    for person in bench.people:
        _send(person, rng, fixes)
    return [person.answer() for person in bench.people]


def _kill_a_holder(bench: Bench, rng: random.Random, fixes: list[str]) -> list[Op]:
    """A fix killed during its verification (journaled as applied, the locks held), once the
    others say they wait for those locks: they go on as soon as it is gone."""
    victim, others = bench.people[0], bench.people[1:]
    for _attempt in range(10):
        bench.undo_all(fixes[0])
        known = {e.id for e in bench.journal.entries()}
        victim.send("fix", fixes[0], verify=True)
        while not _applied_since(bench, known) and not victim.answered():
            time.sleep(0.005)
        for person in others:
            _send(person, rng, fixes)
        deadline = time.monotonic() + 30
        while not victim.answered() and not any(p.waiting() for p in others) and time.monotonic() < deadline:
            time.sleep(0.005)
        if not victim.answered():
            killed = victim.kill()
            killed_at = time.monotonic()
            ops = [killed, *(person.answer() for person in others)]
            bench.replace(0)
            assert time.monotonic() - killed_at < 30  # nobody waits for a dead holder
            assert any(locks.WAITING in op.said for op in ops[1:]), [op.said for op in ops]
            return ops
        [person.answer() for person in bench.people]  # its verification ended first: again
    raise AssertionError("no verification outlasted the others' start: nothing was killed while holding the locks")


def _applied_since(bench: Bench, known: set[str]) -> bool:
    return any(e.id not in known and e.state == APPLIED for e in bench.journal.entries())


def _kill_someone(bench: Bench, rng: random.Random, fixes: list[str]) -> list[Op]:
    """A fixing participant killed at a random moment: before, during or after its writes."""
    bench.people[0].send("fix", rng.choice(fixes))
    for person in bench.people[1:]:
        _send(person, rng, fixes)
    time.sleep(rng.uniform(0.0, 0.4))
    if bench.people[0].answered():
        first = bench.people[0].answer()  # it finished before the kill: killed between commands
        bench.people[0].proc.send_signal(signal.SIGKILL)
    else:
        first = bench.people[0].kill()
    ops = [first, *(person.answer() for person in bench.people[1:])]
    bench.people[0].stop()
    bench.replace(0)
    return ops


BUTTONS = {"cache": "Move cache off the drive", "tool-dir": "Move tools off the drive"}


def _press(
    bench: Bench, desk: session.DunstSession, rng: random.Random, fixes: list[str], title: str, button: str
) -> tuple[list[Op], str | None]:
    """The daemon's button for the first fix (its notification is still on screen), pressed as
    the four start: the daemon's fix, which verifies, and theirs wait for each other."""
    bench.undo_all(fixes[0])
    known = {e.id for e in bench.journal.entries()}
    desk.choose(button)
    ops = _round(bench, rng, fixes)
    notice = wait_for(
        "the daemon's follow-up",
        lambda: next((n for n in notices(desk) if n["summary"].startswith(("Fixed", "Could not fix"))), None),
        timeout=120,
    )
    assert title in notice["summary"] and "still being applied" not in notice["summary"] + notice["body"], notice
    reported = {m for op in ops for m in APPLIED_LINE.findall(op.out)}
    daemons = [e.id for e in bench.journal.entries() if e.id not in known | reported and e.fix_id == fixes[0]]
    assert len(daemons) <= 1, daemons  # the daemon's own application, if it came first
    return ops, daemons[0] if daemons and notice["summary"].startswith("Fixed") else None


def test_writers_at_once_never_overwrite_each_other(tmp_path: Path) -> None:
    for reason in (session.requirement(), drives.requirement("exfat")):
        if reason:
            drives.need_real(reason)
    started = time.monotonic()
    rng = random.Random(25)
    root = Path(tempfile.mkdtemp(prefix=f"uvdg-writers-{uuid.uuid4().hex[:6]}-", dir="/mnt"))
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    env = {**drives.uv_env(home), "SHELL": "/bin/bash", "TMPDIR": str(work)}
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    stick = root / "STICK"
    (home / ".bashrc").write_text(
        f"# my shell\nexport UV_CACHE_DIR={stick}/uv-cache\nalias ll='ls -l'\n"
        f"export UV_TOOL_DIR={stick}/tools\nexport EDITOR=vi\n"
    )
    settings = home / ".config" / "uv-drive-guard" / "config.toml"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(f"[scope]\nmount_roots = [{json.dumps(str(root))}]\n")
    bench = Bench(home, env, work)
    tally = Tally()
    try:
        with (
            drives.make_drive("exfat", root, label="STICK", name="STICK"),
            session.dunst_session(tmp_path / "desk") as desk,
        ):
            env["DBUS_SESSION_BUS_ADDRESS"] = desk.bus_address
            log = home / ".local/state/uv-drive-guard/log/uv-drive-guard.log"
            with (tmp_path / "daemon.err").open("wb") as err:
                daemon = subprocess.Popen([str(CLI), "-v", "run", "--headless"], env=env, stderr=err)
            try:
                bench.start()
                wait_for("the daemon", lambda: log.exists() and "is running" in log.read_text())
                wait_for("the drive's notification", lambda: desk.count() >= 1)
                found = [f for f in json.loads(bench.cli("scan", "--json").stdout)["findings"] if f["code"] == "UVD006"]
                fixes = [next(x for x in f["fixes"] if "-move-off-drive-" in x["id"]) for f in found]
                assert len(fixes) == 2, found
                variable = {x["id"]: x["changes"][0]["name"] for x in fixes}
                where = {
                    fix: next(i for i, line in enumerate(bench.lines) if name in line) for fix, name in variable.items()
                }
                ids = [x["id"] for x in fixes]  # the notification is about the first finding: its button fixes it
                for number in range(ROUNDS):
                    daemon_entry = None
                    if number == KILL_HOLDER_AT:
                        ops = _kill_a_holder(bench, rng, ids)
                    elif number in KILL_SOMEONE:
                        ops = _kill_someone(bench, rng, ids)
                    elif number == PRESS_AT:
                        button = BUTTONS[found[0]["location"]["role"]]  # the notice's words for that fix
                        ops, daemon_entry = _press(bench, desk, rng, ids, fixes[0]["title"], button)
                    else:
                        ops = _round(bench, rng, ids)
                    tally.ops += ops
                    _check_round(bench, ops, where, daemon_entry)
                assert daemon.poll() is None, "the daemon died"
                tally.daemon_waited = locks.WAITING in log.read_text()
            finally:
                bench.stop()
                drives.stop_daemon(daemon)
            _undo_everything(bench)
            assert json.loads((home / ".local/state/uv-drive-guard/drives.json").read_text())["drives"]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    _report(tally, time.monotonic() - started, tmp_path)


def _undo_everything(bench: Bench) -> None:
    """With the CLI, last fix first, until nothing is left to undo: the file as it was, byte for byte."""
    for _ in range(500):
        done = bench.cli("undo")
        if done.returncode == 1 and "no applied fix to undo" in done.stderr:
            break
        assert done.returncode == 0, done.stdout + done.stderr
    assert bench.bashrc.read_bytes() == bench.original
    assert not [p.name for p in bench.home.iterdir() if p.name.startswith(".bashrc.")]  # no temp file left
    assert all(p.suffix == ".lock" for p in (bench.journal.root.parent / "locks").iterdir())


def _report(tally: Tally, took: float, tmp_path: Path) -> None:
    """The figures, printed (pytest -s shows them) and kept beside the test's files."""
    waited = [op.took for op in tally.ops if locks.WAITING in op.said]
    figures = {
        "seconds": round(took, 1),
        "commands": len(tally.ops),
        "killed": sum(op.killed for op in tally.ops),
        "applied": sum(len(APPLIED_LINE.findall(op.out)) for op in tally.ops),
        "undone": sum(len(UNDONE_LINE.findall(op.out)) for op in tally.ops),
        "said they waited": len(waited),
        "longest command s": round(max(op.took for op in tally.ops), 2),
        "longest command that waited s": round(max(waited, default=0.0), 2),
        "daemon waited": tally.daemon_waited,
        "stated wait s": locks.WAIT,
    }
    (tmp_path / "figures.json").write_text(json.dumps(figures, indent=2))
    print("writers:", json.dumps(figures))
