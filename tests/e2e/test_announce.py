"""/announce: a host's message to everyone going to an event, in each person's language."""

from __future__ import annotations

from sqlalchemy import func, select, update

from events.app import App
from events.bot.announcements import render_announce
from events.db.models import (
    Broadcast,
    Delivery,
    Event,
    EventStatus,
    FsmState,
    Person,
    Rsvp,
    RsvpStatus,
)
from events.domain.events import MAX_ANNOUNCEMENT, Problem, check_announcement
from events.emulator import BotAPIEmulator, Message
from events.emulator import Person as User
from tests.e2e.publishing import LINK, Published, publish
from tests.e2e.test_manage import answers, started
from tests.e2e.test_wizard import choose

TITLE = "Lingkar Dukungan"


async def hosted_by(app: App, emulator: BotAPIEmulator, community, host: User) -> Published:
    """An event of the community that ``host`` created."""
    published = await publish(app, emulator, community.id, title=TITLE)
    async with app.sessions() as session, session.begin():
        await session.execute(
            update(Event).where(Event.id == published.id).values(created_by=host.id)
        )
    return published


def announcements(person: User) -> list[Message]:
    return [m for m in person.bot_messages if m.text.startswith("📣")]


async def stored(app: App) -> tuple[list[Broadcast], list[tuple[int, str]]]:
    """The broadcasts, and the (person, key) of every ledger row."""
    async with app.sessions() as session:
        broadcasts = list((await session.scalars(select(Broadcast).order_by(Broadcast.id))).all())
        rows = await session.execute(select(Delivery.person_id, Delivery.key).order_by(Delivery.id))
        return broadcasts, [(person, key) for person, key in rows]


async def states(app: App) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(FsmState)) or 0)


async def write(host: User) -> Message:
    """/announce with one open event: the question for the message."""
    await host.send("/announce")
    return await host.wait_for_message(contains="Ketik pesan")


