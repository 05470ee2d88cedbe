"""One update at a time per person and chat: in this process (:class:`LocalIsolation`), or
across processes with `EVENTS_REDIS_URL` (aiogram's Redis lock).

A person's updates are then handled in the order they came: a tap made right after a message
does not overtake it (polling starts the updates' tasks in update_id order, and each reaches the
lock before it first waits; an asyncio lock is fair).

aiogram's FSM middleware would take the isolation lock inside the update's transaction; here it
is taken before the transaction begins and held until the state has been written after the
commit, so the next update of the same person reads the state this one left, and a lock is
never awaited while holding database locks another update may wait for.

Answers to events (RSVP taps) do not take it: they wait in their event's line instead
(events/bot/middlewares/taps.py), which keeps every tap, one person's repeated taps included, in
update_id order. Were they to take it, a person's second tap would wait for their first to be
answered and join a later batch, behind taps made after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey
from aiogram.types import TelegramObject, Update

from events.bot.middlewares.taps import answered


class Isolation(BaseMiddleware):
    def __init__(self, fsm: FSMContextMiddleware, isolation: BaseEventIsolation) -> None:
        self.fsm = fsm
        self.isolation = isolation

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        bot: Bot = data["bot"]
        context = self.fsm.resolve_event_context(bot, data)
        if context is None or (isinstance(event, Update) and answered(event) is not None):
            return await handler(event, data)
        async with self.isolation.lock(key=context.key):
            return await handler(event, data)


class LocalIsolation(BaseEventIsolation):
    """aiogram's in-memory isolation, with each key's lock dropped once nobody holds or waits
    for it (aiogram's keeps one per person forever)."""

    def __init__(self) -> None:
        self._locks: dict[StorageKey, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield None
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def close(self) -> None:
        self._locks.clear()
