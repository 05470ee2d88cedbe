"""Where the wizard keeps its state between messages (CONTRACT §8): the database by default,
Redis when `EVENTS_REDIS_URL` is set.

One row of `fsm_states` per aiogram storage key holds the state's name and its data as JSON
(so data must be JSON: strings, numbers, booleans, lists, dicts). A key with neither state nor
data has no row.

Every call runs in the transaction of the update being handled when there is one (so the state
commits or rolls back with what the step stored, and SQLite never sees a second connection
waiting for the write lock of its own task), otherwise in a short transaction of its own.

Redis cannot join the database's transaction, so :class:`AfterCommitStorage` keeps what an
update writes to the state in hand (its later reads see it) and writes it to Redis once the
update's transaction has committed, before the replies go out: when a step fails and its
transaction rolls back, its state does not move either, as with the database. Should Redis fail
right after the commit, the person is told something went wrong (like any failed update) and
stays at the step before, with whatever the step committed to the database kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseEventIsolation,
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.config import Settings
from events.db.models import FsmState
from events.db.types import utcnow
from events.db.unit import after_commit, unit_of_work, update_session
from events.db.upsert import insert

if TYPE_CHECKING:
    from redis.asyncio import Redis

FSM_PREFIX = "events:fsm"
_PENDING = "fsm_pending"  # session.info: the state written by the update, not yet in Redis
_ROWS = "fsm_rows"  # session.info: the states read or written in this transaction, by key


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
        """The key's state and data, read once per transaction (a wizard step asks for them
        several times: aiogram's FSM middleware, the handler, each write)."""
        name = self._keys.build(key)
        known: dict[str, tuple[str | None, dict[str, Any]]] = session.info.setdefault(_ROWS, {})
        if name not in known:
            row = (
                await session.execute(
                    select(FsmState.state, FsmState.data).where(FsmState.key == name)
                )
            ).one_or_none()
            known[name] = (row.state, dict(row.data or {})) if row is not None else (None, {})
        state, data = known[name]
        return state, dict(data)

    async def _save(
        self, session: AsyncSession, key: StorageKey, state: str | None, data: dict[str, Any]
    ) -> None:
        name = self._keys.build(key)
        session.info.setdefault(_ROWS, {})[name] = (state, dict(data))
        if state is None and not data:
            await session.execute(delete(FsmState).where(FsmState.key == name))
            return
        values = {"state": state, "data": data, "updated_at": utcnow()}
        statement = insert(session, FsmState).values(key=name, **values)
        await session.execute(
            statement.on_conflict_do_update(index_elements=[FsmState.key], set_=values)
        )


_UNSET: Any = object()


@dataclass
class _Pending:
    """What one update wrote for one key (``_UNSET``: not written)."""

    state: str | None = _UNSET
    data: dict[str, Any] = field(default=_UNSET)


class AfterCommitStorage(BaseStorage):
    """Writes made while an update is handled reach ``inner`` once its transaction commits;
    outside an update they go straight through."""

    def __init__(self, inner: BaseStorage) -> None:
        self.inner = inner

    def _pending(self, key: StorageKey) -> _Pending | None:
        session = update_session()
        if session is None:
            return None
        writes: dict[StorageKey, _Pending] | None = session.info.get(_PENDING)
        if writes is None:
            writes = session.info[_PENDING] = {}
            after_commit(session, lambda: self._flush(writes))
        return writes.setdefault(key, _Pending())

    async def _flush(self, writes: dict[StorageKey, _Pending]) -> None:
        for key, pending in writes.items():
            if pending.state is not _UNSET:
                await self.inner.set_state(key, pending.state)
            if pending.data is not _UNSET:
                await self.inner.set_data(key, pending.data)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        name = state.state if isinstance(state, State) else state
        pending = self._pending(key)
        if pending is None:
            await self.inner.set_state(key, name)
        else:
            pending.state = name

    async def get_state(self, key: StorageKey) -> str | None:
        pending = self._peek(key)
        if pending is not None and pending.state is not _UNSET:
            return pending.state
        return await self.inner.get_state(key)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        pending = self._pending(key)
        if pending is None:
            await self.inner.set_data(key, data)
        else:
            pending.data = dict(data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        pending = self._peek(key)
        if pending is not None and pending.data is not _UNSET:
            return dict(pending.data)
        return await self.inner.get_data(key)

    async def update_data(self, key: StorageKey, data: Mapping[str, Any]) -> dict[str, Any]:
        current = await self.get_data(key)
        current.update(data)
        await self.set_data(key, current)
        return dict(current)

    async def close(self) -> None:
        await self.inner.close()

    def _peek(self, key: StorageKey) -> _Pending | None:
        session = update_session()
        writes = session.info.get(_PENDING) if session is not None else None
        return writes.get(key) if writes is not None else None


def _redis_keys() -> DefaultKeyBuilder:
    return DefaultKeyBuilder(
        prefix=FSM_PREFIX, with_bot_id=True, with_business_connection_id=True, with_destiny=True
    )


def redis_storage(redis: Redis) -> BaseStorage:
    """aiogram's RedisStorage under ``events:fsm``, written after each update's commit. The
    connection pool belongs to the app, which closes it last."""
    from aiogram.fsm.storage.redis import RedisStorage

    class SharedRedisStorage(RedisStorage):
        async def close(self) -> None:
            """The app closes the connection pool once everything else has stopped."""

    return AfterCommitStorage(SharedRedisStorage(redis, key_builder=_redis_keys()))


def redis_isolation(redis: Redis) -> BaseEventIsolation:
    """One update at a time per storage key across all processes (aiogram's Redis lock)."""
    from aiogram.fsm.storage.redis import RedisEventIsolation

    return RedisEventIsolation(redis, key_builder=_redis_keys())


def build_storage(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], redis: Redis | None = None
) -> BaseStorage:
    """The wizard's state store for these settings: Redis (``redis``, the app's client for
    `EVENTS_REDIS_URL`) when set, so several processes share it; otherwise the database, which
    also survives restarts."""
    if settings.redis_url is not None and redis is not None:
        return redis_storage(redis)
    return DatabaseStorage(sessions)
