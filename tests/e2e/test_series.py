"""Recurring events: a series of occurrences, each its own event with its own post."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from events.app import App
from events.db.models import Event, Series
from events.emulator import BotAPIEmulator, Message, Person
from tests.e2e.conftest import eventually
from tests.e2e.test_wizard import answer, choose, events_in


async def weekly(host: Person, times: str, *, english: bool = False) -> Message:
    """A weekly in-person session from 5 December 2027, up to the preview."""
    words = (
        ("Skip", "Yes, correct", "1 h", "In person", "No limit", "Weekly")
        if english
        else ("Lewati", "Ya, benar", "1 jam", "Tempat", "Tanpa batas", "Mingguan")
    )
    skip, yes, hour, in_person, no_limit, weekly_ = words
    await host.send("/new")
    question = await choose(host, await host.wait_for_message(), "Workshop")
    question = await answer(host, "Lingkar Pagi")
    question = await choose(host, question, skip)
    question = await choose(host, question, "WIB")
    question = await choose(host, await answer(host, "5 Desember 2027 09.00"), yes)
    question = await choose(host, question, hour)
    question = await choose(host, question, in_person)
    question = await answer(host, "Taman Kota")
    question = await choose(host, question, no_limit)
    question = await choose(host, question, weekly_)
    return await answer(host, times)


async def move_clock_to(app: App, instant: datetime) -> None:
    app.clock.advance(instant - app.clock.now())


async def test_a_weekly_series_grows_as_the_clock_moves(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    host, group = community.host, community.group
    preview = await weekly(host, "3")
    assert "🔁 Mingguan, 3 kali" in preview.text
    await host.tap(preview, "Terbitkan")
    first = await group.wait_for_message(contains="Minggu, 5 Desember 2027")
    [event] = await events_in(bot)
    assert event.series_id is not None
    assert event.series_index == 0

    # A week before the second one, it is created and announced with its own post.
    await move_clock_to(bot, datetime(2027, 12, 1, tzinfo=UTC))
    second = await group.wait_for_message(contains="Minggu, 12 Desember 2027 pukul 09.00 WIB")
    assert second.message_id != first.message_id
    assert [b.text for b in second.buttons[0]] == ["Hadir", "Mungkin", "Tidak bisa"]
    await move_clock_to(bot, datetime(2027, 12, 8, tzinfo=UTC))
    await group.wait_for_message(contains="Minggu, 19 Desember 2027")
    await move_clock_to(bot, datetime(2027, 12, 20, tzinfo=UTC))

    async def finished() -> bool:
        async with bot.sessions() as session:
            series = await session.scalar(select(Series))
            return series is not None and not series.active

    await eventually(finished)
    events = await events_in(bot)
    assert [e.series_index for e in events] == [0, 1, 2]  # three times, no more
    assert len({e.announcement_message_id for e in events}) == 3
    assert all(e.location == "Taman Kota" for e in events)


async def test_this_and_following(emulator: BotAPIEmulator, bot: App, community) -> None:
    host, group = community.host, community.group
    await host.tap(await weekly(host, "31 Desember 2027"), "Terbitkan")
    first_post = await group.wait_for_message(contains="5 Desember 2027")
    await move_clock_to(bot, datetime(2027, 12, 1, tzinfo=UTC))
    second_post = await group.wait_for_message(contains="12 Desember 2027")

    await host.send("/myevents")
    listing = await host.wait_for_message()
    card = await choose(host, listing, "2. ")
    preview = await choose(host, card, "Ubah")
    labels = [b.text for row in preview.buttons for b in row]
    assert "Simpan yang ini saja" in labels
    assert "Simpan ini dan berikutnya" in labels
    question = await choose(host, preview, "Tanggal & jam")
    question = await choose(host, await answer(host, "12 Desember 2027 10.00"), "Ya, benar")
    question = await choose(host, question, "Judul")
    preview = await answer(host, "Lingkar Siang")
    await host.tap(preview, "Simpan ini dan berikutnya")
    await host.wait_for_edit(preview, "Tersimpan")

    await host.wait_for_edit(second_post, "Minggu, 12 Desember 2027 pukul 10.00 WIB")
    assert second_post.text.startswith("Lingkar Siang")
    assert first_post.text.startswith("Lingkar Pagi")  # the earlier one stays
    await move_clock_to(bot, datetime(2027, 12, 8, tzinfo=UTC))
    third = await group.wait_for_message(contains="19 Desember 2027")
    assert third.text.startswith("Lingkar Siang")
    assert "Minggu, 19 Desember 2027 pukul 10.00 WIB" in third.text

    async def three() -> list[Event]:  # the post goes out just before its row commits
        found = await events_in(bot)
        return found if len(found) == 3 else []

    events = await eventually(three)
    assert [e.title for e in events] == ["Lingkar Pagi", "Lingkar Siang", "Lingkar Siang"]


async def test_an_english_host_picks_every_two_weeks(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    emma = community.english_host
    await emma.send("/new")
    question = await choose(emma, await emma.wait_for_message(), "Webinar")
    question = await answer(emma, "Check-in")
    question = await choose(emma, question, "Skip")
    question = await choose(emma, question, "WIB")
    question = await choose(emma, await answer(emma, "5 December 2027 19:00"), "Yes, correct")
    question = await choose(emma, question, "1 h")
    question = await choose(emma, question, "In person")
    question = await answer(emma, "Hall")
    repeat = await choose(emma, question, "No limit")
    assert [b.text for row in repeat.buttons[:2] for b in row] == [
        "Does not repeat",
        "Weekly",
        "Every 2 weeks",
        "Monthly",
    ]
    question = await choose(emma, repeat, "Every 2 weeks")
    reply = await answer(emma, "1 January 2020")
    assert reply.text.startswith("I could not read that")
    preview = await answer(emma, "6")
    assert "🔁 Every 2 weeks, 6 times" in preview.text
