"""A group's admins choose the group's language; the bot then speaks it in the group."""

from __future__ import annotations

from sqlalchemy import select

from events.app import App
from events.db.models import Community
from events.emulator import BotAPIEmulator
from tests.e2e.conftest import CommunitySetup


async def group_locale(app: App, community_id: int) -> str | None:
    async with app.sessions() as session:
        return await session.scalar(select(Community.locale).where(Community.id == community_id))


async def test_an_admin_switches_the_group_to_english(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    group, rina, dewi = community.group, community.admin, community.member

    command = await rina.send("/language@events_test_bot", chat=group)
    question = await group.wait_for_message(
        predicate=lambda m: m.reply_to is not None and m.reply_to.message_id == command.message_id
    )
    assert question.text.startswith("Di grup ini aku berbicara Bahasa Indonesia.")

    refused = await dewi.tap(question, "English")
    assert refused.text == "Hanya admin grup yang bisa mengganti bahasanya."
    assert refused.show_alert
    assert await group_locale(bot, group.id) == "id"

    answer = await rina.tap(question, "English")
    assert answer.text == "Bahasa: English"  # a toast is private: Rina's own language
    await rina.wait_for_edit(question, "Done. In this group I will speak English.")
    assert await group_locale(bot, group.id) == "en"

    await dewi.send("/help@events_test_bot", chat=group)  # Dewi reads Indonesian herself
    answer_in_group = await group.wait_for_message(contains="private chat")
    assert answer_in_group.text.startswith("In the group I only post events and counts.")


async def test_a_member_cannot_change_the_group_language(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    group, dewi = community.group, community.member

    command = await dewi.send("/language@events_test_bot", chat=group)

    reply = await group.wait_for_message(
        predicate=lambda m: m.reply_to is not None and m.reply_to.message_id == command.message_id
    )
    assert reply.text == "Hanya admin grup yang bisa mengganti bahasanya."
    assert reply.buttons == []
