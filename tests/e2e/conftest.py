"""End-to-end set-up: the unmodified bot, in this process, talking HTTP to the Bot API emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from events.app import App, build_app
from events.config import Settings, load_settings
from events.db.migrate import upgrade_to_head
from events.delivery import Limiter
from tests.emulator import BotAPIEmulator, Group, Limits, Person
from tests.services import fresh_database

T = TypeVar("T")

TOKEN = "123456:TEST-events-token"
BOT_USERNAME = "events_test_bot"

# start_bot(): the bot with the test's settings; start_bot(admin_ids=frozenset({…})): with some
# settings changed (the values as Settings holds them); start_bot(limiter=…): other send limits;
# start_bot(webhook=True, webhook_url=…, webhook_secret=…): updates by webhook, as `run --webhook`.
StartBot = Callable[..., Awaitable[App]]


@pytest.fixture
def emulator_limits() -> Limits:
    """The flood limits the emulator counts; a test overrides this fixture to scale them."""
    return Limits()


@pytest.fixture
async def emulator(emulator_limits: Limits) -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator(TOKEN, bot_username=BOT_USERNAME, limits=emulator_limits) as emulator:
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

    async def start(
        *, limiter: Limiter | None = None, webhook: bool = False, **changes: Any
    ) -> App:
        await upgrade_to_head(settings.database_url)
        app = build_app(
            settings.model_copy(update=changes) if changes else settings,
            limiter=limiter,
            webhook=webhook,
        )
        task = asyncio.create_task(app.run(handle_signals=False))
        running.append((app, task))

        def receiving() -> bool:
            return bool(emulator.world.webhook.url) if webhook else emulator.polling

        await emulator.wait_until(lambda: task.done() or (receiving() and app.http_port))
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


async def eventually(
    check: Callable[[], Awaitable[T]],
    timeout: float = 5.0,  # noqa: ASYNC109
    message: str = "the condition did not hold",
) -> T:
    """Re-check an asynchronous condition (a database query, say) until it is truthy: for what
    the bot does without a message anyone would see."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if loop.time() >= deadline:
            raise AssertionError(f"{message} within {timeout} s")
        await asyncio.sleep(0.02)


@dataclass(frozen=True)
class CommunitySetup:
    """The supergroup "Lingkar Tenang" with the bot in it, as most scenarios need it."""

    group: Group
    admin: Person  # Rina (id): created the group and added the bot
    member: Person  # Dewi (id): a member, not a host
    english_member: Person  # Sam (en): a member, not a host
    host: Person  # Ayu (id): made a host by Rina with /addhost
    english_host: Person  # Emma (en): made a host by Rina with /addhost

    @property
    def id(self) -> int:
        return self.group.id


async def make_host(group: Group, admin: Person, person: Person) -> None:
    """``admin`` replies to a message of ``person`` in the group with /addhost."""
    said = await person.send(f"Halo, aku {person.first_name}.", chat=group)
    command = await admin.reply_to(said, "/addhost")
    await group.wait_for_message(
        predicate=lambda m: m.reply_to is not None and m.reply_to.message_id == command.message_id
    )


@pytest.fixture
async def community(emulator: BotAPIEmulator, bot: App) -> CommunitySetup:
    """Rina's group "Lingkar Tenang": the bot added by her, greeted, two members, two hosts."""
    rina = emulator.user("Rina", language_code="id")
    dewi = emulator.user("Dewi", language_code="id")
    sam = emulator.user("Sam", language_code="en")
    ayu = emulator.user("Ayu", language_code="id")
    emma = emulator.user("Emma", language_code="en")
    group = emulator.group("Lingkar Tenang", members=[dewi, sam, ayu, emma], creator=rina)
    await emulator.add_bot_to_group(group, by=rina)
    await group.wait_for_message(contains="/addhost")  # the hello: the community row is there
    for host in (ayu, emma):
        await make_host(group, rina, host)
    return CommunitySetup(
        group=group, admin=rina, member=dewi, english_member=sam, host=ayu, english_host=emma
    )


@pytest.fixture
def host(community: CommunitySetup) -> Person:
    """Ayu, a host of the community (Indonesian)."""
    return community.host
