"""Replies to the person acting, sent only after the update's transaction has committed.

A handler queues its answers here instead of awaiting them, so nobody is told something the
database then failed to keep, and no write lock is held during a network call.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.methods import TelegramMethod

log = logging.getLogger(__name__)

# Telegram answers these when nothing is wrong with what we meant to do.
HARMLESS = ("message is not modified", "query is too old")


class Replies:
    def __init__(self) -> None:
        self._methods: list[TelegramMethod[Any]] = []

    def add(self, method: TelegramMethod[Any]) -> None:
        self._methods.append(method)

    async def send(self, bot: Bot) -> None:
        """Send what was queued, in order; one failure does not stop the rest."""
        methods, self._methods = self._methods, []
        for method in methods:
            try:
                await bot(method)
            except TelegramBadRequest as exc:
                if not any(text in exc.message for text in HARMLESS):
                    log.warning("%s was refused: %s", method.__api_method__, exc.message)
            except TelegramAPIError as exc:
                log.warning("%s failed: %s", method.__api_method__, exc)
