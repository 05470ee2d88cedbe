"""The anonymous after-session check-in: people who went rate it, hosts see results from five."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import inspect, select

from events.app import App
from events.db.models import (
    CheckinAnswer,
    CheckinComment,
    CheckinResponder,
    Delivery,
    DeliveryStatus,
    Event,
    EventStatus,
)
from events.emulator import BotAPIEmulator, Message, Person
from tests.e2e.conftest import CommunitySetup
from tests.e2e.publishing import publish

TITLE = "Lingkar Dukungan"
ASKED_ID = f"Bagaimana {TITLE} tadi?"
ASKED_EN = f"How was {TITLE}?"


async def start(*people: Person) -> None:
    for person in people:
        await person.send("/start")
        await person.wait_for_message()


async def more_members(
    emulator: BotAPIEmulator, community: CommunitySetup, *names: str
) -> list[Person]:
    """People who join the group (with a username each) and open the private chat."""
    people = [
        emulator.user(name, username=f"{name.lower()}_tenang", language_code="id") for name in names
    ]
    for person in people:
        await community.group.join(person)
    await start(*people)
    return people


async def stored(app: App) -> tuple[list[int], list[str], dict[int, bool]]:
    """Scores (sorted), comments (sorted) and who answered (with whether they commented)."""
    async with app.sessions() as session:
        scores = sorted(await session.scalars(select(CheckinAnswer.score)))
        comments = sorted(await session.scalars(select(CheckinComment.text)))
        responders = {
            row.person_id: row.commented for row in await session.scalars(select(CheckinResponder))
        }
    return scores, comments, responders


async def columns(app: App, table: str) -> set[str]:
    async with app.engine.connect() as connection:
        found = await connection.run_sync(lambda sync: inspect(sync).get_columns(table))
    return {column["name"] for column in found}


async def feedback(
    host: Person, button: str = "Tanggapan", header: str = "Tanggapan untuk"
) -> Message:
    """/myevents, the first event listed, then Feedback."""
    await host.send("/myevents")
    listing = await host.wait_for_message()
    await host.tap(listing, "1. ")
    await host.wait_for_edit(listing, predicate=lambda m: button in m.button_texts)
    await host.tap(listing, button)
    return await host.wait_for_edit(listing, header)


async def test_people_who_went_rate_anonymously_and_hosts_see_results_from_five(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    event = await publish(bot, emulator, community.id, starts_in=timedelta(hours=2))
    dewi, sam, rina, emma = (
        community.member,
        community.english_member,
        community.admin,
        community.english_host,
    )
    async with bot.sessions.begin() as session:
        row = await session.get(Event, event.id)
        assert row is not None
        row.created_by = emma.id  # Emma's event; Rina administers the group
    budi, citra, eko, fajar, gita = await more_members(
        emulator, community, "Budi", "Citra", "Eko", "Fajar", "Gita"
    )
    await start(dewi, sam, rina, emma)
    going = [dewi, sam, budi, citra, eko, fajar]
    for person in going:
        await person.tap(event.post, "Hadir")
    await gita.tap(event.post, "Hadir")
    await gita.tap(event.post, "Tidak bisa")  # she changed her mind before the session

    # The session ends: nothing yet. An hour later everyone who went is asked, in their language.
    bot.clock.advance(timedelta(hours=3, minutes=1))
    await emulator.quiet(0.3)
    assert not [
        m for p in going for m in p.bot_messages if ASKED_ID in m.text or ASKED_EN in m.text
    ]
    bot.clock.advance(timedelta(hours=1))
    asked = {}
    for person in going:
        question = ASKED_EN if person is sam else ASKED_ID
        asked[person] = await person.wait_for_message(contains=question)
        assert asked[person].button_texts == ["1", "2", "3", "4", "5"]
        assert len(asked[person].buttons) == 1  # one row
    assert "anonim" in asked[dewi].text
    assert "paling sedikit 5 orang" in asked[dewi].text
    assert "anonymous" in asked[sam].text
    assert "at least 5 people" in asked[sam].text
    await emulator.quiet(0.3)
    assert not [m for m in gita.bot_messages if ASKED_ID in m.text]
    async with bot.sessions() as session:
        gitas = await session.scalars(
            select(Delivery.status).where(
                Delivery.person_id == gita.id, Delivery.key == f"checkin:{event.id}"
            )
        )
        assert DeliveryStatus.SENT not in list(gitas)

    # Four answer: the host sees how many, nothing more.
    for person, score in ((dewi, 5), (sam, 4), (budi, 4), (citra, 3)):
        toast = await person.tap(asked[person], str(score))
        assert toast.text in ("Terima kasih!", "Thank you!")
        await person.wait_for_edit(asked[person], "Terima kasih" if person is not sam else "Thank")
        assert asked[person].button_texts in (["Tambah komentar"], ["Add a comment"])
        assert str(score) not in asked[person].text.replace(TITLE, "")
    assert "Terima kasih sudah menjawab" in asked[dewi].text
    assert "Thank you for answering" in asked[sam].text

    await dewi.tap(asked[dewi], "Tambah komentar")
    await dewi.wait_for_message(contains="Ketik komentarmu")
    await dewi.send("Suasananya hangat & aman <3")
    await dewi.wait_for_message(contains="Komentarmu disimpan tanpa namamu")

    early = await feedback(rina)
    assert "4 dari paling sedikit 5 jawaban" in early.text
    assert "Rata-rata" not in early.text
    assert "hangat" not in early.text  # comments wait for five answers too

    # A second answer changes nothing; a forged one from someone not going is refused.
    again = await dewi.tap(asked[dewi], "Tambah komentar", data=f"ci:s:{event.id}:1")
    assert again.text == "Kamu sudah menjawab."
    forged = await gita.tap(event.post, "Hadir", data=f"ci:s:{event.id}:1")
    assert forged.text == "Penilaian ini hanya untuk yang hadir di sesi."
    forged = await rina.tap(event.post, "Hadir", data=f"ci:s:{event.id}:5")
    assert forged.text == "Penilaian ini hanya untuk yang hadir di sesi."
    junk = await fajar.tap(asked[fajar], "1", data=f"ci:s:{event.id}:9")
    assert junk.text == "Tombol ini sudah tidak berlaku."
    scores, _, responders = await stored(bot)
    assert scores == [3, 4, 4, 5]
    assert set(responders) == {dewi.id, sam.id, budi.id, citra.id}

    # Sam's comment: /cancel first, then the wrong kinds of answer, then one that fits.
    await sam.tap(asked[sam], "Add a comment")
    await sam.wait_for_message(contains="Type your comment")
    await sam.send("/cancel")
    await sam.wait_for_message(contains="Cancelled")
    await sam.send("Not a comment any more")
    await sam.tap(asked[sam], "Add a comment")
    await sam.wait_for_message(contains="Type your comment")
    await sam.send("/help")  # another command drops the comment and runs
    await sam.wait_for_message(contains="/events")
    await sam.send("Not a comment either")
    await emulator.quiet(0.3)
    assert (await stored(bot))[1] == ["Suasananya hangat & aman <3"]
    await sam.tap(asked[sam], "Add a comment")
    await sam.wait_for_message(contains="Type your comment")
    await sam.send_document("notes.txt", b"hello")
    await sam.wait_for_message(contains="can only be text")
    await sam.send("x" * 501)
    await sam.wait_for_message(contains="longer than 500 characters")
    await sam.send("Good pace, and the breathing exercise helped.")
    await sam.wait_for_message(contains="Your comment is kept without your name")
    twice = await sam.tap(asked[sam], "Add a comment")
    assert twice.text == "You already added a comment."

    # The fifth answer: the average, the spread and the comments, never a name.
    await eko.tap(asked[eko], "5")
    await eko.wait_for_edit(asked[eko], "Terima kasih")
    results = await feedback(rina)
    assert "Rata-rata: 4,2 dari 5 (5 jawaban)." in results.text
    assert "5 ★ ███ 2" in results.text
    assert "1 ★ 0" in results.text
    assert "Suasananya hangat &amp; aman &lt;3" not in results.text  # shown as text, escaped
    assert "Suasananya hangat & aman <3" in results.text
    assert "Good pace, and the breathing exercise helped." in results.text
    assert "urutannya acak" in results.text
    for person in [*going, gita]:
        assert person.first_name not in results.text
        assert person.username is None or person.username not in results.text

    # The English host who created it sees the same in English, the average with a point.
    english = await feedback(emma, "Feedback", "Feedback on")
    assert "Average: 4.2 of 5 (5 answers)." in english.text
    assert "Comments (2), in random order:" in english.text

    # What is kept: scores and comments carry only the event; who answered, never what.
    scores, comments, responders = await stored(bot)
    assert scores == [3, 4, 4, 5, 5]
    assert comments == [
        "Good pace, and the breathing exercise helped.",
        "Suasananya hangat & aman <3",
    ]
    assert responders == {
        dewi.id: True,
        sam.id: True,
        budi.id: False,
        citra.id: False,
        eko.id: False,
    }
    assert await columns(bot, "checkin_answers") == {"id", "event_id", "score"}
    assert await columns(bot, "checkin_comments") == {"id", "event_id", "text"}
    assert await columns(bot, "checkin_responders") == {"event_id", "person_id", "commented"}


async def test_no_checkin_for_a_cancelled_event_and_none_after_a_week(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    cancelled = await publish(bot, emulator, community.id, starts_in=timedelta(hours=2))
    later = await publish(
        bot, emulator, community.id, title="Sesi Pagi", starts_in=timedelta(hours=2)
    )
    dewi = community.member
    await start(dewi)
    await dewi.tap(cancelled.post, "Hadir")
    await dewi.tap(later.post, "Hadir")
    # Cancelled behind the planner's back: the row is still there, the check-in says nothing.
    async with bot.sessions.begin() as session:
        event = await session.get(Event, cancelled.id)
        assert event is not None
        event.status = EventStatus.CANCELLED

    # No Feedback before the end, not even with the button's data.
    rina = community.admin
    await start(rina)
    await rina.send("/myevents")
    listing = await rina.wait_for_message()
    await rina.tap(listing, "Sesi Pagi")
    await rina.wait_for_edit(listing, predicate=lambda m: "Peserta" in m.button_texts)
    assert "Tanggapan" not in listing.button_texts
    early = await rina.tap(listing, "Peserta", data=f"m:f:{later.id}")
    assert early.text == "Tanggapan baru bisa dilihat setelah acaranya selesai."

    bot.clock.advance(timedelta(hours=4, minutes=1))
    asked = await dewi.wait_for_message(contains="Bagaimana Sesi Pagi tadi?")
    await emulator.quiet(0.3)
    assert not [m for m in dewi.bot_messages if ASKED_ID in m.text]

    # A week after the end the buttons no longer take answers; the host's view says "not yet".
    bot.clock.advance(timedelta(days=7))
    closed = await dewi.tap(asked, "4")
    assert closed.text == "Penilaian untuk sesi ini sudah ditutup."
    assert (await stored(bot))[0] == []
