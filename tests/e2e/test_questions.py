"""Anonymous questions to a Q&A session: people going ask, the host reads them without authors."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from events.app import App
from events.db.models import EventKind, Question
from events.emulator import BotAPIEmulator, Person
from tests.e2e.conftest import CommunitySetup
from tests.e2e.publishing import publish


async def start(person: Person) -> None:
    await person.send("/start")
    await person.wait_for_message()


async def stored_questions(app: App) -> list[Question]:
    async with app.sessions() as session:
        return list((await session.scalars(select(Question).order_by(Question.id))).all())


async def test_two_people_ask_and_the_host_sees_no_authors(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    event = await publish(bot, emulator, community.id, title="Tanya Psikolog", kind=EventKind.QA)
    dewi, sam, ayu = community.member, community.english_member, community.host
    for person in (dewi, sam, ayu):
        await start(person)
    await dewi.tap(event.post, "Hadir")
    await sam.tap(event.post, "Hadir")

    await dewi.send(f"/start e{event.id}")
    card = await dewi.wait_for_message(contains="Tanya Psikolog")
    assert "Tanya anonim" in card.button_texts
    await dewi.tap(card, "Tanya anonim")
    await dewi.wait_for_message(contains="Ketik pertanyaanmu")
    await dewi.send("Bagaimana cara menghadapi serangan panik?")
    sent = await dewi.wait_for_message(contains="tanpa namamu")
    assert "(1 dari 5)" in sent.text

    await sam.send("/ask")
    await sam.wait_for_message(contains="Type your question")
    await sam.send("How do I support a friend?")
    await sam.wait_for_message(contains="without your name")

    await ayu.send("/questions")
    listing = await ayu.wait_for_message(contains="Pertanyaan untuk Tanya Psikolog")
    assert "Bagaimana cara menghadapi serangan panik?" in listing.text
    assert "How do I support a friend?" in listing.text
    for name in ("Dewi", "Sam"):
        assert name not in listing.text
    toast = await ayu.tap(listing, "Terjawab: 1")
    assert toast.text == "Ditandai terjawab."
    await ayu.wait_for_edit(listing, "✅")
    assert listing.button_texts == ["Terjawab: 2"]

    # A member replaying the host's button changes nothing.
    [first, second] = await stored_questions(bot)
    refused = await sam.tap(sent, "Tarik kembali", data=f"q:a:{second.id}")
    assert refused.text == "Only the hosts of this session can do that."
    assert (await stored_questions(bot))[1].answered_at is None

    # The author withdraws her own; nobody else can.
    refused = await sam.tap(sent, "Tarik kembali", data=f"q:w:{first.id}")
    assert refused.text == "This button no longer works."
    await dewi.tap(sent, "Tarik kembali")
    await dewi.wait_for_edit(sent, "Kamu menarik kembali")
    assert [q.text for q in await stored_questions(bot)] == ["How do I support a friend?"]


async def test_at_most_five_and_closed_when_the_session_ends(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    event = await publish(
        bot, emulator, community.id, kind=EventKind.QA, starts_in=timedelta(hours=1)
    )
    dewi, sam = community.member, community.english_member
    await start(dewi)
    await start(sam)
    await dewi.tap(event.post, "Hadir")
    await sam.tap(event.post, "Mungkin")

    for number in range(1, 6):
        await dewi.send("/ask")
        await dewi.wait_for_message(contains="Ketik pertanyaanmu")
        await dewi.send(f"Pertanyaan {number}")
        await dewi.wait_for_message(contains=f"({number} dari 5)")
    await dewi.send("/ask")
    refused = await dewi.wait_for_message()
    assert "5 pertanyaan" in refused.text

    await sam.send("/ask")  # maybe is not going
    assert "going to" in (await sam.wait_for_message()).text
    card_tap = await sam.tap(event.post, "Hadir", data=f"ask:{event.id}")
    assert card_tap.text == "Questions are for people going to the session."

    await sam.tap(event.post, "Hadir")
    bot.clock.advance(timedelta(hours=3))
    await sam.send("/ask")
    assert "going to" in (await sam.wait_for_message()).text
    closed = await sam.tap(event.post, "Hadir", data=f"ask:{event.id}")
    assert closed.text == "Questions for this session are closed."
    assert len(await stored_questions(bot)) == 5
