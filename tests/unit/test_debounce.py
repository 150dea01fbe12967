"""The mount-burst debounce (app/debounce.py) on a clock of its own: every answer's time is exact."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import pytest

from uv_drive_guard.app.debounce import Burst

SETTLE, AT_MOST, ANSWER = 0.25, 1.0, 0.1  # an answer (a scan) takes ANSWER seconds


class Run:
    """A burst driven by a script of changes: `changes` are the times (s) at which they come,
    `answering` those that come while an answer runs, by answer (times from its start)."""

    def __init__(
        self, changes: Iterable[float], answering: Iterable[Iterable[float]] = (), fail_first: bool = False
    ) -> None:
        self.now = 0.0
        self.changes = sorted(changes)
        self.answering = [list(during) for during in answering]
        self.answers: list[float] = []
        self.fail_first = fail_first
        self.burst: Burst | None = None

    def _due(self) -> None:
        assert self.burst is not None
        while self.changes and self.changes[0] <= self.now + 1e-9:
            self.changes.pop(0)
            self.burst.poke()

    async def sleep(self, seconds: float) -> None:
        """Time passes; the changes due meanwhile come."""
        self.now += seconds
        self._due()
        await asyncio.sleep(0)

    async def answer(self) -> None:
        started = self.now
        self.answers.append(round(started, 3))
        during = self.answering.pop(0) if self.answering else []
        self.changes = sorted([*self.changes, *(started + at for at in during)])  # while this answer runs
        await self.sleep(ANSWER)
        if self.fail_first and len(self.answers) == 1:
            raise OSError("the mount table could not be read")

    async def main(self, until: float) -> None:
        loop = asyncio.get_running_loop()
        self.burst = Burst(self.answer, loop, settle=SETTLE, at_most=AT_MOST, clock=lambda: self.now, sleep=self.sleep)
        self._due()
        while self.now < until:
            await asyncio.sleep(0)
            if not self.burst.busy:
                await self.sleep(0.01)
        while self.burst.busy:
            await asyncio.sleep(0)

    def play(self, until: float = 10.0) -> list[float]:
        asyncio.run(self.main(until))
        return self.answers


def test_the_first_change_is_answered_at_once() -> None:
    assert Run([0.0]).play() == [0.0]


def test_changes_while_the_answer_runs_share_one_follow_up_after_quiet() -> None:
    """Five changes during the first answer: one more answer, SETTLE after the burst went quiet."""
    answers = Run([0.0], answering=[[0.01, 0.02, 0.03, 0.04, 0.05]]).play()
    assert len(answers) == 2
    assert answers[1] == pytest.approx(ANSWER + SETTLE)


def test_changes_that_keep_coming_are_answered_at_most_at_most_seconds_later() -> None:
    """Another program mounting every 0.2 s: the follow-up does not wait for quiet forever."""
    answers = Run([0.0, *(0.05 + 0.2 * n for n in range(10))]).play(until=3.0)
    assert answers[0] == 0.0
    assert answers[1] == pytest.approx(ANSWER + AT_MOST)


def test_a_change_after_the_burst_starts_a_new_one_at_once() -> None:
    answers = Run([0.0, 2.0]).play()
    assert answers == [0.0, pytest.approx(2.0, abs=0.011)]


def test_an_answer_without_changes_meanwhile_ends_the_burst() -> None:
    run = Run([0.0])
    assert run.play() == [0.0]
    assert run.burst is not None and not run.burst.busy


def test_a_change_just_after_the_follow_up_started_brings_one_more() -> None:
    """A change during the follow-up: answered too, once quiet again."""
    answers = Run([0.0], answering=[[0.05], [0.05]]).play()
    assert answers == [0.0, pytest.approx(ANSWER + SETTLE), pytest.approx(2 * ANSWER + 2 * SETTLE)]


def test_an_answer_that_raises_ends_the_burst_and_the_next_change_starts_anew() -> None:
    run = Run([0.0, 3.0], answering=[[0.05]], fail_first=True)
    with pytest.raises(OSError):
        asyncio.run(_surface(run))
    assert run.answers[0] == 0.0


async def _surface(run: Run) -> None:
    """The failing answer's task ends with its error; the burst is free for the next change."""
    loop = asyncio.get_running_loop()
    run.burst = burst = Burst(run.answer, loop, settle=SETTLE, at_most=AT_MOST, clock=lambda: run.now, sleep=run.sleep)
    burst.poke()
    task = burst._task
    assert task is not None
    await asyncio.wait([task])
    assert not burst.busy and run.answers == [0.0]
    burst.poke()  # a new burst, answered at once
    assert burst.busy
    await asyncio.wait([burst._task])  # type: ignore[list-item]
    assert run.answers == [0.0, 0.1]
    task.result()
