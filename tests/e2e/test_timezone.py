"""/timezone: a person picks the zone they see dates and times in."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from events.app import App
from events.db.models import Person
from events.emulator import BotAPIEmulator
from tests.e2e.conftest import CommunitySetup
from tests.e2e.publishing import publish


async def zone_of(app: App, person_id: int) -> str | None:
    async with app.sessions() as session:
        return await session.scalar(select(Person.timezone).where(Person.id == person_id))


async def test_one_tap_for_an_indonesian_zone(emulator: BotAPIEmulator, bot: App) -> None:
    dewi = emulator.user("Dewi", language_code="id")

    await dewi.send("/timezone")
    question = await dewi.wait_for_message()
    assert question.text == (
        "Saat ini tanggal dan jam aku tampilkan dalam WIB (Asia/Jakarta). "
        "Kamu ada di zona waktu mana?"
    )
    assert [b.text for b in question.buttons[0]] == ["WIB", "WITA", "WIT", "Lainnya…"]
    answer = await dewi.tap(question, "WITA")

    assert answer.text == "Zona waktu: WITA (Asia/Makassar)"
    await dewi.wait_for_edit(
        question, "Siap. Mulai sekarang tanggal dan jam aku tampilkan dalam WITA (Asia/Makassar)."
    )
    assert await zone_of(bot, dewi.id) == "Asia/Makassar"


async def test_a_typed_city(emulator: BotAPIEmulator, bot: App) -> None:
    sam = emulator.user("Sam", language_code="en")

    await sam.send("/timezone")
    question = await sam.wait_for_message()
    await sam.tap(question, "Other…")
    await sam.wait_for_edit(question, "Type your city")
    await sam.send("Atlantis")
    assert (await sam.wait_for_message()).text.startswith("I do not know that time zone.")
    assert await zone_of(bot, sam.id) is None
    await sam.send("amsterdam")

    done = await sam.wait_for_message()
    assert done.text.startswith("Done. I will show you dates and times in C")
    assert done.text.endswith("(Europe/Amsterdam).")
    assert await zone_of(bot, sam.id) == "Europe/Amsterdam"


async def test_a_city_right_after_the_command(emulator: BotAPIEmulator, bot: App) -> None:
    ana = emulator.user("Ana", language_code="id")

    await ana.send("/timezone Jayapura")

    done = await ana.wait_for_message()
    assert done.text.endswith("dalam WIT (Asia/Jayapura).")
    assert await zone_of(bot, ana.id) == "Asia/Jayapura"
    await ana.send("/timezone Singapore")
    assert (await ana.wait_for_message()).text.endswith("dalam UTC+08:00 (Asia/Singapore).")


async def test_one_event_seen_in_three_zones(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    # Saturday 4 December 2027, 19.00 in Jakarta.
    starts_at = datetime(2027, 12, 4, 12, 0, tzinfo=UTC)
    event = await publish(bot, emulator, community.id, title="Ruang Aman", starts_at=starts_at)
    dewi, sam = community.member, community.english_member
    wulan = emulator.user("Wulan", language_code="id")
    await community.group.join(wulan)
    await wulan.send("/timezone Makassar")
    await wulan.wait_for_message(contains="WITA")
    await sam.send("/timezone Amsterdam")
    await sam.wait_for_message(contains="Europe/Amsterdam")

    cards = {}
    for person in (dewi, wulan, sam):
        await person.send(f"/start e{event.id}")
        cards[person.first_name] = (await person.wait_for_message(contains="Ruang Aman")).text

    assert "Sabtu, 4 Desember 2027 pukul 19.00 WIB\n" in cards["Dewi"] + "\n"
    assert "Sabtu, 4 Desember 2027 pukul 19.00 WIB / 20.00 WITA" in cards["Wulan"]
    assert "Saturday, 4 December 2027 at 7:00 PM WIB / 1:00 PM CET" in cards["Sam"]
    assert "pukul 19.00 WIB" in event.post.text  # the group's own language and zone
