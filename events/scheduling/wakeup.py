"""The delivery wake-up: one APScheduler job at the next due instant of the ledger.

The database is the source of truth; the scheduler only holds *when* to look next. The job
carries no arguments (nothing to pickle, nothing stale): when it fires, delivery claims
whatever is due by then. A periodic sweep is the safety net for anything the plan missed
(rows written by another process, people who unblocked the bot, leases that ran out).

Due instants are on the bot's :class:`~events.clock.Clock`; APScheduler waits on the process
clock, so a plan is converted with :meth:`Clock.to_process` and made again whenever the clock
moves.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from events.clock import Clock

log = logging.getLogger(__name__)

WAKE_JOB = "delivery:wake"
SWEEP_JOB = "delivery:sweep"
SWEEP_SECONDS = 60.0


class WakeUp:
    def __init__(
        self,
        scheduler: AsyncIOScheduler,
        clock: Clock,
        callback: Callable[[], None],
        *,
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        self.scheduler = scheduler
        self.clock = clock
        self.callback = callback
        self.sweep_seconds = sweep_seconds
        self.planned: datetime | None = None  # on the bot's clock
        self.noted: datetime | None = None  # the earliest row committed since the last wake-up

    def start(self) -> None:
        self.scheduler.add_job(
            self._sweep,
            "interval",
            seconds=self.sweep_seconds,
            id=SWEEP_JOB,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )

    def stop(self) -> None:
        for job_id in (WAKE_JOB, SWEEP_JOB):
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(job_id)
        self.planned = self.noted = None

    def plan(self, due: datetime | None) -> None:
        """Wake at ``due`` (the bot's clock); None: nothing is waiting. A time noted since the
        last wake-up (:meth:`note`) is kept if it comes first: the look that planned ``due``
        may have read the ledger before that row was committed."""
        if self.noted is not None:
            due = self.noted if due is None else min(due, self.noted)
        self.planned = due
        if due is None:
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(WAKE_JOB)
            return
        # Never silently dropped: however late the loop gets to it, it runs (once).
        self.scheduler.add_job(
            self._fire,
            "date",
            run_date=self.clock.to_process(due),
            id=WAKE_JOB,
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=None,
        )

    def earlier_than_planned(self, due: datetime) -> bool:
        return self.planned is None or due < self.planned

    def note(self, due: datetime) -> None:
        """A row falling due at ``due`` was committed: wake by then, without looking now."""
        self.noted = due if self.noted is None else min(self.noted, due)
        if self.earlier_than_planned(due):
            self.plan(due)

    async def _fire(self) -> None:
        self.planned = self.noted = None  # the look below reads every committed row
        self.callback()

    async def _sweep(self) -> None:
        self.callback()
