"""`events run` as operators run it: a separate process, stopped with SIGTERM, started again."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from events.db.engine import create_engine, create_sessionmaker
from events.db.models import (
    ChatType,
    Community,
    Event,
    EventKind,
    EventStatus,
    Person,
    Place,
    Rsvp,
    RsvpStatus,
)
from events.emulator import BotAPIEmulator
from tests.e2e.conftest import RunEvents
from tests.services import sqlite_url

FEED = re.compile(r"http://127\.0\.0\.1:\d+/feeds/[A-Za-z0-9_-]+\.ics")


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


async def test_a_persons_feed_is_served_by_events_run(
    emulator: BotAPIEmulator, run_events: RunEvents, tmp_path: Path
) -> None:
    """/calendar's link, fetched over HTTP from the `events run` process: the person's events,
    304 for the same ETag, 404 once New link replaced it."""
    dewi = emulator.user("Dewi", language_code="id")
    bot = await run_events()
    engine = create_engine(sqlite_url(tmp_path))
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            session.add(Community(id=-1001, title="Lingkar Tenang", chat_type=ChatType.SUPERGROUP))
            session.add(Person(id=dewi.id, first_name="Dewi", language_code="id"))
            event = Event(
                community_id=-1001,
                kind=EventKind.WORKSHOP,
                title="Lingkar Dukungan",
                timezone="Asia/Jakarta",
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                place=Place.IN_PERSON,
                location="Rumah Teduh",
                status=EventStatus.PUBLISHED,
            )
            session.add(event)
            await session.flush()
            session.add(Rsvp(event_id=event.id, person_id=dewi.id, status=RsvpStatus.GOING))
    finally:
        await engine.dispose()

    await dewi.send("/calendar")
    shown = await dewi.wait_for_message(contains="webcal://", timeout=10)
    url = FEED.search(shown.text)
    assert url is not None
    assert url.group().startswith(f"http://127.0.0.1:{bot.http_port}/feeds/")
    async with aiohttp.ClientSession() as client:
        async with client.get(url.group()) as response:
            assert response.status == 200
            body = await response.read()
            tag = response.headers["ETag"]
        assert b"SUMMARY:Lingkar Dukungan" in body
        assert b"Dewi" not in body
        async with client.get(url.group(), headers={"If-None-Match": tag}) as response:
            assert response.status == 304

        renewed = await dewi.tap(shown, "Tautan baru")
        assert renewed.text
        fresh = await emulator.wait_until(
            lambda: (m := FEED.search(shown.text)) and m.group() != url.group() and m.group()
        )
        async with client.get(url.group()) as response:
            assert response.status == 404
        async with client.get(fresh) as response:
            assert response.status == 200
            assert b"SUMMARY:Lingkar Dukungan" in await response.read()
    assert await bot.stop() == 0
    assert url.group().rsplit("/", 1)[1].removesuffix(".ics") not in bot.output  # no token logged
