"""Who may do what: admins choose hosts in the group (/addhost, /removehost) and manage them in
private (/hosts); Telegram's word on who is an admin is kept at most 60 seconds."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from events.app import App
from events.bot.membership import Membership
from events.bot.routers.hosts import explain_hosting
from events.db.models import Community, Host
from events.emulator import BotAPIEmulator, Group, Message, Person, Status
from tests.e2e.conftest import CommunitySetup, StartBot, eventually

ADDED = "Siap: orang yang kamu balas sekarang menjadi host."
REMOVED = "Siap: orang yang kamu balas bukan host di sini lagi."
ONLY_ADMINS = "Hanya admin grup ini yang bisa memilih host."
HOW_TO = "Untuk menjadikan seseorang host, balas salah satu pesannya dengan /addhost."


async def hosts_of(app: App, community_id: int) -> dict[int, int | None]:
    """Host person id → who added them."""
    async with app.sessions() as session:
        rows = await session.execute(
            select(Host.person_id, Host.added_by).where(Host.community_id == community_id)
        )
        return {person_id: added_by for person_id, added_by in rows}


async def command_reply(group: Group, command: Message) -> Message:
    """The bot's answer to a command: a reply to it."""
    return await group.wait_for_message(
        predicate=lambda m: m.reply_to is not None and m.reply_to.message_id == command.message_id
    )


