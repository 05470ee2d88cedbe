"""GET /metrics: the process's counters and the delivery queue, in Prometheus' text format.

Off unless ``EVENTS_METRICS_TOKEN`` is set (then the route does not exist: 404); with it, a
scrape must say ``Authorization: Bearer <token>`` (401 otherwise). Nothing here names a
person, a chat, an event or a token; the counts still tell how busy the communities are, which
is nobody's business but the operator's.

The queue's two gauges are read from the database at scrape time (two counts on the ledger's
``(status, due_at)`` index), at most once every ``CACHE_SECONDS`` however often it is scraped.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.clock import Clock
from events.db.engine import SQLITE_BEGIN_OPTION
from events.db.models import Delivery, DeliveryStatus, Person
from events.metrics import CONTENT_TYPE, METRICS, Metrics, family, sample

log = logging.getLogger(__name__)

CACHE_SECONDS = 2.0
QUERY_TIMEOUT = 5.0


@dataclass(frozen=True)
class QueueDepth:
    due: int  # pending, due now, for people who have not blocked the bot: to be sent now
    pending: int  # every pending row (later reminders, rows held for people who blocked it)


@dataclass
class MetricsPage:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    token: str
    metrics: Metrics = field(default_factory=lambda: METRICS)
    cache_seconds: float = CACHE_SECONDS
    _depth: QueueDepth | None = field(default=None, repr=False)
    _read_at: float | None = field(default=None, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    def register(self, app: web.Application) -> None:
        app.router.add_get("/metrics", self.handle)

    def authorised(self, request: web.Request) -> bool:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode(), self.token.encode())

    async def handle(self, request: web.Request) -> web.Response:
        if not self.authorised(request):
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        lines = self.metrics.render()
        depth = await self.queue_depth()
        if depth is not None:
            lines += family(
                "events_delivery_due",
                "gauge",
                "Ledger rows pending and due now, for people who have not blocked the bot.",
                [sample("events_delivery_due", depth.due)],
            )
            lines += family(
                "events_delivery_pending",
                "gauge",
                "Ledger rows pending, due now or later (held ones included).",
                [sample("events_delivery_pending", depth.pending)],
            )
        return web.Response(
            body=("\n".join(lines) + "\n").encode(),
            headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"},
        )

    async def queue_depth(self) -> QueueDepth | None:
        """The queue's counts, at most ``cache_seconds`` old; None when the database does
        not answer (the gauges are left out rather than shown wrong)."""
        async with self._lock:
            if self._read_at is not None and time.monotonic() - self._read_at < self.cache_seconds:
                return self._depth
            try:
                async with asyncio.timeout(QUERY_TIMEOUT):
                    self._depth = await self._count()
            except (SQLAlchemyError, OSError, TimeoutError) as exc:
                log.warning("metrics: the database did not answer (%s)", type(exc).__name__)
                self._depth = None
            self._read_at = time.monotonic()
            return self._depth

    async def _count(self) -> QueueDepth:
        pending = Delivery.status == DeliveryStatus.PENDING
        async with self.sessions() as session:
            await session.connection(execution_options={SQLITE_BEGIN_OPTION: "DEFERRED"})
            total = await session.scalar(select(func.count()).select_from(Delivery).where(pending))
            due = await session.scalar(
                select(func.count())
                .select_from(Delivery)
                .join(Person, Person.id == Delivery.person_id)
                .where(pending, Delivery.due_at <= self.clock.now(), Person.blocked_at.is_(None))
            )
        return QueueDepth(due=int(due or 0), pending=int(total or 0))
