"""/start and /help: who the bot is and what it can do."""

from __future__ import annotations

from aiogram import Bot, F, Router, html
from aiogram.filters import Command, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from events.bot.commands import COMMANDS
from events.bot.replies import Replies

router = Router(name="start")


@router.message(CommandStart(), F.chat.type == "private")
async def start(message: Message, replies: Replies) -> None:
    name = message.from_user.first_name if message.from_user else ""
    text = "\n\n".join(
        (
            _("Hi, {name}! 👋").format(name=html.quote(name)),
            _(
                "I help this community run its workshops, webinars and Q&A sessions: "
                "answer with one tap, get a reminder before a session starts, and add it "
                "to your calendar."
            ),
            _(
                "What you answer stays private: posts in the group only ever show how many "
                "are coming, never who."
            ),
            _("Type /help to see everything I can do."),
        )
    )
    replies.add(message.answer(text))


@router.message(Command("help"))
async def show_help(message: Message, replies: Replies, bot: Bot) -> None:
    in_group = message.chat.type != "private"
    lines = [
        f"/{command.name} — {html.quote(_(command.description))}"
        for command in COMMANDS
        if (command.group if in_group else command.private)
    ]
    if in_group:
        me = await bot.me()
        intro = _(
            "In the group I only post events and counts. Open a private chat with me "
            "(@{username}) to answer, get reminders and change your settings."
        ).format(username=me.username)
    else:
        intro = _("Here is what I can do:")
    replies.add(message.answer("\n".join((intro, "", *lines))))
