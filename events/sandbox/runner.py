"""The sandbox's moving parts: the Bot API emulator, the unmodified bot on its own SQLite file,
the bot's one clock, and a saved copy of the emulator's world so that a later run goes on where
this one stopped.

Saved beside the database (``sandbox.db`` → ``sandbox.world.json``): the emulator's world
(people, chats, messages, files) and how far the clock was moved. Both files belong together: a
database without its world, or a world that cannot be read, means starting over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from events.app import App
from events.clock import Clock
from events.config import Settings
from events.delivery.ledger import next_due
from events.emulator import BotAPIEmulator, SnapshotError
from events.inprocess import RunningBot, emulator_settings, start_bot
from events.sandbox.cast import BOT_NAME, BOT_USERNAME, TOKEN
from events.sandbox.seed import seed

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
SAVE_DELAY = 1.0  # seconds of quiet before the world is saved again
START_TIMEOUT = 30.0
FORMAT = 1

# What the sandbox's bot runs with, whatever the environment says: no Redis, no owners, no
# webhook, an Indonesian community in Jakarta's time.
FIXED_SETTINGS: dict[str, Any] = {
    "redis_url": None,
    "admin_ids": frozenset(),
    "webhook_url": None,
    "webhook_secret": None,
    "metrics_token": None,
    "default_locale": "id",
    "default_timezone": "Asia/Jakarta",
    "send_rate": 25.0,
}


def world_path(database: Path) -> Path:
    """Where the world of the sandbox on ``database`` is kept."""
    return database.with_suffix(".world.json")


class NotRunning(Exception):
    """The sandbox is starting or starting over."""


class Sandbox:
    """Start with :meth:`start`, then :meth:`forward`, :meth:`reset`, finally :meth:`stop`.

    ``version`` grows at every change a page may want to show (the world, the clock, a reset);
    :meth:`changed` waits for the next one.
    """

    def __init__(self, database: Path, *, bot_port: int) -> None:
        self.database = database
        self.world_file = world_path(database)
        self.bot_port = bot_port
        self.clock = Clock()
        self.version = 0
        self._change = asyncio.Event()
        self._lock = asyncio.Lock()
        self._running: tuple[BotAPIEmulator, RunningBot] | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._dirty = asyncio.Event()
        self._saver: asyncio.Task[None] | None = None

    # ----------------------------------------------------------------- what runs

    @property
    def ready(self) -> bool:
        return self._running is not None and not self._lock.locked()

    @property
    def emulator(self) -> BotAPIEmulator:
        if self._running is None or self._lock.locked():
            raise NotRunning
        return self._running[0]

    @property
    def app(self) -> App:
        if self._running is None or self._lock.locked():
            raise NotRunning
        return self._running[1].app

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.database}"

    @property
    def public_url(self) -> str:
        """The bot's own web server: feeds and .ics files."""
        return f"http://{LOOPBACK}:{self.bot_port}"

    def _bump(self) -> None:
        self.version += 1
        self._change.set()
        self._change = asyncio.Event()

    async def changed(self, since: int, timeout: float) -> None:  # noqa: ASYNC109
        """Return once ``version`` is past ``since`` (or after ``timeout`` seconds)."""
        if self.version != since:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._change.wait(), timeout)

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Go on from the saved world, or begin from the seed."""
        async with self._changing():
            saved = self._saved()
            if saved is not None:
                try:
                    await self._launch(saved)
                    return
                except SnapshotError as error:
                    log.warning("the saved sandbox cannot be read (%s); starting over", error)
            self._wipe()
            await self._launch(None)

    async def reset(self) -> None:
        """Wipe everything and begin again from the seed, on a clock that was never moved."""
        async with self._changing():
            await self._halt()
            self._wipe()
            await self._launch(None)

    async def stop(self) -> None:
        async with self._changing():
            await self._halt()

    async def forward(self, delta: timedelta) -> None:
        """Move the bot's clock (and so the emulator's dates) forward."""
        self.app  # noqa: B018 - only while running
        self.clock.advance(delta)

    async def next_due(self) -> datetime | None:
        """When the earliest message waiting in the bot's ledger falls due."""
        async with self.app.sessions() as session:
            return await next_due(session)

    @contextlib.asynccontextmanager
    async def _changing(self) -> AsyncIterator[None]:
        async with self._lock:
            self._bump()
            try:
                yield
            finally:
                self._bump()

    def _saved(self) -> dict[str, Any] | None:
        if not (self.database.exists() and self.world_file.exists()):
            if self.database.exists():
                log.warning("%s has no saved world beside it; starting over", self.database)
            return None
        try:
            saved = json.loads(self.world_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            log.warning("%s cannot be read (%s); starting over", self.world_file, error)
            return None
        if not isinstance(saved, dict) or saved.get("format") != FORMAT:
            log.warning("%s is not a saved sandbox; starting over", self.world_file)
            return None
        return saved

    def _wipe(self) -> None:
        for path in (
            self.database,
            self.database.with_name(self.database.name + "-wal"),
            self.database.with_name(self.database.name + "-shm"),
            self.world_file,
        ):
            path.unlink(missing_ok=True)

    def settings(self, emulator: BotAPIEmulator) -> Settings:
        return emulator_settings(
            emulator,
            self.database_url,
            http_host=LOOPBACK,
            http_port=self.bot_port,
            public_url=self.public_url,
            **FIXED_SETTINGS,
        )

    async def _launch(self, saved: dict[str, Any] | None) -> None:
        clock = Clock()
        emulator = BotAPIEmulator(
            TOKEN,
            bot_username=BOT_USERNAME,
            bot_name=BOT_NAME,
            wall_clock=lambda: clock.now().timestamp(),
        )
        if saved is not None:
            emulator.restore(saved.get("emulator") or {})
            offset = saved.get("clock_offset")
            if not isinstance(offset, int | float) or offset < 0:
                raise SnapshotError("a saved sandbox without its clock")
            clock.advance(timedelta(seconds=offset))
        await emulator.start()
        try:
            bot = await start_bot(
                self.settings(emulator), emulator, clock=clock, timeout=START_TIMEOUT
            )
        except BaseException:
            await emulator.stop()
            raise
        try:
            if saved is None:
                await seed(bot.app, emulator)
        except BaseException:
            await bot.stop()
            await emulator.stop()
            raise
        self.clock = clock
        self._running = (emulator, bot)
        self._unsubscribe = [emulator.subscribe(self._changed), clock.subscribe(self._changed)]
        self._save()
        self._saver = asyncio.create_task(self._keep_saving())
        log.info("the sandbox is ready")

    async def _halt(self) -> None:
        if self._running is None:
            return
        emulator, bot = self._running
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        if self._saver is not None:
            self._saver.cancel()
            await asyncio.gather(self._saver, return_exceptions=True)
            self._saver = None
        await bot.stop()  # the updates in hand are finished first
        self._save()
        self._running = None
        await emulator.stop()

    # ----------------------------------------------------------------- keeping the world

    def _changed(self) -> None:
        """The world changed or the clock moved: worth showing, and saving soon."""
        self._dirty.set()
        self._bump()

    async def _keep_saving(self) -> None:
        while True:
            await self._dirty.wait()
            await asyncio.sleep(SAVE_DELAY)
            self._save()

    def _save(self) -> None:
        """Write the world and the clock's offset (a new file, then renamed over the old)."""
        if self._running is None:
            return
        self._dirty.clear()
        saved = {
            "format": FORMAT,
            "clock_offset": self.clock.offset.total_seconds(),
            "emulator": self._running[0].snapshot(),
        }
        partial = self.world_file.with_name(self.world_file.name + ".partial")
        try:
            partial.write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")
            os.replace(partial, self.world_file)
        except OSError as error:
            log.warning("the sandbox's world could not be saved (%s)", error)
