"""A burst of taps on one event is answered together (events/bot/middlewares/taps.py) and ends
exactly as the same taps answered one at a time: the same toasts, the same seats and waitlist,
the same promotion, the same reminder rows. The burst mixes what takes another way: a seat
given up mid-burst (its promotion), a tap on a private card, a repeated tap, Maybe with and
without reminders asked for, someone's own reminder choice, two languages."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from events.app import App
from events.db.models import Delivery, Event, Person, RsvpStatus
from events.emulator import BotAPIEmulator, Message
from events.emulator import Person as User
from events.reminders import plan
from tests.e2e.conftest import CommunitySetup
from tests.e2e.publishing import answers, publish

Rows = set[tuple[int, str, float | None]]


async def ledger(app: App, event_id: int) -> Rows:
    """The event's ledger rows: person, key without the event's id and, for reminders and
    check-ins, when they fall due in seconds from the event's start (a promotion falls due when
    it happens)."""
    async with app.sessions() as session:
        event = await session.get(Event, event_id)
        assert event is not None
        found = (await session.scalars(select(Delivery))).all()
    return {
        (
            row.person_id,
            row.key.replace(f":{event_id}", ":E", 1),
            None
            if row.key.startswith("promotion:")
            else (row.due_at - event.starts_at).total_seconds(),
        )
        for row in found
        if row.key.split(":")[1] == str(event_id)
    }


async def starts(app: App, event_id: int) -> datetime:
    async with app.sessions() as session:
        event = await session.get(Event, event_id)
        assert event is not None
        return event.starts_at


async def planner_agrees(app: App, event_id: int) -> bool:
    """Planning the whole event again from its answers changes no row."""
    before = await ledger(app, event_id)
    async with app.sessions() as session, session.begin():
        event = await session.get(Event, event_id)
        assert event is not None
        await plan(session, app.delivery, event, now=app.clock.now())
    return await ledger(app, event_id) == before


async def test_a_burst_ends_as_the_same_taps_one_by_one(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    dewi, sam, ayu = community.member, community.english_member, community.host
    crowd = [emulator.user(f"Anggota {n}", language_code="id") for n in range(7)]
    async with bot.sessions() as session, session.begin():
        # One who asked for a 15-minute reminder only, also when they answer Maybe.
        session.add(
            Person(id=crowd[4].id, first_name="Anggota 4", reminders="900", remind_maybe=True)
        )
    burst = await publish(bot, emulator, community.id, capacity=3)
    calm = await publish(
        bot, emulator, community.id, capacity=3, starts_at=await starts(bot, burst.id)
    )
    cards = {}
    for published in (burst, calm):
        await dewi.send(f"/start e{published.id}")
        cards[published.id] = await dewi.wait_for_message(contains="Lingkar Dukungan")

    def sequence(post: Message, card: Message) -> list[tuple[User, Message, str]]:
        return [
            (crowd[0], post, "Hadir"),
            (crowd[1], post, "Hadir"),
            (ayu, post, "Hadir"),
            (crowd[2], post, "Hadir"),  # waits, first in line
            (crowd[1], post, "Tidak bisa"),  # gives the seat to crowd[2]
            (crowd[3], post, "Hadir"),
            (crowd[4], post, "Mungkin"),
            (sam, post, "Hadir"),
            (crowd[0], post, "Hadir"),  # again: nothing changes
            (crowd[5], post, "Hadir"),
            (dewi, card, "Hadir"),  # on her card, in private
            (crowd[6], post, "Mungkin"),
        ]

    pressed = [
        await who.press(on, label) for who, on, label in sequence(burst.post, cards[burst.id])
    ]
    await emulator.wait_until(
        lambda: all(tap.answered for tap in pressed), timeout=15, message="taps left unanswered"
    )
    together = [tap.answer.text for tap in pressed if tap.answer is not None]
    one_by_one = [
        (await who.tap(on, label)).text for who, on, label in sequence(calm.post, cards[calm.id])
    ]

    assert together == one_by_one
    assert together[3] == "Acaranya sudah penuh: kamu masuk daftar tunggu, nomor 1."
    assert together[5] == "Acaranya sudah penuh: kamu masuk daftar tunggu, nomor 1."
    assert together[7] == "The event is full: you're on the waitlist, number 2."
    assert together[10] == "Acaranya sudah penuh: kamu masuk daftar tunggu, nomor 4."
    stored_burst, stored_calm = await answers(bot, burst.id), await answers(bot, calm.id)
    assert {p: s for p, (s, _) in stored_burst.items()} == {
        p: s for p, (s, _) in stored_calm.items()
    }
    going = [p for p, (s, _) in stored_burst.items() if s is RsvpStatus.GOING]
    assert sorted(going) == sorted([crowd[0].id, ayu.id, crowd[2].id])

    def line(stored: dict[int, tuple[RsvpStatus, int | None]]) -> list[int]:
        waiting = [(pos or 0, p) for p, (s, pos) in stored.items() if s is RsvpStatus.WAITLISTED]
        return [p for _, p in sorted(waiting)]

    assert line(stored_burst) == line(stored_calm) == [crowd[3].id, sam.id, crowd[5].id, dewi.id]

    await emulator.quiet(0.3)
    rows = await ledger(bot, burst.id)
    assert rows == await ledger(bot, calm.id)
    keys = {(person, key) for person, key, _ in rows}
    assert (crowd[2].id, "promotion:E:1") in keys
    assert (crowd[4].id, "reminder:E:900") in keys
    assert not any(person == crowd[4].id and key != "reminder:E:900" for person, key in keys)
    assert not any(person == crowd[6].id for person, _ in keys)  # Maybe, no reminders asked
    assert (crowd[0].id, "reminder:E:86400") in keys
    assert (crowd[0].id, "checkin:E") in keys
    assert not any(person == crowd[1].id for person, _ in keys)  # gave the seat up
    assert await planner_agrees(bot, burst.id)
    assert await planner_agrees(bot, calm.id)


async def test_a_tap_the_database_refuses_fails_alone(
    emulator: BotAPIEmulator,
    bot: App,
    community: CommunitySetup,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite stores a name of any length; PostgreSQL refuses one over 255")
    event = await publish(bot, emulator, community.id)
    crowd = [emulator.user(f"Anggota {n}", language_code="id") for n in range(4)]
    crowd[2] = emulator.user("x" * 300, language_code="id")  # no Telegram name is this long
    pressed = [await person.press(event.post, "Hadir") for person in crowd]
    await emulator.wait_until(
        lambda: all(tap.answered for tap in pressed), timeout=15, message="taps left unanswered"
    )

    texts = [tap.answer.text if tap.answer else None for tap in pressed]
    assert texts == [
        "Kamu akan hadir. Sampai jumpa!",
        "Kamu akan hadir. Sampai jumpa!",
        "Maaf, ada yang salah di pihak kami. Coba lagi sebentar lagi, ya.",
        "Kamu akan hadir. Sampai jumpa!",
    ]
    stored = await answers(bot, event.id)
    assert set(stored) == {crowd[0].id, crowd[1].id, crowd[3].id}
    assert "each is tried alone" in caplog.text
