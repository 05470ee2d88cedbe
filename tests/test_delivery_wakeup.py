"""The clock tells who listens when it moves; the wake-up follows the clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from events.clock import Clock
from events.scheduling import build_scheduler
from events.scheduling.wakeup import SWEEP_JOB, WAKE_JOB, WakeUp


def test_listeners_hear_every_move_until_they_unsubscribe() -> None:
    clock = Clock()
    heard: list[timedelta] = []
    unsubscribe = clock.subscribe(lambda: heard.append(clock.offset))
    clock.advance(timedelta(hours=1))
    clock.advance(timedelta(minutes=5))
    unsubscribe()
    clock.advance(timedelta(minutes=5))
    assert heard == [timedelta(hours=1), timedelta(hours=1, minutes=5)]


def test_a_failing_listener_does_not_stop_the_clock() -> None:
    clock = Clock()
    heard: list[int] = []

    def broken() -> None:
        raise RuntimeError("boom")

    clock.subscribe(broken)
    clock.subscribe(lambda: heard.append(1))
    clock.advance(timedelta(minutes=1))
    assert heard == [1]
    assert clock.offset == timedelta(minutes=1)


def test_a_clock_instant_maps_to_when_the_process_reaches_it() -> None:
    clock = Clock()
    clock.advance(timedelta(hours=3))
    due = clock.now() + timedelta(minutes=10)
    process_time = clock.to_process(due)
    expected = datetime.now(UTC) + timedelta(minutes=10)
    assert abs(process_time - expected) < timedelta(seconds=1)


async def test_the_wake_up_fires_at_the_planned_instant_and_never_drops_a_late_one() -> None:
    clock = Clock()
    clock.advance(timedelta(days=2))  # the bot's clock is far ahead of the process's
    fired = asyncio.Event()
    scheduler = build_scheduler()
    wakeup = WakeUp(scheduler, clock, fired.set)
    scheduler.start()
    try:
        wakeup.start()
        sweep = scheduler.get_job(SWEEP_JOB)
        assert sweep is not None
        assert sweep.args == ()
        assert sweep.misfire_grace_time is None

        wakeup.plan(clock.now() + timedelta(seconds=0.3))
        job = scheduler.get_job(WAKE_JOB)
        assert job is not None
        assert (job.args, job.kwargs, job.misfire_grace_time) == ((), {}, None)
        assert not fired.is_set()
        await asyncio.wait_for(fired.wait(), timeout=2)
        assert wakeup.planned is None

        fired.clear()
        wakeup.plan(clock.now() - timedelta(hours=1))  # already past: runs at once
        await asyncio.wait_for(fired.wait(), timeout=2)

        wakeup.plan(clock.now() + timedelta(hours=1))
        wakeup.plan(None)
        assert scheduler.get_job(WAKE_JOB) is None
        assert wakeup.earlier_than_planned(clock.now() + timedelta(days=300))
    finally:
        wakeup.stop()
        scheduler.shutdown(wait=False)
    assert scheduler.get_jobs() == []


async def test_a_noted_row_moves_the_wake_up_earlier_and_outlives_a_later_plan() -> None:
    clock = Clock()
    looks: list[int] = []
    scheduler = build_scheduler()
    wakeup = WakeUp(scheduler, clock, lambda: looks.append(1))
    scheduler.start()
    try:
        wakeup.start()
        soon, later = clock.now() + timedelta(hours=1), clock.now() + timedelta(hours=5)
        wakeup.plan(later)
        wakeup.note(soon)  # a row due in an hour was committed: no look now, an earlier plan
        assert looks == []
        assert wakeup.planned == soon
        wakeup.note(later)  # later than planned: nothing moves
        assert wakeup.planned == soon
        # A look that read the ledger before that row's commit plans later, or nothing: the
        # noted time stays.
        wakeup.plan(later)
        assert wakeup.planned == soon
        wakeup.plan(None)
        assert wakeup.planned == soon
        job = scheduler.get_job(WAKE_JOB)
        assert job is not None
        assert abs(job.next_run_time - clock.to_process(soon)) < timedelta(seconds=1)
        # Once it fires, the look reads every committed row: the note is spent.
        await wakeup._fire()
        assert looks == [1]
        wakeup.plan(later)
        assert wakeup.planned == later
    finally:
        wakeup.stop()
        scheduler.shutdown(wait=False)
