"""Answers to one event are handled in arrival order (CONTRACT §1: lower update_id first).

Updates are handled concurrently, and which one gets the database's lock first is up to the
database (neither SQLite's busy handler nor PostgreSQL's lock queue is in arrival order), so 500
taps at once would take the seats in no particular order. This outer middleware, registered
right after the transaction's and before anything touches the database, makes the answers to
one event wait in line: an asyncio lock is fair, and polling starts the updates' tasks in
update_id order, each reaching this point before it first waits. The next answer's first
statement then waits for the previous transaction (SQLite's write lock, PostgreSQL's row lock
on the event), which is the only one waiting for it. Answers to other events and all other
updates are not held up. One process only: several processes rely on the row lock alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from events.bot.callbacks import RsvpCallback

_PREFIX = RsvpCallback.__prefix__ + RsvpCallback.__separator__


def answered_event(update: Update) -> int | None:
    """The event an update answers (an RSVP tap), if any."""
    query = update.callback_query
    if query is None or not query.data or not query.data.startswith(_PREFIX):
        return None
    try:
        return RsvpCallback.unpack(query.data).event_id
    except (TypeError, ValueError):
        return None


class AnswerOrder(BaseMiddleware):
    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        event_id = answered_event(event) if isinstance(event, Update) else None
        if event_id is None:
            return await handler(event, data)
        lock = self._locks.setdefault(event_id, asyncio.Lock())
        self._waiting[event_id] = self._waiting.get(event_id, 0) + 1
        try:
            async with lock:
                return await handler(event, data)
        finally:
            self._waiting[event_id] -= 1
            if not self._waiting[event_id]:
                del self._waiting[event_id]
                del self._locks[event_id]
