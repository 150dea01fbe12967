"""The daemon's worker with fakes at its edges: notices once per drive state, ignore, mute,
pause, buttons routed to the same paths as the tray, and errors that never stop it. The scan and
the mount table are handed to the worker; every wait is on what the worker shows, never a sleep."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests import builders
from tests.daemon_fakes import WAIT, Changes, FakeNotifier, FakeWatcher, Views

from uv_drive_guard import scan
from uv_drive_guard.app import actions, policy, service
from uv_drive_guard.app.actions import Kind
from uv_drive_guard.app.memory import Memory
from uv_drive_guard.core.model import (
    Capabilities,
    Definition,
    Location,
    Role,
    Snapshot,
    Source,
    SourceKind,
)
from uv_drive_guard.edges import mounts
from uv_drive_guard.fixing.journal import Journal

KEY = "uuid:AB-CD"


def _snapshot(plugged: bool, mount_id: str = "41") -> Snapshot:
    """uv's cache set in ~/.bashrc to a folder on an exFAT stick, plugged in or not."""
    root = builders.system_disk("/dev/vda", Capabilities())
    stick = builders.stick("/media/u/STICK", uuid="AB-CD", instance=mount_id)
    source = Source(SourceKind.SHELL_FILE, file="/home/u/.bashrc", line=1, name="UV_CACHE_DIR")
    cache = Location(Role.CACHE, "/media/u/STICK/cache", source, volume=stick.mountpoint if plugged else "/")
    return builders.snapshot(
        (root, stick) if plugged else (root,),
        (cache,),
        definitions=(Definition("UV_CACHE_DIR", cache.path, source, raw=f"export UV_CACHE_DIR={cache.path}"),),
        scope=(stick.mountpoint,) if plugged else (),
        home="/home/u",
        defaults=((Role.CACHE, "/home/u/.cache/uv"),),
    )


@dataclass
class Machine:
    """What the worker reads: the snapshot a scan gathers and the mount table, as a test sets them."""

    plugged: bool = True
    mount: str = "41"
    table: Callable[[], frozenset[mounts.Entry]] = lambda: frozenset()
    gather: Callable[..., Snapshot] | None = None  # another scan, when a test needs one
    envs: list[dict[str, str]] = field(default_factory=list)  # the environment each scan was given

    def scan(self, env: dict[str, str], options: scan.Options, *, memo: object, session: bool) -> Snapshot:
        self.envs.append(dict(env))
        if self.gather is not None:
            return self.gather(env, options, memo=memo, session=session)
        return _snapshot(self.plugged, self.mount)

    def changing(self) -> None:
        """Every read of the mount table finds it changed."""
        tables = itertools.count()
        self.table = lambda: frozenset({("/dev/x", "/", "ext4", f"rw,{next(tables)}")})


@dataclass
class Daemon:
    svc: service.Service
    notifier: FakeNotifier
    watcher: FakeWatcher
    machine: Machine
    views: Views
    changes: Changes

    def settle(self, scans: int) -> None:
        """Until the worker has finished `scans` scans."""
        self.changes.wait(lambda: self.svc.scans >= scans)

    def until(self, condition: Callable[[], bool]) -> None:
        self.changes.wait(condition)

    def quiet(self) -> None:
        """Until the changes handed to the worker so far are answered in full."""
        asyncio.run_coroutine_threadsafe(self.svc.bursts.settled(), self.svc.loop).result(WAIT)

    def stick_notices(self) -> list[str]:
        return [n.title for n in self.notifier.shown if "STICK" in n.title]


def _daemon(tmp_path: Path, machine: Machine, env: dict[str, str] | None = None, **options: object) -> Daemon:
    changes = Changes()
    notifier, watcher, views = FakeNotifier(changes), FakeWatcher(), Views(changes)
    svc = service.Service(
        env=env or {},
        options=scan.Options,
        notifier=notifier,
        watcher=watcher,
        publish=views,
        memory=Memory(tmp_path / "drives.json"),
        journal=Journal(tmp_path / "journal"),
        gather=machine.scan,
        mount_table=lambda: machine.table(),
        **options,  # type: ignore[arg-type]
    )
    return Daemon(svc, notifier, watcher, machine, views, changes)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    machine = Machine()
    machine.changing()
    started = _daemon(tmp_path, machine)
    started.svc.start()
    yield started
    started.svc.stop()


