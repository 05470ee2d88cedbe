"""One database transaction per update; replies go out after it commits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.bot.replies import Replies


class TransactionMiddleware(BaseMiddleware):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
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
            replies = Replies()
            data["replies"] = replies
            async with self.sessions() as session, session.begin():
                data["session"] = session
                result = await handler(event, data)
            bot: Bot = data["bot"]
            await replies.send(bot)
            return result
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def drain(self, within: float) -> bool:
        """Wait for the updates being handled to finish; False if some were still running."""
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True
