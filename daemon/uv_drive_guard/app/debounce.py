"""A burst of mount changes answered by as few scans as keep the view true.

One mount often raises several changes (the mount, then its options; a desktop automounter's
mount, then its remount), and other programs' mounts come in runs. The first change of a burst
is answered at once: no delay before a notice. The changes that come while that answer runs are
answered together by one follow-up, once they have been quiet for a moment: a follow-up started
at once would probe a drive being unplugged right after the notice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

SETTLE = 0.25  # seconds without a change before a burst's follow-up...
SETTLE_AT_MOST = 1.0  # ...but no longer than this when changes keep coming (other programs' mounts)


class Burst:
    """Calls `answer` at the first `poke`, then once more for all the pokes that came while it
    ran, after `settle` seconds without one (`at_most` seconds at most), and so on until an
    answer runs without a poke meanwhile. An answer that raises ends the burst; the next poke
    starts a new one. Used from the loop's own thread only."""

    def __init__(
        self,
        answer: Callable[[], Awaitable[None]],
        loop: asyncio.AbstractEventLoop,
        *,
        settle: float = SETTLE,
        at_most: float = SETTLE_AT_MOST,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settle, self.at_most = settle, at_most
        self._answer = answer
        self._loop = loop
        self._clock = clock or loop.time
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None
        self._again = False  # a change came while the burst's answer ran: one more answer follows

    def poke(self) -> None:
        """A change came."""
        if self.busy:
            self._again = True
            return
        self._task = self._loop.create_task(self._run())

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    async def settled(self) -> None:
        """Returns once the burst under way, if any, has been answered in full."""
        while self._task is not None and not self._task.done():
            await asyncio.wait([self._task])

    async def _run(self) -> None:
        self._again, first = True, True
        while self._again:
            self._again = False
            if not first:
                await self._quiet()
            first = False
            await self._answer()

    async def _quiet(self) -> None:
        deadline = self._clock() + self.at_most
        while self._clock() < deadline:
            await self._sleep(min(self.settle, max(0.0, deadline - self._clock())))
            if not self._again:
                return
            self._again = False
