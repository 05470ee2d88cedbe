"""Event cards in a private chat: the deep link, the join link for people going only, /events
and /my — and nothing about an event for anyone outside its community."""

from __future__ import annotations

from datetime import timedelta

from events.app import App
from events.db.models import Place, RsvpStatus
from events.emulator import BotAPIEmulator, Person
from tests.e2e.conftest import CommunitySetup
from tests.e2e.publishing import LINK, answers, publish

DAY = timedelta(days=1)
NOT_AVAILABLE = "Acara itu tidak kutemukan. Minta tautan baru di grupmu."


async def open_card(person: Person, event_id: int):
    await person.send(f"/start e{event_id}")
    return await person.wait_for_message()


async def test_a_card_in_english_and_the_link_for_people_going(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    event = await publish(bot, emulator, community.id, capacity=10)
    sam = community.english_member

    card = await open_card(sam, event.id)

    assert card.text.splitlines()[:2] == ["Lingkar Dukungan", "Webinar"]
    assert "📍 Online" in card.text
    assert "You have not answered yet." in card.text
    assert "Going: 0 of 10 · Maybe: 0 · Waitlist: 0" in card.text
    assert LINK not in card.text
    assert card.button_texts == ["Going", "Maybe", "Can't go", "Add to calendar"]

    toast = await sam.tap(card, "Maybe")
    assert toast.text == "Your answer: maybe."
    await sam.wait_for_edit(card, "Your answer: Maybe")
    assert "Get the link" not in card.button_texts

    await sam.tap(card, "Going")
    await sam.wait_for_edit(card, "Your answer: Going")
    assert card.button_texts == ["Going", "Maybe", "Can't go", "Get the link", "Add to calendar"]
    assert LINK not in card.text

    toast = await sam.tap(card, "Get the link")
    assert toast.text == "I sent you the link."
    sent = await sam.wait_for_message(contains=LINK)
    assert sent.message_id > card.message_id  # a new message, never an edit
    assert sent.protect_content
    assert sent.text == f"The link to join Lingkar Dukungan:\n{LINK}"
    assert all(LINK not in text for m in sam.bot_messages if m is not sent for text in m.history)

    # Stopping going takes the button away.
    await sam.tap(card, "Can't go")
    await sam.wait_for_edit(card, "Your answer: Can't go")
    assert "Get the link" not in card.button_texts


async def test_forged_link_taps_are_refused(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    event = await publish(bot, emulator, community.id)
    dewi = community.member
    card = await open_card(dewi, event.id)
    await dewi.tap(card, "Mungkin")

    toast = await dewi.tap(card, "Mungkin", data=f"link:{event.id}")
    assert toast.text == "Tautannya hanya untuk yang hadir."

    stranger = emulator.user("Tamu", language_code="id")
    toast = await stranger.tap(event.post, "Hadir", data=f"link:{event.id}")
    assert toast.text == "Tautannya hanya untuk yang hadir."

    await emulator.quiet(0.3)
    for call in emulator.calls_to("sendMessage"):
        assert LINK not in str(call.params.get("text", ""))


async def test_a_deep_link_outside_ones_community_reveals_nothing(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    event = await publish(bot, emulator, community.id, title="Lingkar Rahasia")
    stranger = emulator.user("Tamu", language_code="id")

    refused = await open_card(stranger, event.id)
    missing = await open_card(stranger, 987654)

    assert refused.text == NOT_AVAILABLE
    assert missing.text == NOT_AVAILABLE
    assert refused.buttons == missing.buttons == []
    forged = await stranger.tap(event.post, "Hadir", data=f"card:{event.id}")
    assert forged.text is None or "Rahasia" not in forged.text
    last = await stranger.wait_for_message(after=missing)
    assert last.text == NOT_AVAILABLE
    await stranger.send("/events")
    listing = await stranger.wait_for_message()
    assert "Rahasia" not in listing.text
    assert listing.buttons == []


async def test_events_lists_the_communitys_events_page_by_page(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    for day in range(1, 8):
        await publish(
            bot, emulator, community.id, title=f"Sesi {day}", starts_in=timedelta(days=day)
        )
    past = await publish(
        bot, emulator, community.id, title="Sesi lalu", starts_in=timedelta(hours=1)
    )
    bot.clock.advance(timedelta(hours=2))
    dewi = community.member
    assert past

    await dewi.send("/events")
    listing = await dewi.wait_for_message(contains="halaman 1")
    labels = listing.button_texts
    assert [label.split(" — ")[0] for label in labels[:5]] == [f"Sesi {d}" for d in range(1, 6)]
    assert labels[5:] == ["Berikutnya ›"]

    await dewi.tap(listing, "Berikutnya ›")
    await dewi.wait_for_edit(listing, "halaman 2")
    assert [label.split(" — ")[0] for label in listing.button_texts] == [
        "Sesi 6",
        "Sesi 7",
        "‹ Sebelumnya",
    ]
    await dewi.tap(listing, "Sesi 7")
    card = await dewi.wait_for_message(contains="Sesi 7")
    assert card.button_texts == ["Hadir", "Mungkin", "Tidak bisa", "Tambah ke kalender"]


async def test_my_lists_ones_answers_each_changeable(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    going = await publish(bot, emulator, community.id, title="Sesi Hadir", capacity=1)
    maybe = await publish(bot, emulator, community.id, title="Sesi Mungkin", place=Place.IN_PERSON)
    declined = await publish(bot, emulator, community.id, title="Sesi Tidak")
    dewi, sam = community.member, community.english_member
    await dewi.tap(going.post, "Hadir")
    await sam.tap(going.post, "Hadir")  # waitlisted
    await dewi.tap(maybe.post, "Mungkin")
    await dewi.tap(declined.post, "Tidak bisa")

    await dewi.send("/my")
    mine = await dewi.wait_for_message()
    assert "Sesi Hadir" in mine.text
    assert "Hadir" in mine.text
    assert "Sesi Mungkin" in mine.text
    assert "Mungkin" in mine.text
    assert "Sesi Tidak" not in mine.text
    assert mine.button_texts == ["Sesi Hadir", "Sesi Mungkin"]

    await sam.send("/my")
    his = await sam.wait_for_message()
    assert "on the waitlist" in his.text

    await dewi.tap(mine, "Sesi Mungkin")
    card = await dewi.wait_for_message(contains="Jawabanmu: Mungkin")
    await dewi.tap(card, "Hadir")
    await dewi.wait_for_edit(card, "Jawabanmu: Hadir")
    assert (await answers(bot, maybe.id))[dewi.id][0] is RsvpStatus.GOING
    assert "Dewi" not in card.text
    assert "Sam" not in card.text


async def test_events_in_the_group_lists_titles_and_links_only(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    first = await publish(bot, emulator, community.id, title="Sesi Pagi", capacity=3)
    await community.member.tap(first.post, "Hadir")
    said = await community.english_member.send("/events@events_test_bot", chat=community.group)

    listing = await community.group.wait_for_message(
        predicate=lambda m: m.message_id > said.message_id and "Sesi Pagi" in m.text
    )

    assert listing.text.startswith("Acara mendatang")
    links = [e["url"] for e in listing.entities if e["type"] == "text_link"]
    assert links == [f"https://t.me/events_test_bot?start=e{first.id}"]
    assert "Dewi" not in listing.text
    assert LINK not in listing.text
