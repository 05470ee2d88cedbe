"""/language: a person picks the language the bot speaks with them; a group's admins pick the
group's (its posts and answers in the group)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.methods import SetMyCommands
from aiogram.types import BotCommandScopeChat, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from events.bot.callbacks import GroupLanguageCallback, LanguageCallback
from events.bot.commands import menu
from events.bot.keyboards import LANGUAGE_NAMES, language_keyboard
from events.bot.membership import Membership
from events.bot.replies import Replies
from events.db.models import Community, Person
from events.i18n import CatalogueI18n, html_


async def ask_language(message: Message, replies: Replies, locale: str) -> None:
    text = html_(
        "I speak with you in {language}. Which language would you like?",
        language=LANGUAGE_NAMES[locale],
    )
    replies.add(message.answer(text, reply_markup=language_keyboard()))


async def choose_language(
    query: CallbackQuery,
    callback_data: LanguageCallback,
    person: Person,
    replies: Replies,
    i18n: CatalogueI18n,
) -> None:
    locale = callback_data.locale
    person.locale = locale
    language = LANGUAGE_NAMES[locale]
    with i18n.use_locale(locale):
        replies.add(query.answer(_("Language: {language}").format(language=language)))
        if isinstance(query.message, Message):
            done = html_(
                "Done. From now on I will speak with you in {language}.", language=language
            )
            replies.add(query.message.edit_text(done))
    # The person's own command menu follows their choice, whatever their app's language.
    replies.add(
        SetMyCommands(commands=menu(i18n, locale), scope=BotCommandScopeChat(chat_id=person.id))
    )


async def ask_group_language(
    message: Message, replies: Replies, membership: Membership, locale: str
) -> None:
    if not await membership.sent_by_admin(message):
        replies.add(message.reply(html_("Only the group's admins can change its language.")))
        return
    text = html_(
        "In this group I speak {language}. Which language should I use here?",
        language=LANGUAGE_NAMES[locale],
    )
    replies.add(message.reply(text, reply_markup=language_keyboard(group=True)))


async def choose_group_language(
    query: CallbackQuery,
    callback_data: GroupLanguageCallback,
    session: AsyncSession,
    membership: Membership,
    replies: Replies,
    i18n: CatalogueI18n,
) -> None:
    message = query.message
    community = await session.get(Community, message.chat.id) if message else None
    if community is None or not await membership.is_admin(community.id, query.from_user.id):
        replies.add(
            query.answer(_("Only the group's admins can change its language."), show_alert=True)
        )
        return
    locale = callback_data.locale
    community.locale = locale
    language = LANGUAGE_NAMES[locale]
    replies.add(query.answer(_("Language: {language}").format(language=language)))
    if isinstance(message, Message):
        with i18n.use_locale(locale):
            done = html_("Done. In this group I will speak {language}.", language=language)
        replies.add(message.edit_text(done))


def build_router() -> Router:
    router = Router(name="language")
    router.message.register(ask_language, Command("language"), F.chat.type == "private")
    router.message.register(
        ask_group_language, Command("language"), F.chat.type.in_({"group", "supergroup"})
    )
    router.callback_query.register(
        choose_group_language, GroupLanguageCallback.filter(F.locale.in_(LANGUAGE_NAMES))
    )
    router.callback_query.register(
        choose_language, LanguageCallback.filter(F.locale.in_(LANGUAGE_NAMES))
    )
    return router
