"""A world saved by one emulator comes back whole in the next (what the sandbox keeps between
runs): people, groups and their members, messages with their formatting, buttons, edits, replies
and files; new ids go on after the saved ones."""

from __future__ import annotations

import json

import pytest
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from events.emulator import BotAPIEmulator, SnapshotError, Status
from tests.test_emulator import TOKEN, make_bot


async def test_a_saved_world_comes_back_whole() -> None:
    async with BotAPIEmulator(TOKEN) as first:
        bot = make_bot(first)
        ayu = first.user("Ayu", language_code="id")
        dewi = first.user("Dewi", language_code="id")
        group = first.group("Lingkar Tenang", members=[dewi], creator=ayu)
        await first.add_bot_to_group(group, by=ayu, admin=True)
        hello = await dewi.send("/start")
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text="Hadir", callback_data="r:1:g")],
                [InlineKeyboardButton(text="Peta", url="https://example.org/peta")],
            ]
        )
        card = await bot.send_message(
            dewi.id,
            "<b>Lingkar</b> di https://example.org",
            parse_mode="HTML",
            reply_markup=keyboard,
            reply_parameters={"message_id": hello.message_id},
        )
        await bot.edit_message_text(
            "<b>Lingkar</b> (baru)", chat_id=dewi.id, message_id=card.message_id, parse_mode="HTML"
        )
        await bot.send_document(
            dewi.id, BufferedInputFile(b"BEGIN:VCALENDAR\r\n", filename="event-1.ics")
        )
        await bot.send_message(group.id, "Halo, grup!")
        await bot.session.close()
        saved = json.loads(json.dumps(first.snapshot()))
        before = {
            chat_id: [(m.message_id, m.text, m.html, m.buttons, m.edits) for m in chat.visible()]
            for chat_id, chat in first.world.chats.items()
        }
        next_update = first.queue.next_id

    second = BotAPIEmulator(TOKEN)
    second.restore(saved)
    async with second:
        after = {
            chat_id: [(m.message_id, m.text, m.html, m.buttons, m.edits) for m in chat.visible()]
            for chat_id, chat in second.world.chats.items()
        }
        assert after == before
        dewi_again = second.person(dewi.id)
        group_again = second.chat(group.id)
        card_again = dewi_again.bot_messages[0]
        assert card_again.reply_to is not None
        assert card_again.reply_to.text == "/start"
        assert card_again.history == ["Lingkar di https://example.org"]
        document = dewi_again.bot_messages[-1].document
        assert document is not None
        assert document.file_name == "event-1.ics"
        assert second.file_bytes(document.file_id) == b"BEGIN:VCALENDAR\r\n"
        assert group_again.status(second.person(ayu.id)) is Status.CREATOR
        assert group_again.bot_status is Status.ADMINISTRATOR

        typed = await dewi_again.send("lagi")
        assert typed.message_id == card_again.message_id + 2  # after the document
        assert second.updates[-1].update_id == next_update
        bot = make_bot(second)
        answer = await bot.send_message(dewi.id, "Masih di sini.")
        await bot.session.close()
        assert answer.message_id == typed.message_id + 1
        assert dewi_again.last_message is not None
        assert dewi_again.last_message.text == "Masih di sini."
        other = second.group("Lingkar Lain")
        assert other.id not in before
        stored = second.world.store_file("event-2.ics", b"BEGIN:VCALENDAR\r\n")
        assert stored.file_id != document.file_id
        assert stored.file_path != document.file_path


@pytest.mark.parametrize(
    "data",
    [{}, {"world": {"format": 99}, "next_update_id": 1}, {"world": {"format": 1, "users": 3}}],
)
def test_what_is_not_a_snapshot_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(SnapshotError):
        BotAPIEmulator(TOKEN).restore(data)
