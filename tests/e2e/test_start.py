"""People meet the bot: /start, /help and /language, in their own language."""

from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import select

from events.app import App
from events.db.models import Person
from events.emulator import BotAPIEmulator, ServerError
from tests.e2e.conftest import StartBot


async def test_dewi_is_greeted_in_indonesian(emulator: BotAPIEmulator, bot: App) -> None:
    dewi = emulator.user("Dewi", language_code="id")

    await dewi.send("/start")
    greeting = await dewi.wait_for_message(contains="Halo")

    assert greeting.text.startswith("Halo, Dewi! 👋")
    assert "workshop, webinar, dan sesi tanya jawab" in greeting.text
    assert "tidak pernah siapa saja" in greeting.text  # privacy, said up front
    assert "/help" in greeting.text
    assert "Hi," not in greeting.text


async def test_sam_is_greeted_in_english(emulator: BotAPIEmulator, bot: App) -> None:
    sam = emulator.user("Sam", language_code="en-GB")

    await sam.send("/start")
    greeting = await sam.wait_for_message(contains="Hi")

    assert greeting.text.startswith("Hi, Sam! 👋")
    assert "never who" in greeting.text


async def test_other_languages_get_the_default_indonesian(
    emulator: BotAPIEmulator, bot: App
) -> None:
    pierre = emulator.user("Pierre", language_code="fr")

    await pierre.send("/start")

    assert (await pierre.wait_for_message()).text.startswith("Halo, Pierre!")


async def test_a_name_with_markup_is_shown_literally(emulator: BotAPIEmulator, bot: App) -> None:
    odd = emulator.user("<b>Ana</b> & <i>Co", language_code="en")

    await odd.send("/start")

    greeting = await odd.wait_for_message()
    assert greeting.text.startswith("Hi, <b>Ana</b> & <i>Co! 👋")
    assert greeting.entities == [] or all(e["type"] != "bold" for e in greeting.entities)


async def test_help_lists_the_commands_in_the_persons_language(
    emulator: BotAPIEmulator, bot: App
) -> None:
    dewi = emulator.user("Dewi", language_code="id")
    sam = emulator.user("Sam", language_code="en")

    await dewi.send("/help")
    await sam.send("/help")

    dewi_help = (await dewi.wait_for_message()).text.splitlines()
    sam_help = (await sam.wait_for_message()).text.splitlines()
    assert dewi_help[0] == "Ini yang bisa aku bantu:"
    assert "/language — Pilih bahasa" in dewi_help
    assert "/start — Tentang bot ini" in dewi_help
    assert sam_help[0] == "Here is what I can do:"
    assert "/language — Choose your language" in sam_help


async def test_help_in_a_group_points_to_the_private_chat(
    emulator: BotAPIEmulator, bot: App
) -> None:
    host = emulator.user("Rina", language_code="id")
    group = emulator.group("Lingkar Tenang", members=[host], creator=host)
    await emulator.add_bot_to_group(group, by=host)
    await group.wait_for_message(contains="/addhost")  # the bot's hello

    await host.send("/help@events_test_bot", chat=group)

    answer = await host.wait_for_message(chat=group)
    assert "Buka obrolan pribadi denganku (@events_test_bot)" in answer.text
    assert "/help" in answer.text
    assert "/language" in answer.text  # the group's language, for its admins
    assert "/new" not in answer.text  # a private-chat command


async def test_language_switch_is_remembered(emulator: BotAPIEmulator, bot: App) -> None:
    dewi = emulator.user("Dewi", language_code="id")

    await dewi.send("/language")
    question = await dewi.wait_for_message(contains="Bahasa Indonesia")
    assert [[b.text for b in row] for row in question.buttons] == [["Bahasa Indonesia", "English"]]
    assert "Saat ini aku berbicara denganmu dalam Bahasa Indonesia" in question.text

    answer = await dewi.tap(question, "English")

    assert answer.text == "Language: English"
    await dewi.wait_for_edit(question, "From now on I will speak with you in English.")
    assert question.buttons == []
    await dewi.send("/start")
    assert (await dewi.wait_for_message()).text.startswith("Hi, Dewi!")
    async with bot.sessions() as session:
        stored = await session.scalar(select(Person.locale).where(Person.id == dewi.id))
    assert stored == "en"
    # Her own command menu follows her choice, whatever her app's language.
    await emulator.wait_until(lambda: emulator.commands("chat", chat_id=dewi.id))
    assert ("language", "Choose your language") in emulator.visible_commands(dewi)


