"""Engine and session factory.

SQLite (aiosqlite) connections are set up on connect: WAL journal, `busy_timeout`,
`foreign_keys=ON`, `synchronous=NORMAL`. The driver's own transaction handling is switched off
and SQLAlchemy emits `BEGIN IMMEDIATE` itself, so a transaction takes the write lock when it
starts: concurrent read-then-write transactions queue on `busy_timeout` instead of failing with
"database is locked" or overwriting each other, and SAVEPOINTs work. A connection or engine may
ask for another kind with the execution option `sqlite_begin` ("DEFERRED", "IMMEDIATE",
"EXCLUSIVE"), e.g. `engine.execution_options(sqlite_begin="DEFERRED")` for read-only work.
Two transactions nested in one task (a second session opened while the first holds the lock)
wait on each other: keep one session per unit of work.

`sqlite+aiosqlite:///:memory:` uses one shared connection (StaticPool) with the driver's default
transaction handling: it suits serial tests only; use a temporary file for anything concurrent.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_BEGIN_OPTION = "sqlite_begin"
_SQLITE_BEGIN_KINDS = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def async_url(url: str | URL) -> URL:
    """The URL with an asyncio driver: `sqlite://` and `postgresql://` get aiosqlite/asyncpg."""
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    if driver is not None:
        parsed = parsed.set(drivername=driver)
    return parsed


def is_memory_sqlite(url: str | URL) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return False
    return (parsed.database or "") in ("", ":memory:")


def create_engine(url: str | URL, **kwargs: Any) -> AsyncEngine:
    """An AsyncEngine for `url`; keyword arguments go to `create_async_engine`."""
    parsed = async_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return _create_async_engine(parsed, **kwargs)

    memory = is_memory_sqlite(parsed)
    if memory:
        kwargs.setdefault("poolclass", StaticPool)
    engine = _create_async_engine(parsed, **kwargs)
    _configure_sqlite(engine, own_transactions=not memory)
    return engine


def _configure_sqlite(engine: AsyncEngine, *, own_transactions: bool) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        if own_transactions:
            # No implicit BEGIN from the driver: the "begin" hook below emits it.
            dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    if not own_transactions:
        return

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        kind = str(connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE"))
        kind = kind.upper()
        if kind not in _SQLITE_BEGIN_KINDS:
            raise ValueError(f"{SQLITE_BEGIN_OPTION} must be one of {sorted(_SQLITE_BEGIN_KINDS)}")
        connection.exec_driver_sql(f"BEGIN {kind}")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (no implicit refresh under asyncio)."""
    return async_sessionmaker(engine, expire_on_commit=False)
