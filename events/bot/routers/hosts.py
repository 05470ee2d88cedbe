"""Who may create events: admins choose hosts in the group; /hosts manages them in private.

In the group an admin replies to a person's message with /addhost or /removehost. The bot's
answer replies to the admin's command and never names or mentions the person: the admin's own
reply already shows whom it concerns to those who look, and the bot adds nothing to that.
"""

from __future__ import annotations

from aiogram import Bot, F, Router, html
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from events.bot.callbacks import RemoveHostCallback
from events.bot.keyboards import hosts_keyboard
from events.bot.membership import Membership
from events.bot.replies import Replies
from events.bot.routers.community import GROUPS, recognise
from events.config import Settings
from events.db.communities import add_host, hosts_of, remove_host
from events.db.models import Community, Person
from events.db.people import get_or_create_person
from events.i18n import CatalogueI18n, Html, html_

# ----------------------------------------------------------------------------- for the wizard


def explain_hosting() -> Html:
    """For someone who may not create events anywhere (``Membership.communities_for_host`` is
    empty): who can, and how to become a host."""
    return html_(
        "Only hosts and admins of a group can create events. If you would like to run a "
        "session, ask an admin of your group to reply to one of your messages there with "
        "/addhost, then come back here and type /new."
    )


# ----------------------------------------------------------------------------- in the group


def _replied_message(message: Message) -> Message | None:
    """The message a command replies to, unless that is only the topic's opening (in a forum
    topic every message counts as a reply to it)."""
    reply = message.reply_to_message
    if reply is None or reply.forum_topic_created is not None:
        return None
    if message.is_topic_message and reply.message_id == message.message_thread_id:
        return None
    return reply


def _author(message: Message) -> User | None:
    """Who wrote the message, if a person did (not a bot, a group or a channel)."""
    if message.sender_chat is not None or message.from_user is None:
        return None
    return None if message.from_user.is_bot else message.from_user


async def host_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    replies: Replies,
    i18n: CatalogueI18n,
    bot: Bot,
    membership: Membership,
    person: Person | None = None,
) -> None:
    """/addhost and /removehost, as a reply to the person's message."""
    adding = command.command.lower() == "addhost"
    community = await session.get(Community, message.chat.id)
    if community is None:  # the bot's arrival was missed: the command shows it is there
        community = await recognise(
            message.chat,
            thread_id=message.message_thread_id if message.is_topic_message else None,
            session=session,
            settings=settings,
            replies=replies,
            i18n=i18n,
            bot=bot,
        )
    with i18n.use_locale(community.locale):
        text = await _change_host(message, community, adding, session, membership, person)
        replies.add(message.reply(text))


async def _change_host(
    message: Message,
    community: Community,
    adding: bool,
    session: AsyncSession,
    membership: Membership,
    actor: Person | None,
) -> Html:
    if not await membership.sent_by_admin(message):
        return html_(
            "Only this group's admins can choose hosts. If you would like to create events "
            "here, ask an admin to reply to one of your messages with /addhost."
        )
    reply = _replied_message(message)
    if reply is None:
        if adding:
            return html_(
                "To make someone a host, reply to one of their messages with /addhost. Hosts "
                "can create events for this group with /new in a private chat with me."
            )
        return html_(
            "To stop someone being a host, reply to one of their messages with /removehost."
        )
    target = _author(reply)
    if target is None and not adding:
        return html_("The person you replied to is not a host here.")
    if target is None:
        return html_(
            "I can only make a person a host: reply to a message they sent themselves, not "
            "one sent by a bot or on behalf of a group or channel."
        )
    host = await get_or_create_person(session, target)
    if adding:
        added_by = actor.id if actor is not None else None
        if not await add_host(session, community.id, host.id, added_by=added_by):
            return html_("The person you replied to is already a host here.")
        return html_(
            "Done: the person you replied to is now a host. They can create events for this "
            "group with /new in a private chat with me."
        )
    if not await remove_host(session, community.id, host.id):
        return html_("The person you replied to is not a host here.")
    return html_("Done: the person you replied to is no longer a host here.")


# ----------------------------------------------------------------------------- in private


def _name(person: Person) -> str:
    return f"{person.first_name} (@{person.username})" if person.username else person.first_name


async def hosts_view(
    session: AsyncSession, communities: list[Community]
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """The hosts of each community (names: the viewer is an admin there), one remove button
    per host."""
    if not communities:
        text = html_(
            "You are not an admin of any group where I am, so there are no hosts for you to "
            "manage. A group's admins choose hosts by replying to a member's message in the "
            "group with /addhost."
        )
        return text, None
    hosts = await hosts_of(session, [community.id for community in communities])
    several = len(communities) > 1
    lines: list[str] = [html_("Hosts of the groups where you are an admin:")]
    buttons: list[tuple[str, int, int]] = []
    for community in communities:
        lines += ["", html.bold(html.quote(community.title))]
        if not hosts[community.id]:
            lines.append(html_("No hosts yet."))
        for host in hosts[community.id]:
            lines.append(f"• {html.quote(_name(host))}")
            if several:
                label = _("Remove {name} ({group})").format(
                    name=host.first_name, group=community.title
                )
            else:
                label = _("Remove {name}").format(name=host.first_name)
            buttons.append((label, community.id, host.id))
    lines += [
        "",
        html_("To add a host, reply to one of their messages in the group with /addhost."),
    ]
    return Html("\n".join(lines)), hosts_keyboard(buttons) if buttons else None


async def list_hosts(
    message: Message,
    session: AsyncSession,
    replies: Replies,
    membership: Membership,
    person: Person,
) -> None:
    communities = await membership.admin_communities(session, person.id)
    text, keyboard = await hosts_view(session, communities)
    replies.add(message.answer(text, reply_markup=keyboard))


async def remove_tapped(
    query: CallbackQuery,
    callback_data: RemoveHostCallback,
    session: AsyncSession,
    replies: Replies,
    membership: Membership,
    person: Person,
) -> None:
    """Callback data is only a claim: the tapper must still be an admin of that group."""
    community = await session.get(Community, callback_data.community_id)
    if community is None or not community.active:
        replies.add(query.answer(_("This button no longer works."), show_alert=True))
        return
    if not await membership.is_admin(community.id, query.from_user.id):
        replies.add(
            query.answer(_("Only the group's admins can remove its hosts."), show_alert=True)
        )
        return
    if await remove_host(session, community.id, callback_data.person_id):
        replies.add(query.answer(_("Done: no longer a host.")))
    else:
        replies.add(query.answer(_("That person is no longer a host.")))
    if isinstance(query.message, Message):
        communities = await membership.admin_communities(session, person.id)
        text, keyboard = await hosts_view(session, communities)
        replies.add(query.message.edit_text(text, reply_markup=keyboard))


def build_router() -> Router:
    router = Router(name="hosts")
    router.message.register(host_command, F.chat.type.in_(GROUPS), Command("addhost", "removehost"))
    router.message.register(list_hosts, F.chat.type == "private", Command("hosts"))
    # Host names are shown in private only: a forged tap on a group post changes nothing.
    router.callback_query.register(
        remove_tapped, RemoveHostCallback.filter(), F.message.chat.type == "private"
    )
    return router
