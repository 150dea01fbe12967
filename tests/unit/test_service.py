"""The daemon's worker with fakes at its edges: notices once per drive state, ignore, mute,
pause, buttons routed to the same paths as the tray, and errors that never stop it."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from uv_drive_guard import scan
from uv_drive_guard.app import actions, service
from uv_drive_guard.app.actions import Action, Kind, Notice
from uv_drive_guard.app.memory import Memory
from uv_drive_guard.core.model import (
    Capabilities,
    Definition,
    Location,
    Os,
    Role,
    Snapshot,
    Source,
    SourceKind,
    UvInfo,
    Volume,
)
from uv_drive_guard.fixing.journal import Journal

EXFAT = Capabilities(
    results=(("symlink_file", False), ("symlink_dir", False), ("rename_noreplace", False)),
    errnos=(("rename_noreplace", 1),),
    errors=(("rename_noreplace", "Operation not permitted (os error 1)"),),
    probed=True,
)


def _snapshot(plugged: bool, mount_id: str = "41") -> Snapshot:
    root = Volume("/", "/dev/vda", "ext4", system=True)
    stick = Volume(
        "/media/u/STICK",
        "/dev/sdb1",
        "exfat",
        label="STICK",
        uuid="AB-CD",
        removable=True,
        capabilities=EXFAT,
        instance=mount_id,
    )
    source = Source(SourceKind.SHELL_FILE, file="/home/u/.bashrc", line=1, name="UV_CACHE_DIR")
    cache = Location(Role.CACHE, "/media/u/STICK/cache", source, volume=stick.mountpoint if plugged else "/")
    return Snapshot(
        os=Os.LINUX,
        uv=UvInfo("uv 0.13.9", "/usr/bin/uv"),
        volumes=(root, stick) if plugged else (root,),
        locations=(cache,),
        definitions=(Definition("UV_CACHE_DIR", cache.path, source, raw=f"export UV_CACHE_DIR={cache.path}"),),
        scope=(stick.mountpoint,) if plugged else (),
        home="/home/u",
        defaults=((Role.CACHE, "/home/u/.cache/uv"),),
    )


class FakeNotifier:
    available = True

    def __init__(self) -> None:
        self.shown: list[Notice] = []
        self.said: list[tuple[str, str]] = []
        self.callbacks: list[Callable[[Action], None]] = []

    async def start(self) -> None: ...

    async def show(self, notice: Notice, on_action: Callable[[Action], None]) -> str | None:
        self.shown.append(notice)
        self.callbacks.append(on_action)
        return str(len(self.shown))

    async def say(self, title: str, body: str) -> None:
        self.said.append((title, body))

    async def close(self) -> None: ...


class FakeWatcher:
    def start(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change

    def stop(self) -> None: ...


def _service(tmp_path: Path, notifier: FakeNotifier, watcher: FakeWatcher, views: list[object]) -> service.Service:
    return service.Service(
        env={},
        options=scan.Options,
        notifier=notifier,
        watcher=watcher,
        publish=views.append,
        memory=Memory(tmp_path / "drives.json"),
        journal=Journal(tmp_path / "journal"),
    )


@pytest.fixture
def daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    state: dict[str, object] = {"plugged": True, "mount": "41"}
    monkeypatch.setattr(
        scan, "gather", lambda env, options, **_: _snapshot(bool(state["plugged"]), str(state["mount"]))
    )
    tables = itertools.count()  # every read of the mount table finds it changed
    monkeypatch.setattr(service, "_mount_table", lambda: frozenset({("/dev/x", "/", "ext4", f"rw,{next(tables)}")}))
    notifier, watcher = FakeNotifier(), FakeWatcher()
    views: list[object] = []
    svc = _service(tmp_path, notifier, watcher, views)
    svc.start()
    yield svc, notifier, watcher, state, views
    svc.stop()


def _settle(svc: service.Service, scans: int) -> None:
    deadline = time.monotonic() + 5
    while svc.scans < scans and time.monotonic() < deadline:
        time.sleep(0.01)
    assert svc.scans >= scans


def test_a_drive_is_told_once_per_state(daemon) -> None:
    svc, notifier, watcher, state, views = daemon
    _settle(svc, 1)
    assert [n.title for n in notifier.shown] == ["uv on STICK (exFAT): error"]
    assert "Could not acquire lock" in notifier.shown[0].body
    assert notifier.shown[0].actions[0].kind is Kind.FIX
    assert notifier.shown[0].state is actions.State.ERROR  # the icon it gets
    watcher.on_change()
    _settle(svc, 2)
    assert len(notifier.shown) == 1  # the same drive in the same state: nothing new to say
    state["plugged"] = False
    watcher.on_change()
    _settle(svc, 3)
    assert notifier.shown[-1].title == "uv on a drive that is not plugged in: warning"
    assert views[-1].state is actions.State.WARNING


def test_ignore_mute_and_pause(daemon) -> None:
    svc, _notifier, _watcher, _state, views = daemon
    _settle(svc, 1)
    svc.ignore_drive("uuid:AB-CD")
    _settle(svc, 2)
    assert views[-1].reports[0].findings == () and views[-1].ignored == ("uuid:AB-CD",)
    svc.pause(3600)
    _until(lambda: svc.paused)
    svc.pause(0)
    _until(lambda: not svc.paused)


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert condition()


def test_buttons_take_the_same_paths_as_the_menu(daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    svc, notifier, _watcher, _state, _views = daemon
    _settle(svc, 1)
    applied = threading.Event()
    calls: list[str] = []

    def run_fix(fix_id: str, env: object, options: object, **kwargs: object):
        calls.append(fix_id)
        applied.set()
        from uv_drive_guard.core.model import Fix
        from uv_drive_guard.fixing.outcome import Outcome, Result

        return Outcome(Result.APPLIED, fix=Fix(fix_id, "Move uv's cache back", "", ()))

    monkeypatch.setattr("uv_drive_guard.fixing.commands.run_fix", run_fix)
    fix = notifier.shown[0].actions[0]
    notifier.callbacks[0](fix)
    assert applied.wait(5)
    assert calls == [fix.fix_id]
    _settle(svc, 2)
    assert notifier.said and notifier.said[0][0].startswith("Fixed")


def test_a_failing_scan_does_not_stop_the_daemon(daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    svc, _notifier, watcher, _state, _views = daemon
    _settle(svc, 1)
    monkeypatch.setattr(scan, "gather", lambda *a, **k: (_ for _ in ()).throw(OSError(107, "drive gone")))
    watcher.on_change()
    time.sleep(0.3)
    monkeypatch.setattr(scan, "gather", lambda env, options, **_: _snapshot(True))
    watcher.on_change()
    _settle(svc, 2)


def test_notice_policy_from_the_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "gather", lambda env, options, **_: _snapshot(False))
    monkeypatch.setattr(service, "_mount_table", lambda: frozenset())
    notifier = FakeNotifier()
    svc = service.Service(
        env={},
        options=scan.Options,
        notifier=notifier,
        watcher=FakeWatcher(),
        memory=Memory(tmp_path / "drives.json"),
        journal=Journal(tmp_path / "journal"),
        policy=lambda: {"always": False, "unmount": False},
    )
    svc.start()
    try:
        _settle(svc, 1)
        assert notifier.shown == []  # unplugging is not announced when the user said so
    finally:
        svc.stop()


def test_a_burst_of_mount_changes_scans_at_once_then_once_more(daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    """No fixed delay before the first scan; the changes that arrive while it runs share one more."""
    svc, _notifier, watcher, _state, _views = daemon
    _settle(svc, 1)
    started: list[float] = []
    release = threading.Event()

    def slow_gather(
        env: object, options: object, memo: object = None, cwd: object = None, session: bool = False
    ) -> Snapshot:
        started.append(time.monotonic())
        release.wait(5)
        return _snapshot(True)

    monkeypatch.setattr(scan, "gather", slow_gather)
    # A settle period far longer than a busy machine's scheduling delay: a first scan that
    # waited for quiet (a debounce) would start after it, one that starts at once well before.
    monkeypatch.setattr(service, "SETTLE", 1.5)
    monkeypatch.setattr(service, "SETTLE_AT_MOST", 3.0)
    changed = time.monotonic()
    watcher.on_change()
    deadline = time.monotonic() + 5
    while not started and time.monotonic() < deadline:
        time.sleep(0.001)
    assert started and started[0] - changed < 0.75
    for _ in range(5):  # the rest of the burst, while the first scan is still running
        watcher.on_change()
    time.sleep(0.05)
    release.set()
    _settle(svc, 3)
    time.sleep(0.2)
    assert len(started) == 2 and svc.scans == 3  # the start, the burst's first scan, one follow-up
    assert started[1] - started[0] >= 1.5  # the follow-up waited for the burst to be quiet
    watcher.on_change()  # a change after the burst settled starts a new one at once
    _settle(svc, 4)


def test_a_change_that_leaves_the_table_as_it_was_scans_nothing(daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    """Several changes for one mount: the table the first scan read is the one after the burst."""
    svc, _notifier, watcher, _state, _views = daemon
    _settle(svc, 1)
    table = frozenset({("/dev/sdb1", "/media/u/STICK", "fuseblk", "rw")})
    monkeypatch.setattr(service, "_mount_table", lambda: table)
    watcher.on_change()
    _settle(svc, 2)
    watcher.on_change()  # the same table again: nothing to scan
    time.sleep(0.3)
    assert svc.scans == 2
    changed = frozenset({("/dev/sdb1", "/media/u/STICK", "fuseblk", "ro")})  # remounted read-only
    monkeypatch.setattr(service, "_mount_table", lambda: changed)
    watcher.on_change()
    _settle(svc, 3)


def test_a_first_scan_that_raises_kills_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}

    def gather(
        env: object, options: object, memo: object = None, cwd: object = None, session: bool = False
    ) -> Snapshot:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the first scan broke")
        return _snapshot(True)

    monkeypatch.setattr(scan, "gather", gather)
    monkeypatch.setattr(service, "_mount_table", lambda: frozenset())
    notifier, watcher, views = FakeNotifier(), FakeWatcher(), []
    svc = _service(tmp_path, notifier, watcher, views)
    svc.start()
    try:
        assert svc._thread.is_alive() and hasattr(watcher, "on_change"), "the watcher must start anyway"
        assert views[-1].state is actions.State.ERROR
        assert "the first scan failed: the first scan broke" in views[-1].tooltip
        watcher.on_change()  # the next event is handled as usual
        _settle(svc, 1)
        assert views[-1].state is actions.State.ERROR and "failed" not in views[-1].tooltip
        assert [n.title for n in notifier.shown] == ["uv on STICK (exFAT): error"]
    finally:
        svc.stop()


def test_shared_state_changes_on_the_loop_and_disk_io_off_it(daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    svc, _notifier, _watcher, _state, _views = daemon
    _settle(svc, 1)
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
    svc.mute("uuid:AB-CD", "UVD003")
    svc.ignore_drive("uuid:AB-CD")
    svc.rescan()
    _settle(svc, 4)
    worker = "uv-drive-guard worker"
    assert where["ignore"] == [worker] and where["mute"] == [worker] and where["forget"] == [worker]
    assert where["write"] and worker not in where["write"]  # drives.json written in the executor
    assert where["journal"] and worker not in where["journal"]
    assert Memory(svc.memory.path).drives["uuid:AB-CD"].ignored


def test_a_fix_applied_but_not_verified_says_so(daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    svc, notifier, _watcher, _state, _views = daemon
    _settle(svc, 1)
    from uv_drive_guard.core.model import Finding, Fix, Severity
    from uv_drive_guard.fixing import commands
    from uv_drive_guard.fixing.journal import Entry
    from uv_drive_guard.fixing.outcome import Outcome, Result

    fix = Fix("uvd006-move-off-drive-abc", "Move uv's cache back", "", ())
    finding = Finding("UVD006", Severity.ERROR, "uv's cache is on a drive", "", "", None, None, (fix,))
    entry = Entry("20261201T1-x", fix.id, "UVD006", fix.title, 0.0, "applied")
    outcome = Outcome(
        Result.NOT_VERIFIED,
        fix=fix,
        finding=finding,
        entry=entry,
        error="No space left on device",
        follow_up=(commands.NEW_TERMINALS,),
    )
    assert outcome.status == 0 and outcome.lines[-3:] == (
        "Applied. To undo: uv-drive-guard undo 20261201T1-x",
        "warning: applied, not verified: No space left on device. To undo: uv-drive-guard undo 20261201T1-x",
        commands.NEW_TERMINALS,
    )
    monkeypatch.setattr(commands, "run_fix", lambda *a, **k: outcome)
    svc.apply_fix("uvd006-move-off-drive-abc", "uuid:AB-CD")
    _until(lambda: bool(notifier.said))
    title, body = notifier.said[0]
    assert title == "Applied, not verified: Move uv's cache back"
    assert body == "applied, not verified: No space left on device. To undo: uv-drive-guard undo 20261201T1-x"


def test_only_a_temporary_fix_is_undone_when_its_drive_is_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The daemon asks the rule (UVD011's fallback is temporary), not a code it knows."""
    from uv_drive_guard.fixing import commands
    from uv_drive_guard.fixing.journal import APPLIED
    from uv_drive_guard.fixing.outcome import Outcome, Result

    monkeypatch.setattr(scan, "gather", lambda env, options, **_: _snapshot(True))
    monkeypatch.setattr(service, "_mount_table", lambda: frozenset({("/dev/x", "/", "ext4", "rw")}))
    undone: list[str] = []
    monkeypatch.setattr(
        commands, "run_undo", lambda entry_id, force: undone.append(entry_id) or Outcome(Result.UNDONE, undo=True)
    )
    notifier, watcher = FakeNotifier(), FakeWatcher()
    svc = _service(tmp_path, notifier, watcher, [])
    subject = "/media/u/STICK/cache"
    for code in ("UVD011", "UVD006"):
        entry = svc.journal.begin(fix_id=f"{code.lower()}-x", code=code, title=code, files=(), subject=subject)
        svc.journal.finish(entry, APPLIED)
    fallback = next(e.id for e in svc.journal.entries() if e.code == "UVD011")
    svc.start()
    try:
        _settle(svc, 1)
        _until(lambda: bool(notifier.said))
    finally:
        svc.stop()
    assert undone == [fallback]
    assert notifier.said[0] == ("Your drive is back", f"{subject} is used again, as you set it.")


