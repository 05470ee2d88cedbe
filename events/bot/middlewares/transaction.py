"""One database transaction per update; replies go out after it commits (events/db/unit.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import TelegramObject, Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.bot.middlewares.taps import Done, Taps
from events.db.unit import AFTER_COMMIT, handling_update
from events.i18n import CatalogueI18n


class TransactionMiddleware(BaseMiddleware):
    """``taps`` (events/bot/middlewares/taps.py) takes the answers to events; without it every
    update is handled alone."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], i18n: CatalogueI18n | None = None
    ) -> None:
        self.sessions = sessions
        self.taps = Taps(sessions, i18n, self.alone) if i18n is not None else None
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        self._in_flight += 1
        self._idle.clear()
        try:
            tap = None
            if self.taps is not None and isinstance(event, Update):
                tap = self.taps.tap(handler, event, data)
            done = await (self.taps.take(tap) if tap else self.alone(handler, event, data))
            for work in done.committed:
                await work()
            bot: Bot = data["bot"]
            await done.replies.send(bot)
            return done.result
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def alone(
        self,
        handler: Callable[[Any, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Done:
        """The update in a transaction of its own; what its task does once it committed."""
        done = Done()
        data["replies"] = done.replies
        async with self.sessions() as session, session.begin():
            data["session"] = session
            with handling_update(session):
                done.result = await handler(event, data)
            done.committed = session.info.pop(AFTER_COMMIT, [])
        return done

    async def drain(self, within: float) -> bool:
        """Wait for the updates being handled to finish; False if some were still running."""
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True
