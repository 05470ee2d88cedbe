"""The unit of work of an update: its one database transaction.

Code that may run inside an update without being handed its session (the FSM storage, the
membership checks) joins the update's transaction through :func:`unit_of_work`: on SQLite a
second connection opened by the same task would wait for the write lock its own update holds.
The transaction itself is opened by events/bot/middlewares/transaction.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# The session of the update being handled, with the task handling it: a task spawned during
# the update inherits the variable but must not share the session.
_update: ContextVar[tuple[asyncio.Task[Any] | None, AsyncSession] | None] = ContextVar(
    "update_session", default=None
)
AFTER_COMMIT = "after_commit"  # session.info: what runs once the update's transaction commits


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
    session.info.setdefault(AFTER_COMMIT, []).append(work)


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """The update's own session while an update is handled, else a short transaction."""
    session = update_session()
    if session is not None:
        yield session
        return
    async with sessions() as session, session.begin():
        yield session
