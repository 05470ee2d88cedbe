"""Answers to one event are handled in arrival order (CONTRACT §1: lower update_id first).

Updates are handled concurrently, and which one gets the database's lock first is up to the
database (neither SQLite's busy handler nor PostgreSQL's lock queue is in arrival order), so 500
taps at once would take the seats in no particular order. The transaction middleware makes the
answers to one event wait in line before their transactions begin: an asyncio lock is fair, and
polling starts the updates' tasks in update_id order, each reaching this point before it first
waits. An answer holds its turn until its transaction has committed, so the next one starts on
a free database. Answers to other events and all other
updates are not held up. One process only: several processes rely on the row lock alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

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


class AnswerOrder:
    """Per-event turns for answers, taken by the transaction middleware before its transaction
    begins and given back right after the commit (before the replies go out): the next answer's
    first statement then finds the database free instead of colliding with a commit in
    progress (SQLite's busy handler would make it sleep)."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    @asynccontextmanager
    async def turn(self, event: TelegramObject) -> AsyncIterator[Callable[[], None]]:
        """Wait for this update's turn (at once for anything but an answer); yields the call
        that gives the turn back early. It is given back on leaving at the latest."""
        event_id = answered_event(event) if isinstance(event, Update) else None
        if event_id is None:
            yield lambda: None
            return
        lock = self._locks.setdefault(event_id, asyncio.Lock())
        self._waiting[event_id] = self._waiting.get(event_id, 0) + 1
        try:
            await lock.acquire()

            def give_back() -> None:
                if lock.locked():
                    lock.release()

            try:
                yield give_back
            finally:
                give_back()
        finally:
            self._waiting[event_id] -= 1
            if not self._waiting[event_id]:
                del self._waiting[event_id]
                del self._locks[event_id]
