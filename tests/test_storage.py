"""The wizard's state in the database: per key, JSON data, inside an update's transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.bot.storage import DatabaseStorage
from events.db.engine import create_engine, create_sessionmaker
from events.db.migrate import upgrade_to_head
from events.db.models import FsmState, Person
from events.db.unit import handling_update
from tests.services import fresh_database

KEY = StorageKey(bot_id=123456, chat_id=700000001, user_id=700000001)


class Steps(StatesGroup):
    title = State()
    when = State()


@pytest.fixture(params=["sqlite", "postgresql"])
async def sessions(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with fresh_database(request.param, tmp_path) as url:
        await upgrade_to_head(url)
        engine = create_engine(url)
        try:
            yield create_sessionmaker(engine)
        finally:
            await engine.dispose()


async def rows(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(FsmState)) or 0


async def test_state_and_data_round_trip(sessions: async_sessionmaker[AsyncSession]) -> None:
    storage = DatabaseStorage(sessions)
    assert await storage.get_state(KEY) is None
    assert await storage.get_data(KEY) == {}

    await storage.set_state(KEY, Steps.title)
    await storage.set_data(KEY, {"kind": "webinar", "title": "Ruang <Aman> & Tenang 🌿"})

    assert await storage.get_state(KEY) == "Steps:title"
    assert await storage.get_data(KEY) == {"kind": "webinar", "title": "Ruang <Aman> & Tenang 🌿"}
    merged = await storage.update_data(KEY, {"capacity": 20, "tags": ["a", {"b": None}]})
    assert merged == {
        "kind": "webinar",
        "title": "Ruang <Aman> & Tenang 🌿",
        "capacity": 20,
        "tags": ["a", {"b": None}],
    }
    assert await storage.get_data(KEY) == merged
    await storage.set_state(KEY, "Steps:when")  # a plain string works as well
    assert await storage.get_state(KEY) == "Steps:when"
    assert (await storage.get_data(KEY))["capacity"] == 20  # data kept
    # What get_data returns is a copy: changing it changes nothing stored.
    (await storage.get_data(KEY))["kind"] = "qa"
    assert (await storage.get_data(KEY))["kind"] == "webinar"


async def test_every_part_of_the_key_counts(sessions: async_sessionmaker[AsyncSession]) -> None:
    storage = DatabaseStorage(sessions)
    keys = [
        KEY,
        StorageKey(bot_id=999, chat_id=KEY.chat_id, user_id=KEY.user_id),
        StorageKey(bot_id=KEY.bot_id, chat_id=-1001000000001, user_id=KEY.user_id),
        StorageKey(bot_id=KEY.bot_id, chat_id=-1001000000001, user_id=KEY.user_id, thread_id=5),
        StorageKey(bot_id=KEY.bot_id, chat_id=KEY.chat_id, user_id=700000002),
        StorageKey(
            bot_id=KEY.bot_id, chat_id=KEY.chat_id, user_id=KEY.user_id, business_connection_id="b"
        ),
        StorageKey(bot_id=KEY.bot_id, chat_id=KEY.chat_id, user_id=KEY.user_id, destiny="other"),
    ]
    for number, key in enumerate(keys):
        await storage.set_state(key, f"S:{number}")
        await storage.set_data(key, {"n": number})

    for number, key in enumerate(keys):
        assert await storage.get_state(key) == f"S:{number}"
        assert await storage.get_data(key) == {"n": number}
    assert await rows(sessions) == len(keys)


async def test_clearing_leaves_no_row(sessions: async_sessionmaker[AsyncSession]) -> None:
    storage = DatabaseStorage(sessions)
    await storage.set_state(KEY, Steps.title)
    await storage.set_data(KEY, {"title": "x"})

    await storage.set_state(KEY, None)
    assert await rows(sessions) == 1  # data still there
    await storage.set_data(KEY, {})

    assert await rows(sessions) == 0
    assert await storage.get_state(KEY) is None
    await storage.set_state(KEY, None)  # clearing what is clear is fine
    assert await rows(sessions) == 0


async def test_inside_an_update_it_joins_the_updates_transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """On SQLite the update's transaction holds the write lock: a second connection of the same
    task would wait for it until busy_timeout ran out."""
    storage = DatabaseStorage(sessions)
    await storage.set_data(KEY, {"before": True})

    async with sessions() as session, session.begin():
        session.add(Person(id=KEY.user_id, first_name="Dewi"))
        await session.flush()  # the update has written: it holds the write lock
        with handling_update(session):
            await storage.set_state(KEY, Steps.when)
            await storage.update_data(KEY, {"title": "Ruang Aman"})
            assert await storage.get_state(KEY) == "Steps:when"
        await session.rollback()  # the update failed: its state changes go with it

    assert await storage.get_state(KEY) is None
    assert await storage.get_data(KEY) == {"before": True}


async def test_a_task_spawned_by_an_update_uses_its_own_transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    storage = DatabaseStorage(sessions)
    async with sessions() as session, session.begin():
        with handling_update(session):
            # The task inherits the context, but must not share the update's session.
            task = asyncio.create_task(storage.set_state(KEY, Steps.title))
        await asyncio.sleep(0)
        await session.rollback()
    await task

    assert await storage.get_state(KEY) == "Steps:title"
