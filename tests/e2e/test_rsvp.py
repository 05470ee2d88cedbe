"""Members answer an event from its group post: toasts, capacity, the waitlist, promotions, the
race for the last seats, and a group post that shows counts only, within the group limits."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from events.app import App
from events.db.models import Delivery, DeliveryStatus, RsvpStatus
from events.delivery import InMemoryLimiter, RateLimits
from events.emulator import BotAPIEmulator, Limits
from tests.e2e.conftest import CommunitySetup, StartBot
from tests.e2e.publishing import answers, count_status, publish

# Limits and the bot's send rate sped up alike (CONTRACT §8): a post's edits come 3 s / SCALE
# apart and a group's minute lasts 60 s / SCALE. The race and the burst run at the full
# size (500 taps for 50 seats, 1000 taps): a few seconds each. EVENTS_TEST_SCALE=1 runs them
# at Telegram's real pace.
SCALE = float(os.environ.get("EVENTS_TEST_SCALE", "4"))
RACE_TAPS = int(os.environ.get("EVENTS_TEST_RACE_TAPS", "500"))
RACE_SEATS = int(os.environ.get("EVENTS_TEST_RACE_SEATS", "50"))
BURST_TAPS = int(os.environ.get("EVENTS_TEST_BURST_TAPS", "1000"))


@pytest.fixture
def emulator_limits() -> Limits:
    return Limits(scale=SCALE)


@pytest.fixture
async def bot(start_bot: StartBot) -> App:
    return await start_bot(limiter=InMemoryLimiter(RateLimits().scaled(SCALE)))


def names_in(texts: list[str], people: list[str]) -> list[str]:
    return [name for name in people if any(name in text for text in texts)]


async def test_one_persons_rsvp_life_in_both_languages(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    event = await publish(bot, emulator, community.id, capacity=20)
    dewi, sam = community.member, community.english_member
    await dewi.send("/start")
    await sam.send("/start")
    await dewi.wait_for_message()
    await sam.wait_for_message()

    toast = await dewi.tap(event.post, "Hadir")
    assert toast.text == "Kamu akan hadir. Sampai jumpa!"
    assert toast.url is None  # she has a private chat with the bot
    assert (await dewi.tap(event.post, "Mungkin")).text == "Jawabanmu: mungkin."
    assert (await dewi.tap(event.post, "Hadir")).text == "Kamu akan hadir. Sampai jumpa!"
    before = (await answers(bot, event.id))[dewi.id]
    assert (await dewi.tap(event.post, "Hadir")).text == "Kamu akan hadir. Sampai jumpa!"
    assert (await answers(bot, event.id))[dewi.id] == before  # the same answer changes nothing

    assert (await sam.tap(event.post, "Hadir")).text == "You're going. See you there!"
    assert (await sam.tap(event.post, "Mungkin")).text == "Your answer: maybe."
    assert (await sam.tap(event.post, "Tidak bisa")).text == "Your answer: can't go."
    stored = await answers(bot, event.id)
    assert stored[dewi.id][0] is RsvpStatus.GOING
    assert stored[sam.id][0] is RsvpStatus.DECLINED

    post = await community.group.wait_for_message(
        predicate=lambda m: (
            m.message_id == event.post.message_id
            and "Hadir: 1 dari 20 · Mungkin: 0 · Daftar tunggu: 0" in m.text
        ),
        timeout=10,
    )
    assert names_in([m.text for m in community.group.bot_messages], ["Dewi", "Sam"]) == []
    assert post.button_texts == ["Hadir", "Mungkin", "Tidak bisa"]


async def test_a_full_event_waitlists_and_promotes_once(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    event = await publish(bot, emulator, community.id, capacity=2)
    dewi, sam, ayu = community.member, community.english_member, community.host
    await ayu.send("/start")
    await ayu.wait_for_message()

    await dewi.tap(event.post, "Hadir")
    await sam.tap(event.post, "Hadir")
    toast = await ayu.tap(event.post, "Hadir")
    assert toast.text == "Acaranya sudah penuh: kamu masuk daftar tunggu, nomor 1."
    assert (await ayu.tap(event.post, "Hadir")).text == toast.text  # still first in line

    toast = await sam.tap(event.post, "Tidak bisa")
    assert toast.text == "Your answer: can't go."
    promoted = await ayu.wait_for_message(contains="Kabar baik")
    assert "Lingkar Dukungan" in promoted.text
    assert promoted.button_texts == ["Buka acaranya"]
    stored = await answers(bot, event.id)
    assert stored[ayu.id][0] is RsvpStatus.GOING
    assert stored[sam.id][0] is RsvpStatus.DECLINED

    await emulator.quiet(0.5)
    assert len([m for m in ayu.bot_messages if "Kabar baik" in m.text]) == 1
    async with bot.sessions() as session:
        rows = (
            await session.scalars(select(Delivery).where(Delivery.key.like("promotion:%")))
        ).all()
    assert [(r.person_id, r.key, r.status) for r in rows] == [
        (ayu.id, f"promotion:{event.id}:1", DeliveryStatus.SENT)
    ]
    await community.group.wait_for_message(
        predicate=lambda m: (
            m.message_id == event.post.message_id
            and "Hadir: 2 dari 2 · Mungkin: 0 · Daftar tunggu: 0" in m.text
        ),
        timeout=10,
    )


async def test_a_first_tap_from_someone_who_never_started_the_bot(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    event = await publish(bot, emulator, community.id)
    dewi = community.member
    assert not dewi.started

    toast = await dewi.tap(event.post, "Hadir")

    assert toast.url == f"https://t.me/events_test_bot?start=e{event.id}"
    assert (await answers(bot, event.id))[dewi.id][0] is RsvpStatus.GOING
    await community.group.wait_for_message(
        predicate=lambda m: m.message_id == event.post.message_id and "Hadir: 1" in m.text,
        timeout=10,
    )
    texts = [m.text for m in community.group.bot_messages]
    assert names_in(texts, ["Dewi"]) == []
    assert not emulator.calls_to("sendMessage", chat_id=dewi.id)


async def test_answers_close_when_the_event_starts(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    event = await publish(bot, emulator, community.id, starts_in=timedelta(hours=1))
    bot.clock.advance(timedelta(hours=2))
    toast = await community.english_member.tap(event.post, "Hadir")
    assert toast.text == "This event is over: answers are closed."
    assert await answers(bot, event.id) == {}


async def test_the_race_for_the_last_seats(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    event = await publish(bot, emulator, community.id, capacity=RACE_SEATS)
    people = [emulator.user(f"Anggota {n}", language_code="id") for n in range(RACE_TAPS)]
    began = time.monotonic()
    taps = [await person.press(event.post, "Hadir") for person in people]
    await emulator.wait_until(
        lambda: all(tap.answered for tap in taps), timeout=60, message="taps left unanswered"
    )
    took = time.monotonic() - began
    print(f"\nrace: {RACE_TAPS} taps for {RACE_SEATS} seats answered in {took:.2f} s")

    stored = await answers(bot, event.id)
    going = [p for p in people if stored[p.id][0] is RsvpStatus.GOING]
    waiting = [p for p in people if stored[p.id][0] is RsvpStatus.WAITLISTED]
    assert going == people[:RACE_SEATS]  # first come (lowest update_id), first served
    assert waiting == people[RACE_SEATS:]
    positions = [stored[p.id][1] for p in waiting]
    assert positions == sorted(positions)
    for n, tap in enumerate(taps[RACE_SEATS:], start=1):
        assert tap.answer is not None
        assert tap.answer.text == f"Acaranya sudah penuh: kamu masuk daftar tunggu, nomor {n}."

    waitlisted = RACE_TAPS - RACE_SEATS
    final = f"Hadir: {RACE_SEATS} dari {RACE_SEATS} · Mungkin: 0 · Daftar tunggu: {waitlisted}"
    await community.group.wait_for_message(
        predicate=lambda m: m.message_id == event.post.message_id and final in m.text,
        timeout=15,
    )
    assert emulator.violations == []


async def test_the_group_post_under_a_burst_of_taps(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    event = await publish(bot, emulator, community.id, capacity=50)
    people = [emulator.user(f"Peserta {n}", language_code="en") for n in range(BURST_TAPS)]
    labels = ["Hadir", "Mungkin", "Tidak bisa"]
    began = time.monotonic()
    # Waves of taps, so the counts keep changing for a while.
    for wave in range(0, BURST_TAPS, 25):
        group = people[wave : wave + 25]
        taps = [await p.press(event.post, labels[(wave + i) % 3]) for i, p in enumerate(group)]
        await emulator.wait_until(lambda taps=taps: all(t.answered for t in taps), timeout=30)
    going = await count_status(bot, event.id, RsvpStatus.GOING)
    maybe = await count_status(bot, event.id, RsvpStatus.MAYBE)
    waiting = await count_status(bot, event.id, RsvpStatus.WAITLISTED)
    assert going == 50
    assert going + waiting == len(range(0, BURST_TAPS, 3))
    final = f"Hadir: {going} dari 50 · Mungkin: {maybe} · Daftar tunggu: {waiting}"
    await community.group.wait_for_message(
        predicate=lambda m: m.message_id == event.post.message_id and final in m.text,
        timeout=30,
    )
    gap = 3.0 / SCALE
    await emulator.quiet(gap * 2, timeout=30)  # nothing more is coming
    took = time.monotonic() - began
    assert final in event.post.text
    gaps = emulator.edit_gaps(community.id, event.post.message_id)
    print(f"\nburst: {BURST_TAPS} taps, {len(gaps) + 1} edits in {took:.2f} s")
    assert gaps
    assert min(gaps) >= gap - 0.05
    assert emulator.max_group_writes_in_window(community.id) <= 20
    assert emulator.violations == []
    texts = [m.text for m in community.group.bot_messages]
    assert names_in(texts, ["Peserta"]) == []


async def test_the_card_answer_from_the_post_is_refused_for_another_groups_event(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    """A forged tap in one group for an event of another community changes nothing."""
    event = await publish(bot, emulator, community.id)
    other_admin = emulator.user("Budi", language_code="id")
    other = emulator.group("Lingkar Lain", members=[], creator=other_admin)
    await emulator.add_bot_to_group(other, by=other_admin)
    hello = await other.wait_for_message(contains="/addhost")
    await emulator.wait_until(lambda: True)
    assert hello is not None
    own = await publish(bot, emulator, other.id, title="Acara lain")
    toast = await other_admin.tap(own.post, "Hadir", data=f"r:{event.id}:g")
    assert toast.text == "Acara itu tidak kutemukan."
    assert await answers(bot, event.id) == {}


async def test_the_promotion_message_is_in_the_recipients_language(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    event = await publish(bot, emulator, community.id, capacity=1)
    dewi, sam = community.member, community.english_member
    await sam.send("/start")
    await sam.wait_for_message()
    await dewi.tap(event.post, "Hadir")
    toast = await sam.tap(event.post, "Hadir")
    assert toast.text == "The event is full: you're on the waitlist, number 1."

    await dewi.tap(event.post, "Mungkin")

    promoted = await sam.wait_for_message(contains="Good news")
    assert promoted.text.startswith(
        "Good news: a place opened up and you are now going to Lingkar Dukungan ("
    )
    assert "Open the event to get the link" in promoted.text
    assert "meet.example.org" not in promoted.text  # the link comes only on request
    await sam.tap(promoted, "Open the event")
    card = await sam.wait_for_message(contains="Your answer: Going")
    assert "Get the link" in card.button_texts
