"""What the person is told after each scan, as the pure policy decides (app/policy.py): a notice
about a drive's problems when it is plugged in, "uv works on STICK" when asked for, and what an
unplugged drive leaves behind. The drive memory keeps what was told; it runs on the worker loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from .actions import ABSENT, Action, DriveReport, Notice, notice
from .memory import DriveMemory, Memory
from .policy import Found, Seen, Switches, arrivals, decide

log = logging.getLogger(__name__)


class NotifierLike(Protocol):
    available: bool

    async def start(self) -> None: ...

    async def show(self, notice: Notice, on_action: Callable[[Action], None]) -> str | None: ...

    async def say(self, title: str, body: str) -> None: ...

    async def close(self) -> None: ...


def visible(memory: Memory, report: DriveReport) -> DriveReport:
    """The report as the person wants it: nothing for an ignored drive, no muted findings."""
    muted = set(memory.drive(report.key).muted) if report.key in memory.drives else set()
    if memory.drives.get(report.key, None) and memory.drives[report.key].ignored:
        return replace(report, findings=())
    return replace(report, findings=tuple(f for f in report.findings if f.code not in muted))


class Announcer:
    def __init__(self, notifier: NotifierLike, memory: Memory, on_action: Callable[[Action], None]) -> None:
        self._notifier = notifier
        self._memory = memory
        self._on_action = on_action
        self._seen = Seen()

    async def tell(self, reports: tuple[DriveReport, ...], *, boot: float, paused: bool, switches: Switches) -> None:
        """`boot`: when this computer started, part of what makes a mount this mount."""
        present = {r.key: r.mount(boot) for r in reports if r.key != ABSENT}
        came = arrivals(self._seen, present, time.monotonic())
        self._seen = came.seen
        for report in reports:
            if report.key == ABSENT:
                await self._absent(report, paused, switches)
                continue
            entry = self._memory.drive(report.key)
            key = report.key
            blip, returned, stayed = key in came.blips, key in came.returns, key in came.stayed
            found = Found(report.mount(boot), report.problems, blip, returned, stayed)
            decision = decide(entry.known(), found, paused=paused, switches=switches)
            log.debug("notice for %s? %s (mount %s, told %s)", key, decision.notify, found.mount, entry.announced)
            entry.remember(decision.remember)
            told = notice(report) if decision.notify else None
            if told is not None:
                await self._notifier.show(told, self._on_action)
            elif decision.all_clear:
                await self._notifier.say(f"uv works on {report.name}", "Nothing to fix on this drive.")

    async def _absent(self, report: DriveReport, paused: bool, switches: Switches) -> None:
        report = self._newly_absent(report)
        if not report.findings or not switches.unmount or paused:
            return
        told = notice(report)
        if told is not None:
            await self._notifier.show(told, self._on_action)

    def _newly_absent(self, report: DriveReport) -> DriveReport:
        """Only directories whose drive went missing since the last notice: drives arriving
        one by one, or leaving together, must not repeat what was already said."""
        entry: DriveMemory = self._memory.drive(ABSENT)
        told = set(entry.shown.split("\n")) if entry.shown else set()
        missing = {f.location.path for f in report.findings if f.location}
        fresh = tuple(f for f in report.findings if f.location and f.location.path not in told)
        if missing != told:
            self._memory.shown(ABSENT, "\n".join(sorted(missing)), save=False)
        return replace(report, findings=fresh)