async def test_the_people_going_get_the_hosts_message_in_their_language(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    ayu, dewi, sam = community.host, community.member, community.english_member
    rina, emma = community.admin, community.english_host
    budi = emulator.user("Budi", language_code="id")
    event = await hosted_by(bot, emulator, community, ayu)
    await started(dewi, sam, rina, emma, budi)
    await answers(
        bot,
        event.id,
        (dewi, RsvpStatus.GOING),
        (rina, RsvpStatus.MAYBE),
        (sam, RsvpStatus.GOING),
        (emma, RsvpStatus.WAITLISTED),
        (budi, RsvpStatus.DECLINED),
    )

    await ayu.send("/announce")
    question = await ayu.wait_for_message()
    assert question.text.startswith(f"Ketik pesan untuk 2 orang yang hadir di {TITLE}.")
    assert "3500 karakter" in question.text
    await ayu.send("Halo semua!\nBawa <b>teh</b> & kue, ya.")
    preview = await ayu.wait_for_message()
    assert preview.text.startswith("Begini yang hadir akan melihatnya")
    assert preview.text.endswith(
        f"📣 Pesan dari host {TITLE}\n\nHalo semua!\nBawa <b>teh</b> & kue, ya."
    )
    assert [[b.text for b in row] for row in preview.buttons] == [["Kirim ke 2 orang"], ["Batal"]]
    await ayu.tap(preview, "Kirim ke 2 orang")
    done = await ayu.wait_for_edit(preview, "sedang dikirim")
    assert done.text == (
        f"Pesanmu sedang dikirim ke 2 orang yang hadir di {TITLE}.\n\n"
        f"📣 Pesan dari host {TITLE}\n\nHalo semua!\nBawa <b>teh</b> & kue, ya."
    )
    assert preview.buttons == []

    await emulator.wait_until(lambda: announcements(dewi) and announcements(sam))
    [to_dewi] = announcements(dewi)
    assert to_dewi.text == f"📣 Pesan dari host {TITLE}\n\nHalo semua!\nBawa <b>teh</b> & kue, ya."
    assert "<b>Lingkar Dukungan</b>" in to_dewi.html  # the title in bold, the text literally
    assert [[b.text for b in row] for row in to_dewi.buttons] == [["Buka acaranya"]]
    [to_sam] = announcements(sam)
    assert to_sam.text.startswith(f"📣 Message from the host of {TITLE}\n\nHalo semua!")
    assert [[b.text for b in row] for row in to_sam.buttons] == [["Open the event"]]
    for message in (to_dewi, to_sam):
        assert LINK not in message.text
        assert "Ayu" not in message.text
    await emulator.quiet(0.5)
    assert announcements(rina) == announcements(emma) == announcements(budi) == []
    [broadcast], rows = await stored(bot)
    assert (broadcast.event_id, broadcast.host_id) == (event.id, ayu.id)
    assert broadcast.text == "Halo semua!\nBawa <b>teh</b> & kue, ya."
    assert rows == [(dewi.id, f"announce:{broadcast.id}"), (sam.id, f"announce:{broadcast.id}")]

    # The button opens the event's card.
    await dewi.tap(to_dewi, "Buka acaranya")
    card = await dewi.wait_for_message(contains=TITLE)
    assert card.message_id != to_dewi.message_id

    # A second announcement is a message of its own.
    await ayu.send("/announce")
    await ayu.wait_for_message(contains="Ketik pesan")
    await ayu.send("Kita mulai 10 menit lebih awal.")
    preview = await ayu.wait_for_message(contains="Begini")
    await ayu.tap(preview, "Kirim ke 2 orang")
    await emulator.wait_until(lambda: len(announcements(dewi)) == len(announcements(sam)) == 2)
    assert announcements(sam)[1].text.endswith("Kita mulai 10 menit lebih awal.")
    first, second = (await stored(bot))[0]
    assert second.id != first.id
    assert await states(bot) == 0


async def test_someone_who_hosts_nothing_is_refused(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    dewi, sam = community.member, community.english_member
    event = await hosted_by(bot, emulator, community, community.host)
    await started(dewi, sam)
    await answers(bot, event.id, (sam, RsvpStatus.GOING))

    await dewi.send("/announce")
    refusal = await dewi.wait_for_message()
    assert refusal.text == (
        "Hanya host dan admin grup yang bisa mengirim pesan ke orang-orang yang hadir di acaranya."
    )
    # A forged tap for the event changes nothing either.
    await dewi.send("/language")
    question = await dewi.wait_for_message(contains="Bahasa Indonesia")
    toast = await dewi.tap(question, "English", data=f"an:p:{event.id}:0")
    assert toast.text == "Hanya host acara ini yang bisa melakukannya."
    toast = await dewi.tap(question, "English", data=f"an:s:{event.id}:1")
    assert toast.text == "Tombol ini sudah tidak berlaku."
    assert await stored(bot) == ([], [])
    assert await states(bot) == 0
    await emulator.quiet(0.3)
    assert announcements(sam) == []


async def test_nobody_going_yet_is_said_and_nothing_kept(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    ayu, emma = community.host, community.english_host
    event = await hosted_by(bot, emulator, community, ayu)
    await started(emma)
    await answers(bot, event.id, (emma, RsvpStatus.MAYBE))

    await ayu.send("/announce")
    answer = await ayu.wait_for_message()
    assert answer.text == (
        f"Belum ada yang hadir di {TITLE}, jadi belum ada yang bisa dikirimi pesan."
    )
    assert await states(bot) == 0

    # From /myevents: the card's button says so too.
    await ayu.send("/myevents")
    listing = await ayu.wait_for_message()
    card = await choose(ayu, listing, "1. ")
    toast = await ayu.tap(card, "Kirim pengumuman")
    assert toast.text == "Belum ada yang hadir, jadi belum ada yang bisa dikirimi pesan."
    assert await states(bot) == 0
    assert await stored(bot) == ([], [])


async def test_long_and_non_text_messages_are_refused(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    ayu, dewi = community.host, community.member
    event = await hosted_by(bot, emulator, community, ayu)
    await started(dewi)
    await answers(bot, event.id, (dewi, RsvpStatus.GOING))
    await write(ayu)

    await ayu.send("a" * (MAX_ANNOUNCEMENT + 1))
    assert (await ayu.wait_for_message()).text.startswith("Itu terlalu panjang")
    await ayu.send_document("poster.pdf", b"%PDF-1.4")
    assert (await ayu.wait_for_message()).text.startswith("Hanya teks yang bisa dikirim")
    # The longest message fits, header and preview included.
    await ayu.send("😊" * (MAX_ANNOUNCEMENT // 2))
    preview = await ayu.wait_for_message(contains="Begini")
    assert preview.buttons

    # /cancel leaves the preview behind: its buttons no longer work.
    await ayu.send("/cancel")
    assert (await ayu.wait_for_message()).text == "Dibatalkan. Tidak ada yang disimpan."
    toast = await ayu.tap(preview, "Kirim ke 1 orang")
    assert toast.text == "Tombol ini sudah tidak berlaku."
    assert await stored(bot) == ([], [])
    assert await states(bot) == 0
    await emulator.quiet(0.3)
    assert announcements(dewi) == []


async def test_cancel_another_command_or_a_new_text_mid_way(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    ayu, sam = community.host, community.english_member
    event = await hosted_by(bot, emulator, community, ayu)
    await started(sam)
    await answers(bot, event.id, (sam, RsvpStatus.GOING))

    # Another command instead of the message: the command runs, the message is dropped.
    await write(ayu)
    await ayu.send("/events")
    listing = await ayu.wait_for_message()
    assert "Ketik pesan" not in listing.text
    assert await states(bot) == 0
    await ayu.send("Halo?")
    assert (await ayu.wait_for_message()).text.startswith("Maaf, aku belum mengerti")

    # Cancel on the preview.
    await write(ayu)
    await ayu.send("Pesan pertama")
    preview = await ayu.wait_for_message(contains="Begini")
    await choose(ayu, preview, "Batal")
    assert preview.text == "Dibatalkan. Tidak ada yang dikirim."

    # A new text at the preview replaces the one shown; the older preview no longer sends.
    await write(ayu)
    await ayu.send("Versi satu")
    old = await ayu.wait_for_message(contains="Begini")
    await ayu.send("Versi dua")
    new = await ayu.wait_for_message(contains="Begini")
    assert new.text.endswith("Versi dua")
    toast = await ayu.tap(old, "Kirim ke 1 orang")
    assert toast.text == "Tombol ini sudah tidak berlaku."
    await ayu.tap(new, "Kirim ke 1 orang")
    await emulator.wait_until(lambda: announcements(sam))
    await emulator.quiet(0.3)
    [message] = announcements(sam)
    assert message.text.endswith("Versi dua")
    assert len((await stored(bot))[0]) == 1


async def test_send_tapped_twice_sends_once_from_myevents(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    ayu, dewi, sam = community.host, community.member, community.english_member
    event = await hosted_by(bot, emulator, community, ayu)
    await started(dewi, sam)
    await answers(bot, event.id, (dewi, RsvpStatus.GOING), (sam, RsvpStatus.GOING))

    await ayu.send("/myevents")
    card = await choose(ayu, await ayu.wait_for_message(), "1. ")
    labels = [b.text for row in card.buttons for b in row]
    assert labels[:5] == ["Ubah", "Batalkan acara", "Duplikat", "Peserta", "Kirim pengumuman"]
    question = await choose(ayu, card, "Kirim pengumuman")
    assert question.text.startswith("Ketik pesan untuk 2 orang")
    await ayu.send("Sampai jumpa besok!")
    preview = await ayu.wait_for_message(contains="Begini")

    first = await ayu.press(preview, "Kirim ke 2 orang")
    second = await ayu.press(preview, "Kirim ke 2 orang")
    await emulator.wait_until(lambda: first.answered and second.answered)
    toasts = sorted(str(tap.answer.text or "") for tap in (first, second) if tap.answer)
    assert toasts == ["", "Tombol ini sudah tidak berlaku."]
    await emulator.wait_until(lambda: announcements(dewi) and announcements(sam))
    await emulator.quiet(0.5)
    assert len(announcements(dewi)) == len(announcements(sam)) == 1
    broadcasts, rows = await stored(bot)
    assert len(broadcasts) == 1
    assert len(rows) == 2
    assert "sedang dikirim" in preview.text
    assert preview.edits == 1

    # Once the event is cancelled, its card offers no Announce.
    async with bot.sessions() as session, session.begin():
        await session.execute(
            update(Event).where(Event.id == event.id).values(status=EventStatus.CANCELLED)
        )
    await ayu.send("/announce")
    assert (await ayu.wait_for_message()).text == (
        "Kamu belum punya acara mendatang untuk dikirimi pesan."
    )


async def test_many_people_going_show_the_host_the_progress(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    ayu = community.host
    event = await hosted_by(bot, emulator, community, ayu)
    crowd = [emulator.user(f"Anggota {n}", language_code="id") for n in range(24)]
    async with bot.sessions() as session, session.begin():
        for position, user in enumerate(crowd, start=1):
            user.record.started = True
            session.add(
                Person(id=user.id, first_name=user.first_name, language_code="id", can_message=True)
            )
            await session.flush()
            session.add(
                Rsvp(
                    event_id=event.id,
                    person_id=user.id,
                    status=RsvpStatus.GOING,
                    position=position,
                )
            )
    await crowd[5].block()

    await write(ayu)
    await ayu.send("Terima kasih sudah mendaftar.")
    preview = await ayu.wait_for_message(contains="Begini")
    typed = len(emulator.violations)
    await ayu.tap(preview, "Kirim ke 24 orang")
    done = await ayu.wait_for_edit(preview, "sedang dikirim")
    assert done.text.startswith(
        f"Pesanmu sedang dikirim ke 24 orang yang hadir di {TITLE}. "
        "Pesan berikutnya menunjukkan perkembangan pengirimannya.\n\n📣"
    )
    progress = await ayu.wait_for_message(contains="Terkirim")
    summary = await ayu.wait_for_edit(progress, contains="Selesai", timeout=20)
    assert summary.text.splitlines() == [
        "Selesai. Terkirim 23 / 24.",
        "Memblokir bot atau belum pernah memulainya: 1",
        "Gagal: 0",
    ]
    for user in crowd:
        expected = 0 if user is crowd[5] else 1
        assert len(announcements(user)) == expected
    # (Ayu types faster than anyone could: the answers to her own steps are not counted.)
    assert emulator.violations[typed:] == []


async def test_the_renderer_has_nothing_to_say_for_a_cancelled_event(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    dewi, sam = community.member, community.english_member
    event = await hosted_by(bot, emulator, community, community.host)
    await started(dewi, sam)
    await answers(bot, event.id, (dewi, RsvpStatus.GOING), (sam, RsvpStatus.DECLINED))
    async with bot.sessions() as session, session.begin():
        broadcast = Broadcast(
            event_id=event.id, host_id=community.host.id, text="Halo", created_at=bot.clock.now()
        )
        session.add(broadcast)
        await session.flush()
        key = f"announce:{broadcast.id}"

    async def render(person: User, locale: str = "en"):
        with bot.i18n.context(), bot.i18n.use_locale(locale):
            async with bot.sessions() as session:
                found = await session.get(Person, person.id)
                assert found is not None
                return await render_announce(session, found, key)

    message = await render(dewi)
    assert message is not None
    assert message.text.startswith("📣 Message from the host of <b>Lingkar Dukungan</b>")
    assert await render(sam) is None  # not going
    async with bot.sessions() as session, session.begin():
        await session.execute(
            update(Event).where(Event.id == event.id).values(status=EventStatus.CANCELLED)
        )
    assert await render(dewi) is None
    # Telegram sends no empty text; the rule still refuses one.
    assert check_announcement(" \n ") is Problem.EMPTY
    assert check_announcement(" Halo\n\nSemua ") == "Halo\n\nSemua"
    async with bot.sessions() as session:
        assert await render_announce(session, Person(id=dewi.id), "announce:999999") is None
