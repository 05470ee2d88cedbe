"""Every update is handled in the language of whoever reads the answer (CONTRACT §6): a
person's own in private and for taps (answers to taps are private), the group's for what
happens in a group."""

from __future__ import annotations

from typing import Any

from aiogram.types import Chat, TelegramObject, Update
from aiogram.utils.i18n import I18nMiddleware

from events.db.models import Community
from events.i18n import locale_for

GROUPS = ("group", "supergroup")


class LocaleMiddleware(I18nMiddleware):
    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        chat: Chat | None = data.get("event_chat")
        tap = isinstance(event, Update) and event.callback_query is not None
        if chat is not None and chat.type in GROUPS and not tap:
            community = await data["session"].get(Community, chat.id)
            locale = community.locale if community is not None else self.i18n.default_locale
        else:
            person = data.get("person")
            user = data.get("event_from_user")
            locale = locale_for(
                person.locale if person is not None else None,
                user.language_code if user is not None else None,
                self.i18n.default_locale,
            )
        data["locale"] = locale
        return locale
