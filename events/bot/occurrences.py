"""Recurring events: the occurrences of each series are created ahead, over a rolling horizon.

The first occurrence is published by the wizard. Later ones are created, and announced in the
group like any event, once they start within `events.domain.series.HORIZON` from now: by a
job on the scheduler every hour (no arguments: it reads the series from the database) and
whenever the one clock moves. Each occurrence copies the latest one before it (so an edit of
"this and following" carries on) and starts where the series' rule puts it.

Several workers may look at once (every worker runs the job). Each series is extended in its own
transaction under the advisory lock ``SERIES_EXTEND`` on the series' id (`events.db.locks`):
a worker that does not get it leaves the series to the one that did. The occurrence's row is
written first, with ``INSERT … ON CONFLICT DO NOTHING``, and posted only when this transaction
created it: a row another transaction holds or committed means nothing is posted here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.bot.posts import announce
from events.clock import Clock
from events.db.locks import SERIES_EXTEND, try_job_lock
from events.db.models import Community, Event, EventStatus, Series
from events.db.upsert import insert
from events.domain.series import HORIZON, occurrence_start, within_end
from events.i18n import CatalogueI18n

log = logging.getLogger(__name__)

JOB = "series:extend"
EVERY_SECONDS = 3600.0


class Occurrences:
    def __init__(
        self,
        *,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        i18n: CatalogueI18n,
        scheduler: AsyncIOScheduler,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.clock = clock
        self.i18n = i18n
        self.scheduler = scheduler
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._unsubscribe: Any = None

    def start(self) -> None:
        self.scheduler.add_job(
            self._tick,
            "interval",
            seconds=EVERY_SECONDS,
            id=JOB,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        self._unsubscribe = self.clock.subscribe(self.poke)
        self.poke()

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        with contextlib.suppress(JobLookupError):
            self.scheduler.remove_job(JOB)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _tick(self) -> None:
        self.poke()

    def poke(self) -> None:
        """Look for occurrences to create, now (one look at a time; a poke during a look
        brings another look after it)."""
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            self._again = False
            try:
                with self.i18n.context():  # posts are written in each group's language
                    await self.extend_all()
            except Exception:
                log.exception("creating occurrences failed")
            if not self._again:
                return

    async def extend_all(self) -> int:
        """Create every occurrence now within the horizon; returns how many."""
        async with self.sessions() as session:
            ids = list(await session.scalars(select(Series.id).where(Series.active)))
        created = 0
        for series_id in ids:
            try:
                async with self.sessions() as session, session.begin():
                    created += await self.extend(session, series_id)
            except SQLAlchemyError:  # one series' trouble does not hold up the others
                log.exception("extending series %s failed", series_id)
        return created

    async def extend(self, session: AsyncSession, series_id: int) -> int:
        """Create the occurrences of one series now within the horizon, in ``session``'s
        transaction; 0 at once when another worker is extending it."""
        if not await try_job_lock(session, SERIES_EXTEND, series_id):
            return 0
        series = await session.get(Series, series_id)
        if series is None or not series.active:
            return 0
        latest = await session.scalar(
            select(Event)
            .where(Event.series_id == series.id)
            .order_by(Event.series_index.desc())
            .limit(1)
        )
        community = await session.get(Community, series.community_id)
        if latest is None or latest.series_index is None or community is None:
            series.active = False
            return 0
        if not community.active:
            return 0
        now, created = self.clock.now(), 0
        index = latest.series_index + 1
        while True:
            start = occurrence_start(
                series.frequency, series.anchor_start, series.anchor_index, index, series.timezone
            )
            if not within_end(index, start.date(), series.until, series.count):
                series.active = False
                return created
            if start > now + HORIZON:
                return created
            if start > now:
                if not await self._create(session, series, latest, community, index, start):
                    return created
                created += 1
            index += 1

    async def _create(
        self,
        session: AsyncSession,
        series: Series,
        latest: Event,
        community: Community,
        index: int,
        start: Any,
    ) -> bool:
        values = {
            "community_id": community.id,
            "kind": latest.kind,
            "title": latest.title,
            "description": latest.description,
            "timezone": series.timezone,
            "starts_at": start,
            "ends_at": start + (latest.ends_at - latest.starts_at),
            "place": latest.place,
            "location": latest.location,
            "join_link": latest.join_link,
            "capacity": latest.capacity,
            "status": EventStatus.PUBLISHED,
            "created_by": series.created_by,
            "series_id": series.id,
            "series_index": index,
        }
        # The row first: a concurrent insert of the same occurrence waits for this transaction
        # and then finds the row, so only the transaction that created it posts.
        event_id = await session.scalar(
            insert(session, Event)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["series_id", "series_index"])
            .returning(Event.id)
        )
        if event_id is None:
            log.info("occurrence %s of series %s exists already", index, series.id)
            return False
        event = await session.get(Event, event_id)
        assert event is not None
        try:
            return await announce(self.bot, session, event, community, self.i18n)
        except TelegramAPIError as exc:
            log.warning("could not announce occurrence %s of series %s: %s", index, series.id, exc)
            await session.delete(event)
            return False
