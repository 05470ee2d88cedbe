"""Reminders end to end: planned when people answer, sent at their moment in each person's
language and zone, never twice, never before their time, never after the start; moved with the
event, dropped with it, and only the latest of several overdue ones."""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from events.app import App
from events.db.models import Delivery, DeliveryStatus, Event, Person, Place, Rsvp, RsvpStatus
from events.delivery import InMemoryLimiter, RateLimits
from events.emulator import Blocked, BotAPIEmulator, Limits, Message, RetryAfter, ServerError
from events.emulator import Person as User
from events.reminders import plan
from tests.e2e.conftest import CommunitySetup, StartBot, eventually
from tests.e2e.publishing import LINK, Published, answers, publish
from tests.e2e.test_delivery import seeded
from tests.e2e.test_manage import my_event, started
from tests.e2e.test_wizard import answer, choose

# Telegram's limits and the bot's send rate sped up alike (CONTRACT §8); EVENTS_TEST_SCALE=1
# and EVENTS_TEST_CROWD=1000 run the large send at full size and real pace.
SCALE = float(os.environ.get("EVENTS_TEST_SCALE", "4"))
CROWD = int(os.environ.get("EVENTS_TEST_CROWD", "300"))
JAKARTA = ZoneInfo("Asia/Jakarta")
MONTHS = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
]


@pytest.fixture
def emulator_limits() -> Limits:
    return Limits(scale=SCALE)


@pytest.fixture
async def bot(start_bot: StartBot) -> App:
    return await start_bot(limiter=InMemoryLimiter(RateLimits().scaled(SCALE)))


def evening(app: App, days: int = 3) -> datetime:
    """19.00 WIB, ``days`` days from the bot's today."""
    local = app.clock.now().astimezone(JAKARTA) + timedelta(days=days)
    return local.replace(hour=19, minute=0, second=0, microsecond=0).astimezone(UTC)


def move_to(app: App, instant: datetime) -> None:
    app.clock.advance(instant - app.clock.now())


def reminders(person: User) -> list[Message]:
    return [m for m in person.bot_messages if m.text.startswith("⏰")]


async def rows(app: App, event_id: int) -> dict[tuple[int, str], DeliveryStatus]:
    """(person, key) -> status of the event's reminder and check-in rows."""
    async with app.sessions() as session:
        found = await session.execute(
            select(Delivery.person_id, Delivery.key, Delivery.status).where(
                Delivery.key.like(f"reminder:{event_id}:%")
                | (Delivery.key == f"checkin:{event_id}")
            )
        )
        return {(person, key): DeliveryStatus(status) for person, key, status in found}


async def going(event: Published, *people: User, label: str = "Hadir") -> None:
    for person in people:
        await person.tap(event.post, label)


async def set_zone(app: App, person: User, zone: str) -> None:
    async with app.sessions() as session, session.begin():
        await session.execute(update(Person).where(Person.id == person.id).values(timezone=zone))


