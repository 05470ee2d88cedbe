"""/language: a person picks the language the bot speaks with them."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.methods import SetMyCommands
from aiogram.types import BotCommandScopeChat, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from events.bot.callbacks import LanguageCallback
from events.bot.commands import menu
from events.bot.keyboards import LANGUAGE_NAMES, language_keyboard
from events.bot.replies import Replies
from events.db.models import Person
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


def build_router() -> Router:
    router = Router(name="language")
    router.message.register(ask_language, Command("language"), F.chat.type == "private")
    router.callback_query.register(
        choose_language, LanguageCallback.filter(F.locale.in_(LANGUAGE_NAMES))
    )
    return router
