"""A host creates an event by chatting with the bot: /new, one question at a time, a preview,
then the announcement in the group."""

from __future__ import annotations

from sqlalchemy import func, select

from events.app import App
from events.db.models import Event, EventKind, EventStatus, Place
from events.emulator import BotAPIEmulator, Message, Person
from tests.e2e.conftest import StartBot

PREVIEW = "Begini anggota"  # the start of the preview, in Indonesian
TITLE = "Lingkar <b>Dukungan</b> & <script>x</script> 🌱 أمل"  # markup, emoji, right to left


async def answer(person: Person, text: str) -> Message:
    """Type an answer; return the bot's next question."""
    await person.send(text)
    return await person.wait_for_message()


async def choose(person: Person, question: Message, label: str) -> Message:
    """Tap a button of a question; return the question it turns into."""
    edits = question.edits
    await person.tap(question, label)
    await person.emu.wait_until(lambda: question.edits > edits)
    return question


async def events_in(app: App) -> list[Event]:
    async with app.sessions() as session:
        return list((await session.scalars(select(Event).order_by(Event.id))).all())


async def fill_until_preview(host: Person) -> Message:
    """The Indonesian host's happy path, up to the preview."""
    await host.send("/new")
    question = await host.wait_for_message(contains="Acara apa")
    question = await choose(host, question, "Webinar")
    assert "judulnya" in question.text
    question = await answer(host, TITLE)
    assert "Ceritakan" in question.text
    question = await answer(host, "Sesi berbagi yang aman.\nTanpa nama.")
    assert "zona waktu" in question.text
    question = await choose(host, question, "WIB")
    assert "Kapan mulainya" in question.text
    question = await answer(host, "5 Desember 2027 19.30")
    assert question.text == "Minggu, 5 Desember 2027 pukul 19.30 WIB — benar?"
    question = await choose(host, question, "Ya, benar")
    assert "Berapa lama" in question.text
    question = await choose(host, question, "1½ jam")
    question = await choose(host, question, "Online")
    assert "tautan" in question.text
    question = await answer(host, "https://meet.example.org/lingkar")
    assert "Berapa orang" in question.text
    question = await answer(host, "20")
    assert "berulang" in question.text
    question = await choose(host, question, "Tidak berulang")
    assert question.text.startswith(PREVIEW)
    return question


