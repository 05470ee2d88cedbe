"""What a ledger row says, decided when it is sent.

A row carries only its key (``reminder:12:3600``, ``announce:7``); the text is rendered at
send time, in the recipient's language and zone, by the renderer registered for the key's kind
(the part before the first ``:``). A renderer answers ``None`` when there is nothing to send
any more (the event was deleted, the broadcast withdrawn): the row then expires unsent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram.methods import SendMessage
from aiogram.types import InlineKeyboardMarkup, LinkPreviewOptions
from sqlalchemy.ext.asyncio import AsyncSession

from events.db.models import Person


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to one person: Telegram HTML text and how it is sent."""

    text: str
    reply_markup: InlineKeyboardMarkup | None = None
    protect_content: bool | None = None
    link_preview: bool = False  # previews stay off unless asked for
    disable_notification: bool | None = None

    def method(self, chat_id: int) -> SendMessage:
        """The Bot API call that sends it to ``chat_id``."""
        options: dict[str, Any] = {}
        if self.link_preview:
            options["link_preview_options"] = LinkPreviewOptions(is_disabled=False)
        return SendMessage(
            chat_id=chat_id,
            text=self.text,
            reply_markup=self.reply_markup,
            protect_content=self.protect_content,
            disable_notification=self.disable_notification,
            **options,
        )


Renderer = Callable[[AsyncSession, Person, str], Awaitable[OutgoingMessage | None]]
"""``async (session, person, key) -> OutgoingMessage | None``; runs with the person's locale
set (``gettext``/``html_`` answer in their language) in a read-only transaction."""


def key_kind(key: str) -> str:
    """``"reminder:12:3600"`` → ``"reminder"``."""
    return key.partition(":")[0]
