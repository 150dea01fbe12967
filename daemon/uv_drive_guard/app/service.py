"""The daemon's worker: one asyncio loop in one thread that watches mounts, scans, and tells.

desktop-notifier's D-Bus client lives on the loop too. Anything that blocks (a scan, a fix, the
journal, drives.json) runs in the loop's executor; calls from the tray, the notices and the
watchers are posted onto the loop, which alone changes the shared state; views go back through
`publish`, which the tray hands to its own thread. A failure in one event's handling is logged
and shown in the tray, never fatal. The parts, each with one job: the mount-burst debounce
(`debounce.py`), the tray's and notices' requests (`controller.py`), when to tell
(`policy.py`, pure, applied by `notices.py`), temporary fixes undone (`fallbacks.py`).
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
from typing import Any, Protocol, TypeVar

from .. import scan
from ..core.diagnose import diagnose
from ..core.model import Os, Snapshot
from ..edges import bounded, mounts, platforms
from ..fixing.journal import APPLIED, PENDING, Entry, Journal
from . import actions, fallbacks, portable
from .actions import Action, DriveReport
from .control import TrayView
from .controller import DaemonController
from .debounce import Burst
from .memory import Memory
from .notices import Announcer, NotifierLike, visible
from .policy import Switches
from .watch import Watcher

log = logging.getLogger(__name__)
T = TypeVar("T")
EXECUTOR_THREADS = 3  # scans (one at a time), a fix or undo, the journal and drives.json
WRITE_GRACE = 8.0  # seconds a quitting daemon waits for a fix, an undo or drives.json being written
SETTINGS_SETTLE = 0.5  # seconds after the last write to a startup file before the scan


class Gather(Protocol):
    """How a scan reads the machine: `scan.gather`, or a stand-in for tests."""

    def __call__(
        self, env: Mapping[str, str], options: scan.Options, *, memo: scan.Memo | None, session: bool
    ) -> Snapshot: ...


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
        switches: Callable[[], Switches] = Switches,
        gather: Gather = scan.gather,
        mount_table: Callable[[], frozenset[mounts.Entry]] = mounts.table,
    ) -> None:
        self.env = dict(env)  # as the daemon was started: only the base of a new terminal's
        self.session: scan.Session | None = None  # read at start, off the loop
        self.options = options
        self.notifier = notifier
        self.watcher = watcher
        self._publish_view = publish
        self.memory = memory or Memory()
        self.journal = journal or Journal()
        self.autostart = autostart
        self.on_quit = on_quit
        self.switches = switches
        self._gather = gather
        self._mount_table = mount_table
        self.memo = scan.Memo()
        self.reports: tuple[DriveReport, ...] = ()
        self.paused_until: float | None = None
        self.mounts: frozenset[str] = frozenset()
        self.scans = 0  # for tests and benchmarks: scans completed
        self.failure: str | None = None  # the last event that failed, shown in the tray until a scan works
        self.loop = asyncio.new_event_loop()
        self.controller = DaemonController(self)
        self.bursts = Burst(self._answer_burst, self.loop)
        self._announcer = Announcer(notifier, self.memory, self._on_action)
        self._thread = threading.Thread(target=self._run_loop, name="uv-drive-guard worker", daemon=True)
        self._table: frozenset[mounts.Entry] | None = None  # the mount table the last burst scan saw
        self._changes = 0  # mount changes the watcher reported so far
        self._stale = True  # a mount changed while the last burst scan ran: its view may be older
        self._scanning: asyncio.Lock | None = None  # one scan at a time: they share the memo
        self._ready = threading.Event()
        self._entries: tuple[Entry, ...] = ()  # the journal as last read (off the loop)
        self._saved_memory: bytes | None = None  # what drives.json holds, as far as we wrote it
        self._writes: set[futures.Future[Any]] = set()  # writes under way: a quit waits for them
        self._pool = bounded.Pool(EXECUTOR_THREADS, "uv-drive-guard io")  # the loop's executor
        self._settings_timer: asyncio.TimerHandle | None = None
        self._saving: asyncio.Lock | None = None  # drives.json is written by one coroutine at a time
        self._boot = 0.0  # when this computer started: part of what makes a mount this mount

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
        self._boot = await self.off_loop(mounts.boot_time)
        try:
            self.session = await self.off_loop(scan.Session.start, self.env)
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
        await self._guarded(self.scan("start"), "the first scan")

    def stop(self) -> None:
        self.watcher.stop()
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)

    def post(self, work: Coroutine[Any, Any, None], what: str = "a request") -> None:
        """From any thread: run `work` on the worker loop, behind the error boundary."""
        asyncio.run_coroutine_threadsafe(self._guarded(work, what), self.loop)

    def call_soon(self, callback: Callable[[], None]) -> None:
        """From any thread: run `callback` on the worker loop."""
        self.loop.call_soon_threadsafe(callback)

    async def _guarded(self, work: Coroutine[Any, Any, None], what: str = "handling a drive event") -> bool:
        """The error boundary of every event (udiskie guards each device event the same way):
        logged with its traceback, shown in the tray, and the next event is handled as usual.
        True when the work finished."""
        try:
            await work
        except Exception as exc:
            log.exception("%s failed; the daemon goes on", what)
            self.failure = f"{what} failed: {exc}"
            self.publish()
            return False
        return True

    async def off_loop(self, fn: Callable[..., T], *args: Any) -> T:
        """Blocking work (a scan, a read) in the executor: a quit does not wait for it."""
        return await asyncio.wrap_future(self._pool.submit(fn, *args))

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """A write in the executor: a quit waits for it, up to WRITE_GRACE."""
        future = self._pool.submit(fn, *args)
        self._writes.add(future)
        try:
            return await asyncio.wrap_future(future)
        finally:
            self._writes.discard(future)

    # --- mounts and scans -----------------------------------------------------------------

    def _mount_changed(self) -> None:
        """Called on the watcher's thread."""
        self.loop.call_soon_threadsafe(self._poke)

    def _poke(self) -> None:
        self._changes += 1
        self.bursts.poke()

    async def _answer_burst(self) -> None:
        """A scan only when the table differs from what the previous one read (options count: a
        remount read-only is a change of its own), or when a mount changed while that scan ran:
        a drive pulled out and plugged in again meanwhile leaves the same table (the same device,
        folder and even mount id come back), and the scan may have seen it gone."""
        before = self._changes
        table = await self.off_loop(self._mount_table)
        if table == self._table and not self._stale:
            return
        self._table = table
        now = frozenset(entry[1] for entry in table)
        scanned = await self._guarded(self._changed(now), "the scan after a mount change")
        self._stale = not scanned or self._changes != before  # a failed scan saw nothing

    async def _changed(self, now: frozenset[str]) -> None:
        gone = self.mounts - now
        if gone:
            self.memo.forget(gone)
        await self.scan("mount change")

    async def scan(self, reason: str) -> None:
        if self._scanning is None:
            self._scanning = asyncio.Lock()
        async with self._scanning:
            await self._scan_now(reason)

    async def _scan_now(self, reason: str) -> None:
        options = self.options()
        snapshot = await self.off_loop(lambda: self._gather(self.terminal_env(), options, memo=self.memo, session=True))
        findings = diagnose(snapshot)
        self.mounts = frozenset(v.mountpoint for v in snapshot.volumes)
        await self.write(portable.follow, snapshot, findings)  # a known drive moved, the hint: follow
        self.reports = tuple(visible(self.memory, r) for r in actions.reports(snapshot, findings))
        names = ", ".join(r.name for r in self.reports)
        log.info("scan (%s): %d drive(s) in scope, %d finding(s) [%s]", reason, len(self.reports), len(findings), names)
        await self._read_journal()
        await self._undo_fallbacks(snapshot)
        await self._announcer.tell(self.reports, boot=self._boot, paused=self.paused, switches=self.switches())
        await self.save_memory()
        self.failure = None
        self.scans += 1  # counted before the view goes out: whoever waits on views sees it
        self.publish()

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
        self.loop.create_task(self._guarded(self.scan("your settings changed"), "the scan after a settings change"))

    # --- the journal, drives.json, temporary fixes ----------------------------------------

    async def _read_journal(self) -> None:
        """The journal is read in the executor; the loop only keeps what it read."""
        self._entries = tuple(await self.off_loop(self.journal.entries))

    async def save_memory(self) -> None:
        """drives.json: the bytes are taken here, on the loop, and written in the executor, one
        write at a time (a scan and a button may both want to save)."""
        if self._saving is None:
            self._saving = asyncio.Lock()
        async with self._saving:
            data = self.memory.dump()
            if data != self._saved_memory:
                await self.write(self.memory.write, data)
                self._saved_memory = data

    async def _undo_fallbacks(self, snapshot: Snapshot) -> None:
        for entry in fallbacks.due(self._entries, snapshot):
            from ..fixing import workflow
            from ..fixing.outcome import Result

            outcome = await self.write(functools.partial(workflow.run_undo, entry.id, force=False))
            if outcome.result is Result.UNDONE:
                await self.notifier.say("Your drive is back", f"{entry.subject} is used again, as you set it.")
            else:
                log.warning("could not revert the fallback %s: %s", entry.id, outcome.error)

    # --- what the tray shows --------------------------------------------------------------

    def _on_action(self, action: Action) -> None:
        """A notice's button: the same path as the tray menu's item."""
        actions.dispatch(action, self.controller)

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

    def publish(self) -> None:
        try:
            self._publish_view(self.view())
        except Exception:
            log.exception("could not update the tray")