def test_a_drive_is_told_once_per_state(daemon: Daemon) -> None:
    daemon.settle(1)
    shown = daemon.notifier.shown
    assert [n.title for n in shown] == ["uv on STICK (exFAT): error"]
    assert "Could not acquire lock" in shown[0].body
    assert shown[0].actions[0].kind is Kind.FIX
    assert shown[0].state is actions.State.ERROR  # the icon it gets
    daemon.watcher.on_change()
    daemon.settle(2)
    assert len(shown) == 1  # the same drive in the same state: nothing new to say
    daemon.machine.plugged = False
    daemon.watcher.on_change()
    daemon.settle(3)
    assert shown[-1].title == "uv on a drive that is not plugged in: warning"
    assert daemon.views[-1].state is actions.State.WARNING


def test_ignore_mute_and_pause(daemon: Daemon) -> None:
    svc = daemon.svc
    daemon.settle(1)
    svc.controller.ignore_drive(KEY)
    daemon.settle(2)
    assert daemon.views[-1].reports[0].findings == () and daemon.views[-1].ignored == (KEY,)
    svc.controller.pause(3600)
    daemon.until(lambda: svc.paused and daemon.views[-1].paused_until is not None)
    svc.controller.pause(0)
    daemon.until(lambda: not svc.paused and daemon.views[-1].paused_until is None)


