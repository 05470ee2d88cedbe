"""Communities follow their group: the bot arriving, leaving, the group renamed or upgraded.

A group is recognised from whichever comes first of `my_chat_member` (the bot became a member
or an admin), a `new_chat_members` message naming the bot, `group_chat_created` or
`supergroup_chat_created` (CONTRACT §1). One arrival brings two of these; only the first finds
the community absent or inactive, so the group is greeted once.

Updates are handled concurrently and may be handled out of order (an arrival after the removal
that followed it). So before a community is created, brought back or put to rest, Telegram is
asked where the bot stands now (getChatMember on itself); the update's own claim decides only
when Telegram cannot be asked.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.types import Chat, ChatMemberUpdated, Message
from sqlalchemy.ext.asyncio import AsyncSession

from events.bot.membership import Membership, is_present
from events.bot.posts import group_post
from events.bot.replies import Replies
from events.config import Settings
from events.db import models
from events.db.communities import GroupChat, arrive, deactivate, move, retitle
from events.db.models import Community
from events.i18n import CatalogueI18n, Html, html_

GROUPS = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})


def hello(username: str | None) -> Html:
    """What the bot says when it arrives in a group (in the language in use)."""
    return Html(
        "\n\n".join(
            (
                html_(
                    "Hello, everyone! 👋 I help this group run its workshops, webinars and Q&A "
                    "sessions. Members answer with one tap, and the group only ever sees how "
                    "many are coming, never who."
                ),
                html_(
                    "For admins: to let someone create events, reply to one of their messages "
                    "with /addhost (/removehost takes it back). Hosts and admins create events "
                    "with /new in a private chat with me (@{username}).",
                    username=username or "",
                ),
            )
        )
    )


async def recognise(
    chat: Chat,
    *,
    thread_id: int | None,
    session: AsyncSession,
    settings: Settings,
    replies: Replies,
    i18n: CatalogueI18n,
    bot: Bot,
) -> Community:
    """The community of a group the bot is in; greets the group if the bot just arrived."""
    group = GroupChat(
        id=chat.id,
        title=chat.title or "",
        chat_type=models.ChatType(chat.type),
        is_forum=bool(chat.is_forum),
    )
    community, arrived = await arrive(
        session,
        group,
        thread_id=thread_id,
        locale=settings.default_locale,
        timezone=settings.default_timezone,
    )
    if arrived:
        me = await bot.me()
        with i18n.use_locale(community.locale):
            replies.add(group_post(community, hello(me.username)))
    return community


async def bot_status_changed(
    update: ChatMemberUpdated,
    session: AsyncSession,
    settings: Settings,
    replies: Replies,
    i18n: CatalogueI18n,
    bot: Bot,
    membership: Membership,
) -> None:
    if await membership.bot_is_in(update.chat.id, claimed=is_present(update.new_chat_member)):
        await recognise(
            update.chat,
            thread_id=None,
            session=session,
            settings=settings,
            replies=replies,
            i18n=i18n,
            bot=bot,
        )
    else:
        # Removed or left: the community rests; its events and people's data stay.
        membership.forget(update.chat.id)
        await deactivate(session, [update.chat.id])


def _bot_joined(message: Message, bot: Bot) -> bool:
    return any(user.id == bot.id for user in message.new_chat_members or ())


async def bot_arrived(
    message: Message,
    session: AsyncSession,
    settings: Settings,
    replies: Replies,
    i18n: CatalogueI18n,
    bot: Bot,
    membership: Membership,
) -> None:
    """Added to a group (`new_chat_members`), or there when it was created."""
    if not await membership.bot_is_in(message.chat.id, claimed=True):
        return  # removed again since
    await recognise(
        message.chat,
        thread_id=message.message_thread_id if message.is_topic_message else None,
        session=session,
        settings=settings,
        replies=replies,
        i18n=i18n,
        bot=bot,
    )


async def migrated_to(message: Message, session: AsyncSession, membership: Membership) -> None:
    """Seen in the old group: it became the supergroup `migrate_to_chat_id`."""
    assert message.migrate_to_chat_id is not None
    membership.forget(message.chat.id)
    await move(session, message.chat.id, message.migrate_to_chat_id)


async def migrated_from(message: Message, session: AsyncSession, membership: Membership) -> None:
    """Seen in the new supergroup: it was the group `migrate_from_chat_id`."""
    assert message.migrate_from_chat_id is not None
    membership.forget(message.migrate_from_chat_id)
    await move(session, message.migrate_from_chat_id, message.chat.id)


async def retitled(message: Message, session: AsyncSession) -> None:
    assert message.new_chat_title is not None
    await retitle(session, message.chat.id, message.new_chat_title)


async def member_changed(update: ChatMemberUpdated, membership: Membership) -> None:
    """Telegram told about someone's status (the bot is an admin): fresher than the cache."""
    membership.remember(update.chat.id, update.new_chat_member)


def build_router() -> Router:
    router = Router(name="community")
    in_group = F.chat.type.in_(GROUPS)
    router.my_chat_member.register(bot_status_changed, in_group)
    router.chat_member.register(member_changed, in_group)
    router.message.register(bot_arrived, in_group, F.new_chat_members, _bot_joined)
    router.message.register(bot_arrived, in_group, F.group_chat_created | F.supergroup_chat_created)
    router.message.register(migrated_to, F.migrate_to_chat_id)
    router.message.register(migrated_from, F.migrate_from_chat_id)
    router.message.register(retitled, in_group, F.new_chat_title)
    return router
