"""/language: a person picks the language the bot speaks with them."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import BotCommandScopeChat, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from events.bot.callbacks import LanguageCallback
from events.bot.commands import menu
from events.bot.keyboards import LANGUAGE_NAMES, language_keyboard
from events.bot.replies import Replies
from events.db.models import Person
from events.i18n import CatalogueI18n

router = Router(name="language")


@router.message(Command("language"), F.chat.type == "private")
async def ask_language(message: Message, replies: Replies, locale: str) -> None:
    text = _("I speak with you in {language}. Which language would you like?").format(
        language=LANGUAGE_NAMES[locale]
    )
    replies.add(message.answer(text, reply_markup=language_keyboard()))


@router.callback_query(LanguageCallback.filter(F.locale.in_(LANGUAGE_NAMES)))
async def choose_language(
    query: CallbackQuery,
    callback_data: LanguageCallback,
    person: Person,
    replies: Replies,
    i18n: CatalogueI18n,
    bot: Bot,
) -> None:
    locale = callback_data.locale
    person.locale = locale
    language = LANGUAGE_NAMES[locale]
    with i18n.use_locale(locale):
        replies.add(query.answer(_("Language: {language}").format(language=language)))
        if isinstance(query.message, Message):
            done = _("Done. From now on I will speak with you in {language}.")
            replies.add(query.message.edit_text(done.format(language=language)))
    # The person's own command menu follows their choice, whatever their app's language.
    replies.add(
        bot.set_my_commands(menu(i18n, locale), scope=BotCommandScopeChat(chat_id=person.id))
    )
