"""/settings end to end: each person chooses when their reminders come (or follows their
community's default) and whether "maybe" gets them; admins change their community's default.
Every choice applies at once to the reminders already planned."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from events.app import App
from events.bot.callbacks import SettingsAction, SettingsCallback
from events.db.models import Community, DeliveryStatus, Person
from events.emulator import BotAPIEmulator, CallbackAnswer, Message
from events.emulator import Person as User
from tests.e2e.conftest import CommunitySetup
from tests.e2e.publishing import publish
from tests.e2e.test_reminders import evening, going, move_to, reminders, rows


async def open_settings(person: User) -> Message:
    await person.send("/settings")
    return await person.wait_for_message(contains="🔔")


async def toggle(emulator: BotAPIEmulator, person: User, shown: Message, label: str) -> str:
    """Tap a button of the /settings message; its toast, once the message shows the change."""
    edits = shown.edits
    answer = await person.tap(shown, label)
    await emulator.wait_until(lambda: shown.edits > edits)
    return answer.text or ""


async def stored(app: App, person: User) -> tuple[str | None, bool]:
    async with app.sessions() as session:
        row = (
            await session.execute(
                select(Person.reminders, Person.remind_maybe).where(Person.id == person.id)
            )
        ).one()
        return row[0], row[1]


async def community_default(app: App, community_id: int) -> str:
    async with app.sessions() as session:
        value = await session.scalar(
            select(Community.reminders).where(Community.id == community_id)
        )
        assert value is not None
        return value


async def pending(app: App, event_id: int, person: User) -> set[str]:
    return {
        key
        for (person_id, key), status in (await rows(app, event_id)).items()
        if person_id == person.id and status is DeliveryStatus.PENDING
    }


async def test_settings_in_each_persons_language(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    dewi, sam = community.member, community.english_member
    shown = await open_settings(dewi)
    assert "Pengingat: 1 hari dan 1 jam sebelum acara." in shown.text
    assert "Ini bawaan Lingkar Tenang." in shown.text
    assert "Jawaban “Mungkin” tidak mendapat pengingat." in shown.text
    assert shown.button_texts == [
        "✅ 1 hari sebelumnya",
        "3 jam sebelumnya",
        "✅ 1 jam sebelumnya",
        "15 menit sebelumnya",
        "Tanpa pengingat",
        "Pengingat juga untuk “Mungkin”",
    ]

    english = await open_settings(sam)
    assert "Reminders: 1 day and 1 hour before the event." in english.text
    assert "This is the default of Lingkar Tenang." in english.text
    assert english.button_texts == [
        "✅ 1 day before",
        "3 hours before",
        "✅ 1 hour before",
        "15 minutes before",
        "No reminders",
        "Reminders for “Maybe” too",
    ]
    assert ("settings", "When your reminders come") in emulator.visible_commands(sam)
    assert ("settings", "Kapan pengingatmu datang") in emulator.visible_commands(dewi)
    assert "settings" not in [name for name, _ in emulator.commands("all_group_chats")]


async def test_toggles_store_the_choice_and_show_it(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    dewi = community.member
    shown = await open_settings(dewi)

    # The first choice of her own starts from the default: 1 day and 1 hour, less 1 day.
    assert await toggle(emulator, dewi, shown, "1 hari") == "Pengingat: 1 jam sebelum acara."
    assert await stored(bot, dewi) == ("3600", False)
    assert "Pengingat: 1 jam sebelum acara." in shown.text
    assert "Ini pilihanmu sendiri." in shown.text
    assert shown.button_texts[:4] == [
        "1 hari sebelumnya",
        "3 jam sebelumnya",
        "✅ 1 jam sebelumnya",
        "15 menit sebelumnya",
    ]
    assert "Ikuti bawaan komunitas" in shown.button_texts

    await toggle(emulator, dewi, shown, "3 jam")
    assert await stored(bot, dewi) == ("10800,3600", False)
    assert "Pengingat: 3 jam dan 1 jam sebelum acara." in shown.text

    # Deselecting every one is no reminders at all.
    await toggle(emulator, dewi, shown, "3 jam")
    assert await toggle(emulator, dewi, shown, "1 jam") == "Tanpa pengingat."
    assert await stored(bot, dewi) == ("", False)
    assert "Pengingat: tidak ada." in shown.text
    assert "✅ Tanpa pengingat" in shown.button_texts
    assert not [label for label in shown.button_texts if label.startswith("✅ 1")]

    toast = await toggle(emulator, dewi, shown, "Mungkin")
    assert toast == "Pengingat untuk “Mungkin” aktif."
    assert await stored(bot, dewi) == ("", True)
    assert "Jawaban “Mungkin” juga mendapat pengingat." in shown.text
    assert "✅ Pengingat juga untuk “Mungkin”" in shown.button_texts

    toast = await toggle(emulator, dewi, shown, "Ikuti bawaan komunitas")
    assert toast == "Kamu kembali mengikuti bawaan komunitas."
    assert await stored(bot, dewi) == (None, True)
    assert "Pengingat: 1 hari dan 1 jam sebelum acara." in shown.text
    assert "Ini bawaan Lingkar Tenang." in shown.text
    assert "Ikuti bawaan komunitas" not in shown.button_texts

    # A forged offset changes nothing.
    forged = SettingsCallback(action=SettingsAction.LEAD, lead=42).pack()
    answer = await dewi.tap(shown, "3 jam", data=forged)
    assert answer.text == "Tombol ini sudah tidak berlaku."
    assert await stored(bot, dewi) == (None, True)


async def test_fifteen_minutes_only_moves_the_planned_reminders(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    dewi = community.member
    shown = await open_settings(dewi)
    starts = evening(bot)
    event = await publish(bot, emulator, community.id, starts_at=starts)
    await going(event, dewi)
    assert await pending(bot, event.id, dewi) == {
        f"reminder:{event.id}:86400",
        f"reminder:{event.id}:3600",
        f"checkin:{event.id}",
    }

    await toggle(emulator, dewi, shown, "15 menit")
    await toggle(emulator, dewi, shown, "1 hari")
    await toggle(emulator, dewi, shown, "1 jam")
    assert await stored(bot, dewi) == ("900", False)
    assert "Pengingat: 15 menit sebelum acara." in shown.text
    assert await pending(bot, event.id, dewi) == {
        f"reminder:{event.id}:900",
        f"checkin:{event.id}",
    }

    move_to(bot, starts - timedelta(days=1))
    await emulator.quiet(0.3)
    move_to(bot, starts - timedelta(hours=1))
    await emulator.quiet(0.3)
    assert reminders(dewi) == []
    move_to(bot, starts - timedelta(minutes=15))
    reminder = await dewi.wait_for_message(contains="⏰")
    assert reminder.text.startswith("⏰ Lingkar Dukungan dimulai dalam 15 menit.")
    await emulator.quiet(0.3)
    assert len(reminders(dewi)) == 1


async def test_no_reminders_means_none_arrive(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    sam = community.english_member
    shown = await open_settings(sam)
    starts = evening(bot)
    event = await publish(bot, emulator, community.id, starts_at=starts)
    await going(event, sam, label="Hadir")

    assert await toggle(emulator, sam, shown, "No reminders") == "No reminders."
    assert "Reminders: none." in shown.text
    assert "This is your own choice." in shown.text
    assert await pending(bot, event.id, sam) == {f"checkin:{event.id}"}

    move_to(bot, starts + timedelta(minutes=1))
    await emulator.quiet(0.3)
    assert reminders(sam) == []


async def test_maybe_too_and_back_to_the_default(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    dewi, sam = community.member, community.english_member
    shown = await open_settings(dewi)
    await open_settings(sam)
    starts = evening(bot)
    event = await publish(bot, emulator, community.id, starts_at=starts)
    await going(event, dewi, sam, label="Mungkin")
    assert await pending(bot, event.id, dewi) == set()

    await toggle(emulator, dewi, shown, "Mungkin")
    assert await pending(bot, event.id, dewi) == {
        f"reminder:{event.id}:86400",
        f"reminder:{event.id}:3600",
    }
    # Her own choice, then the community's default again.
    await toggle(emulator, dewi, shown, "1 hari")
    assert await pending(bot, event.id, dewi) == {f"reminder:{event.id}:3600"}
    await toggle(emulator, dewi, shown, "Ikuti bawaan komunitas")
    assert await pending(bot, event.id, dewi) == {
        f"reminder:{event.id}:86400",
        f"reminder:{event.id}:3600",
    }

    move_to(bot, starts - timedelta(days=1))
    await dewi.wait_for_message(contains="⏰")
    move_to(bot, starts - timedelta(hours=1))
    await emulator.wait_until(lambda: len(reminders(dewi)) == 2)
    assert reminders(dewi)[-1].text.startswith("⏰ Lingkar Dukungan dimulai dalam 1 jam.")
    await emulator.quiet(0.3)
    assert reminders(sam) == []


async def test_an_admin_changes_the_communitys_default(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    rina, dewi, sam = community.admin, community.member, community.english_member
    await open_settings(dewi)
    own = await open_settings(sam)
    starts = evening(bot)
    event = await publish(bot, emulator, community.id, starts_at=starts)
    await going(event, dewi, sam)
    # Sam chooses his own: 15 minutes only.
    for label in ("15 minutes", "1 day", "1 hour"):
        await toggle(emulator, sam, own, label)
    assert await stored(bot, sam) == ("900", False)

    shown = await open_settings(rina)
    assert "Bawaan Lingkar Tenang" in shown.button_texts
    await toggle(emulator, rina, shown, "Bawaan Lingkar Tenang")
    assert "Pengingat bawaan Lingkar Tenang: 1 hari dan 1 jam sebelum acara." in shown.text
    assert shown.button_texts == [
        "✅ 1 hari sebelumnya",
        "3 jam sebelumnya",
        "✅ 1 jam sebelumnya",
        "15 menit sebelumnya",
        "Tanpa pengingat",
        "« Kembali",
    ]
    await toggle(emulator, rina, shown, "3 jam")
    await toggle(emulator, rina, shown, "1 hari")
    assert await toggle(emulator, rina, shown, "1 jam") == "Pengingat: 3 jam sebelum acara."
    assert await community_default(bot, community.id) == "10800"
    assert "Pengingat bawaan Lingkar Tenang: 3 jam sebelum acara." in shown.text
    assert await pending(bot, event.id, dewi) == {
        f"reminder:{event.id}:10800",
        f"checkin:{event.id}",
    }
    assert await pending(bot, event.id, sam) == {
        f"reminder:{event.id}:900",
        f"checkin:{event.id}",
    }

    await toggle(emulator, rina, shown, "Kembali")
    assert "🔔 Pengingat: 3 jam sebelum acara." in shown.text
    assert "Bawaan Lingkar Tenang" in shown.button_texts
    assert "Pengingat: 3 jam sebelum acara." in (await open_settings(dewi)).text

    move_to(bot, starts - timedelta(hours=3))
    to_dewi = await dewi.wait_for_message(contains="⏰")
    assert to_dewi.text.startswith("⏰ Lingkar Dukungan dimulai dalam 3 jam.")
    await emulator.quiet(0.3)
    assert reminders(sam) == []
    move_to(bot, starts - timedelta(minutes=15))
    to_sam = await sam.wait_for_message(contains="⏰")
    assert to_sam.text.startswith("⏰ Lingkar Dukungan starts in 15 minutes.")
    await emulator.quiet(0.3)
    assert len(reminders(dewi)) == 1


async def test_a_forged_tap_on_a_communitys_default_changes_nothing(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    dewi = community.member
    shown = await open_settings(dewi)
    assert not [label for label in shown.button_texts if "Bawaan" in label]
    edits = shown.edits
    for action in (SettingsAction.LEAD, SettingsAction.NONE, SettingsAction.OPEN):
        data = SettingsCallback(action=action, lead=10800, community_id=community.id).pack()
        answer: CallbackAnswer = await dewi.tap(shown, "3 jam", data=data)
        assert answer.text == "Hanya admin grup yang bisa mengganti pengingat bawaannya."
        assert answer.show_alert
    await emulator.quiet(0.3)
    assert shown.edits == edits
    assert await community_default(bot, community.id) == "86400,3600"


async def test_communities_with_different_defaults_are_each_named(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    rina, dewi = community.admin, community.member
    other = emulator.group("Lingkar Cerah", members=[dewi], creator=rina)
    await emulator.add_bot_to_group(other, by=rina)
    await other.wait_for_message(contains="/addhost")
    async with bot.sessions() as session, session.begin():
        found = await session.get(Community, other.id)
        assert found is not None
        found.reminders = "10800"

    shown = await open_settings(dewi)
    assert "Kamu mengikuti bawaan tiap komunitasmu:" in shown.text
    assert "• Lingkar Cerah: 3 jam sebelum acara." in shown.text
    assert "• Lingkar Tenang: 1 hari dan 1 jam sebelum acara." in shown.text
    assert not [label for label in shown.button_texts if label.startswith("✅")]

    # The first reminder tapped is her whole own choice.
    await toggle(emulator, dewi, shown, "15 menit")
    assert await stored(bot, dewi) == ("900", False)
    assert "Pengingat: 15 menit sebelum acara." in shown.text

    admin = await open_settings(rina)
    assert [label for label in admin.button_texts if label.startswith("Bawaan")] == [
        "Bawaan Lingkar Cerah",
        "Bawaan Lingkar Tenang",
    ]
