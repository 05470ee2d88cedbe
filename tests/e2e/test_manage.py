"""Hosts manage what they published: /myevents, edit, cancel, duplicate, attendees."""

from __future__ import annotations

from sqlalchemy import func, select

from events.app import App
from events.db.models import Delivery, Event, EventStatus, Rsvp, RsvpStatus
from events.emulator import BotAPIEmulator, Message, Person
from tests.e2e.conftest import eventually
from tests.e2e.test_wizard import TITLE, answer, choose, events_in, fill_until_preview


async def publish(host: Person, community) -> tuple[Message, Message]:
    """Ayu publishes the wizard's event; returns the group post and the private message."""
    preview = await fill_until_preview(host)
    await host.tap(preview, "Terbitkan")
    post = await community.group.wait_for_message(contains="Lingkar")
    await host.wait_for_edit(preview, "Diterbitkan")
    return post, preview


async def started(*people: Person) -> None:
    """They opened a private chat with the bot (so it may write to them)."""
    for person in people:
        await person.send("/start")
        await person.wait_for_message()


async def answers(app: App, event_id: int, *given: tuple[Person, RsvpStatus]) -> None:
    async with app.sessions() as session, session.begin():
        for position, (person, status) in enumerate(given, start=1):
            session.add(
                Rsvp(event_id=event_id, person_id=person.id, status=status, position=position)
            )


async def my_event(host: Person, number: int = 1) -> Message:
    """/myevents, then the event's card."""
    await host.send("/myevents")
    listing = await host.wait_for_message()
    return await choose(host, listing, f"{number}. ")


def notices(person: Person, contains: str) -> list[Message]:
    return [m for m in person.bot_messages if contains in m.text]


async def deliveries(app: App) -> list[tuple[int, str]]:
    async with app.sessions() as session:
        rows = await session.execute(select(Delivery.person_id, Delivery.key).order_by(Delivery.id))
        return [tuple(row) for row in rows]


