"""What nobody else answered: a gentle hint instead of silence."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from events.bot.replies import Replies
from events.i18n import html_


async def not_understood(message: Message, replies: Replies) -> None:
    replies.add(
        message.answer(html_("I did not understand that. Type /help to see what I can do."))
    )


async def stale_button(query: CallbackQuery, replies: Replies) -> None:
    replies.add(query.answer(_("This button no longer works."), show_alert=True))


def build_router() -> Router:
    router = Router(name="fallback")
    router.message.register(not_understood, F.chat.type == "private")
    router.callback_query.register(stale_button)
    return router