async def test_each_person_going_gets_the_reminders_in_their_language_and_zone(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    dewi, sam, rina, emma = (
        community.member,
        community.english_member,
        community.admin,
        community.english_host,
    )
    await started(dewi, sam, rina, emma)
    await set_zone(bot, sam, "Asia/Makassar")
    starts = evening(bot)
    event = await publish(bot, emulator, community.id, starts_at=starts, capacity=2)
    await going(event, dewi, sam)
    await rina.tap(event.post, "Mungkin")
    await emma.tap(event.post, "Hadir")  # the waitlist: no reminders
    assert (await answers(bot, event.id))[emma.id][0] is RsvpStatus.WAITLISTED
    planned = await rows(bot, event.id)
    assert set(planned) == {
        (pid, key)
        for pid in (dewi.id, sam.id)
        for key in (
            f"reminder:{event.id}:86400",
            f"reminder:{event.id}:3600",
            f"checkin:{event.id}",
        )
    }

    # A minute before the day-before moment: nothing yet.
    move_to(bot, starts - timedelta(days=1, minutes=1))
    await emulator.quiet(0.3)
    assert [reminders(p) for p in (dewi, sam, rina, emma)] == [[], [], [], []]

    move_to(bot, starts - timedelta(days=1))
    to_dewi = await dewi.wait_for_message(contains="⏰")
    to_sam = await sam.wait_for_message(contains="⏰")
    assert to_dewi.text.startswith("⏰ Lingkar Dukungan dimulai besok.")
    assert "pukul 19.00 WIB" in to_dewi.text
    assert "📍 Online" in to_dewi.text
    assert LINK not in to_dewi.text  # the link comes with the last reminder
    assert to_dewi.button_texts == ["Tidak bisa datang", "Tambah ke kalender"]
    assert to_sam.text.startswith("⏰ Lingkar Dukungan starts tomorrow.")
    assert "8:00 PM WITA" in to_sam.text  # Sam's own zone
    assert to_sam.button_texts == ["Can't make it", "Add to calendar"]
    assert not to_dewi.protect_content

    move_to(bot, starts - timedelta(hours=1))
    await emulator.wait_until(lambda: len(reminders(dewi)) == 2 and len(reminders(sam)) == 2)
    last = reminders(dewi)[-1]
    assert last.text.startswith("⏰ Lingkar Dukungan dimulai dalam 1 jam.")
    assert f"Tautan untuk bergabung: {LINK}" in last.text
    assert last.protect_content
    assert reminders(sam)[-1].text.startswith("⏰ Lingkar Dukungan starts in 1 hour.")

    move_to(bot, starts + timedelta(minutes=5))
    await emulator.quiet(0.3)
    assert [len(reminders(p)) for p in (dewi, sam, rina, emma)] == [2, 2, 0, 0]
    stored = await rows(bot, event.id)
    assert [stored[dewi.id, f"reminder:{event.id}:{o}"] for o in (86400, 3600)] == [
        DeliveryStatus.SENT,
        DeliveryStatus.SENT,
    ]
    assert emulator.violations == []


async def test_cant_make_it_frees_the_seat_for_the_next_person(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    dewi, sam = community.member, community.english_member
    await started(dewi, sam)
    starts = evening(bot)
    event = await publish(bot, emulator, community.id, starts_at=starts, capacity=1)
    await going(event, dewi, sam)
    move_to(bot, starts - timedelta(days=1))
    reminder = await dewi.wait_for_message(contains="⏰")
    assert reminders(sam) == []  # waiting, not going

    toast = await dewi.tap(reminder, "Tidak bisa datang")
    assert toast.text == "Jawabanmu: tidak bisa."
    await emulator.wait_until(lambda: reminder.buttons == [])  # the reminder stays, spent
    await sam.wait_for_message(contains="Good news")
    stored = await answers(bot, event.id)
    assert stored[dewi.id][0] is RsvpStatus.DECLINED
    assert stored[sam.id][0] is RsvpStatus.GOING

    move_to(bot, starts - timedelta(hours=1))
    to_sam = await sam.wait_for_message(contains="⏰")
    assert to_sam.text.startswith("⏰ Lingkar Dukungan starts in 1 hour.")
    assert LINK in to_sam.text
    await emulator.quiet(0.3)
    assert len(reminders(dewi)) == 1  # nothing more for Dewi
    planned = await rows(bot, event.id)
    assert (dewi.id, f"checkin:{event.id}") not in planned
    assert planned[sam.id, f"checkin:{event.id}"] is DeliveryStatus.PENDING


async def test_going_after_a_reminders_moment_skips_it(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    dewi = community.member
    await started(dewi)
    starts = bot.clock.now() + timedelta(minutes=30)
    event = await publish(bot, emulator, community.id, starts_at=starts, place=Place.IN_PERSON)
    await going(event, dewi)
    assert set(await rows(bot, event.id)) == {(dewi.id, f"checkin:{event.id}")}
    move_to(bot, starts + timedelta(minutes=1))
    await emulator.quiet(0.3)
    assert reminders(dewi) == []


async def test_of_several_overdue_reminders_only_the_latest_goes(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    """The clock jumps over both moments at once, as after a long outage."""
    dewi, sam = community.member, community.english_member
    await started(dewi, sam)
    starts = evening(bot)
    event = await publish(bot, emulator, community.id, starts_at=starts)
    await going(event, dewi, sam)
    move_to(bot, starts - timedelta(minutes=40))
    late = await dewi.wait_for_message(contains="⏰")
    assert late.text.startswith("⏰ Lingkar Dukungan dimulai dalam 40 menit.")
    assert LINK in late.text
    assert late.protect_content
    await sam.wait_for_message(contains="⏰")
    await emulator.quiet(0.3)
    assert len(reminders(dewi)) == 1
    assert len(reminders(sam)) == 1
    stored = await rows(bot, event.id)
    assert stored[dewi.id, f"reminder:{event.id}:86400"] is DeliveryStatus.EXPIRED
    assert stored[dewi.id, f"reminder:{event.id}:3600"] is DeliveryStatus.SENT


async def test_nothing_is_sent_after_the_start(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    dewi = community.member
    await started(dewi)
    starts = evening(bot)
    event = await publish(bot, emulator, community.id, starts_at=starts)
    await going(event, dewi)
    move_to(bot, starts + timedelta(seconds=1))

    async def expired() -> bool:
        stored = await rows(bot, event.id)
        return {stored[dewi.id, f"reminder:{event.id}:{o}"] for o in (86400, 3600)} == {
            DeliveryStatus.EXPIRED
        }

    await eventually(expired)
    await emulator.quiet(0.3)
    assert reminders(dewi) == []


async def test_moving_the_event_moves_its_reminders(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    host, dewi = community.host, community.member
    await started(dewi)
    starts = evening(bot)
    event = await publish(bot, emulator, community.id, starts_at=starts, created_by=host.id)
    await going(event, dewi)

    later = starts + timedelta(days=2)
    day = later.astimezone(JAKARTA)
    card = await my_event(host)
    preview = await choose(host, card, "Ubah")
    question = await choose(host, preview, "Tanggal & jam")
    moved = f"{day.day} {MONTHS[day.month - 1]} {day.year} 19.00"
    question = await choose(host, await answer(host, moved), "Ya, benar")
    await host.tap(question, "Simpan")
    await host.wait_for_edit(question, "Tersimpan")
    notice = await dewi.wait_for_message(contains="berubah")

    # The old moments pass in silence, the new ones bring the reminders.
    move_to(bot, starts - timedelta(minutes=30))
    await emulator.quiet(0.3)
    assert reminders(dewi) == []
    move_to(bot, later - timedelta(days=1))
    first = await dewi.wait_for_message(contains="⏰", after=notice)
    assert first.text.startswith("⏰ Lingkar Dukungan dimulai besok.")
    move_to(bot, later - timedelta(hours=1))
    await emulator.wait_until(lambda: len(reminders(dewi)) == 2)


async def test_cancelling_drops_the_reminders_and_tells_everyone_once(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    host, dewi, sam, rina = (
        community.host,
        community.member,
        community.english_member,
        community.admin,
    )
    await started(dewi, sam, rina)
    starts = evening(bot)
    event = await publish(
        bot, emulator, community.id, starts_at=starts, capacity=1, created_by=host.id
    )
    await going(event, dewi, sam)  # Sam waits
    await rina.tap(event.post, "Mungkin")

    card = await my_event(host)
    question = await choose(host, card, "Batalkan acara")
    done = await choose(host, question, "Lewati")
    assert "dibatalkan" in done.text
    for person in (dewi, sam, rina):
        await person.wait_for_message(contains="❌")
    assert {key for (_, key), status in (await rows(bot, event.id)).items()} == set()

    move_to(bot, starts - timedelta(minutes=30))
    await emulator.quiet(0.3)
    for person in (dewi, sam, rina):
        assert reminders(person) == []
        assert len([m for m in person.bot_messages if "❌" in m.text]) == 1


async def test_maybe_gets_reminders_when_asked_for_but_never_the_link(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    dewi, sam = community.member, community.english_member
    await started(dewi, sam)
    async with bot.sessions() as session, session.begin():
        await session.execute(update(Person).where(Person.id == dewi.id).values(remind_maybe=True))
    starts = evening(bot)
    event = await publish(bot, emulator, community.id, starts_at=starts)
    await going(event, dewi, sam, label="Mungkin")
    move_to(bot, starts - timedelta(hours=1))
    reminder = await dewi.wait_for_message(contains="⏰")
    assert LINK not in reminder.text
    assert not reminder.protect_content
    await emulator.quiet(0.3)
    assert reminders(sam) == []
    assert (dewi.id, f"checkin:{event.id}") not in await rows(bot, event.id)


async def test_a_reminder_to_a_crowd_through_a_429_storm_server_errors_and_blocked_people(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    starts = evening(bot)
    event = await publish(bot, emulator, community.id, starts_at=starts)
    crowd = await seeded(bot, emulator, CROWD)
    async with bot.sessions() as session, session.begin():
        for position, user in enumerate(crowd, start=1):
            session.add(
                Rsvp(
                    event_id=event.id, person_id=user.id, status=RsvpStatus.GOING, position=position
                )
            )
        await session.flush()
        row = await session.get(Event, event.id)
        assert row is not None
        await plan(session, bot.delivery, row, now=bot.clock.now())
    blocked = crowd[::30]
    for user in blocked:
        await user.block()
    storm = [emulator.faults.add("sendMessage", error=RetryAfter(1), nth=n) for n in range(40, 70)]
    errors = [emulator.faults.add("sendMessage", error=ServerError(), nth=n) for n in (90, 95, 99)]
    emulator.faults.add("sendMessage", error=Blocked(), chat_id=crowd[7].id)  # 403 out of the blue

    move_to(bot, starts - timedelta(days=1))
    key = f"reminder:{event.id}:86400"

    async def settled() -> Counter[DeliveryStatus]:
        async with bot.sessions() as session:
            found = Counter(
                DeliveryStatus(status)
                for status in await session.scalars(
                    select(Delivery.status).where(Delivery.key == key)
                )
            )
        unsettled = found[DeliveryStatus.PENDING] + found[DeliveryStatus.SENDING]
        return Counter() if unsettled else found  # (an empty Counter is false: wait on)

    outcome = await eventually(settled, timeout=30 * 4 / SCALE + CROWD / 20)
    unreachable = {user.id for user in blocked} | {crowd[7].id}
    assert outcome == {
        DeliveryStatus.SENT: CROWD - len(unreachable),
        DeliveryStatus.BLOCKED: len(unreachable),
    }
    received = Counter(
        call.chat_id
        for call in emulator.calls_to("sendMessage", ok=True)
        if str(call.params.get("text", "")).startswith("⏰")
    )
    assert received == {user.id: 1 for user in crowd if user.id not in unreachable}
    assert all(fault.fired == 1 for fault in storm + errors)
    assert emulator.violations == []
    async with bot.sessions() as session:
        marked = await session.scalars(select(Person.id).where(Person.blocked_at.is_not(None)))
        assert set(marked) == unreachable
    # The bot is still there for everyone else.
    dewi = community.member
    await dewi.send("/start")
    await dewi.wait_for_message()
