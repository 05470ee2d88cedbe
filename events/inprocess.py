"""The bot in this process against a Bot API emulator on loopback: how the tests, the benchmarks
and the sandbox run it, the same way `events run` does (schema first, then receiving updates)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from events.app import App, build_app
from events.clock import Clock
from events.config import Settings, load_settings
from events.db.migrate import upgrade_to_head
from events.delivery import Limiter
from events.emulator import BotAPIEmulator


def emulator_settings(emulator: BotAPIEmulator, database_url: str, **changes: Any) -> Settings:
    """Settings for a bot of ``emulator``'s token talking to it, on ``database_url``, its web
    server on a free loopback port unless ``changes`` say otherwise; no ``.env`` is read."""
    values: dict[str, Any] = {"http_port": 0, **changes}
    return load_settings(
        _env_file=None,
        bot_token=emulator.token,
        database_url=database_url,
        telegram_api_url=emulator.base_url,
        **values,
    )


@dataclass
class RunningBot:
    app: App
    task: asyncio.Task[None]

    async def stop(self) -> None:
        """Stop as on SIGTERM: the updates in hand are finished first."""
        self.app.stop()
        await self.task


async def start_bot(
    settings: Settings,
    emulator: BotAPIEmulator,
    *,
    clock: Clock | None = None,
    limiter: Limiter | None = None,
    webhook: bool = False,
    timeout: float = 10.0,  # noqa: ASYNC109
) -> RunningBot:
    """Bring the database up to date, build the app and run it; return once it receives
    updates from ``emulator`` (polling, or its webhook set) and its web server listens. A
    start-up that fails raises its error here."""
    await upgrade_to_head(settings.database_url)
    app = build_app(settings, clock=clock, limiter=limiter, webhook=webhook)
    task = asyncio.create_task(app.run(handle_signals=False))

    def receiving() -> bool:
        return bool(emulator.world.webhook.url) if webhook else emulator.polling

    try:
        await emulator.wait_until(lambda: task.done() or (receiving() and app.http_port), timeout)
    except AssertionError:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise
    if task.done():
        task.result()  # the start-up failed: show why
    return RunningBot(app, task)
