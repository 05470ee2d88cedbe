"""Where the wizard keeps its state between messages (CONTRACT §8): the database by default.

One row of `fsm_states` per aiogram storage key holds the state's name and its data as JSON
(so data must be JSON: strings, numbers, booleans, lists, dicts). A key with neither state nor
data has no row.

Every call runs in the transaction of the update being handled when there is one (so the state
commits or rolls back with what the step stored, and SQLite never sees a second connection
waiting for the write lock of its own task), otherwise in a short transaction of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.bot.middlewares.transaction import unit_of_work
from events.config import Settings
from events.db.models import FsmState
from events.db.types import utcnow
from events.db.upsert import insert


class DatabaseStorage(BaseStorage):
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], key_builder: KeyBuilder | None = None
    ) -> None:
        self._sessions = sessions
        # Every part of the key counts: bot, business connection, chat, topic, user, destiny.
        self._keys = key_builder or DefaultKeyBuilder(
            with_bot_id=True, with_business_connection_id=True, with_destiny=True
        )

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        name = state.state if isinstance(state, State) else state
        async with unit_of_work(self._sessions) as session:
            _, data = await self._load(session, key)
            await self._save(session, key, name, data)

    async def get_state(self, key: StorageKey) -> str | None:
        async with unit_of_work(self._sessions) as session:
            state, _ = await self._load(session, key)
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with unit_of_work(self._sessions) as session:
            state, _ = await self._load(session, key)
            await self._save(session, key, state, dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with unit_of_work(self._sessions) as session:
            _, data = await self._load(session, key)
        return data

    async def update_data(self, key: StorageKey, data: Mapping[str, Any]) -> dict[str, Any]:
        """Read, merge and write in one transaction."""
        async with unit_of_work(self._sessions) as session:
            state, current = await self._load(session, key)
            current.update(data)
            await self._save(session, key, state, current)
        return dict(current)

    async def close(self) -> None:
        """Nothing to close: the engine belongs to the app."""

    async def _load(
        self, session: AsyncSession, key: StorageKey
    ) -> tuple[str | None, dict[str, Any]]:
        row = (
            await session.execute(
                select(FsmState.state, FsmState.data).where(FsmState.key == self._keys.build(key))
            )
        ).one_or_none()
        if row is None:
            return None, {}
        return row.state, dict(row.data or {})

    async def _save(
        self, session: AsyncSession, key: StorageKey, state: str | None, data: dict[str, Any]
    ) -> None:
        name = self._keys.build(key)
        if state is None and not data:
            await session.execute(delete(FsmState).where(FsmState.key == name))
            return
        values = {"state": state, "data": data, "updated_at": utcnow()}
        statement = insert(session, FsmState).values(key=name, **values)
        await session.execute(
            statement.on_conflict_do_update(index_elements=[FsmState.key], set_=values)
        )


def build_storage(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> BaseStorage:
    """The wizard's state store for these settings.

    `EVENTS_REDIS_URL` will select aiogram's RedisStorage here (several workers sharing state);
    until then the database keeps it, which also survives restarts.
    """
    return DatabaseStorage(sessions)
