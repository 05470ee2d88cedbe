"""/forget: after one confirmation, what the bot kept of a person's doings is gone; a seat they
held goes to the next in line and the group post's counts follow; "Cancel" changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from events.app import App
from events.db.models import (
    CheckinAnswer,
    CheckinResponder,
    Delivery,
    FeedToken,
    Host,
    Person,
    Question,
    Rsvp,
    RsvpStatus,
)
from events.emulator import BotAPIEmulator
from tests.e2e.conftest import CommunitySetup, eventually
from tests.e2e.publishing import answers, publish
from tests.e2e.test_feeds import fetch, links, open_calendar


async def stored(app: App, model: type, person_id: int) -> int:
    async with app.sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(model).where(model.person_id == person_id)
            )
            or 0
        )


async def test_forget_erases_a_members_data_and_gives_her_seat_to_the_next(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    dewi, sam, group = community.member, community.english_member, community.group
    for person in (dewi, sam):
        await person.send("/start")
        await person.wait_for_message()
    event = await publish(bot, emulator, community.id, capacity=1)
    other = await publish(bot, emulator, community.id, title="Ngobrol Santai")
    for tap in [
        await dewi.press(event.post, "Hadir"),
        await sam.press(event.post, "Hadir"),
        await dewi.press(other.post, "Mungkin"),
    ]:
        await emulator.wait_until(lambda tap=tap: tap.answered)
    feed = links(await open_calendar(dewi))[0]
    assert (await fetch(bot, feed))[0] == 200
    async with bot.sessions() as session, session.begin():
        session.add(Question(event_id=event.id, person_id=dewi.id, text="Boleh tanya?",
                             created_at=bot.clock.now()))  # fmt: skip
        session.add(CheckinResponder(event_id=other.id, person_id=dewi.id))
        session.add(CheckinAnswer(event_id=other.id, score=4))
        person = await session.get(Person, dewi.id)
        assert person is not None
        person.timezone, person.reminders = "Asia/Makassar", "900"
    assert await stored(bot, Delivery, dewi.id) > 0  # her reminders are planned

    # Cancel first: nothing changes.
    await dewi.send("/forget")
    asked = await dewi.wait_for_message(contains="Hapus data kamu?")
    assert "pertanyaan anonimmu" in asked.text
    cancel = await dewi.press(asked, "Batal")
    await emulator.wait_until(lambda: cancel.answered)
    await emulator.quiet(0.2)
    assert asked.text == "Tidak ada yang dihapus."
    assert not asked.inline_keyboard  # the question's buttons are spent
    assert await stored(bot, Rsvp, dewi.id) == 2

    await dewi.send("/forget")
    asked = await dewi.wait_for_message(contains="Hapus data kamu?")
    yes = await dewi.press(asked, "Ya, hapus semuanya")
    await emulator.wait_until(lambda: yes.answered)
    assert yes.answer is not None
    assert yes.answer.text == "Selesai: datamu sudah dihapus."
    await eventually(lambda: _edited(asked))

    for model in (Rsvp, Question, CheckinResponder, FeedToken, Delivery):
        assert await stored(bot, model, dewi.id) == 0, model.__name__
    async with bot.sessions() as session:
        person = await session.get(Person, dewi.id)
        assert person is not None
        assert (person.timezone, person.reminders, person.locale) == (None, None, None)
        # The anonymous score stays: nothing tied it to her.
        assert await session.scalar(select(func.count()).select_from(CheckinAnswer)) == 1
    assert (await fetch(bot, feed))[0] == 404

    # Her seat went to Sam, who is told so in his language; the post counts follow, nameless.
    promoted = await sam.wait_for_message(contains="Good news", timeout=10)
    assert "Lingkar Dukungan" in promoted.text
    assert (await answers(bot, event.id))[sam.id][0] is RsvpStatus.GOING
    final = "Hadir: 1 dari 1 · Mungkin: 0 · Daftar tunggu: 0"
    await group.wait_for_message(
        predicate=lambda m: m.message_id == event.post.message_id and final in m.text,
        timeout=10,
    )
    assert "Dewi" not in event.post.text
    await group.wait_for_message(  # each post at most every 3 s: this one waits its turn
        predicate=lambda m: m.message_id == other.post.message_id and "Mungkin: 0" in m.text,
        timeout=10,
    )

    # She goes on using the bot, from a blank page.
    await dewi.send("/my")
    blank = await dewi.wait_for_message()
    assert "Lingkar Dukungan" not in blank.text


async def _edited(message: object) -> bool:
    return "Selesai: datamu sudah dihapus." in getattr(message, "text", "")


async def test_a_host_is_told_what_stays(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    emma = community.english_host
    await emma.send("/forget")
    asked = await emma.wait_for_message(contains="Erase your data?")
    tap = await emma.press(asked, "Yes, erase it all")
    await emulator.wait_until(lambda: tap.answered)
    await emulator.quiet(0.2)
    assert asked.text.startswith("Done: your data is erased.")
    assert "/removehost" in asked.text
    async with bot.sessions() as session:  # her hosting stays with the community
        assert await session.get(Host, (community.id, emma.id)) is not None
