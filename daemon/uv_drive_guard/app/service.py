"""The daemon's worker: watches mounts, scans, notifies, applies fixes; the tray's Controller.

One asyncio loop in one thread does all of it (desktop-notifier's D-Bus client lives there
too). Anything that blocks (scan, fix) runs in the loop's executor. Calls from the tray or
the mount watcher are posted onto the loop; views go back through `publish`, which the tray
hands to its own thread. A failure in one drive's handling is logged, never fatal.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from concurrent import futures
from dataclasses import replace
from typing import Any, Protocol, TypeVar

from .. import scan
from ..core import resolve, rules
from ..core.diagnose import diagnose
from ..core.model import Finding, Os, Snapshot
from ..edges import bounded, platforms
from ..fixing.journal import APPLIED, PENDING, Entry, Journal
from . import actions, portable
from .actions import Action, DriveReport, Notice
from .control import TrayView
from .memory import DriveMemory, Memory
from .policy import BLIP, Found, decide
from .watch import Watcher

log = logging.getLogger(__name__)
T = TypeVar("T")
SETTLE = 0.25  # seconds without a mount change before a burst's follow-up scan...
SETTLE_AT_MOST = 1.0  # ...but no longer than this when changes keep coming (other programs' mounts)
EXECUTOR_THREADS = 3  # scans (one at a time), a fix or undo, the journal and drives.json
WRITE_GRACE = 8.0  # seconds a quitting daemon waits for a fix, an undo or drives.json being written
SETTINGS_SETTLE = 0.5  # seconds after the last write to a startup file before the scan


class NotifierLike(Protocol):
    available: bool

    async def start(self) -> None: ...

    async def show(self, notice: Notice, on_action: Callable[[Action], None]) -> str | None: ...

    async def say(self, title: str, body: str) -> None: ...

    async def close(self) -> None: ...


class Service:
    def __init__(
        self,
        *,
        env: Mapping[str, str],
        options: Callable[[], scan.Options],
        notifier: NotifierLike,
        watcher: Watcher,
        publish: Callable[[TrayView], None] = lambda view: None,
        memory: Memory | None = None,
        journal: Journal | None = None,
        autostart: Any = None,
        on_quit: Callable[[], None] = lambda: None,
        policy: Callable[[], Mapping[str, bool]] = lambda: {"always": False, "unmount": True},
    ) -> None:
        self.env = dict(env)  # as the daemon was started: only the base of a new terminal's
        self.session: scan.Session | None = None  # read at start, off the loop
        self._options = options
        self.notifier = notifier
        self.watcher = watcher
        self.publish = publish
        self.memory = memory or Memory()
        self.journal = journal or Journal()
        self.autostart = autostart
        self.on_quit = on_quit
        self.policy = policy
        self.memo = scan.Memo()
        self.reports: tuple[DriveReport, ...] = ()
        self.paused_until: float | None = None
        self.mounts: frozenset[str] = frozenset()
        self.scans = 0  # for tests and benchmarks: scans completed
        self.notified: list[tuple[float, str]] = []  # (time, title) of every notice shown
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="uv-drive-guard worker", daemon=True)
        self._burst: asyncio.Task[None] | None = None  # the scans answering the current burst of mount changes
        self._again = False  # a change came while the burst's scan ran: one more scan follows it
        self._table: frozenset[tuple[str, ...]] | None = None  # the mount table the last burst scan saw
        self._scanning: asyncio.Lock | None = None  # one scan at a time: they share the memo
        self._ready = threading.Event()
        self.failure: str | None = None  # the last event that failed, shown in the tray until a scan works
        self._entries: tuple[Entry, ...] = ()  # the journal as last read (off the loop)
        self._saved_memory: bytes | None = None  # what drives.json holds, as far as we wrote it
        self._writes: set[futures.Future[Any]] = set()  # writes under way: a quit waits for them
        self._pool = bounded.Pool(EXECUTOR_THREADS, "uv-drive-guard io")  # the loop's executor
        self._settings_timer: asyncio.TimerHandle | None = None
        self._saving: asyncio.Lock | None = None  # drives.json is written by one coroutine at a time
        self._boot = 0.0  # when this computer started: part of what makes a mount this mount
        self._present: dict[str, str] = {}  # drive key -> its mount, at the last scan
        self._gone: dict[str, float] = {}  # drive key -> when a scan first found it gone
        self._present_before: frozenset[str] = frozenset()  # drive keys the scan before the last one saw
        self._last_scan = float("-inf")

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(timeout=30)

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._startup())
        self._ready.set()
        self.loop.run_forever()
        if unfinished := bounded.finish(self._writes, WRITE_GRACE):
            log.warning("quitting with %d write(s) still under way", unfinished)
        # Scans still running or queued at quit (a drive that hangs) are cancelled, not destroyed half-way:
        # their tasks stop at once even when an executor thread is stuck on the drive.
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.run_until_complete(self.notifier.close())
        self.loop.close()
        self._pool.shutdown(wait=False)

    async def _startup(self) -> None:
        """The watcher first: a first scan that fails must not leave the daemon deaf."""
        self._boot = await self._off_loop(_boot_time)
        try:
            self.session = await self._off_loop(scan.Session.start, self.env)
        except OSError:
            log.exception("cannot read the startup files; scanning with the environment given")
        try:
            await self.notifier.start()
        except Exception:
            log.exception("notifications are unavailable")
        try:
            self.watcher.start(self._mount_changed)
        except Exception as exc:
            log.exception("cannot watch for drives")
            self.failure = f"cannot watch for drives: {exc}"
        await self._guarded(self._scan("start"), "the first scan")

    def stop(self) -> None:
        self.watcher.stop()
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)

    def _post(self, work: Coroutine[Any, Any, None], what: str = "a request") -> None:
        """From any thread: run `work` on the worker loop, behind the error boundary."""
        asyncio.run_coroutine_threadsafe(self._guarded(work, what), self.loop)

    async def _guarded(self, work: Coroutine[Any, Any, None], what: str = "handling a drive event") -> None:
        """The error boundary of every event (udiskie guards each device event the same way):
        logged with its traceback, shown in the tray, and the next event is handled as usual."""
        try:
            await work
        except Exception as exc:
            log.exception("%s failed; the daemon goes on", what)
            self.failure = f"{what} failed: {exc}"
            self._publish()

    # --- mounts and scans -----------------------------------------------------------------

    def _mount_changed(self) -> None:
        """Called on the watcher's thread."""
        self.loop.call_soon_threadsafe(self._schedule)

    def _schedule(self) -> None:
        """Scan at the first change of a burst (a mount arrives as several mountinfo changes); the
        changes that come while it runs are answered together by at most one follow-up scan."""
        if self._burst is not None and not self._burst.done():
            self._again = True
            return
        self._burst = self.loop.create_task(self._answer_burst())

    async def _answer_burst(self) -> None:
        """The follow-up waits until the burst has been quiet for SETTLE (SETTLE_AT_MOST at
        most), and runs only when the table differs from what the previous scan read (options
        count: a remount read-only is a change of its own). One mount often raises several
        changes; a follow-up started at once would probe a drive being unplugged after the notice."""
        self._again, first = True, True
        while self._again:
            self._again = False
            if not first:
                await self._quiet()
            first = False
            table = await self._off_loop(_mount_table)
            if table == self._table:
                continue
            self._table = table
            mounts = frozenset(entry[1] for entry in table)
            await self._guarded(self._changed(mounts), "the scan after a mount change")

    async def _quiet(self) -> None:
        deadline = self.loop.time() + SETTLE_AT_MOST
        while self.loop.time() < deadline:
            await asyncio.sleep(min(SETTLE, max(0.0, deadline - self.loop.time())))
            if not self._again:
                return
            self._again = False

    async def _changed(self, now: frozenset[str]) -> None:
        gone = self.mounts - now
        if gone:
            self.memo.forget(gone)
        await self._scan("mount change")

    async def _scan(self, reason: str) -> None:
        if self._scanning is None:
            self._scanning = asyncio.Lock()
        async with self._scanning:
            await self._scan_now(reason)

    async def _scan_now(self, reason: str) -> None:
        options = self._options()
        snapshot = await self._off_loop(lambda: scan.gather(self.terminal_env(), options, memo=self.memo, session=True))
        findings = diagnose(snapshot)
        self.mounts = frozenset(v.mountpoint for v in snapshot.volumes)
        await self._write(portable.follow, snapshot, findings)  # a known drive moved, the hint: follow
        self.reports = tuple(self._visible(r) for r in actions.reports(snapshot, findings))
        names = ", ".join(r.name for r in self.reports)
        log.info("scan (%s): %d drive(s) in scope, %d finding(s) [%s]", reason, len(self.reports), len(findings), names)
        await self._read_journal()
        await self._revert_fallbacks(snapshot)
        blips, returns = self._comings(self.reports)
        for report in self.reports:
            await self._maybe_notify(report, blips, returns)
        await self._save_memory()
        self.failure = None
        self._publish()
        self.scans += 1

    def terminal_env(self) -> dict[str, str]:
        """What a new terminal would have now (read off the loop): the startup files and stores
        as they are, never the environment the daemon was started with."""
        return self.session.env() if self.session is not None else dict(self.env)

    def watched(self) -> tuple[str, ...]:
        """The files whose change changes what a new terminal's uv does (the file watcher's)."""
        from ..edges import settings

        env = self.session.base if self.session is not None else self.env
        os_ = platforms.current()
        home = env.get("USERPROFILE" if os_ is Os.WINDOWS else "HOME") or os.path.expanduser("~")
        return settings.watched_paths(os_, home, env)

    def settings_changed(self) -> None:
        """A startup file, a uv.toml or a store the scan reads changed (from a watcher's thread):
        scan again, a moment later, once for a burst of writes (editors write several times)."""
        self.loop.call_soon_threadsafe(self._settings_burst)

    def _settings_burst(self) -> None:
        if self._settings_timer is not None:
            self._settings_timer.cancel()
        self._settings_timer = self.loop.call_later(SETTINGS_SETTLE, self._post_settings_scan)

    def _post_settings_scan(self) -> None:
        self._settings_timer = None
        self.loop.create_task(self._guarded(self._scan("your settings changed"), "the scan after a settings change"))

    async def _off_loop(self, fn: Callable[..., T], *args: Any) -> T:
        """Blocking work (a scan, a read) in the pool: a quit does not wait for it."""
        return await asyncio.wrap_future(self._pool.submit(fn, *args))

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        """A write in the pool: a quit waits for it, up to WRITE_GRACE."""
        future = self._pool.submit(fn, *args)
        self._writes.add(future)
        try:
            return await asyncio.wrap_future(future)
        finally:
            self._writes.discard(future)

    async def _read_journal(self) -> None:
        """The journal is read in the executor; the loop only keeps what it read."""
        self._entries = tuple(await self._off_loop(self.journal.entries))

    async def _save_memory(self) -> None:
        """drives.json: the bytes are taken here, on the loop, and written in the executor, one
        write at a time (a scan and a button may both want to save)."""
        if self._saving is None:
            self._saving = asyncio.Lock()
        async with self._saving:
            data = self.memory.dump()
            if data != self._saved_memory:
                await self._write(self.memory.write, data)
                self._saved_memory = data

    async def _revert_fallbacks(self, snapshot: Snapshot) -> None:
        """A temporary fix (its rule says so: a fallback while a drive is away) lasts until the
        path's drive is mounted again; then the user's own setting comes back."""
        for entry in self._entries:
            if not rules.temporary(entry.code) or entry.state != APPLIED or not entry.subject:
                continue
            if not _drive_back(snapshot, entry.subject):
                continue
            from ..fixing import commands
            from ..fixing.outcome import Result

            undo = functools.partial(commands.run_undo, entry.id, force=False)
            outcome = await self._write(undo)
            if outcome.result is Result.UNDONE:
                await self.notifier.say("Your drive is back", f"{entry.subject} is used again, as you set it.")
            else:
                log.warning("could not revert the fallback %s: %s", entry.id, outcome.error)

    def _visible(self, report: DriveReport) -> DriveReport:
        muted = set(self.memory.drive(report.key).muted) if report.key in self.memory.drives else set()
        if self.memory.drives.get(report.key, None) and self.memory.drives[report.key].ignored:
            return replace(report, findings=())
        return replace(report, findings=tuple(f for f in report.findings if f.code not in muted))

    def _comings(self, reports: tuple[DriveReport, ...]) -> tuple[frozenset[str], frozenset[str]]:
        """(blips, returns): drives back (or mounted anew) within moments of going, which a hub
        reset is, and drives seen gone for longer, which are plugged in anew whatever their
        mount looks like (a system without disk sequence numbers hands the same one out again)."""
        now = time.monotonic()
        present = {r.key: r.mount(self._boot) for r in reports if r.key != actions.ABSENT}
        for key in self._present.keys() - present.keys():
            self._gone.setdefault(key, now)
        came = {key for key in present if key in self._gone}
        blips = {key for key in came if now - self._gone[key] < BLIP}
        blips |= {
            key
            for key, mount in present.items()
            if self._present.get(key, mount) != mount and now - self._last_scan < BLIP
        }
        for key in present:
            self._gone.pop(key, None)
        self._present_before = frozenset(self._present)
        self._present, self._last_scan = present, now
        return frozenset(blips), frozenset(came - blips)

    async def _maybe_notify(
        self, report: DriveReport, blips: frozenset[str] = frozenset(), returns: frozenset[str] = frozenset()
    ) -> None:
        policy = self.policy()
        if report.key == actions.ABSENT:
            report = self._newly_absent(report)
            if not report.findings or not policy.get("unmount", True) or self.paused:
                return
            notice = actions.notice(report)
            if notice is not None:
                await self.notifier.show(notice, self._on_action)
                self.notified.append((time.monotonic(), notice.title))
            return
        entry = self.memory.drive(report.key)
        stayed = report.key in self._present_before
        found = Found(report.mount(self._boot), report.problems, report.key in blips, report.key in returns, stayed)
        plugged_in = found.returned or (found.mount != entry.announced and not found.blip)
        decision = decide(entry.known(), found, paused=self.paused)
        log.debug("notice for %s? %s (mount %s, told %s)", report.key, decision.notify, found.mount, entry.announced)
        entry.remember(decision.remember)
        notice = actions.notice(report) if decision.notify else None
        if notice is not None:
            await self.notifier.show(notice, self._on_action)
            self.notified.append((time.monotonic(), notice.title))
        elif plugged_in and not report.problems and policy.get("always", False) and not self._silent(entry):
            await self.notifier.say(f"uv works on {report.name}", "Nothing to fix on this drive.")

    def _newly_absent(self, report: DriveReport) -> DriveReport:
        """Only directories whose drive went missing since the last notice: drives arriving
        one by one, or leaving together, must not repeat what was already said."""
        entry = self.memory.drive(actions.ABSENT)
        told = set(entry.shown.split("\n")) if entry.shown else set()
        missing = {f.location.path for f in report.findings if f.location}
        fresh = tuple(f for f in report.findings if f.location and f.location.path not in told)
        if missing != told:
            self.memory.shown(actions.ABSENT, "\n".join(sorted(missing)), save=False)
        return replace(report, findings=fresh)

    def _silent(self, entry: DriveMemory) -> bool:
        """ "uv works here" is a notice too: not while paused, nor for a quiet or ignored drive."""
        return self.paused or entry.quiet or entry.ignored

    def _on_action(self, action: Action) -> None:
        """A notification button: the same path as the tray menu's item."""
        actions.dispatch(action, self)

    @property
    def paused(self) -> bool:
        return self.paused_until is not None and time.time() < self.paused_until

    def view(self) -> TrayView:
        last = next((e for e in self._entries if e.state in (APPLIED, PENDING)), None)
        state, tooltip = actions.overall(self.reports, paused=self.paused), actions.summary(self.reports)
        if self.failure:
            state, tooltip = actions.State.ERROR, f"uv-drive-guard: {self.failure} (details in the log)"
        return TrayView(
            state=state,
            tooltip=tooltip,
            reports=self.reports,
            paused_until=self.paused_until if self.paused else None,
            autostart=self.autostart.status() if self.autostart is not None else None,
            last_fix=last.title if last else None,
            ignored=self.memory.ignored_keys(),
            quiet=self.memory.quiet_keys(),
        )

    def _publish(self) -> None:
        try:
            self.publish(self.view())
        except Exception:
            log.exception("could not update the tray")

    # --- the Controller -------------------------------------------------------------------

    def apply_fix(self, fix_id: str, volume_key: str) -> None:
        self._post(self._apply(fix_id), f"applying {fix_id}")

    async def _apply(self, fix_id: str) -> None:
        from ..fixing import commands  # loaded on the first fix: tomlkit and the planner are ~3 MB
        from .results import fix_notice

        options = self._options()
        outcome = await self._write(
            lambda: commands.run_fix(fix_id, self.terminal_env(), options, dry_run=False, confirm=lambda _q: True)
        )
        await self.notifier.say(*fix_notice(outcome))
        self.memo.forget()
        await self._scan("after a fix")

    def show_details(self, volume_key: str, code: str | None) -> None:
        self._post(self._details(volume_key, code), "showing details")

    async def _details(self, volume_key: str, code: str | None) -> None:
        finding = self._finding(volume_key, code)
        if finding is not None:
            fixes = "\n".join(f"- {fix.title}" for fix in finding.fixes)
            await self.notifier.say(
                finding.title, f"{finding.detail}\n\nuv would print:\n{finding.uv_message}\n{fixes}"
            )

    def _finding(self, volume_key: str, code: str | None) -> Finding | None:
        for report in self.reports:
            if report.key == volume_key:
                return next((f for f in report.findings if code is None or f.code == code), None)
        return None

    def undo_last(self) -> None:
        self._post(self._undo(), "undoing the last fix")

    async def _undo(self) -> None:
        from ..fixing import commands
        from .results import undo_notice

        outcome = await self._write(lambda: commands.run_undo(None, force=False))
        await self.notifier.say(*undo_notice(outcome))
        self.memo.forget()
        await self._scan("after an undo")

    # Called from the tray's and the watchers' threads: shared state (the memo, the memory, the
    # pause) is only changed on the worker loop, by the coroutines posted here.

    def rescan(self) -> None:
        self._post(self._rescan(), "the rescan")

    async def _rescan(self) -> None:
        self.memo.forget()
        await self._scan("rescan")

    def pause(self, seconds: float | None) -> None:
        until = None if seconds == 0 else (float("inf") if seconds is None else time.time() + seconds)
        self.loop.call_soon_threadsafe(self._set_pause, until)

    def _set_pause(self, until: float | None) -> None:
        self.paused_until = until
        self._publish()

    def ignore_drive(self, volume_key: str) -> None:
        self._post(self._ignore(volume_key), "ignoring a drive")

    async def _ignore(self, volume_key: str) -> None:
        self.memory.ignore(volume_key, save=False)
        await self._scan("drive ignored")

    def mute(self, volume_key: str, code: str) -> None:
        self._post(self._mute(volume_key, code), "muting a finding")

    async def _mute(self, volume_key: str, code: str) -> None:
        self.memory.mute(volume_key, code, save=False)
        await self._scan("finding muted")

    def set_quiet(self, volume_key: str, quiet: bool) -> None:
        """ "Don't tell me again for this drive" (or tell me again): the tray keeps showing it."""
        self._post(self._set_quiet(volume_key, quiet), "changing a drive's notices")

    async def _set_quiet(self, volume_key: str, quiet: bool) -> None:
        self.memory.set_quiet(volume_key, quiet, save=False)
        await self._save_memory()
        self._publish()

    def set_autostart(self, enabled: bool) -> None:
        self._post(self._autostart(enabled), "changing start at login")

    async def _autostart(self, enabled: bool) -> None:
        if self.autostart is None:
            return
        try:
            done = self.autostart.enable() if enabled else self.autostart.disable()
        except (OSError, ValueError) as exc:
            await self.notifier.say("Start at login was not changed", str(exc))
        else:
            log.info("start at login: %s", done)
        self._publish()

    def open_log(self) -> None:
        from .desktop import log_file, open_path

        open_path(log_file())

    def open_settings(self) -> None:
        from .desktop import open_path, settings_file

        open_path(settings_file())

    def quit(self) -> None:
        self.on_quit()


def _drive_back(snapshot: Snapshot, path: str) -> bool:
    """The path lies on a mounted drive again, not on the system disk beneath its mount point."""
    mount = resolve.volume_of(snapshot.os, path, tuple(v.mountpoint for v in snapshot.volumes))
    volume = snapshot.volume(mount)
    return volume is not None and not volume.system and volume.mountpoint != "/"


def _boot_time() -> float:
    import psutil

    return float(psutil.boot_time())


def _mount_table() -> frozenset[tuple[str, ...]]:
    """(device, mount point, filesystem, options) of every mount."""
    import psutil

    if platforms.current() is Os.WINDOWS:  # all=True waits on every mapped share in turn (psutil's disk.c)
        from ..edges.volumes import get_remote_roots

        local = ((p.device, p.mountpoint, p.fstype, p.opts) for p in psutil.disk_partitions(all=False))
        return frozenset([*local, *((root, root, "remote", "") for root in get_remote_roots())])
    return frozenset((p.device, p.mountpoint, p.fstype, p.opts) for p in psutil.disk_partitions(all=True))
