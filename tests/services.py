"""External services for integration tests.

`postgres_url()` and `redis_url()` return the URL from the environment. Without it the calling
test is skipped, or fails when EVENTS_REQUIRE_SERVICES=1 (CI with services must run them all).
Programs and modules a test needs (`command()`, `faketime_library()`, `python_module()`) are
treated the same way.
"""

from __future__ import annotations

import glob
import importlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from events.db.engine import async_url, create_engine


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("EVENTS_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}, but EVENTS_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(reason)


def _service_url(variable: str, service: str) -> str:
    url = os.environ.get(variable, "").strip()
    if url:
        return url
    _unavailable(f"{variable} not set: {service} tests skipped")


def command(name: str, package: str) -> str:
    """The path of a program the test needs (skips or fails like the services)."""
    path = shutil.which(name)
    if path is None:
        _unavailable(f"{name} is not installed (Debian package {package}): test skipped")
    return path


def python_module(name: str, package: str) -> ModuleType:
    """A Python module the test needs that the dev extra installs (skips or fails like the
    services)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        _unavailable(f"{name} cannot be imported (pip package {package}): test skipped")


def faketime_library() -> str:
    """The path of libfaketime (Debian package faketime), to preload into a child process whose
    clock a test shifts (skips or fails like the services)."""
    command("faketime", "faketime")
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    found += sorted(glob.glob("/usr/lib/faketime/libfaketime.so.1"))
    if not found:
        _unavailable("libfaketime.so.1 is not installed (Debian package faketime): test skipped")
    return found[0]


def postgres_url() -> str:
    """EVENTS_TEST_POSTGRES_URL, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test."""
    return _service_url("EVENTS_TEST_POSTGRES_URL", "PostgreSQL")


def redis_url() -> str:
    """EVENTS_TEST_REDIS_URL, e.g. redis://127.0.0.1:6379/0."""
    return _service_url("EVENTS_TEST_REDIS_URL", "Redis")


@asynccontextmanager
async def postgres_database(server_url: str) -> AsyncIterator[str]:
    """A new, empty, uniquely named database on the server of `server_url`; dropped after."""
    name = f"events_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield async_url(make_url(server_url).set(database=name)).render_as_string(
                hide_password=False
            )
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def sqlite_url(directory: Path, name: str = "events.db") -> str:
    return f"sqlite+aiosqlite:///{directory / name}"


@asynccontextmanager
async def fresh_database(backend: str, directory: Path) -> AsyncIterator[str]:
    """An empty database URL: "sqlite" (a file in `directory`) or "postgresql" (skips if unset)."""
    if backend == "sqlite":
        yield sqlite_url(directory)
    elif backend == "postgresql":
        async with postgres_database(postgres_url()) as url:
            yield url
    else:
        raise ValueError(f"unknown backend {backend!r}")
