"""Every update is handled in the language of the person acting (CONTRACT §6)."""

from __future__ import annotations

from typing import Any

from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18nMiddleware

from events.i18n import locale_for


class LocaleMiddleware(I18nMiddleware):
    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        person = data.get("person")
        user = data.get("event_from_user")
        locale = locale_for(
            person.locale if person is not None else None,
            user.language_code if user is not None else None,
            self.i18n.default_locale,
        )
        data["locale"] = locale
        return locale
