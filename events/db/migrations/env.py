"""Alembic environment: async engine, URL from the settings unless the config carries one.

A caller that already holds a connection (see events.db.migrate) passes it in
`config.attributes["connection"]`; it is used as is, in its own transaction if it has one.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection
from sqlalchemy.pool import NullPool

from events.db.engine import create_engine
from events.db.locks import MIGRATIONS
from events.db.models import Base
from events.db.types import UTCDateTime

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from events.config import load_settings

    return load_settings().database_url


def _render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    # Migrations stay independent of the model code: the UTC type is a plain timestamptz there.
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        render_item=_render_item,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(
        url=_database_url(),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=_database_url().startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_pragma(connection: Connection, pragma: str) -> None:
    # Straight on the driver connection: outside any transaction, where SQLite honours it.
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


def do_run_migrations(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    # Batch operations on SQLite copy and drop tables; with foreign keys enforced a DROP would
    # cascade into the child tables. They are switched off for the run (possible only outside a
    # transaction) and checked before the commit.
    guard_foreign_keys = sqlite and not connection.in_transaction()
    if guard_foreign_keys:
        _sqlite_pragma(connection, "foreign_keys=OFF")
    try:
        _configure(
            connection=connection,
            render_as_batch=sqlite,
            # With the engine's own BEGIN, SQLite DDL is transactional: one upgrade, one commit.
            transactional_ddl=True if sqlite else None,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Workers starting together upgrade one after the other: the next one waits,
                # then finds the database at the newest revision (the lock ends with the commit).
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATIONS}, 0)")
            context.run_migrations()
            if guard_foreign_keys:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
    finally:
        if guard_foreign_keys:
            _sqlite_pragma(connection, "foreign_keys=ON")


async def run_async_migrations() -> None:
    engine = create_engine(_database_url(), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run_async_migrations())
        return
    # Called synchronously from inside a running loop: run on a fresh loop in a worker thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run_async_migrations()).result()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
