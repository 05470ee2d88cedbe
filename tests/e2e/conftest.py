"""End-to-end set-up: the unmodified bot, in this process, talking HTTP to the Bot API emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from events.app import App, build_app
from events.config import Settings, load_settings
from events.db.migrate import upgrade_to_head
from tests.emulator import BotAPIEmulator
from tests.services import fresh_database

TOKEN = "123456:TEST-events-token"
BOT_USERNAME = "events_test_bot"

StartBot = Callable[[], Awaitable[App]]


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator(TOKEN, bot_username=BOT_USERNAME) as emulator:
        yield emulator
    # The bot used only what the emulator knows (CONTRACT §1) and never crashed it.
    assert emulator.unknown_methods == []
    assert emulator.internal_errors == []


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def settings(emulator: BotAPIEmulator, database_url: str) -> Settings:
    return load_settings(
        _env_file=None,
        bot_token=TOKEN,
        database_url=database_url,
        telegram_api_url=emulator.base_url,
        http_port=0,
    )


@pytest.fixture
async def start_bot(settings: Settings, emulator: BotAPIEmulator) -> AsyncIterator[StartBot]:
    """Start the bot as `events run` does (schema first, then polling); stopped after the test."""
    running: list[tuple[App, asyncio.Task[None]]] = []

    async def start() -> App:
        await upgrade_to_head(settings.database_url)
        app = build_app(settings)
        task = asyncio.create_task(app.run(handle_signals=False))
        running.append((app, task))
        await emulator.wait_until(lambda: task.done() or (emulator.polling and app.http_port))
        if task.done():
            task.result()  # the start-up failed: show why
        return app

    yield start
    for app, task in running:
        app.stop()
        await task


@pytest.fixture
async def bot(start_bot: StartBot) -> App:
    return await start_bot()
