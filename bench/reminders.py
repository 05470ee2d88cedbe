"""Reminders sent per second through delivery to the Bot API emulator, against EVENTS_SEND_RATE.

    python -m bench.reminders [people] [send rate]

The whole bot runs (SQLite WAL in a temporary folder, real HTTP to the emulator on loopback,
Telegram's limits at real pace); ``people`` are going to one event and its one-day reminder
falls due when the bot's clock is moved. The rate counts from the first reminder the emulator
received to the last; it is reported only once every person got exactly one and the ledger
says sent for each. Goal: at least 0.95 of the send rate, zero limit violations.
:func:`rows` is the row of ``python -m bench``.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.common import NotDone, Row
from events.app import App
from events.db.models import (
    ChatType,
    Community,
    Delivery,
    DeliveryStatus,
    Event,
    EventKind,
    EventStatus,
    Person,
    Place,
    Rsvp,
    RsvpStatus,
)
from events.emulator import BotAPIEmulator, Limits
from events.inprocess import emulator_settings, start_bot
from events.reminders import plan

TOKEN = "123456:BENCH-events-token"
COMMUNITY = -1001234567890


async def seed(app: App, emulator: BotAPIEmulator, people: int) -> Event:
    users = [emulator.user(f"Anggota {n}", language_code="id") for n in range(people)]
    starts = app.clock.now() + timedelta(days=2)
    async with app.sessions() as session, session.begin():
        session.add(Community(id=COMMUNITY, title="Lingkar Tenang", chat_type=ChatType.SUPERGROUP))
        event = Event(
            community_id=COMMUNITY,
            kind=EventKind.WEBINAR,
            title="Lingkar Dukungan",
            timezone="Asia/Jakarta",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            place=Place.ONLINE,
            join_link="https://meet.example.org/lingkar",
            status=EventStatus.PUBLISHED,
        )
        session.add(event)
        for user in users:
            user.record.started = True
            session.add(
                Person(id=user.id, first_name=user.first_name, language_code="id", can_message=True)
            )
        await session.flush()
        for position, user in enumerate(users, start=1):
            session.add(
                Rsvp(
                    event_id=event.id, person_id=user.id, status=RsvpStatus.GOING, position=position
                )
            )
        await session.flush()
        await plan(session, app.delivery, event, now=app.clock.now())
    return event


async def run(people: int, send_rate: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        async with BotAPIEmulator(TOKEN, bot_username="events_bench_bot", limits=Limits()) as emu:
            settings = emulator_settings(emu, url, send_rate=send_rate)
            bot = await start_bot(settings, emu, timeout=30)
            app = bot.app
            try:
                event = await seed(app, emu, people)
                app.clock.advance(event.starts_at - timedelta(days=1) - app.clock.now())

                def reminders() -> list:
                    return [
                        call
                        for call in emu.calls_to("sendMessage", ok=True)
                        if str(call.params.get("text", "")).startswith("⏰")
                    ]

                await emu.wait_until(
                    lambda: len(reminders()) >= people, timeout=people / send_rate * 3 + 30
                )
                await emu.quiet(0.5)
                sent = reminders()
                per_person = Counter(call.chat_id for call in sent)
                if len(per_person) != people or set(per_person.values()) != {1}:
                    raise NotDone("not every person got exactly one reminder")
                async with app.sessions() as session:
                    done = await session.scalar(
                        select(func.count())
                        .select_from(Delivery)
                        .where(
                            Delivery.key == f"reminder:{event.id}:86400",
                            Delivery.status == DeliveryStatus.SENT,
                        )
                    )
                if done != people:
                    raise NotDone(f"the ledger says {done} sent, not {people}")
                rate = (len(sent) - 1) / (sent[-1].time - sent[0].time)
                return {
                    "people": people,
                    "send_rate": send_rate,
                    "achieved": rate,
                    "ratio": rate / send_rate,
                    "violations": len(emu.violations),
                }
            finally:
                await bot.stop()


def rows(quick: bool = False) -> list[Row]:
    people, send_rate = (100, 25.0) if quick else (1000, 25.0)
    result = asyncio.run(run(people, send_rate))
    ratio = result["ratio"]
    violations = int(result["violations"])
    return [
        Row(
            name=f"reminders/s through delivery ({people} people)",
            baseline=f"EVENTS_SEND_RATE {send_rate:g}/s",
            measured=f"{result['achieved']:.2f}/s, {violations} violations",
            ratio=ratio,
            goal="≥ 0.95, 0 violations",
            met=ratio >= 0.95 and violations == 0,
        )
    ]


def main() -> None:
    people = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    send_rate = float(sys.argv[2]) if len(sys.argv) > 2 else 25.0
    started = time.perf_counter()
    result = asyncio.run(run(people, send_rate))
    print(
        f"reminders: {result['people']:.0f} sent at {result['achieved']:.2f}/s"
        f" for EVENTS_SEND_RATE {result['send_rate']:g}: ratio {result['ratio']:.3f}"
        f" (goal ≥ 0.95), violations {result['violations']:.0f} (goal 0)"
        f" [{time.perf_counter() - started:.0f} s]"
    )


if __name__ == "__main__":
    main()
