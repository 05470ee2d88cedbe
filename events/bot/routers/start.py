"""/start and /help: who the bot is and what it can do."""

from __future__ import annotations

from aiogram import Bot, F, Router, html
from aiogram.filters import Command, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from events.bot.commands import COMMANDS
from events.bot.replies import Replies
from events.i18n import html_


async def start(message: Message, replies: Replies) -> None:
    name = message.from_user.first_name if message.from_user else ""
    text = "\n\n".join(
        (
            html_("Hi, {name}! 👋", name=name),
            html_(
                "I help this community run its workshops, webinars and Q&A sessions: "
                "answer with one tap, get a reminder before a session starts, and add it "
                "to your calendar."
            ),
            html_(
                "What you answer stays private: posts in the group only ever show how many "
                "are coming, never who."
            ),
            html_("Type /help to see everything I can do."),
        )
    )
    replies.add(message.answer(text))


async def show_help(message: Message, replies: Replies, bot: Bot) -> None:
    in_group = message.chat.type != "private"
    lines = [
        f"/{command.name} — {html.quote(_(command.description))}"
        for command in COMMANDS
        if (command.group if in_group else command.private)
    ]
    if in_group:
        me = await bot.me()
        intro = html_(
            "In the group I only post events and counts. Open a private chat with me "
            "(@{username}) to answer, get reminders and change your settings.",
            username=me.username,
        )
    else:
        intro = html_("Here is what I can do:")
    replies.add(message.answer("\n".join((intro, "", *lines))))


def build_router() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart(), F.chat.type == "private")
    router.message.register(show_help, Command("help"))
    return router
