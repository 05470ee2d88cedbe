"""Delivery: the one way the bot sends to someone other than the person acting.

A feature writes ledger rows in its own transaction::

    async def handler(..., session: AsyncSession, delivery: Delivery) -> None:
        ...  # change the database
        key = f"notice:{event.id}:{event.revision}"
        await delivery.enqueue(session, person_id=rina.id, key=key, expires_at=event.starts_at)

and once that transaction commits the row is claimed, rendered in the recipient's language
by the renderer of its key's kind, and sent within Telegram's limits. Nothing is sent if the
transaction rolls back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiogram import Bot
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

from events.clock import Clock
from events.delivery import ledger
from events.delivery.limits import CountOtherWrites, Limiter
from events.delivery.progress import PROGRESS_INTERVAL, PROGRESS_THRESHOLD, ProgressReporter
from events.delivery.render import Renderer
from events.delivery.sender import Sender, SendPolicy
from events.i18n import CatalogueI18n
from events.scheduling.wakeup import WakeUp

log = logging.getLogger(__name__)

_PENDING_KEY = "events.delivery.pending"
_LISTENING_KEY = "events.delivery.listening"


@dataclass
class _Pending:
    """What a transaction enqueued: the earliest due time and progress to show."""

    transaction: SessionTransaction | None
    due: datetime
    reporters: list[ProgressReporter] = field(default_factory=list)


class Delivery:
    def __init__(
        self,
        *,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        scheduler: AsyncIOScheduler,
        i18n: CatalogueI18n,
        limiter: Limiter,
        default_locale: str,
        renderers: Mapping[str, Renderer] | None = None,
        policy: SendPolicy | None = None,
        progress_interval: float = PROGRESS_INTERVAL,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.clock = clock
        self.i18n = i18n
        self.limiter = limiter
        self.default_locale = default_locale
        self.renderers: dict[str, Renderer] = dict(renderers or {})
        self.progress_interval = progress_interval
        self.wakeup = WakeUp(scheduler, clock, self.wake)
        # The bot's other writes (answers to the person acting) count against the limits too.
        bot.session.middleware(CountOtherWrites(limiter))
        self.sender = Sender(
            bot=bot,
            sessions=sessions,
            clock=clock,
            limiter=limiter,
            renderers=self.renderers,
            i18n=i18n,
            default_locale=default_locale,
            plan=self.wakeup.plan,
            policy=policy,
        )
        self.reporters: dict[str, ProgressReporter] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe: Any = None

    # ----------------------------------------------------------------- features use these

    def register(self, kind: str, renderer: Renderer) -> None:
        """Render rows whose key starts with ``<kind>:`` with ``renderer``."""
        if not kind or ":" in kind:
            raise ValueError(f"a key kind is the part before the first ':', not {kind!r}")
        self.renderers[kind] = renderer

    async def enqueue(
        self,
        session: AsyncSession,
        *,
        person_id: int,
        key: str,
        due_at: datetime | None = None,
        expires_at: datetime | None = None,
    ) -> bool:
        """Write the row in ``session``'s transaction (see :func:`ledger.enqueue`); once it
        commits, delivery wakes if the row falls due before the planned wake-up.

        ``due_at`` defaults to now. Returns False when the row already existed.
        """
        due = due_at if due_at is not None else self.clock.now()
        added = await ledger.enqueue(
            session, person_id=person_id, key=key, due_at=due, expires_at=expires_at
        )
        if added:
            self._after_commit(session, due)
        return added

    async def enqueue_batch(
        self,
        session: AsyncSession,
        *,
        key: str,
        person_ids: Iterable[int],
        due_at: datetime | None = None,
        expires_at: datetime | None = None,
        host_id: int | None = None,
    ) -> int:
        """One message (one key) to many people; returns the rows added.

        With ``host_id``, a batch for more than :data:`PROGRESS_THRESHOLD` people shows that
        host a live progress message once the transaction commits.
        """
        due = due_at if due_at is not None else self.clock.now()
        people = list(dict.fromkeys(person_ids))
        added = await ledger.enqueue_many(
            session, key=key, person_ids=people, due_at=due, expires_at=expires_at
        )
        if added:
            self._after_commit(session, due)
        if host_id is not None and len(people) > PROGRESS_THRESHOLD:
            reporter = ProgressReporter(
                bot=self.bot,
                sessions=self.sessions,
                clock=self.clock,
                limiter=self.limiter,
                i18n=self.i18n,
                default_locale=self.default_locale,
                key=key,
                host_id=host_id,
                person_ids=people,
                due_at=due,
                interval=self.progress_interval,
            )
            self._after_commit(session, due, reporter)
        return added

    async def enqueue_rows(self, session: AsyncSession, rows: Iterable[ledger.Planned]) -> int:
        """Many rows, any people and keys (see :func:`ledger.enqueue_rows`); returns the rows
        added. Delivery wakes after the commit if one falls due before the planned wake-up."""
        planned = list(rows)
        added = await ledger.enqueue_rows(session, planned)
        if added:
            self._after_commit(session, min(row.due_at for row in planned))
        return added

    def wake_after_commit(self, session: AsyncSession, due: datetime) -> None:
        """For a feature that moved rows itself: look again once ``session`` commits if
        ``due`` comes before the planned wake-up."""
        self._after_commit(session, due)

    def wake(self) -> None:
        """Look for due rows now (also re-plans the next wake-up)."""
        self.sender.wake()

    # ----------------------------------------------------------------- the app uses these

    async def start(self) -> None:
        self.wakeup.start()
        self._unsubscribe = self.clock.subscribe(self.wake)
        self.sender.start()

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Stop: no new claims, sends in flight finish, progress messages stop moving."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.wakeup.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.sender.stop(timeout)

    # ----------------------------------------------------------------- after commit

    def _after_commit(
        self, session: AsyncSession, due: datetime, reporter: ProgressReporter | None = None
    ) -> None:
        """Remember what to do once the transaction of ``session`` commits."""
        sync: Session = session.sync_session
        root = sync.get_transaction()
        pending: _Pending | None = sync.info.get(_PENDING_KEY)
        if pending is None or pending.transaction is not root:
            # (a leftover of a transaction that rolled back is dropped here)
            pending = sync.info[_PENDING_KEY] = _Pending(root, due)
        if not sync.info.get(_LISTENING_KEY):
            event.listen(sync, "after_commit", self._committed)
            sync.info[_LISTENING_KEY] = True
        pending.due = min(pending.due, due)
        if reporter is not None:
            pending.reporters.append(reporter)

    def _committed(self, sync: Session) -> None:
        if sync.in_nested_transaction():
            return  # a savepoint: the rows are not visible to others yet
        pending: _Pending | None = sync.info.pop(_PENDING_KEY, None)
        if pending is None or pending.transaction is not sync.get_transaction():
            return
        if pending.due <= self.clock.now():
            self.wake()
        else:  # later: no look at the ledger now, only an earlier wake-up if need be
            self.wakeup.note(pending.due)
        for reporter in pending.reporters:
            self._track(reporter)

    def _track(self, reporter: ProgressReporter) -> None:
        previous = self.reporters.get(reporter.key)
        if previous is not None and previous.counts is not None and not previous.counts.finished:
            return  # already reporting this batch
        self.reporters[reporter.key] = reporter
        task = asyncio.create_task(reporter.run(), name=f"progress {reporter.key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
