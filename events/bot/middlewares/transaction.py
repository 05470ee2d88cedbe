"""One database transaction per update; replies go out after it commits.

Code that may run inside an update without being handed its session (the FSM storage, the
membership checks) joins the update's transaction through :func:`unit_of_work`: on SQLite a
second connection opened by the same task would wait for the write lock its own update holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.bot.middlewares.ordering import AnswerOrder
from events.bot.replies import Replies

# The session of the update being handled, with the task handling it: a task spawned during
# the update inherits the variable but must not share the session.
_update: ContextVar[tuple[asyncio.Task[Any] | None, AsyncSession] | None] = ContextVar(
    "update_session", default=None
)
_AFTER_COMMIT = "after_commit"  # session.info: what runs once the update's transaction commits


@contextmanager
def handling_update(session: AsyncSession) -> Iterator[None]:
    """Mark ``session`` as the transaction of the update this task is handling."""
    token = _update.set((asyncio.current_task(), session))
    try:
        yield
    finally:
        _update.reset(token)


def update_session() -> AsyncSession | None:
    """The session of the update this very task is handling, if any."""
    current = _update.get()
    if current is None or current[0] is not asyncio.current_task():
        return None
    return current[1]


def after_commit(session: AsyncSession, work: Callable[[], Awaitable[None]]) -> None:
    """Run ``work`` once the update's transaction of ``session`` has committed, before the
    replies go out (never if it rolls back)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(work)


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """The update's own session while an update is handled, else a short transaction."""
    session = update_session()
    if session is not None:
        yield session
        return
    async with sessions() as session, session.begin():
        yield session


class TransactionMiddleware(BaseMiddleware):
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], order: AnswerOrder | None = None
    ) -> None:
        self.sessions = sessions
        self.order = order or AnswerOrder()
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
            async with self.order.turn(event) as give_back:
                async with self.sessions() as session, session.begin():
                    data["session"] = session
                    with handling_update(session):
                        result = await handler(event, data)
                    committed = session.info.pop(_AFTER_COMMIT, [])
                give_back()  # committed: the next answer to the event may begin
            for work in committed:
                await work()
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
