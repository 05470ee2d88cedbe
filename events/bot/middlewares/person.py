"""Load (or create) the person behind every update, keeping their Telegram details current."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.enums import ChatType
from aiogram.types import Chat, TelegramObject, User
from sqlalchemy.ext.asyncio import AsyncSession

from events.db.people import get_or_create_person


class PersonMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if user is not None and not user.is_bot:
            session: AsyncSession = data["session"]
            person = await get_or_create_person(session, user)
            chat: Chat | None = data.get("event_chat")
            private = chat is not None and chat.type == ChatType.PRIVATE
            if private and (not person.can_message or person.blocked_at is not None):
                # Writing to the bot opens (or reopens) the private chat.
                person.can_message = True
                person.blocked_at = None
            data["person"] = person
        return await handler(event, data)
