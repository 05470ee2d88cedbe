"""Wizard step latency: a host's text to the bot's next question, through the Bot API emulator.

    python -m bench.wizard [samples]

The whole bot runs (SQLite WAL, long polling on loopback): a group with the bot, Ayu made a
host with /addhost, then /new and Webinar. One sample: Ayu types the title, and the time runs
until the emulator receives the sendMessage with the next question (the description); "Back"
(untimed) brings the title question again. The baseline is a bare aiogram dispatcher whose
handler echoes a private text, polling the same emulator, timed the same way. Every sample
must find its reply; the row is p50 and p99 of each and the ratio of the p50s.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from aiogram import Dispatcher, F, Router
from aiogram.types import Message

from bench.common import BOT_USERNAME, TOKEN, Row, check, percentile
from events.app import build_bot
from events.config import load_settings
from events.emulator import BotAPIEmulator, Person
from events.inprocess import emulator_settings, start_bot
from tests.e2e.conftest import make_host

TITLE = "Lingkar Dukungan 🌱"


def reply_time(emu: BotAPIEmulator, person: Person, after: float) -> float:
    """Arrival time of the first sendMessage to the person after ``after``."""
    calls = [
        call.time
        for call in emu.calls_to("sendMessage", ok=True)
        if str(call.chat_id) == str(person.id) and call.time >= after
    ]
    check(calls, "no reply reached the emulator")
    return min(calls)


async def wizard_samples(emu: BotAPIEmulator, url: str, samples: int) -> list[float]:
    bot = await start_bot(emulator_settings(emu, url), emu, timeout=30)
    try:
        rina = emu.user("Rina", language_code="id")
        ayu = emu.user("Ayu", language_code="id")
        group = emu.group("Lingkar Tenang", members=[ayu], creator=rina)
        await emu.add_bot_to_group(group, by=rina)
        await group.wait_for_message(contains="/addhost")
        await make_host(group, rina, ayu)
        await ayu.send("/start")
        await ayu.wait_for_message()
        await ayu.send("/new")
        question = await ayu.wait_for_message(contains="Acara apa")
        await ayu.tap(question, "Webinar")
        await emu.wait_until(lambda: "judulnya" in question.text)
        times = []
        for _ in range(samples):
            sent = time.monotonic()
            await ayu.send(TITLE)
            asked = await ayu.wait_for_message(contains="Ceritakan", timeout=10)
            times.append(reply_time(emu, ayu, sent) - sent)
            await ayu.tap(asked, "Kembali")
            await emu.wait_until(lambda asked=asked: "judulnya" in asked.text)
        return times
    finally:
        await bot.stop()


async def echo_samples(emu: BotAPIEmulator, url: str, samples: int) -> list[float]:
    settings = load_settings(
        _env_file=None, bot_token=TOKEN, database_url=url, telegram_api_url=emu.base_url,
        http_port=0,
    )  # fmt: skip
    bot = build_bot(settings)
    router = Router()

    @router.message(F.chat.type == "private", F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    task = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, polling_timeout=10)
    )
    try:
        await emu.wait_until(lambda: task.done() or emu.polling, timeout=30)
        dewi = emu.user("Dewi", language_code="id")
        times = []
        for _ in range(samples):
            sent = time.monotonic()
            await dewi.send(TITLE)
            await dewi.wait_for_message(contains=TITLE, timeout=10)
            times.append(reply_time(emu, dewi, sent) - sent)
        return times
    finally:
        await dispatcher.stop_polling()
        await task
        await bot.session.close()


async def measure(samples: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        async with BotAPIEmulator(TOKEN, bot_username=BOT_USERNAME) as emu:
            echo = await echo_samples(emu, url, samples)
        async with BotAPIEmulator(TOKEN, bot_username=BOT_USERNAME) as emu:
            wizard = await wizard_samples(emu, url, samples)
            check(not emu.internal_errors, "the emulator failed")
    check(len(wizard) == samples and len(echo) == samples, "samples are missing")
    return {"wizard": wizard, "echo": echo}


def rows(quick: bool = False) -> list[Row]:
    samples = 10 if quick else 200
    found = asyncio.run(measure(samples))
    wizard, echo = found["wizard"], found["echo"]
    p50, p99 = percentile(wizard, 0.5), percentile(wizard, 0.99)
    e50, e99 = percentile(echo, 0.5), percentile(echo, 0.99)
    return [
        Row(
            name="wizard step latency (title → next question)",
            baseline=f"echo handler p50 {e50 * 1000:.1f} ms, p99 {e99 * 1000:.1f} ms",
            measured=f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms",
            ratio=p50 / e50,
            goal="report",
            met=None,
            note=f"{samples} steps each; ratio of the p50s; p99 ratio {p99 / e99:.2f}",
        )
    ]


def main() -> None:
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    for row in rows() if samples == 200 else [*rows(quick=True)]:
        print(f"{row.name}: {row.measured} against {row.baseline} ({row.note})")


if __name__ == "__main__":
    main()
