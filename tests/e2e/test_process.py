"""`events run` as operators run it: a separate process, stopped with SIGTERM, started again."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.conftest import TOKEN
from tests.emulator import BotAPIEmulator


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class BotProcess:
    """One `events run` child process, its output kept for the assertions."""

    def __init__(self, process: asyncio.subprocess.Process, http_port: int) -> None:
        self.process = process
        self.http_port = http_port
        self.output = ""

    async def stop(self) -> int:
        """SIGTERM, as systemd sends it; the exit status."""
        self.process.send_signal(signal.SIGTERM)
        stdout, _ = await asyncio.wait_for(self.process.communicate(), 30)
        self.output = stdout.decode()
        assert self.process.returncode is not None
        return self.process.returncode


@pytest.fixture
async def run_events(
    emulator: BotAPIEmulator, tmp_path: Path
) -> AsyncIterator[Callable[[], Awaitable[BotProcess]]]:
    started: list[BotProcess] = []
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EVENTS_")}

    async def start() -> BotProcess:
        port = free_port()
        env = {
            **clean,
            "EVENTS_BOT_TOKEN": TOKEN,
            "EVENTS_TELEGRAM_API_URL": emulator.base_url,
            "EVENTS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'events.db'}",
            "EVENTS_HTTP_PORT": str(port),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "events", "run",
            cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        child = BotProcess(process, port)
        started.append(child)
        await emulator.wait_until(
            lambda: process.returncode is not None or emulator.polling,
            timeout=30,
            message="events run did not start polling",
        )
        assert process.returncode is None, await process.stdout.read()  # type: ignore[union-attr]
        return child

    yield start
    for child in started:
        if child.process.returncode is None:
            child.process.kill()
            await child.process.wait()


async def test_language_survives_a_restart_and_sigterm_is_clean(
    emulator: BotAPIEmulator, run_events: Callable[[], Awaitable[BotProcess]]
) -> None:
    dewi = emulator.user("Dewi", language_code="id")
    first = await run_events()

    loop = asyncio.get_running_loop()
    sent = loop.time()
    await dewi.send("/start")
    greeting = await dewi.wait_for_message(contains="Halo")
    assert loop.time() - sent < 2.0  # CONTRACT: answered within two seconds once polling
    await dewi.send("/language")
    answer = await dewi.tap(await dewi.wait_for_message(contains="Bahasa"), "English")
    assert answer.text == "Language: English"
    assert greeting.text.startswith("Halo, Dewi!")

    async with (
        aiohttp.ClientSession() as client,
        client.get(f"http://127.0.0.1:{first.http_port}/healthz") as response,
    ):
        assert response.status == 200
        assert (await response.json())["status"] == "ok"

    assert await first.stop() == 0
    assert "Traceback" not in first.output
    assert " ERROR " not in first.output
    assert "stopped" in first.output

    await dewi.send("/help")  # while the bot is down
    await run_events()

    help_text = await dewi.wait_for_message(timeout=30)
    assert help_text.text.startswith("Here is what I can do:")
    await dewi.send("/start")
    assert (await dewi.wait_for_message()).text.startswith("Hi, Dewi!")
