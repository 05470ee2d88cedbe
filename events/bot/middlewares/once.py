"""Each update is applied at most once: its id is stored in the transaction of its effects.

Telegram delivers at least once. A webhook is retried after any answer that is not a 2xx, so a
process that committed an update and died before answering gets it again; with polling, updates
come again when the process died before the next getUpdates confirmed them. The first statement
of every update's transaction inserts a `ProcessedUpdate` row; when the row is there already the
update was applied by an earlier delivery (in this process or another one) and nothing runs. The
row commits with the update's effects or rolls back with them, so a failed update is not marked
and its retry is handled afresh. On PostgreSQL a second delivery arriving while the first is
still being handled waits on the first's uncommitted row and then sees it.

Registered right after the transaction and before everything else that touches the database.
Answers to one event taken together (events/bot/middlewares/taps.py) mark theirs with
:func:`first_deliveries` in one statement.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.clock import Clock
from events.db.models import ProcessedUpdate
from events.db.upsert import insert

log = logging.getLogger(__name__)

# Telegram keeps an undelivered update for up to 24 hours; a row outlives that with room to spare.
KEPT_FOR = timedelta(days=2)
PRUNE_EVERY_SECONDS = 3600.0


class OncePerUpdate(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        session: AsyncSession = data["session"]
        clock: Clock = data["clock"]
        if not await first_deliveries(session, [event.update_id], clock.now()):
            log.info("update %s was applied already; this delivery is ignored", event.update_id)
            return None
        return await handler(event, data)


async def first_deliveries(
    session: AsyncSession, update_ids: Sequence[int], now: datetime
) -> set[int]:
    """Mark the updates as processed in ``session``'s transaction; the ids that were not
    marked already (the others were applied by an earlier delivery)."""
    inserted = await session.execute(
        insert(session, ProcessedUpdate.__table__)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(ProcessedUpdate.update_id),
        [{"update_id": update_id, "processed_at": now} for update_id in update_ids],
    )
    return set(inserted.scalars().all())


async def prune_processed_updates(sessions: async_sessionmaker[AsyncSession], clock: Clock) -> int:
    """Forget the ids of updates handled more than `KEPT_FOR` ago; how many were forgotten."""
    async with sessions() as session, session.begin():
        result = await session.execute(
            delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < clock.now() - KEPT_FOR)
        )
    return int(result.rowcount or 0)