async def test_an_admin_makes_a_member_a_host_by_replying(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    group, rina, dewi = community.group, community.admin, community.member
    said = await dewi.send("Aku mau bantu mengadakan sesi.", chat=group)

    command = await rina.reply_to(said, "/addhost")

    done = await command_reply(group, command)
    assert done.text.startswith(ADDED)
    assert "/new" in done.text
    assert "Dewi" not in done.text  # nobody is named or mentioned
    assert not [e for e in done.entities if e["type"] in ("mention", "text_mention")]
    assert (await hosts_of(bot, group.id))[dewi.id] == rina.id

    again = await rina.reply_to(said, "/addhost")
    assert (await command_reply(group, again)).text == (
        "Orang yang kamu balas sudah menjadi host di sini."
    )


async def test_a_member_who_is_not_an_admin_is_refused(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    group, dewi, sam = community.group, community.member, community.english_member
    said = await sam.send("Hi!", chat=group)
    before = await hosts_of(bot, group.id)

    command = await dewi.reply_to(said, "/addhost")

    refusal = await command_reply(group, command)
    assert refusal.text.startswith(ONLY_ADMINS)
    assert "minta admin membalas salah satu pesanmu dengan /addhost" in refusal.text
    assert await hosts_of(bot, group.id) == before
    assert sam.id not in before


async def test_an_anonymous_admin_can_add_a_host(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    group, dewi = community.group, community.member
    said = await dewi.send("Halo semua", chat=group)

    command = await group.send_as_anonymous_admin("/addhost", reply_to=said)

    assert (await command_reply(group, command)).text.startswith(ADDED)
    assert (await hosts_of(bot, group.id))[dewi.id] is None  # nobody to record as the adder


async def test_the_command_with_the_bots_username_works(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    group, rina, dewi = community.group, community.admin, community.member
    said = await dewi.send("Halo", chat=group)

    command = await rina.reply_to(said, "/addhost@events_test_bot")

    assert (await command_reply(group, command)).text.startswith(ADDED)
    assert dewi.id in await hosts_of(bot, group.id)


async def test_without_a_reply_the_admin_learns_how(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    group, rina = community.group, community.admin
    before = await hosts_of(bot, group.id)

    command = await rina.send("/addhost", chat=group)
    assert (await command_reply(group, command)).text.startswith(HOW_TO)
    command = await rina.send("/removehost", chat=group)
    assert (await command_reply(group, command)).text == (
        "Untuk mencabut status host seseorang, balas salah satu pesannya dengan /removehost."
    )
    assert await hosts_of(bot, group.id) == before


async def test_a_reply_to_the_bot_or_an_anonymous_admin_is_not_a_person(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    group, rina = community.group, community.admin
    before = await hosts_of(bot, group.id)
    hello = group.bot_messages[0]
    anonymous = await group.send_as_anonymous_admin("Pengumuman dari admin")

    for message in (hello, anonymous):
        command = await rina.reply_to(message, "/addhost")
        answer = await command_reply(group, command)
        assert answer.text.startswith("Aku hanya bisa menjadikan orang sebagai host")
    assert await hosts_of(bot, group.id) == before


async def test_in_a_forum_topic_the_topics_opening_is_not_a_person(
    emulator: BotAPIEmulator, bot: App
) -> None:
    rina = emulator.user("Rina", language_code="id")
    dewi = emulator.user("Dewi", language_code="id")
    group = emulator.group("Lingkar Tenang", members=[dewi], creator=rina, forum=True)
    await emulator.add_bot_to_group(group, by=rina)
    await group.wait_for_message(contains="Halo")
    topic = await group.create_topic("Acara", by=rina)

    # In a topic every message "replies" to the topic's opening: that is no person.
    command = await rina.send("/addhost", chat=group, thread_id=topic)

    answer = await command_reply(group, command)
    assert answer.text.startswith(HOW_TO)
    assert answer.thread_id == topic  # answered where it was asked
    assert await hosts_of(bot, group.id) == {}

    said = await dewi.send("Aku bisa bantu", chat=group, thread_id=topic)
    command = await rina.reply_to(said, "/addhost")
    answer = await command_reply(group, command)
    assert answer.text.startswith(ADDED)
    assert answer.thread_id == topic
    assert dewi.id in await hosts_of(bot, group.id)


async def test_an_admin_removes_a_host(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    group, rina, ayu, dewi = community.group, community.admin, community.host, community.member
    said = await ayu.send("Halo", chat=group)

    command = await rina.reply_to(said, "/removehost")

    assert (await command_reply(group, command)).text == REMOVED
    assert ayu.id not in await hosts_of(bot, group.id)
    said = await dewi.send("Halo juga", chat=group)
    command = await rina.reply_to(said, "/removehost")
    assert (await command_reply(group, command)).text == (
        "Orang yang kamu balas bukan host di sini."
    )
    # A host who is no admin cannot remove anyone.
    emma = community.english_host
    said = await ayu.send("Halo lagi", chat=group)
    command = await emma.reply_to(said, "/removehost")
    assert (await command_reply(group, command)).text.startswith(ONLY_ADMINS)


async def test_hosts_lists_them_and_a_tap_removes_one(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    rina = community.admin

    await rina.send("/hosts")

    listing = await rina.wait_for_message()
    assert listing.text.splitlines() == [
        "Host di grup tempat kamu menjadi admin:",
        "",
        "Lingkar Tenang",
        "• Ayu",
        "• Emma",
        "",
        "Untuk menambah host, balas salah satu pesannya di grup dengan /addhost.",
    ]
    assert [[b.text for b in row] for row in listing.buttons] == [["Hapus Ayu"], ["Hapus Emma"]]

    answer = await rina.tap(listing, "Hapus Ayu")

    assert answer.text == "Siap: bukan host lagi."
    await rina.wait_for_edit(listing, predicate=lambda m: "• Ayu" not in m.text)
    assert "• Emma" in listing.text
    assert [[b.text for b in row] for row in listing.buttons] == [["Hapus Emma"]]
    assert set(await hosts_of(bot, community.id)) == {community.english_host.id}


async def test_a_removal_tapped_twice_or_forged_changes_nothing(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    rina, ayu, dewi = community.admin, community.host, community.member
    await rina.send("/hosts")
    listing = await rina.wait_for_message()
    button = listing.find_button("Hapus Ayu")

    # Dewi (no admin) sends the same callback data from her own chat, as a modified app could.
    await dewi.send("/hosts")
    her_view = await dewi.wait_for_message()
    assert "bukan admin" in her_view.text
    assert her_view.buttons == []
    forged = await dewi.tap(listing, "Hapus Ayu", data=button.callback_data)
    assert forged.show_alert
    assert forged.text == "Hanya admin grup yang bisa menghapus host-nya."
    assert ayu.id in await hosts_of(bot, community.id)

    # Rina's tap works once; the same data again finds nobody to remove.
    await rina.tap(listing, "Hapus Ayu")
    stale = await rina.tap(listing, "Hapus Emma", data=button.callback_data)
    assert stale.text == "Orang itu sudah bukan host."
    assert set(await hosts_of(bot, community.id)) == {community.english_host.id}
    # Junk callback data is no button at all.
    junk = await rina.tap(listing, "Hapus Emma", data="unhost:x:y")
    assert junk.text == "Tombol ini sudah tidak berlaku."


async def test_who_is_admin_is_asked_again_after_60_seconds(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    group, dewi, sam = community.group, community.member, community.english_member
    said = await sam.send("Hi", chat=group)
    command = await dewi.reply_to(said, "/addhost")
    assert (await command_reply(group, command)).text.startswith(ONLY_ADMINS)
    asked = len(emulator.calls_to("getChatMember"))

    await emulator.set_member_status(group, dewi, "administrator", by=community.admin)
    # Half the minute on the one clock (real seconds pass too, so not to the edge).
    bot.clock.advance(timedelta(seconds=30))
    command = await dewi.reply_to(said, "/addhost")
    assert (await command_reply(group, command)).text.startswith(ONLY_ADMINS)  # still cached
    assert len(emulator.calls_to("getChatMember")) == asked

    bot.clock.advance(timedelta(seconds=31))
    command = await dewi.reply_to(said, "/addhost")

    assert (await command_reply(group, command)).text.startswith(ADDED)
    assert sam.id in await hosts_of(bot, group.id)


async def test_owners_are_admins_everywhere(emulator: BotAPIEmulator, start_bot: StartBot) -> None:
    owner = emulator.user("Owner", language_code="en")
    app = await start_bot(admin_ids=frozenset({owner.id}))
    rina = emulator.user("Rina", language_code="id")
    dewi = emulator.user("Dewi", language_code="id")
    group = emulator.group("Lingkar Tenang", members=[dewi, owner], creator=rina)
    other = emulator.group("Ruang Aman", creator=rina)
    for each in (group, other):
        await emulator.add_bot_to_group(each, by=rina)
        await each.wait_for_message(contains="Halo")

    said = await dewi.send("Halo", chat=group)
    command = await owner.reply_to(said, "/addhost")
    assert (await command_reply(group, command)).text.startswith(ADDED)

    await owner.send("/hosts")
    listing = await owner.wait_for_message()
    assert listing.text.splitlines()[:6] == [
        "Hosts of the groups where you are an admin:",
        "",
        "Lingkar Tenang",
        "• Dewi",
        "",
        "Ruang Aman",
    ]
    assert [[b.text for b in row] for row in listing.buttons] == [["Remove Dewi (Lingkar Tenang)"]]
    assert await hosted(app, owner) == ["Lingkar Tenang", "Ruang Aman"]


async def hosted(app: App, person: Person) -> list[str]:
    membership: Membership = app.dispatcher["membership"]
    async with app.sessions() as session, session.begin():
        return [c.title for c in await membership.communities_for_host(session, person.id)]


async def test_who_may_create_events_where(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    assert await hosted(bot, community.host) == ["Lingkar Tenang"]  # a host row
    assert await hosted(bot, community.admin) == ["Lingkar Tenang"]  # the group's creator
    assert await hosted(bot, community.member) == []
    membership: Membership = bot.dispatcher["membership"]
    async with bot.sessions() as session:
        assert await membership.can_host(session, community.id, community.english_host.id)
        assert not await membership.can_host(session, community.id, community.member.id)
    # The wizard explains hosting to those who may not create events anywhere.
    with bot.i18n.context(), bot.i18n.use_locale("id"):
        assert "/addhost" in explain_hosting()

    await emulator.remove_bot_from_group(community.group, by=community.admin)

    async def nowhere() -> bool:  # the bot left: nowhere to post
        return await hosted(bot, community.host) == []

    await eventually(nowhere, message="the host still had a community")


async def test_a_group_that_refuses_the_bot_makes_its_community_inactive(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    # The bot was removed while it was not looking (no update arrived).
    community.group.chat.members[emulator.bot_id].status = Status.KICKED
    bot.clock.advance(timedelta(seconds=61))  # what Rina's standing was is forgotten

    assert await hosted(bot, community.admin) == []

    async with bot.sessions() as session:
        stored = await session.get(Community, community.id)
        assert stored is not None
        assert not stored.active