def _stick_notices(notifier: FakeNotifier) -> list[str]:
    return [n.title for n in notifier.shown if "STICK" in n.title]


def test_every_plug_in_is_announced_a_blip_is_not(daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plugged in again later: told again. Gone and back within moments (a hub reset): once."""
    svc, notifier, watcher, state, _views = daemon
    monkeypatch.setattr(service, "BLIP", 0.3)
    _settle(svc, 1)
    assert len(_stick_notices(notifier)) == 1
    state["plugged"] = False
    watcher.on_change()
    _settle(svc, 2)
    time.sleep(0.4)  # longer than a blip
    state.update(plugged=True, mount="57")  # the same stick, a new mount of it
    watcher.on_change()
    _settle(svc, 3)
    assert len(_stick_notices(notifier)) == 2
    watcher.on_change()  # a rescan of the same mount: nothing new to say
    _settle(svc, 4)
    assert len(_stick_notices(notifier)) == 2
    monkeypatch.setattr(service, "BLIP", 60.0)
    state["plugged"] = False
    watcher.on_change()
    _settle(svc, 5)
    state.update(plugged=True, mount="58")  # back within the blip
    watcher.on_change()
    _settle(svc, 6)
    assert len(_stick_notices(notifier)) == 2


def _replug(svc: service.Service, watcher: FakeWatcher, state: dict[str, object], mount: str, scans: int) -> None:
    """Pulled out (a scan sees it gone), plugged in again as a new mount (a scan sees it back)."""
    state["plugged"] = False
    watcher.on_change()
    _settle(svc, scans)
    state.update(plugged=True, mount=mount)
    watcher.on_change()
    _settle(svc, scans + 1)


def test_dont_tell_me_again_for_this_drive(daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    """The notice's button: no notice at the next plug-in, but the tray still shows the problem."""
    svc, notifier, watcher, state, views = daemon
    monkeypatch.setattr(service, "BLIP", 0.0)
    _settle(svc, 1)
    quiet = next(a for a in notifier.shown[0].actions if a.kind is Kind.QUIET)
    notifier.callbacks[0](quiet)
    _until(lambda: svc.memory.drive("uuid:AB-CD").quiet)
    _replug(svc, watcher, state, "99", 2)
    assert len(_stick_notices(notifier)) == 1
    assert views[-1].reports[0].findings and views[-1].quiet == ("uuid:AB-CD",)
    assert views[-1].state is actions.State.ERROR
    svc.set_quiet("uuid:AB-CD", False)
    _until(lambda: not svc.memory.drive("uuid:AB-CD").quiet)
    _replug(svc, watcher, state, "100", 4)
    assert len(_stick_notices(notifier)) == 2


def test_a_muted_finding_is_not_announced_at_the_next_plug_in(daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    svc, notifier, watcher, state, _views = daemon
    monkeypatch.setattr(service, "BLIP", 0.0)
    _settle(svc, 1)
    svc.mute("uuid:AB-CD", "UVD006")
    _settle(svc, 2)
    _replug(svc, watcher, state, "77", 3)
    assert len(_stick_notices(notifier)) == 1


def test_a_restarted_daemon_does_not_repeat_the_same_mount(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """drives.json keeps which mount was told: a daemon started again (same boot, same mount) is
    quiet; after the stick is plugged in again (a new mount) it speaks."""
    mount = {"id": "41"}
    monkeypatch.setattr(scan, "gather", lambda env, options, **_: _snapshot(True, mount["id"]))
    monkeypatch.setattr(service, "_mount_table", lambda: frozenset())
    shown = []
    for mount_id in ("41", "41", "42"):
        mount["id"] = mount_id
        notifier = FakeNotifier()
        svc = _service(tmp_path, notifier, FakeWatcher(), [])
        svc.start()
        try:
            _settle(svc, 1)
        finally:
            svc.stop()
        shown.append(len(_stick_notices(notifier)))
    assert shown == [1, 0, 1]


def test_the_daemon_scans_with_what_a_new_terminal_has(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Started with UV_CACHE_DIR from ~/.bashrc in its environment; the line is turned off: the
    next scan's environment no longer has it, though the daemon's own still does."""
    home = tmp_path / "home"
    home.mkdir()
    bashrc = home / ".bashrc"
    bashrc.write_text("export UV_CACHE_DIR=/media/u/STICK/cache\n")
    seen: list[dict[str, str]] = []

    def gather(env: dict[str, str], options: object, **_: object) -> Snapshot:
        seen.append(dict(env))
        return _snapshot(True)

    monkeypatch.setattr(scan, "gather", gather)
    monkeypatch.setattr(service, "_mount_table", lambda: frozenset())
    env = {"HOME": str(home), "SHELL": "/bin/bash", "UV_CACHE_DIR": "/media/u/STICK/cache", "PATH": "/usr/bin"}
    svc = service.Service(
        env=env,
        options=scan.Options,
        notifier=FakeNotifier(),
        watcher=FakeWatcher(),
        memory=Memory(tmp_path / "drives.json"),
        journal=Journal(tmp_path / "journal"),
    )
    svc.start()
    try:
        _settle(svc, 1)
        assert seen[-1]["UV_CACHE_DIR"] == "/media/u/STICK/cache"
        bashrc.write_text("# uv-drive-guard disabled: export UV_CACHE_DIR=/media/u/STICK/cache\n")
        svc.settings_changed()
        _settle(svc, 2)
        assert "UV_CACHE_DIR" not in seen[-1]
        assert svc.env["UV_CACHE_DIR"] == "/media/u/STICK/cache"  # its own environment is as it was
        assert str(bashrc) in svc.watched()
    finally:
        svc.stop()
