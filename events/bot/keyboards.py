"""Keyboard builders, nothing else."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from events.bot.callbacks import LanguageCallback

# A language is offered in its own name, whatever the current language is.
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}


def language_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for locale, name in LANGUAGE_NAMES.items():
        builder.button(text=name, callback_data=LanguageCallback(locale=locale))
    return builder.as_markup()