def test_buttons_take_the_same_paths_as_the_menu(daemon: Daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    daemon.settle(1)
    calls: list[str] = []

    def run_fix(fix_id: str, env: object, options: object, **kwargs: object):
        calls.append(fix_id)
        from uv_drive_guard.fixing.outcome import Outcome, Result

        return Outcome(Result.APPLIED, fix=builders.fix(fix_id, "Move uv's cache back"))

    monkeypatch.setattr("uv_drive_guard.fixing.workflow.run_fix", run_fix)
    fix = daemon.notifier.shown[0].actions[0]
    daemon.notifier.callbacks[0](fix)
    daemon.settle(2)  # the fix, then the scan after it
    assert calls == [fix.fix_id]
    assert daemon.notifier.said and daemon.notifier.said[0][0].startswith("Fixed")


def test_a_failing_scan_does_not_stop_the_daemon(daemon: Daemon) -> None:
    daemon.settle(1)
    failed = threading.Event()

    def broken(*_args: object, **_kwargs: object) -> Snapshot:
        failed.set()
        raise OSError(107, "drive gone")

    daemon.machine.gather = broken
    daemon.watcher.on_change()
    daemon.until(lambda: failed.is_set() and "drive gone" in daemon.views[-1].tooltip)
    assert daemon.views[-1].state is actions.State.ERROR
    daemon.machine.gather = None
    daemon.watcher.on_change()
    daemon.settle(2)
    assert "failed" not in daemon.views[-1].tooltip


def test_notice_policy_from_the_settings(tmp_path: Path) -> None:
    machine = Machine(plugged=False)
    quiet = _daemon(tmp_path, machine, switches=lambda: policy.Switches(always=False, unmount=False))
    quiet.svc.start()
    try:
        quiet.settle(1)
        assert quiet.notifier.shown == []  # unplugging is not announced when the user said so
    finally:
        quiet.svc.stop()


def test_a_burst_of_mount_changes_scans_at_once_then_once_more(daemon: Daemon) -> None:
    """No fixed delay before the first scan; the changes that arrive while it runs share one more."""
    svc = daemon.svc
    daemon.settle(1)
    started: list[float] = []
    first = threading.Event()
    release = threading.Event()

    def slow(*_args: object, **_kwargs: object) -> Snapshot:
        started.append(time.monotonic())
        first.set()
        assert release.wait(WAIT)
        return _snapshot(True)

    daemon.machine.gather = slow
    # A settle period far longer than a busy machine's scheduling delay: a first scan that
    # waited for quiet (a debounce) would start after it, one that starts at once well before.
    svc.bursts.settle, svc.bursts.at_most = 1.5, 3.0
    changed = time.monotonic()
    daemon.watcher.on_change()
    assert first.wait(WAIT)
    assert started[0] - changed < 0.75
    for _ in range(5):  # the rest of the burst, while the first scan is still running
        daemon.watcher.on_change()
    release.set()
    daemon.quiet()
    assert len(started) == 2 and svc.scans == 3  # the start, the burst's first scan, one follow-up
    assert started[1] - started[0] >= 1.5  # the follow-up waited for the burst to be quiet
    daemon.watcher.on_change()  # a change after the burst settled starts a new one at once
    daemon.settle(4)


def test_a_change_that_leaves_the_table_as_it_was_scans_nothing(daemon: Daemon) -> None:
    """Several changes for one mount: the table the first scan read is the one after the burst."""
    daemon.settle(1)
    table = frozenset({("/dev/sdb1", "/media/u/STICK", "fuseblk", "rw")})
    daemon.machine.table = lambda: table
    daemon.watcher.on_change()
    daemon.settle(2)
    daemon.watcher.on_change()  # the same table again: nothing to scan
    daemon.quiet()
    assert daemon.svc.scans == 2
    changed = frozenset({("/dev/sdb1", "/media/u/STICK", "fuseblk", "ro")})  # remounted read-only
    daemon.machine.table = lambda: changed
    daemon.watcher.on_change()
    daemon.settle(3)


def test_a_drive_back_while_its_scan_ran_is_scanned_again_though_the_table_reads_the_same(daemon: Daemon) -> None:
    """Pulled out and plugged in again while the scan that saw it go ran: the kernel hands out the
    same device, folder and even mount id again, so the table reads as before. A change came while
    the scan ran: one more scan, and the view shows the drive."""
    daemon.settle(1)
    table = frozenset({("47 7:7", "/media/u/STICK", "fuseblk", "rw")})
    daemon.machine.table = lambda: table
    inside, release = threading.Event(), threading.Event()

    def gone(*_args: object, **_kwargs: object) -> Snapshot:
        inside.set()
        assert release.wait(WAIT)
        return _snapshot(False)  # this scan found the drive gone

    daemon.machine.gather = gone
    daemon.watcher.on_change()
    assert inside.wait(WAIT)
    daemon.machine.gather = None  # from now on it is plugged in
    daemon.watcher.on_change()  # back, while that scan runs: the same table
    release.set()
    daemon.quiet()
    assert daemon.svc.scans == 3
    assert any("STICK" in r.name for r in daemon.svc.reports), daemon.svc.reports


def test_a_mount_scan_that_failed_is_made_again_though_the_table_reads_the_same(daemon: Daemon) -> None:
    """A scan that raised saw nothing: the next change scans, whatever the table says."""
    daemon.settle(1)
    table = frozenset({("47 7:7", "/media/u/STICK", "fuseblk", "rw")})
    daemon.machine.table = lambda: table

    def broken(*_args: object, **_kwargs: object) -> Snapshot:
        raise RuntimeError("the drive went away under the scan")

    daemon.machine.gather = broken
    daemon.watcher.on_change()
    daemon.quiet()
    assert daemon.svc.scans == 1 and "failed" in daemon.views[-1].tooltip
    daemon.machine.gather = None
    daemon.watcher.on_change()  # the same table
    daemon.settle(2)
    assert any("STICK" in r.name for r in daemon.svc.reports), daemon.svc.reports


def test_a_first_scan_that_raises_kills_nothing(tmp_path: Path) -> None:
    calls = itertools.count(1)
    machine = Machine()

    def gather(*_args: object, **_kwargs: object) -> Snapshot:
        if next(calls) == 1:
            raise RuntimeError("the first scan broke")
        return _snapshot(True)

    machine.gather = gather
    broken = _daemon(tmp_path, machine)
    broken.svc.start()
    try:
        assert broken.svc._thread.is_alive() and hasattr(broken.watcher, "on_change"), "the watcher must start anyway"
        assert broken.views[-1].state is actions.State.ERROR
        assert "the first scan failed: the first scan broke" in broken.views[-1].tooltip
        machine.changing()
        broken.watcher.on_change()  # the next event is handled as usual
        broken.settle(1)
        assert broken.views[-1].state is actions.State.ERROR and "failed" not in broken.views[-1].tooltip
        assert [n.title for n in broken.notifier.shown] == ["uv on STICK (exFAT): error"]
    finally:
        broken.svc.stop()


def test_shared_state_changes_on_the_loop_and_disk_io_off_it(daemon: Daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    svc = daemon.svc
    daemon.settle(1)
    where: dict[str, list[str]] = {}
    for name in ("ignore", "mute", "write"):
        original = getattr(svc.memory, name)

        def spy(*args: object, _name: str = name, _original: Callable[..., None] = original, **kw: object) -> None:
            where.setdefault(_name, []).append(threading.current_thread().name)
            _original(*args, **kw)

        monkeypatch.setattr(svc.memory, name, spy)
    original_entries = svc.journal.entries
    monkeypatch.setattr(
        svc.journal,
        "entries",
        lambda: where.setdefault("journal", []).append(threading.current_thread().name) or original_entries(),
    )
    original_forget = svc.memo.forget
    monkeypatch.setattr(
        svc.memo,
        "forget",
        lambda gone=None: (
            where.setdefault("forget", []).append(threading.current_thread().name) or original_forget(gone)
        ),
    )
    svc.controller.mute(KEY, "UVD003")
    svc.controller.ignore_drive(KEY)
    svc.controller.rescan()
    daemon.settle(4)
    worker = "uv-drive-guard worker"
    assert where["ignore"] == [worker] and where["mute"] == [worker] and where["forget"] == [worker]
    assert where["write"] and worker not in where["write"]  # drives.json written in the executor
    assert where["journal"] and worker not in where["journal"]
    assert Memory(svc.memory.path).drives[KEY].ignored


def test_a_fix_applied_but_not_verified_says_so(daemon: Daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    daemon.settle(1)
    from uv_drive_guard.fixing import workflow
    from uv_drive_guard.fixing.journal import Entry
    from uv_drive_guard.fixing.outcome import Outcome, Result

    fix = builders.fix("uvd006-move-off-drive-abc", "Move uv's cache back")
    finding = builders.finding("UVD006", title="uv's cache is on a drive", fixes=(fix,))
    entry = Entry("20261201T1-x", fix.id, "UVD006", fix.title, 0.0, "applied")
    outcome = Outcome(
        Result.NOT_VERIFIED,
        fix=fix,
        finding=finding,
        entry=entry,
        error="No space left on device",
        follow_up=(workflow.NEW_TERMINALS,),
    )
    assert outcome.status == 0 and outcome.lines[-3:] == (
        "Applied. To undo: uv-drive-guard undo 20261201T1-x",
        "warning: applied, not verified: No space left on device. To undo: uv-drive-guard undo 20261201T1-x",
        workflow.NEW_TERMINALS,
    )
    monkeypatch.setattr(workflow, "run_fix", lambda *a, **k: outcome)
    daemon.svc.controller.apply_fix("uvd006-move-off-drive-abc", KEY)
    daemon.until(lambda: bool(daemon.notifier.said))
    title, body = daemon.notifier.said[0]
    assert title == "Applied, not verified: Move uv's cache back"
    assert body == "applied, not verified: No space left on device. To undo: uv-drive-guard undo 20261201T1-x"


def test_only_a_temporary_fix_is_undone_when_its_drive_is_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The daemon asks the rule (UVD011's fallback is temporary), not a code it knows."""
    from uv_drive_guard.fixing import workflow
    from uv_drive_guard.fixing.journal import APPLIED
    from uv_drive_guard.fixing.outcome import Outcome, Result

    undone: list[str] = []
    monkeypatch.setattr(
        workflow, "run_undo", lambda entry_id, force: undone.append(entry_id) or Outcome(Result.UNDONE, undo=True)
    )
    back = _daemon(tmp_path, Machine(table=lambda: frozenset({("/dev/x", "/", "ext4", "rw")})))
    subject = "/media/u/STICK/cache"
    for code in ("UVD011", "UVD006"):
        entry = back.svc.journal.begin(fix_id=f"{code.lower()}-x", code=code, title=code, files=(), subject=subject)
        back.svc.journal.finish(entry, APPLIED)
    fallback = next(e.id for e in back.svc.journal.entries() if e.code == "UVD011")
    back.svc.start()
    try:
        back.settle(1)
        back.until(lambda: bool(back.notifier.said))
    finally:
        back.svc.stop()
    assert undone == [fallback]
    assert back.notifier.said[0] == ("Your drive is back", f"{subject} is used again, as you set it.")


def test_every_plug_in_is_announced_a_blip_is_not(daemon: Daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plugged in again later: told again. Gone and back within moments (a hub reset): once."""
    machine, watcher = daemon.machine, daemon.watcher
    monkeypatch.setattr(policy, "BLIP", 0.0)  # any time away is longer than a blip
    daemon.settle(1)
    assert len(daemon.stick_notices()) == 1
    machine.plugged = False
    watcher.on_change()
    daemon.settle(2)
    machine.plugged, machine.mount = True, "57"  # the same stick, a new mount of it
    watcher.on_change()
    daemon.settle(3)
    assert len(daemon.stick_notices()) == 2
    watcher.on_change()  # a rescan of the same mount: nothing new to say
    daemon.settle(4)
    assert len(daemon.stick_notices()) == 2
    monkeypatch.setattr(policy, "BLIP", 60.0)
    machine.plugged = False
    watcher.on_change()
    daemon.settle(5)
    machine.plugged, machine.mount = True, "58"  # back within the blip
    watcher.on_change()
    daemon.settle(6)
    assert len(daemon.stick_notices()) == 2


def _replug(daemon: Daemon, mount: str, scans: int) -> None:
    """Pulled out (a scan sees it gone), plugged in again as a new mount (a scan sees it back)."""
    daemon.machine.plugged = False
    daemon.watcher.on_change()
    daemon.settle(scans)
    daemon.machine.plugged, daemon.machine.mount = True, mount
    daemon.watcher.on_change()
    daemon.settle(scans + 1)


def test_dont_tell_me_again_for_this_drive(daemon: Daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    """The notice's button: no notice at the next plug-in, but the tray still shows the problem."""
    svc, views = daemon.svc, daemon.views
    monkeypatch.setattr(policy, "BLIP", 0.0)
    daemon.settle(1)
    quiet = next(a for a in daemon.notifier.shown[0].actions if a.kind is Kind.QUIET)
    daemon.notifier.callbacks[0](quiet)
    daemon.until(lambda: svc.memory.drive(KEY).quiet and views[-1].quiet == (KEY,))
    _replug(daemon, "99", 2)
    assert len(daemon.stick_notices()) == 1
    assert views[-1].reports[0].findings and views[-1].quiet == (KEY,)
    assert views[-1].state is actions.State.ERROR
    svc.controller.set_quiet(KEY, False)
    daemon.until(lambda: not svc.memory.drive(KEY).quiet and views[-1].quiet == ())
    _replug(daemon, "100", 4)
    assert len(daemon.stick_notices()) == 2


def test_a_muted_finding_is_not_announced_at_the_next_plug_in(daemon: Daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(policy, "BLIP", 0.0)
    daemon.settle(1)
    daemon.svc.controller.mute(KEY, "UVD006")
    daemon.settle(2)
    _replug(daemon, "77", 3)
    assert len(daemon.stick_notices()) == 1


def test_a_restarted_daemon_does_not_repeat_the_same_mount(tmp_path: Path) -> None:
    """drives.json keeps which mount was told: a daemon started again (same boot, same mount) is
    quiet; after the stick is plugged in again (a new mount) it speaks."""
    shown = []
    for mount_id in ("41", "41", "42"):
        again = _daemon(tmp_path, Machine(mount=mount_id))
        again.svc.start()
        try:
            again.settle(1)
        finally:
            again.svc.stop()
        shown.append(len(again.stick_notices()))
    assert shown == [1, 0, 1]


def test_the_daemon_scans_with_what_a_new_terminal_has(tmp_path: Path) -> None:
    """Started with UV_CACHE_DIR from ~/.bashrc in its environment; the line is turned off: the
    next scan's environment no longer has it, though the daemon's own still does."""
    home = tmp_path / "home"
    home.mkdir()
    bashrc = home / ".bashrc"
    bashrc.write_text("export UV_CACHE_DIR=/media/u/STICK/cache\n")
    env = {"HOME": str(home), "SHELL": "/bin/bash", "UV_CACHE_DIR": "/media/u/STICK/cache", "PATH": "/usr/bin"}
    machine = Machine()
    started = _daemon(tmp_path, machine, env)
    svc = started.svc
    svc.start()
    try:
        started.settle(1)
        assert machine.envs[-1]["UV_CACHE_DIR"] == "/media/u/STICK/cache"
        bashrc.write_text("# uv-drive-guard disabled: export UV_CACHE_DIR=/media/u/STICK/cache\n")
        svc.settings_changed()
        started.settle(2)
        assert "UV_CACHE_DIR" not in machine.envs[-1]
        assert svc.env["UV_CACHE_DIR"] == "/media/u/STICK/cache"  # its own environment is as it was
        assert str(bashrc) in svc.watched()
    finally:
        svc.stop()
