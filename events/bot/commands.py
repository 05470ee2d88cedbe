"""The command menu: one table serves Telegram's menu and /help, so they never disagree."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeDefault

from events.i18n import LOCALES, N_, CatalogueI18n

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Command:
    name: str
    description: str  # a msgid, translated where the locale is known
    private: bool = True
    group: bool = False


COMMANDS = (
    Command("start", N_("What this bot does")),
    Command("help", N_("All commands"), group=True),
    Command("events", N_("Upcoming events of your groups"), group=True),
    Command("my", N_("Your events and answers")),
    Command("ask", N_("Ask a Q&A session a question, anonymously")),
    Command("questions", N_("Questions to the Q&A sessions you host")),
    Command("new", N_("Create an event")),
    Command("myevents", N_("Events you host: edit, cancel, attendees")),
    Command("announce", N_("Send a message to everyone going to your event")),
    Command("calendar", N_("Your events in your calendar app")),
    Command("settings", N_("When your reminders come")),
    Command("cancel", N_("Stop what you are doing")),
    Command("language", N_("Choose your language"), group=True),
    Command("timezone", N_("Choose your time zone")),
    Command("hosts", N_("Hosts of the groups you manage")),
    Command("forget", N_("Erase your data")),
    Command("addhost", N_("Make the person you reply to a host"), private=False, group=True),
    Command(
        "removehost", N_("Take host rights from the person you reply to"), private=False, group=True
    ),
)


def menu(i18n: CatalogueI18n, locale: str, *, group: bool = False) -> list[BotCommand]:
    return [
        BotCommand(command=c.name, description=i18n.gettext(c.description, locale=locale))
        for c in COMMANDS
        if (c.group if group else c.private)
    ]


async def register_menu(bot: Bot, i18n: CatalogueI18n) -> None:
    """CONTRACT §1: lists without language_code in the default language (Indonesian), and one
    list per language with its language_code; private and group lists separately.

    A failure is logged and ignored: the bot works without a menu.
    """
    languages = [(i18n.default_locale, None), *((locale, locale) for locale in LOCALES)]
    scopes = ((BotCommandScopeDefault(), False), (BotCommandScopeAllGroupChats(), True))
    for locale, language_code in languages:
        for scope, group in scopes:
            try:
                await bot.set_my_commands(
                    menu(i18n, locale, group=group), scope=scope, language_code=language_code
                )
            except TelegramAPIError as exc:
                log.warning("could not register the command menu (%s): %s", scope.type, exc)
                return
