"""The announcement of an event in its community's group: what it says and keeping it current.

Posted when the event is published, in the group's language, with the RSVP buttons; edited when
the event changes. It names nobody.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from events.bot.keyboards import rsvp_buttons
from events.bot.render import Announcement
from events.db.models import Community, Event, EventStatus
from events.i18n import CatalogueI18n, Html


def post_markup(event: Event) -> InlineKeyboardMarkup | None:
    """The RSVP buttons, while the event takes answers (in the current gettext locale)."""
    if event.status is not EventStatus.PUBLISHED:
        return None
    builder = InlineKeyboardBuilder()
    rsvp_buttons(builder, event.id)
    builder.adjust(3)
    return builder.as_markup()


def render_post(
    event: Event, community: Community, i18n: CatalogueI18n, bot_username: str
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """The post's text and buttons in the community's language."""
    with i18n.use_locale(community.locale):
        text = Announcement.of_event(event).render(community.locale, bot_username)
        return text, post_markup(event)


async def refresh_post(bot: Bot, event: Event, community: Community, i18n: CatalogueI18n) -> None:
    """Edit the group post to match the event; "not modified" and a deleted post are fine."""
    if event.announcement_chat_id is None or event.announcement_message_id is None:
        return
    username = (await bot.me()).username or ""
    text, markup = render_post(event, community, i18n, username)
    try:
        await bot.edit_message_text(
            text,
            chat_id=event.announcement_chat_id,
            message_id=event.announcement_message_id,
            reply_markup=markup,
        )
    except TelegramBadRequest as exc:
        if "not modified" not in exc.message and "not found" not in exc.message:
            raise
