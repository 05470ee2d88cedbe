"""`events run` as operators run it: a separate process, stopped with SIGTERM, started again."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.e2e.conftest import RunEvents
from tests.emulator import BotAPIEmulator


async def test_language_survives_a_restart_and_sigterm_is_clean(
    emulator: BotAPIEmulator, run_events: RunEvents
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