async def test_switching_back_to_indonesian(emulator: BotAPIEmulator, bot: App) -> None:
    sam = emulator.user("Sam", language_code="en")

    await sam.send("/language")
    question = await sam.wait_for_message(contains="English")
    answer = await sam.tap(question, "Bahasa Indonesia")

    assert answer.text == "Bahasa: Bahasa Indonesia"
    await sam.wait_for_edit(question, "Mulai sekarang aku akan berbicara denganmu dalam")
    await sam.send("/help")
    assert (await sam.wait_for_message()).text.startswith("Ini yang bisa aku bantu:")


async def test_command_menu_in_both_languages(emulator: BotAPIEmulator, bot: App) -> None:
    await emulator.wait_until(lambda: emulator.commands("all_group_chats", "en"))

    assert ("language", "Pilih bahasa") in emulator.commands("default")
    assert ("language", "Choose your language") in emulator.commands("default", "en")
    assert ("announce", "Kirim pesan ke semua yang hadir di acaramu") in emulator.commands(
        "default"
    )
    assert ("announce", "Send a message to everyone going to your event") in emulator.commands(
        "default", "en"
    )
    assert [name for name, _ in emulator.commands("all_group_chats")] == [
        "help",
        "events",
        "language",
        "addhost",
        "removehost",
    ]
    assert ("help", "Semua perintah") in emulator.commands("all_group_chats")
    assert ("help", "All commands") in emulator.commands("all_group_chats", "en")


async def test_text_the_bot_does_not_understand_gets_a_hint(
    emulator: BotAPIEmulator, bot: App
) -> None:
    dewi = emulator.user("Dewi", language_code="id")

    await dewi.send("halo, apa kabar?")

    hint = await dewi.wait_for_message()
    assert hint.text == (
        "Maaf, aku belum mengerti. Ketik /help untuk melihat apa saja yang bisa aku bantu."
    )


async def test_a_forged_button_changes_nothing(emulator: BotAPIEmulator, bot: App) -> None:
    dewi = emulator.user("Dewi", language_code="id")
    await dewi.send("/language")
    question = await dewi.wait_for_message(contains="Bahasa")

    answer = await dewi.tap(question, "English", data="lang:xx")  # junk a client could send

    assert answer.text == "Tombol ini sudah tidak berlaku."
    assert answer.show_alert
    async with bot.sessions() as session:
        assert await session.scalar(select(Person.locale).where(Person.id == dewi.id)) is None


async def test_a_failure_of_ours_gets_an_apology_not_a_traceback(
    emulator: BotAPIEmulator, bot: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    dewi = emulator.user("Dewi", language_code="id")

    async def broken(*args: object) -> None:
        raise RuntimeError("the database fell over")

    monkeypatch.setattr("events.bot.middlewares.person.get_or_create_person", broken)
    await dewi.send("/start")

    apology = await dewi.wait_for_message()
    assert apology.text == "Maaf, ada yang salah di pihak kami. Coba lagi sebentar lagi, ya."
    monkeypatch.undo()
    await dewi.send("/start")
    assert (await dewi.wait_for_message()).text.startswith("Halo, Dewi!")


async def test_a_failed_send_does_not_stop_the_bot(emulator: BotAPIEmulator, bot: App) -> None:
    dewi = emulator.user("Dewi", language_code="id")
    emulator.faults.add("sendMessage", error=ServerError(502, "Bad Gateway"), chat_id=dewi.id)

    await dewi.send("/start")
    await emulator.wait_until(lambda: emulator.calls_to("sendMessage", ok=False))
    await dewi.send("/start")

    assert (await dewi.wait_for_message(contains="Halo")).text.startswith("Halo, Dewi!")


async def test_updates_sent_while_the_bot_was_down_are_answered(
    emulator: BotAPIEmulator, start_bot: StartBot
) -> None:
    dewi = emulator.user("Dewi", language_code="id")
    await dewi.send("/start")  # nobody is polling yet

    await start_bot()

    assert (await dewi.wait_for_message(contains="Halo")).text.startswith("Halo, Dewi!")


async def test_healthz_answers(bot: App) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"http://127.0.0.1:{bot.http_port}/healthz") as response,
    ):
        body = await response.json()
    assert response.status == 200
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["updates"] == "receiving"
