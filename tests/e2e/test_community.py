"""Communities follow their group: the bot arrives (and greets once), leaves, the group is
renamed or upgraded to a supergroup."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from events.app import App
from events.db.models import ChatType, Community, Event, EventKind, Host, Place
from events.emulator import BotAPIEmulator
from tests.e2e.conftest import StartBot, eventually, make_host


async def community_row(app: App, community_id: int) -> Community | None:
    async with app.sessions() as session:
        return await session.get(Community, community_id)


async def hosts_of(app: App, community_id: int) -> list[int]:
    async with app.sessions() as session:
        return list(
            await session.scalars(select(Host.person_id).where(Host.community_id == community_id))
        )


async def test_added_by_an_admin_the_bot_says_hello_once_in_indonesian(
    emulator: BotAPIEmulator, bot: App
) -> None:
    rina = emulator.user("Rina", language_code="en")  # the group's language is the default
    dewi = emulator.user("Dewi", language_code="id")
    group = emulator.group("Lingkar Tenang", members=[dewi], creator=rina)

    await emulator.add_bot_to_group(group, by=rina)

    hello = await group.wait_for_message(contains="Halo")
    assert "workshop, webinar, dan sesi tanya jawab" in hello.text
    assert "tidak pernah siapa saja" in hello.text  # privacy, said up front
    assert "/addhost" in hello.text
    assert "/new di obrolan pribadi denganku (@events_test_bot)" in hello.text
    assert "Rina" not in hello.text  # nobody is named
    assert "Dewi" not in hello.text
    await emulator.quiet(0.3)  # both updates of the arrival were handled
    assert group.bot_messages == [hello]
    stored = await community_row(bot, group.id)
    assert stored is not None
    assert (stored.title, stored.chat_type, stored.is_forum, stored.thread_id) == (
        "Lingkar Tenang",
        ChatType.SUPERGROUP,
        False,
        None,
    )
    assert (stored.locale, stored.timezone, stored.active) == ("id", "Asia/Jakarta", True)


@pytest.mark.parametrize("supergroup", [True, False], ids=["supergroup", "group"])
async def test_a_group_created_with_the_bot_gets_one_hello(
    emulator: BotAPIEmulator, bot: App, supergroup: bool
) -> None:
    rina = emulator.user("Rina", language_code="id")
    group = emulator.group("Ruang Aman", creator=rina, supergroup=supergroup)

    await emulator.add_bot_to_group(group, by=rina, created=True)

    hello = await group.wait_for_message(contains="/addhost")
    await emulator.quiet(0.3)
    assert group.bot_messages == [hello]
    stored = await community_row(bot, group.id)
    assert stored is not None
    assert stored.chat_type == (ChatType.SUPERGROUP if supergroup else ChatType.GROUP)


async def test_the_default_language_decides_the_groups_language(
    emulator: BotAPIEmulator, start_bot: StartBot
) -> None:
    app = await start_bot(default_locale="en", default_timezone="Asia/Makassar")
    rina = emulator.user("Rina", language_code="id")
    group = emulator.group("Safe Space", creator=rina)

    await emulator.add_bot_to_group(group, by=rina)

    hello = await group.wait_for_message()
    assert hello.text.startswith("Hello, everyone! 👋")
    assert "/new in a private chat with me (@events_test_bot)" in hello.text
    stored = await community_row(app, group.id)
    assert stored is not None
    assert (stored.locale, stored.timezone) == ("en", "Asia/Makassar")


async def test_in_a_forum_the_hello_goes_to_the_general_topic(
    emulator: BotAPIEmulator, bot: App
) -> None:
    rina = emulator.user("Rina", language_code="id")
    group = emulator.group("Lingkar Tenang", creator=rina, forum=True)
    await group.create_topic("Acara", by=rina)

    await emulator.add_bot_to_group(group, by=rina)

    hello = await group.wait_for_message(contains="Halo")
    assert hello.thread_id is None
    stored = await community_row(bot, group.id)
    assert stored is not None
    assert (stored.is_forum, stored.thread_id) == (True, None)


async def test_removed_the_community_rests_and_comes_back_with_its_hosts(
    emulator: BotAPIEmulator, bot: App
) -> None:
    rina = emulator.user("Rina", language_code="id")
    ayu = emulator.user("Ayu", language_code="id")
    group = emulator.group("Lingkar Tenang", members=[ayu], creator=rina)
    await emulator.add_bot_to_group(group, by=rina)
    first_hello = await group.wait_for_message(contains="Halo")
    await make_host(group, rina, ayu)

    await emulator.remove_bot_from_group(group, by=rina)

    async def inactive() -> bool:
        stored = await community_row(bot, group.id)
        return stored is not None and not stored.active

    await eventually(inactive, message="the community did not become inactive")
    assert await hosts_of(bot, group.id) == [ayu.id]  # the data stays

    await emulator.add_bot_to_group(group, by=rina)

    second_hello = await group.wait_for_message(contains="Halo", after=first_hello)
    assert second_hello.text == first_hello.text
    stored = await community_row(bot, group.id)
    assert stored is not None
    assert stored.active
    assert await hosts_of(bot, group.id) == [ayu.id]


async def test_a_bot_that_leaves_on_its_own_marks_the_community_inactive(
    emulator: BotAPIEmulator, bot: App
) -> None:
    rina = emulator.user("Rina", language_code="id")
    group = emulator.group("Lingkar Tenang", creator=rina)
    await emulator.add_bot_to_group(group, by=rina)
    await group.wait_for_message(contains="Halo")

    await emulator.remove_bot_from_group(group)  # "left", not kicked

    async def inactive() -> bool:
        stored = await community_row(bot, group.id)
        return stored is not None and not stored.active

    await eventually(inactive, message="the community did not become inactive")


async def test_an_upgrade_to_a_supergroup_keeps_events_and_hosts(
    emulator: BotAPIEmulator, bot: App
) -> None:
    rina = emulator.user("Rina", language_code="id")
    ayu = emulator.user("Ayu", language_code="id")
    group = emulator.group("Lingkar Tenang", members=[ayu], creator=rina, supergroup=False)
    await emulator.add_bot_to_group(group, by=rina)
    await group.wait_for_message(contains="Halo")
    await make_host(group, rina, ayu)
    starts = bot.clock.now() + timedelta(days=3)
    async with bot.sessions() as session, session.begin():
        session.add(
            Event(
                community_id=group.id,
                kind=EventKind.WEBINAR,
                title="Ruang Aman",
                timezone="Asia/Jakarta",
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                place=Place.ONLINE,
                created_by=ayu.id,
            )
        )

    supergroup = await emulator.migrate_to_supergroup(group)

    async def moved() -> Community | None:
        return await community_row(bot, supergroup.id)

    stored = await eventually(moved, message="the community did not move to the supergroup")
    assert (stored.title, stored.chat_type, stored.active) == (
        "Lingkar Tenang",
        ChatType.SUPERGROUP,
        True,
    )
    await emulator.quiet(0.3)  # the second service message of the upgrade changes nothing
    assert await community_row(bot, group.id) is None
    assert await hosts_of(bot, supergroup.id) == [ayu.id]
    async with bot.sessions() as session:
        events = list(await session.scalars(select(Event)))
    assert [(event.title, event.community_id) for event in events] == [
        ("Ruang Aman", supergroup.id)
    ]
    # The host still hosts there: /removehost in the new group finds her.
    said = await ayu.send("Halo lagi", chat=supergroup)
    await rina.reply_to(said, "/removehost")
    done = await rina.wait_for_message(chat=supergroup)
    assert done.text.startswith("Siap: orang yang kamu balas bukan host di sini lagi.")
    assert supergroup.bot_messages == [done]  # no second hello after the move


async def test_a_new_title_is_kept(emulator: BotAPIEmulator, bot: App) -> None:
    rina = emulator.user("Rina", language_code="id")
    group = emulator.group("Lingkar Tenang", creator=rina)
    await emulator.add_bot_to_group(group, by=rina)
    await group.wait_for_message(contains="Halo")

    await emulator.rename(group, "Lingkar <Tenang> & Damai", by=rina)

    async def renamed() -> bool:
        stored = await community_row(bot, group.id)
        return stored is not None and stored.title == "Lingkar <Tenang> & Damai"

    await eventually(renamed, message="the new title was not stored")
