"""Callback data of inline buttons: short prefixes, small values, always under 64 bytes."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class LanguageCallback(CallbackData, prefix="lang"):
    locale: str
