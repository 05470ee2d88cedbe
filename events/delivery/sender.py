"""The one sender: claims due ledger rows, renders them, sends them within the limits.

One asyncio worker per process. A round claims what is due (a couple of seconds' worth of
sends at the current rate), renders each row in its recipient's language, and queues it; the
worker starts every send the :class:`~events.delivery.limits.Limiter` allows, several in flight
at once, one per chat, in due order per chat. Outcomes are written to the ledger in batches by
a second task. When nothing more is due now, the round tells the wake-up when the next row
falls due.

Rows are claimed in this sender's name (a fresh id each start) and their leases renewed every
third of the lease while it holds them (docs/delivery.md, several processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.clock import Clock
from events.db.engine import SQLITE_BEGIN_OPTION
from events.db.models import DeliveryStatus, Person
from events.delivery import ledger
from events.delivery.ledger import Claimed, Outcome
from events.delivery.limits import ChatKind, Limiter, holding_turn
from events.delivery.render import OutgoingMessage, Renderer, key_kind
from events.i18n import CatalogueI18n, locale_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendPolicy:
    """How the sender claims and retries."""

    lease: timedelta = ledger.LEASE
    claim_seconds: float = 2.0  # claim at most this many seconds' worth of sends at once
    retry_base: float = 1.0  # first retry after a 5xx or network error, then doubling
    retry_cap: float = 600.0
    hold_retry_after: float = 60.0  # a longer 429 sends the row back to the ledger
    min_replan: float = 1.0  # never wake more often than this for rows someone else holds
    mark_ahead: float = 0.1  # rows are written as tried this many seconds' worth at a time


@dataclass(eq=False)
class _Item:
    row: Claimed
    message: OutgoingMessage
    tries: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def chat_id(self) -> int:
        return self.row.person_id


PlanWakeUp = Callable[[datetime | None], None]


class Sender:
    def __init__(
        self,
        *,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        limiter: Limiter,
        renderers: Mapping[str, Renderer],
        i18n: CatalogueI18n,
        default_locale: str,
        plan: PlanWakeUp,
        policy: SendPolicy | None = None,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.clock = clock
        self.limiter = limiter
        self.renderers = renderers
        self.i18n = i18n
        self.default_locale = default_locale
        self.policy = policy or SendPolicy()
        self._plan = plan
        self._queue: list[_Item] = []
        self._held: set[int] = set()  # claimed ids whose outcome is not written yet
        self._sending: set[asyncio.Task[None]] = set()
        self._outcomes: list[Outcome] = []
        self._marked: set[int] = set()  # claimed ids written as tried (see _mark_ahead)
        self._signal = asyncio.Event()
        self._flush_signal = asyncio.Event()
        self._claim_wanted = True
        self._stopping = False
        self._worker: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self.owner = uuid.uuid4().hex  # whose claims these are (a new one each start)

    # ----------------------------------------------------------------- lifecycle

    @property
    def running(self) -> bool:
        """Started and not completely stopped (outcomes written, unsent rows given back)."""
        return self._worker is not None

    def start(self) -> None:
        self._stopping = False
        self._claim_wanted = True
        self.owner = uuid.uuid4().hex
        log.info("delivery: claiming messages as %s", self.owner)
        self._worker = asyncio.create_task(self._work(), name="delivery-sender")
        self._flusher = asyncio.create_task(self._flush_loop(), name="delivery-ledger")
        self._renewer = asyncio.create_task(self._renew_loop(), name="delivery-leases")

    def wake(self) -> None:
        """Look for due rows now."""
        self._claim_wanted = True
        self._signal.set()

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Stop claiming; sends in flight finish (up to ``timeout``), unsent rows go back."""
        if self._worker is None:
            return
        self._stopping = True
        self._signal.set()
        await asyncio.gather(self._worker, return_exceptions=True)
        if self._sending:
            _, late = await asyncio.wait(self._sending, timeout=timeout)
            for task in late:  # their rows stay `sending` and end up `unknown`
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        unsent = [item.row.id for item in self._queue]
        self._queue.clear()
        self._flush_signal.set()
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
        if self._outcomes:
            await self._flush(self._outcomes)
        if unsent:
            await self._give_back(unsent)
        if self._renewer is not None:
            self._renewer.cancel()
            await asyncio.gather(self._renewer, return_exceptions=True)
        self._worker = self._flusher = self._renewer = None

    # ----------------------------------------------------------------- the worker

    def _capacity(self) -> int:
        return max(4, math.ceil(self.limiter.rate() * self.policy.claim_seconds))

    async def _work(self) -> None:
        # Claiming (a transaction, then rendering) runs beside the sends, never in their way:
        # the queue is refilled while its second half is still going out.
        claiming: asyncio.Task[None] | None = None
        while not self._stopping:
            if claiming is not None and claiming.done():
                claiming = None
            if claiming is None and self._claim_wanted and self._wants_rows():
                self._claim_wanted = False
                claiming = asyncio.create_task(self._claim(), name="delivery-claim")
                claiming.add_done_callback(lambda _task: self._signal.set())
            try:
                wait = await self._dispatch()
            except Exception:
                log.exception("the sender stumbled; going on in a second")
                wait = self.policy.min_replan
            if self._stopping:
                break
            if claiming is None and self._claim_wanted and self._wants_rows():
                continue
            self._signal.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._signal.wait(), None if wait is None else max(wait, 0.001)
                )
        if claiming is not None:
            await asyncio.gather(claiming, return_exceptions=True)  # its rows are given back

    def _wants_rows(self) -> bool:
        return len(self._queue) <= self._capacity() // 2

    async def _claim(self) -> None:
        try:
            if await self._claim_round():
                self._claim_wanted = True  # more may be due
        except Exception:
            log.exception("claiming due messages failed; trying again shortly")
            self._plan(self.clock.now() + timedelta(seconds=self.policy.min_replan))

    async def _claim_round(self) -> bool:
        """Claim and render due rows; True when the claim was full (more may be due)."""
        now = self.clock.now()
        limit = self._capacity() - len(self._queue)
        async with self.sessions() as session, session.begin():
            recovered = await ledger.recover_lost(session, now=now, keep=self._held)
            expired = await ledger.expire_overdue(session, now=now)
            claimed = await ledger.claim(
                session, now=now, limit=limit, owner=self.owner, lease=self.policy.lease
            )
            full = len(claimed) >= limit
            upcoming = None if full else await ledger.next_due(session, owner=self.owner)
        if recovered.unknown:
            log.warning(
                "%d messages were being sent when a process stopped: marked unknown",
                recovered.unknown,
            )
        if recovered.returned:
            log.info(
                "%d messages claimed by a process that stopped before sending them: sending them",
                recovered.returned,
            )
        if expired:
            log.info("%d messages expired unsent", expired)
        if not full:
            if upcoming is not None and upcoming <= now:
                # Due but not ours: another process holds those rows for now.
                upcoming = now + timedelta(seconds=self.policy.min_replan)
            self._plan(upcoming)
        if claimed:
            self._held.update(row.id for row in claimed)
            try:
                items, outcomes = await self._render(claimed)
            except Exception:
                await self._give_back([row.id for row in claimed])
                raise
            self._queue.extend(items)
            self._settle(outcomes)
        return full

    async def _give_back(self, ids: list[int]) -> None:
        """Claimed rows this process will not try go back to ``pending``."""
        try:
            async with self.sessions() as session, session.begin():
                await ledger.release(session, ids, owner=self.owner)
        except Exception:
            log.exception("could not give %d claimed rows back to the ledger", len(ids))
            return  # they stay `sending` and end up `unknown`
        finally:
            self._held.difference_update(ids)
            self._marked.difference_update(ids)

    async def _render(self, rows: list[Claimed]) -> tuple[list[_Item], list[Outcome]]:
        items: list[_Item] = []
        outcomes: list[Outcome] = []
        async with self.sessions() as session:
            await session.connection(execution_options={SQLITE_BEGIN_OPTION: "DEFERRED"})
            people = {
                person.id: person
                for person in await session.scalars(
                    select(Person).where(Person.id.in_({row.person_id for row in rows}))
                )
            }
            for row in rows:
                person = people.get(row.person_id)
                renderer = self.renderers.get(key_kind(row.key))
                if person is None or renderer is None:
                    error = "no such person" if person is None else "no renderer for this key"
                    outcomes.append(self._final(row, DeliveryStatus.FAILED, error=error))
                    continue
                locale = locale_for(person.locale, person.language_code, self.default_locale)
                try:
                    with self.i18n.context(), self.i18n.use_locale(locale):
                        message = await renderer(session, person, row.key)
                except Exception as exc:
                    log.exception("rendering %s failed", row.key)
                    outcomes.append(
                        self._final(row, DeliveryStatus.FAILED, error=f"rendering failed: {exc!r}")
                    )
                    continue
                if message is None:
                    outcomes.append(
                        self._final(row, DeliveryStatus.EXPIRED, error="nothing to say")
                    )
                else:
                    items.append(_Item(row, message))
        return items, outcomes

    async def _dispatch(self) -> float | None:
        """Start every send the limits allow now; seconds until another might be allowed."""
        wait: float | None = None
        now = self.clock.now()
        refused: set[int] = set()
        # A snapshot: a 429 may put an item back while a (shared) limiter is being asked.
        for item in list(self._queue):
            if self._stopping:
                break
            expires = item.row.expires_at
            if expires is not None and expires <= now:
                self._queue.remove(item)
                self._settle([self._final(item.row, DeliveryStatus.EXPIRED, item=item)])
                continue
            if item.chat_id in refused:  # keeps the order of one chat's messages
                continue
            if item.row.id not in self._marked:
                if not await self._mark_ahead(item, refused):
                    return self.policy.min_replan
                if item.row.id not in self._marked:  # no longer ours (see _mark_ahead)
                    continue
            permit = await self.limiter.acquire(item.chat_id, ChatKind.PRIVATE)
            if permit.granted:
                self._queue.remove(item)
                task = asyncio.create_task(self._send(item))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)
                continue
            wait = permit.wait if wait is None else min(wait, permit.wait)
            if permit.overall:
                break
            refused.add(item.chat_id)
        return wait

    async def _mark_ahead(self, first: _Item, refused: set[int]) -> bool:
        """Write ``first`` and the next few rows in line (a tenth of a second's worth) as tried,
        before any of them is sent: after a crash, the rows marked are `unknown` (they may have
        arrived) and the others go out. Marked before the limiter gives a turn, not between the
        turn and the call, so that a slow write never bunches sends together; False if the
        write failed (nothing is sent for a second)."""
        count = max(1, math.ceil(self.limiter.rate() * self.policy.mark_ahead))
        batch = [first.row.id]
        chats = {first.chat_id}
        for item in self._queue:
            if len(batch) >= count:
                break
            if item.chat_id in chats or item.chat_id in refused or item.row.id in self._marked:
                continue
            batch.append(item.row.id)
            chats.add(item.chat_id)
        try:
            async with self.sessions() as session, session.begin():
                mine = await ledger.mark_tried(
                    session, batch, now=self.clock.now(), owner=self.owner
                )
        except Exception:
            log.exception("could not write %d deliveries as being sent", len(batch))
            return False
        self._marked.update(mine)
        lost = set(batch) - mine
        if lost:
            # Taken back after this process stalled past their lease: another one sends them.
            log.warning("%d claimed messages were taken back by another process", len(lost))
            self._queue[:] = [item for item in self._queue if item.row.id not in lost]
            self._held.difference_update(lost)
        return True

    async def _send(self, item: _Item) -> None:
        item.tries += 1
        outcome: Outcome | None = None
        try:
            try:
                with holding_turn():
                    sent = await self.bot(item.message.method(item.chat_id))
            finally:
                await self.limiter.release(item.chat_id, ChatKind.PRIVATE)
        except TelegramRetryAfter as exc:
            await self.limiter.retry_after(item.chat_id, exc.retry_after)
            item.errors.append(exc.message)
            if exc.retry_after > self.policy.hold_retry_after:
                retry_at = self.clock.now() + timedelta(seconds=exc.retry_after)
                outcome = self._retry(item, retry_at, exc.message)
            else:
                self._requeue(item)
        except TelegramForbiddenError as exc:
            outcome = self._final(item.row, DeliveryStatus.BLOCKED, item=item, error=exc.message)
        except TelegramEntityTooLarge as exc:
            outcome = self._final(item.row, DeliveryStatus.FAILED, item=item, error=exc.message)
        except (TelegramServerError, TelegramNetworkError) as exc:
            outcome = self._retry(item, None, exc.message)
        except TelegramBadRequest as exc:
            outcome = self._final(item.row, DeliveryStatus.FAILED, item=item, error=exc.message)
        except TelegramAPIError as exc:
            outcome = self._final(item.row, DeliveryStatus.FAILED, item=item, error=exc.message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("sending %s failed", item.row.key)
            outcome = self._final(item.row, DeliveryStatus.FAILED, item=item, error=repr(exc))
        else:
            outcome = Outcome(
                item.row.id,
                item.row.person_id,
                DeliveryStatus.SENT,
                tries=item.tries,
                message_id=sent.message_id,
                sent_at=self.clock.now(),
            )
        finally:
            self._signal.set()
        if outcome is not None:
            self._settle([outcome])

    def _requeue(self, item: _Item) -> None:
        """Back to the head of the line after a 429 (so before later rows of its chat); the
        limiter keeps the chat closed until retry_after has passed."""
        self._queue.insert(0, item)

    def _retry(self, item: _Item, at: datetime | None, error: str) -> Outcome:
        """A later try (exponential back-off), or expired when that would be too late."""
        if at is None:
            delay = self.policy.retry_base * 2 ** max(item.row.attempts + item.tries - 1, 0)
            at = self.clock.now() + timedelta(seconds=min(delay, self.policy.retry_cap))
        expires = item.row.expires_at
        if expires is not None and at >= expires:
            return self._final(item.row, DeliveryStatus.EXPIRED, item=item, error=error)
        return Outcome(
            item.row.id,
            item.row.person_id,
            DeliveryStatus.PENDING,
            tries=item.tries,
            error=error,
            retry_at=at,
        )

    @staticmethod
    def _final(
        row: Claimed,
        status: DeliveryStatus,
        *,
        item: _Item | None = None,
        error: str | None = None,
    ) -> Outcome:
        if error is None and item is not None and item.errors:
            error = item.errors[-1]
        return Outcome(row.id, row.person_id, status, tries=item.tries if item else 0, error=error)

    # ----------------------------------------------------------------- the ledger

    def _settle(self, outcomes: list[Outcome]) -> None:
        if outcomes:
            self._outcomes.extend(outcomes)
            self._flush_signal.set()

    async def _flush_loop(self) -> None:
        while True:
            await self._flush_signal.wait()
            self._flush_signal.clear()
            if self._outcomes:
                batch, self._outcomes = self._outcomes, []
                if not await self._flush(batch):
                    if self._stopping:
                        return  # the rows stay `sending` and end up `unknown`
                    self._outcomes[:0] = batch
                    await asyncio.sleep(1.0)
                    self._flush_signal.set()
                    continue
                retried = any(o.status is DeliveryStatus.PENDING for o in batch)
                if retried or not (self._queue or self._sending):
                    self.wake()  # plans the next wake-up from what is left
            if self._stopping and not self._sending:
                return

    async def _flush(self, batch: list[Outcome]) -> bool:
        try:
            async with self.sessions() as session, session.begin():
                await ledger.record(session, batch, now=self.clock.now(), owner=self.owner)
        except Exception:
            log.exception("could not write %d delivery outcomes", len(batch))
            return False
        self._held.difference_update(outcome.id for outcome in batch)
        self._marked.difference_update(outcome.id for outcome in batch)
        return True

    async def _renew_loop(self) -> None:
        """Keep the leases of the rows this sender holds, a third of the lease at a time."""
        every = self.policy.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            held = list(self._held)
            if not held:
                continue
            try:
                async with self.sessions() as session, session.begin():
                    await ledger.renew(
                        session,
                        held,
                        now=self.clock.now(),
                        owner=self.owner,
                        lease=self.policy.lease,
                    )
            except Exception:
                log.exception("could not renew the leases of %d claimed messages", len(held))
