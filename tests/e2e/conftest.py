"""End-to-end set-up: the unmodified bot, in this process, talking HTTP to the Bot API emulator."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from redis.asyncio import Redis

from events.app import App
from events.config import Settings
from events.delivery import Limiter
from events.emulator import BotAPIEmulator, Group, Limits, Person
from events.inprocess import RunningBot, emulator_settings
from events.inprocess import start_bot as start_in_process
from tests.services import faketime_library, fresh_database, redis_url, sqlite_url

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
async def redis() -> AsyncIterator[Redis]:
    """The test database of Redis, without the bot's keys before and after the test."""
    client = Redis.from_url(redis_url())

    async def forget() -> None:
        keys = [key async for key in client.scan_iter(match="events:*")]
        if keys:
            await client.delete(*keys)

    await forget()
    try:
        yield client
    finally:
        await forget()
        await client.aclose()


@pytest.fixture
def settings(emulator: BotAPIEmulator, database_url: str) -> Settings:
    return emulator_settings(emulator, database_url)


@pytest.fixture
async def start_bot(settings: Settings, emulator: BotAPIEmulator) -> AsyncIterator[StartBot]:
    """Start the bot as `events run` does (schema first, then polling); stopped after the test."""
    running: list[RunningBot] = []

    async def start(
        *, limiter: Limiter | None = None, webhook: bool = False, **changes: Any
    ) -> App:
        bot = await start_in_process(
            settings.model_copy(update=changes) if changes else settings,
            emulator,
            limiter=limiter,
            webhook=webhook,
        )
        running.append(bot)
        return bot.app

    yield start
    for bot in running:
        await bot.stop()


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
    return await make_community(emulator)


async def make_community(emulator: BotAPIEmulator) -> CommunitySetup:
    """The ``community`` fixture's group, made through whichever bot is receiving updates."""
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


# ----------------------------------------------------------------- `events run` as a process


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class BotProcess:
    """One `events run` child process; its output goes to a file kept for the assertions."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        http_port: int,
        log: Path,
        emulator: BotAPIEmulator,
        *,
        webhook: bool = False,
    ) -> None:
        self.process = process
        self.http_port = http_port
        self.log = log
        self.emulator = emulator
        self.webhook = webhook

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def ready(self) -> None:
        """Wait until the process receives updates, polling or (``--webhook``) saying so on
        /healthz: it has started delivery by then."""
        process = self.process
        if self.webhook:
            await eventually(self._receiving, timeout=30, message="events run did not start")
        else:
            await self.emulator.wait_until(
                lambda: process.returncode is not None or self.emulator.polling,
                timeout=30,
                message="events run did not start polling",
            )
        assert process.returncode is None, self.output

    async def _receiving(self) -> bool:
        if self.process.returncode is not None:
            return True  # ready() shows why
        try:
            async with (
                aiohttp.ClientSession() as client,
                client.get(f"http://127.0.0.1:{self.http_port}/healthz") as response,
            ):
                return (await response.json()).get("updates") == "receiving"
        except aiohttp.ClientError:
            return False

    async def wait(self) -> int:
        """The exit status, once the process has ended by itself (or by a signal sent)."""
        return await asyncio.wait_for(self.process.wait(), 30)

    async def stop(self) -> int:
        """SIGTERM, as systemd sends it; the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return await self.wait()


# start(): `events run` on an SQLite file in tmp_path; start(database_url=…) on another database;
# start(env={"EVENTS_SEND_RATE": "100"}): more settings; start(wait=False) returns as soon as the
# process exists (the test sets its hooks, then awaits `ready()`).
# start(args=["--webhook"]): `events run --webhook` (with EVENTS_WEBHOOK_* in env); port=…: its
# web server's port (a free one otherwise).
# start(shift=timedelta(hours=2)): the process's wall clock shifted by libfaketime (CONTRACT §4),
# preloaded directly: the `faketime` command forks, so its pid would not be the bot's and a
# SIGKILL would miss the bot. Two settings make a Python process work under it (libfaketime
# 0.9.10): FAKETIME_DONT_FAKE_MONOTONIC=1 keeps the monotonic clock real (asyncio's timers and the
# send limiter count it; faked, a thread's timed wait on a queue never returns), and
# FAKETIME_FORCE_MONOTONIC_FIX=0 leaves condition waits alone (with it, every hand-over to a
# worker thread, such as each aiosqlite query, takes about 10 ms). time.sleep() fails there with
# EINVAL; the bot never calls it.
RunEvents = Callable[..., Awaitable[BotProcess]]


@pytest.fixture
async def run_events(emulator: BotAPIEmulator, tmp_path: Path) -> AsyncIterator[RunEvents]:
    started: list[BotProcess] = []
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("EVENTS_", "FAKETIME"))}

    async def start(
        *,
        database_url: str | None = None,
        shift: timedelta | None = None,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        port: int | None = None,
        wait: bool = True,
    ) -> BotProcess:
        port = port or free_port()
        variables = {
            **clean,
            "EVENTS_BOT_TOKEN": TOKEN,
            "EVENTS_TELEGRAM_API_URL": emulator.base_url,
            "EVENTS_DATABASE_URL": database_url or sqlite_url(tmp_path),
            "EVENTS_HTTP_PORT": str(port),
            **(env or {}),
        }
        if shift is not None:
            variables.update(
                LD_PRELOAD=faketime_library(),
                FAKETIME=f"{shift.total_seconds():+.0f}",
                FAKETIME_DONT_FAKE_MONOTONIC="1",
                FAKETIME_FORCE_MONOTONIC_FIX="0",
            )
        log = tmp_path / f"events-run-{len(started) + 1}.log"
        with log.open("wb") as output:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "events", "run", *args,
                cwd=tmp_path, env=variables, stdout=output, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        child = BotProcess(process, port, log, emulator, webhook="--webhook" in args)
        started.append(child)
        if wait:
            await child.ready()
        return child

    yield start
    for child in started:
        if child.process.returncode is None:
            child.process.kill()
            await child.process.wait()