async def test_the_whole_wizard_to_a_published_group_post(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    host, group = community.host, community.group

    preview = await fill_until_preview(host)

    assert TITLE in preview.text  # shown literally
    assert "Minggu, 5 Desember 2027 pukul 19.30 WIB" in preview.text
    assert "1 jam 30 menit" in preview.text
    assert "Kuota: 20 orang" in preview.text
    assert "https://meet.example.org/lingkar" in preview.text  # the host sees the link
    await host.tap(preview, "Terbitkan")

    post = await group.wait_for_message(contains="Lingkar")
    assert post.text.splitlines()[:6] == [
        TITLE,
        "Webinar",
        "",
        "🗓 Minggu, 5 Desember 2027 pukul 19.30 WIB",
        "⏱ 1 jam 30 menit",
        "📍 Online",
    ]
    assert "Sesi berbagi yang aman.\nTanpa nama." in post.text
    assert "meet.example.org" not in post.text  # the join link never reaches the group
    [event] = await events_in(bot)
    assert (event.kind, event.place, event.capacity) == (EventKind.WEBINAR, Place.ONLINE, 20)
    assert event.status is EventStatus.PUBLISHED
    assert event.join_link == "https://meet.example.org/lingkar"
    assert event.announcement_message_id == post.message_id
    assert event.starts_at.isoformat() == "2027-12-05T12:30:00+00:00"
    assert (event.ends_at - event.starts_at).total_seconds() == 90 * 60
    link = [e for e in post.entities if e["type"] == "text_link"]
    assert link[0]["url"] == f"https://t.me/events_test_bot?start=e{event.id}"
    done = await host.wait_for_edit(preview, "Diterbitkan")
    assert done.buttons[0][0].text == "📌 Sematkan di grup"


async def test_an_english_host_gets_english_questions(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    host = community.english_host
    await host.send("/new")
    question = await host.wait_for_message(contains="What kind")
    assert [b.text for b in question.buttons[0]] == ["Workshop", "Webinar", "Q&A"]
    assert [b.text for b in question.buttons[-1]] == ["Cancel"]
    question = await choose(host, question, "Q&A")
    assert question.text == "What is the title? At most 120 characters."
    assert [b.text for b in question.buttons[-1]] == ["Back", "Cancel"]


async def test_back_returns_to_the_previous_question(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    host = community.host
    await host.send("/new")
    question = await choose(host, await host.wait_for_message(), "Workshop")
    assert "judulnya" in question.text

    question = await choose(host, question, "Kembali")

    assert "Acara apa" in question.text


async def test_changing_fields_from_the_preview(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    host = community.host
    preview = await fill_until_preview(host)

    question = await choose(host, preview, "Judul")
    preview = await answer(host, "Ruang Aman")
    assert preview.text.startswith(PREVIEW)
    assert "Ruang Aman" in preview.text

    # A new zone keeps the wall-clock time: 19.30 stays 19.30.
    question = await choose(host, preview, "Zona waktu")
    preview = await choose(host, question, "WITA")
    assert "Minggu, 5 Desember 2027 pukul 19.30 WITA" in preview.text

    await host.tap(preview, "Terbitkan")
    await community.group.wait_for_message(contains="Ruang Aman")
    [event] = await events_in(bot)
    assert event.timezone == "Asia/Makassar"
    assert event.starts_at.isoformat() == "2027-12-05T11:30:00+00:00"


async def test_wrong_answers_get_a_hint_and_the_same_question(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    host = community.host
    await host.send("/new")
    question = await choose(host, await host.wait_for_message(), "Workshop")

    reply = await answer(host, "x" * 121)
    assert reply.text.startswith("Terlalu panjang.")
    assert reply.text.endswith("Apa judulnya? Paling banyak 120 karakter.")
    await host.send_document("poster.pdf", b"%PDF")
    reply = await host.wait_for_message()
    assert reply.text.startswith("Jawab dengan teks, ya.")
    question = await answer(host, "Ruang Aman")
    question = await answer(host, "Deskripsi.")
    question = await choose(host, question, "WIB")

    for text, expected in [
        ("bukan tanggal", "Aku belum bisa membaca tanggal dan jam"),
        ("1 Januari 2020 10.00", "Waktu itu sudah lewat."),
        ("5 Desember", "Aku belum bisa membaca tanggal dan jam"),
    ]:
        reply = await answer(host, text)
        assert reply.text.startswith(expected), reply.text
        assert "Kapan mulainya" in reply.text
    question = await choose(host, await answer(host, "Sabtu 4 Desember 2027 10.00"), "Ya, benar")
    reply = await answer(host, "seharian penuh")
    assert reply.text.startswith("Aku belum bisa membaca lama waktu")
    question = await answer(host, "90 menit")
    question = await choose(host, question, "Keduanya")
    reply = await answer(host, "meet.example.org")
    assert reply.text.startswith("Itu sepertinya bukan tautan")
    question = await answer(host, "https://meet.example.org/x")
    assert "Di mana tempatnya" in question.text
    question = await answer(host, "Aula Serbaguna, Jl. Merdeka 1")
    for text in ("0", "-3", "banyak"):
        reply = await answer(host, text)
        assert "Berapa orang" in reply.text
        assert not reply.text.startswith("Berapa orang")  # a hint came first
    question = await choose(host, reply, "Tanpa batas")
    preview = await choose(host, question, "Tidak berulang")
    assert preview.text.startswith(PREVIEW)
    assert "📍 Online dan Aula Serbaguna, Jl. Merdeka 1" in preview.text
    assert await events_in(bot) == []


async def test_cancel_leaves_at_any_step(emulator: BotAPIEmulator, bot: App, community) -> None:
    host = community.host
    await host.send("/new")
    await choose(host, await host.wait_for_message(), "Workshop")

    reply = await answer(host, "/cancel")
    assert reply.text == "Dibatalkan. Tidak ada yang disimpan."
    reply = await answer(host, "Judul yang terlambat")
    assert reply.text.startswith("Maaf, aku belum mengerti.")  # no wizard any more
    assert await events_in(bot) == []


async def test_another_command_asks_before_leaving(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    host = community.host
    await host.send("/new")
    await choose(host, await host.wait_for_message(), "Workshop")

    ask = await answer(host, "/help")
    assert "Tinggalkan?" in ask.text
    question = await choose(host, ask, "Lanjutkan")
    assert "judulnya" in question.text
    question = await answer(host, "Tetap di sini")
    assert "Ceritakan" in question.text


async def test_a_restart_in_the_middle_keeps_the_draft(
    emulator: BotAPIEmulator, bot: App, start_bot: StartBot, community
) -> None:
    host = community.host
    await host.send("/new")
    question = await choose(host, await host.wait_for_message(), "Workshop")
    question = await answer(host, "Ruang Aman")
    question = await choose(host, question, "Lewati")
    question = await choose(host, question, "WIB")
    question = await answer(host, "5 Desember 2027 19.30")
    question = await choose(host, question, "Ya, benar")
    assert "Berapa lama" in question.text  # step 7

    bot.stop()
    await emulator.wait_until(lambda: not bot.health.receiving)
    await start_bot()

    question = await answer(host, "2 jam")
    assert "Di mana" in question.text
    question = await choose(host, question, "Tempat")
    question = await answer(host, "Taman Kota")
    question = await answer(host, "tanpa batas")  # the button's words, typed
    preview = await choose(host, question, "Tidak berulang")
    await host.tap(preview, "Terbitkan")
    await community.group.wait_for_message(contains="Ruang Aman")
    await host.wait_for_edit(preview, "Diterbitkan")


async def test_a_member_who_is_not_a_host_is_told_how_to_ask(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    dewi = community.member

    await dewi.send("/new")

    reply = await dewi.wait_for_message()
    assert "host" in reply.text.lower()
    assert await events_in(bot) == []


async def test_a_forged_or_stale_button_changes_nothing(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    host = community.host
    await host.send("/new")
    kinds = await host.wait_for_message()
    question = await choose(host, kinds, "Workshop")
    assert "judulnya" in question.text

    # A kind button replayed while the wizard asks for the title, and junk.
    for data in ("w:p:kind:qa", "w:p:title:qa", "w:zz:title:", "w:pub:preview:"):
        answer_ = await host.tap(question, "Batal", data=data)
        assert answer_.text == "Tombol ini sudah tidak berlaku."
    reply = await answer(host, "Ruang Aman")
    assert "Ceritakan" in reply.text
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Event)) == 0


async def test_an_english_host_publishes_for_an_indonesian_group(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    host, group = community.english_host, community.group
    await host.send("/new")
    question = await choose(host, await host.wait_for_message(), "Workshop")
    question = await answer(host, "Breathing together")
    question = await choose(host, question, "Skip")
    assert question.text.startswith("Which time zone is the event in?")
    question = await answer(host, "Makassar")  # a city, typed
    assert question.text.startswith("When does it start?")
    question = await answer(host, "next friday 7pm")
    assert question.text.endswith("at 7:00 PM WITA — is that right?")
    question = await choose(host, question, "Yes, correct")
    question = await answer(host, "1,5 jam")
    assert question.text == "Where does it take place?"
    question = await choose(host, question, "In person")
    question = await answer(host, "Community hall, Jl. Somba Opu 7")
    question = await choose(host, question, "No limit")
    preview = await choose(host, question, "Does not repeat")

    assert preview.text.startswith("This is how members of Lingkar Tenang will see it:")
    assert "pukul 19.00 WITA" in preview.text  # the post in the group's language
    assert "⏱ 1 jam 30 menit" in preview.text
    await host.tap(preview, "Publish")
    post = await group.wait_for_message(contains="Breathing together")
    assert "📍 Community hall, Jl. Somba Opu 7" in post.text
    assert [b.text for b in post.buttons[0]] == ["Hadir", "Mungkin", "Tidak bisa"]
    await host.wait_for_edit(preview, "Published in Lingkar Tenang.")
    [event] = await events_in(bot)
    assert (event.timezone, event.capacity, event.place) == ("Asia/Makassar", None, Place.IN_PERSON)


async def test_the_host_may_pin_the_post(emulator: BotAPIEmulator, bot: App, community) -> None:
    host, group = community.host, community.group
    preview = await fill_until_preview(host)
    await host.tap(preview, "Terbitkan")
    post = await group.wait_for_message(contains="Lingkar")
    done = await host.wait_for_edit(preview, "Diterbitkan")

    refused = await host.tap(done, "Sematkan")  # the bot is not an admin yet
    assert refused.text.startswith("Aku tidak bisa menyematkannya")
    assert not post.pinned

    await emulator.promote_bot(group, by=community.admin)
    answer_ = await host.tap(done, "Sematkan")

    assert answer_.text == "Sudah disematkan."
    assert post.pinned


async def test_two_hosts_at_once_never_see_each_others_drafts(
    emulator: BotAPIEmulator, bot: App, community
) -> None:
    ayu, emma = community.host, community.english_host
    await emma.send("/new")
    question = await choose(emma, await emma.wait_for_message(), "Webinar")
    question = await answer(emma, "Emma's own session")

    preview = await fill_until_preview(ayu)  # Ayu goes all the way meanwhile

    assert "Emma" not in preview.text
    question = await choose(emma, question, "Skip")
    assert question.text.startswith("Which time zone is the event in?")  # Emma's step kept
    await ayu.tap(preview, "Terbitkan")
    post = await community.group.wait_for_message(contains="Lingkar")
    assert "Emma" not in post.text
    [event] = await events_in(bot)
    assert event.created_by == ayu.id