async def test_myevents_lists_the_hosts_events_with_the_four_buttons(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    host = community.host
    await publish(host, community)

    await host.send("/myevents")
    listing = await host.wait_for_message()
    assert listing.text.startswith("Acaramu")
    assert f"1. {TITLE} — Minggu, 5 Desember 2027" in listing.text
    card = await choose(host, listing, "1. ")
    labels = [b.text for row in card.buttons for b in row]
    assert labels[:4] == ["Ubah", "Batalkan acara", "Duplikat", "Peserta"]

    # An English admin sees the same event with English words.
    emma = community.english_host
    await emma.send("/myevents")
    listing = await emma.wait_for_message()
    assert "no upcoming events" in listing.text  # Emma created none and is not an admin
    rina = community.admin
    await rina.send("/myevents")
    listing = await rina.wait_for_message()
    assert "Lingkar" in listing.text  # the admin sees every event of the community


async def test_edit_time_updates_the_post_and_tells_each_attendee_once(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    host, group = community.host, community.group
    dewi, sam, rina, emma = (
        community.member,
        community.english_member,
        community.admin,
        community.english_host,
    )
    post, _ = await publish(host, community)
    await started(dewi, sam, rina, emma)
    [event] = await events_in(bot)
    await answers(
        bot,
        event.id,
        (dewi, RsvpStatus.GOING),
        (sam, RsvpStatus.MAYBE),
        (rina, RsvpStatus.WAITLISTED),
        (emma, RsvpStatus.DECLINED),
    )

    card = await my_event(host)
    preview = await choose(host, card, "Ubah")
    assert "Simpan" in [b.text for row in preview.buttons for b in row]
    assert "Terbitkan" not in [b.text for row in preview.buttons for b in row]
    question = await choose(host, preview, "Tanggal & jam")
    question = await choose(host, await answer(host, "6 Desember 2027 19.30"), "Ya, benar")
    assert question.text.startswith("Begini anggota")
    question = await choose(host, question, "Judul")
    preview = await answer(host, "Ruang Aman")
    await host.tap(preview, "Simpan")
    done = await host.wait_for_edit(preview, "Tersimpan")
    assert "3 orang" in done.text

    await host.wait_for_edit(post, "Senin, 6 Desember 2027 pukul 19.30 WIB")
    assert post.text.startswith("Ruang Aman")
    for person in (dewi, sam, rina):
        await emulator.wait_until(lambda p=person: len(p.bot_messages) >= 2)
    [to_dewi] = notices(dewi, "berubah")
    assert "Senin, 6 Desember 2027 pukul 19.30 WIB" in to_dewi.text
    assert "https://meet.example.org/lingkar" in to_dewi.text
    assert to_dewi.protect_content
    [to_sam] = notices(sam, "has changed")  # in his language
    assert "Monday, 6 December 2027 at 7:30 PM WIB" in to_sam.text
    assert "meet.example.org" not in to_sam.text  # the link only to people going
    [to_rina] = notices(rina, "berubah")
    assert "meet.example.org" not in to_rina.text
    assert notices(emma, "changed") == []  # declined: not told
    [event] = await events_in(bot)
    assert (event.revision, event.title) == (2, "Ruang Aman")
    assert event.starts_at.isoformat() == "2027-12-06T12:30:00+00:00"
    keys = await deliveries(bot)
    notices_sent = [(pid, key) for pid, key in keys if key.startswith("notice:")]
    assert sorted(notices_sent) == sorted((p.id, f"notice:{event.id}:2") for p in (dewi, sam, rina))
    # The move planned the reminders of the one person going (tests/e2e/test_reminders.py).
    assert {key for pid, key in keys if pid == dewi.id} == {
        f"notice:{event.id}:2",
        f"reminder:{event.id}:86400",
        f"reminder:{event.id}:3600",
        f"checkin:{event.id}",
    }
    assert [m for m in group.bot_messages if "Ruang Aman" in m.text] == [post]  # no new post


async def test_a_title_change_alone_tells_nobody(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    host = community.host
    post, _ = await publish(host, community)
    await started(community.member)
    [event] = await events_in(bot)
    await answers(bot, event.id, (community.member, RsvpStatus.GOING))

    preview = await choose(host, await my_event(host), "Ubah")
    await choose(host, preview, "Judul")
    preview = await answer(host, "Ruang Aman")
    await host.tap(preview, "Simpan")
    await host.wait_for_edit(preview, "0 orang")
    await host.wait_for_edit(post, "Ruang Aman")
    assert await deliveries(bot) == []
    [event] = await events_in(bot)
    assert event.revision == 2


async def test_cancel_with_a_reason(emulator: BotAPIEmulator, bot: App, community) -> None:
    host = community.host
    dewi, sam = community.member, community.english_member
    post, _ = await publish(host, community)
    await started(dewi, sam)
    [event] = await events_in(bot)
    await answers(bot, event.id, (dewi, RsvpStatus.GOING), (sam, RsvpStatus.WAITLISTED))

    card = await my_event(host)
    ask = await choose(host, card, "Batalkan acara")
    assert "alasan" in ask.text
    await host.send("Narasumber sakit & <b>istirahat</b>")
    done = await host.wait_for_message()
    assert "dibatalkan" in done.text
    assert "2 orang" in done.text

    await host.wait_for_edit(post, "Dibatalkan")
    assert post.buttons == [] or not any(b.text == "Hadir" for r in post.buttons for b in r)
    await emulator.wait_until(lambda: notices(dewi, "Dibatalkan") and notices(sam, "Cancelled"))
    [to_dewi] = notices(dewi, "Dibatalkan")
    assert "Narasumber sakit & <b>istirahat</b>" in to_dewi.text  # shown literally
    [to_sam] = notices(sam, "Cancelled")
    assert "The host says: Narasumber sakit" in to_sam.text
    [event] = await events_in(bot)
    assert event.status is EventStatus.CANCELLED
    assert event.revision == 2
    assert len(await deliveries(bot)) == 2

    # Still listed, as cancelled, without Edit or Cancel.
    await host.send("/myevents")
    listing = await host.wait_for_message()
    assert "(dibatalkan)" in listing.text
    card = await choose(host, listing, "1. ")
    labels = [b.text for row in card.buttons for b in row]
    assert "Ubah" not in labels
    assert "Batalkan acara" not in labels
    # Replaying the cancel changes nothing and tells nobody again.
    reply = await host.tap(card, "Duplikat", data=f"m:s:{event.id}")
    assert reply.text
    assert len(await deliveries(bot)) == 2


async def test_cancel_without_a_reason_in_english(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    emma = community.english_host
    await emma.send("/new")
    question = await choose(emma, await emma.wait_for_message(), "Workshop")
    question = await answer(emma, "Quiet Hour")
    question = await choose(emma, question, "Skip")
    question = await choose(emma, question, "WIB")
    question = await choose(emma, await answer(emma, "5 December 2027 19:00"), "Yes, correct")
    question = await choose(emma, question, "1 h")
    question = await choose(emma, question, "In person")
    question = await answer(emma, "Community hall")
    question = await choose(emma, question, "No limit")
    preview = await choose(emma, question, "Does not repeat")
    await emma.tap(preview, "Publish")
    post = await community.group.wait_for_message(contains="Quiet Hour")

    await emma.send("/myevents")
    card = await choose(emma, await emma.wait_for_message(), "1. ")
    assert [b.text for b in card.buttons[0]] == ["Edit", "Cancel event"]
    assert [b.text for b in card.buttons[1]] == ["Duplicate", "Attendees"]
    ask = await choose(emma, card, "Cancel event")
    done = await choose(emma, ask, "Skip")
    assert "cancelled" in done.text
    await emma.wait_for_edit(post, "Dibatalkan")  # the group's language


async def test_attendees_for_hosts_only(emulator: BotAPIEmulator, bot: App, community) -> None:
    host = community.host
    dewi, sam, rina = community.member, community.english_member, community.admin
    post, _ = await publish(host, community)
    await started(dewi, sam, rina)
    [event] = await events_in(bot)
    await answers(
        bot,
        event.id,
        (dewi, RsvpStatus.GOING),
        (rina, RsvpStatus.WAITLISTED),
        (sam, RsvpStatus.WAITLISTED),
    )

    card = await my_event(host)
    assert "Hadir: 1 · Mungkin: 0 · Daftar tunggu: 2" in card.text
    listing = await choose(host, card, "Peserta")
    assert "Hadir (1):\n1. Dewi" in listing.text
    assert "Daftar tunggu (2):\n1. Rina\n2. Sam" in listing.text

    # A member replays the host's button: refused, no names.
    before = len(dewi.bot_messages)
    for data in (f"m:a:{event.id}", f"m:e:{event.id}", f"m:c:{event.id}", f"m:a:{event.id + 9}"):
        reply = await dewi.tap(post, "Hadir", data=data)
        assert reply.text == "Hanya host acara ini yang bisa melakukannya."
    reply = await dewi.tap(post, "Hadir", data="m:\x00junk")
    assert reply.text == "Tombol ini sudah tidak berlaku."
    await emulator.quiet(0.2)
    assert len(dewi.bot_messages) == before
    assert all("Rina" not in m.text for m in dewi.bot_messages)
    [event] = await events_in(bot)
    assert (event.status, event.revision) == (EventStatus.PUBLISHED, 1)
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0


async def test_duplicate_asks_the_new_date_then_previews(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    host = community.host
    await publish(host, community)

    question = await choose(host, await my_event(host), "Duplikat")
    assert "Kapan mulainya" in question.text
    question = await choose(host, await answer(host, "12 Desember 2027 19.30"), "Ya, benar")
    assert question.text.startswith("Begini anggota")
    assert TITLE in question.text
    await host.tap(question, "Terbitkan")
    post = await community.group.wait_for_message(contains="12 Desember 2027")
    await host.wait_for_edit(question, "Diterbitkan")  # after the commit
    first, copy = await events_in(bot)
    assert copy.title == first.title
    assert copy.join_link == first.join_link
    assert copy.announcement_message_id == post.message_id
    assert copy.starts_at.isoformat() == "2027-12-12T12:30:00+00:00"


async def test_a_member_is_told_who_manages_events(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    dewi = community.member
    await dewi.send("/myevents")
    reply = await dewi.wait_for_message()
    assert "host" in reply.text.lower()
    assert "Ubah" not in [b.text for row in reply.buttons for b in row]


async def test_an_admin_of_another_group_cannot_touch_this_one(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    host, sam = community.host, community.english_member
    post, _ = await publish(host, community)
    other = emulator.group("Ruang Lain", members=[community.member], creator=sam)
    await emulator.add_bot_to_group(other, by=sam)
    await other.wait_for_message(contains="/addhost")
    [event] = await events_in(bot)

    for data in (f"m:a:{event.id}", f"m:e:{event.id}", f"m:d:{event.id}", f"m:c:{event.id}"):
        reply = await sam.tap(post, "Hadir", data=data)
        assert reply.text == "Only the hosts of this event can do that."
    await sam.send("/myevents")
    listing = await sam.wait_for_message()
    assert "no upcoming events" in listing.text
    await emulator.quiet(0.2)
    assert all("Lingkar" not in m.text for m in sam.bot_messages)
    [event] = await events_in(bot)
    assert (event.status, event.revision) == (EventStatus.PUBLISHED, 1)


async def test_more_places_take_people_from_the_waitlist(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    host, dewi, sam = community.host, community.member, community.english_member
    await publish(host, community)
    await started(dewi, sam)
    [event] = await events_in(bot)
    await answers(bot, event.id, (dewi, RsvpStatus.GOING), (sam, RsvpStatus.WAITLISTED))
    async with bot.sessions() as session, session.begin():
        (await session.get(Event, event.id)).capacity = 1

    preview = await choose(host, await my_event(host), "Ubah")
    preview = await choose(host, await choose(host, preview, "Kuota"), "Tanpa batas")
    await host.tap(preview, "Simpan")
    await host.wait_for_edit(preview, "Tersimpan")

    async def promoted() -> bool:
        async with bot.sessions() as session:
            status = await session.scalar(
                select(Rsvp.status).where(Rsvp.event_id == event.id, Rsvp.person_id == sam.id)
            )
            return status is RsvpStatus.GOING

    await eventually(promoted)
    [event] = await events_in(bot)
    assert event.capacity is None
    keys = await deliveries(bot)
    assert [key for _, key in keys if not key.startswith(("reminder:", "checkin:"))] == [
        f"promotion:{event.id}:1"
    ]
    assert {key for pid, key in keys if pid == sam.id} == {  # his reminders come with the seat
        f"promotion:{event.id}:1",
        f"reminder:{event.id}:86400",
        f"reminder:{event.id}:3600",
        f"checkin:{event.id}",
    }


async def test_an_english_host_edits_the_place(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    emma, sam = community.english_host, community.english_member
    await emma.send("/new")
    question = await choose(emma, await emma.wait_for_message(), "Workshop")
    question = await answer(emma, "Quiet Hour")
    question = await choose(emma, question, "Skip")
    question = await choose(emma, question, "WIB")
    question = await choose(emma, await answer(emma, "5 December 2027 19:00"), "Yes, correct")
    question = await choose(emma, question, "1 h")
    question = await choose(emma, question, "In person")
    question = await answer(emma, "Community hall")
    question = await choose(emma, question, "No limit")
    preview = await choose(emma, question, "Does not repeat")
    await emma.tap(preview, "Publish")
    post = await community.group.wait_for_message(contains="Quiet Hour")
    await emma.wait_for_edit(preview, "Published")
    await started(sam)
    [event] = await events_in(bot)
    await answers(bot, event.id, (sam, RsvpStatus.GOING))

    await emma.send("/myevents")
    preview = await choose(emma, await choose(emma, await emma.wait_for_message(), "1. "), "Edit")
    assert [b.text for b in preview.buttons[-2]] == ["Save"]
    question = await choose(emma, preview, "Place")
    question = await choose(emma, question, "In person")
    preview = await answer(emma, "Library, 2nd floor")
    await emma.tap(preview, "Save")
    done = await emma.wait_for_edit(preview, "Saved")
    assert done.text.endswith("people to be told: 1.")

    await emma.wait_for_edit(post, "Library, 2nd floor")
    await emulator.wait_until(lambda: notices(sam, "has changed"))
    [notice] = notices(sam, "has changed")
    assert "📍 Library, 2nd floor" in notice.text
