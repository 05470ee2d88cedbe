"""The wizard's state in Redis: written once the update's transaction commits, never if it fails."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.bot.middlewares.transaction import TransactionMiddleware
from events.bot.storage import AfterCommitStorage, redis_storage
from events.db.engine import create_engine, create_sessionmaker
from tests.services import redis_url, sqlite_url


class Steps(StatesGroup):
    title = State()
    when = State()


@pytest.fixture
def key() -> StorageKey:
    bot_id = random.randrange(10**9, 10**10)  # keys of their own
    return StorageKey(bot_id=bot_id, chat_id=700000001, user_id=700000001)


@pytest.fixture
async def storage(key: StorageKey) -> AsyncIterator[AfterCommitStorage]:
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url())
    storage = redis_storage(redis)
    assert isinstance(storage, AfterCommitStorage)
    try:
        yield storage
    finally:
        await storage.close()  # leaves the pool to its owner
        keys = [k async for k in redis.scan_iter(match=f"events:fsm:{key.bot_id}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(sqlite_url(tmp_path))
    yield create_sessionmaker(engine)
    await engine.dispose()


async def in_update(sessions: async_sessionmaker[AsyncSession], step: Any) -> None:
    """Run ``step`` as an update's handler, in its transaction."""

    async def handler(event: Any, data: dict[str, Any]) -> None:
        await step()

    await TransactionMiddleware(sessions)(handler, None, {"bot": None})  # type: ignore[arg-type]


async def test_a_step_is_written_once_its_update_commits(
    storage: AfterCommitStorage, sessions: async_sessionmaker[AsyncSession], key: StorageKey
) -> None:
    redis: BaseStorage = storage.inner
    seen: list[Any] = []

    async def step() -> None:
        await storage.set_state(key, Steps.title)
        await storage.update_data(key, {"title": "Ruang Aman"})
        await storage.update_data(key, {"capacity": 20})
        # The update reads its own writes; Redis has nothing yet.
        seen.append(await storage.get_state(key))
        seen.append(await storage.get_data(key))
        seen.append(await redis.get_state(key))

    await in_update(sessions, step)
    assert seen == ["Steps:title", {"title": "Ruang Aman", "capacity": 20}, None]
    assert await redis.get_state(key) == "Steps:title"
    assert await redis.get_data(key) == {"title": "Ruang Aman", "capacity": 20}


async def test_a_failed_step_leaves_the_state_where_it_was(
    storage: AfterCommitStorage, sessions: async_sessionmaker[AsyncSession], key: StorageKey
) -> None:
    await storage.set_state(key, Steps.title)  # outside an update: written at once
    await storage.set_data(key, {"title": "Ruang Aman"})
    assert await storage.inner.get_state(key) == "Steps:title"

    async def failing_step() -> None:
        await storage.set_state(key, Steps.when)
        await storage.update_data(key, {"when": "besok"})
        raise RuntimeError("the step failed")

    with pytest.raises(RuntimeError):
        await in_update(sessions, failing_step)
    assert await storage.get_state(key) == "Steps:title"
    assert await storage.get_data(key) == {"title": "Ruang Aman"}

    async def leaving() -> None:
        await storage.set_state(key, None)
        await storage.set_data(key, {})

    await in_update(sessions, leaving)
    assert await storage.inner.get_state(key) is None
    assert await storage.inner.get_data(key) == {}
