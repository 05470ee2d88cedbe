"""Counting the updates handled, by type and outcome (`events.metrics`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import CancelHandler, SkipHandler
from aiogram.types import TelegramObject, Update
from aiogram.types.update import UpdateTypeLookupError

from events.metrics import METRICS, UPDATE_TYPES


def update_type(event: TelegramObject) -> str:
    """The update's type as the Bot API names it; "other" for any type the bot does not ask
    for (the label keeps a short fixed set of values)."""
    if not isinstance(event, Update):
        return "other"
    try:
        kind = event.event_type
    except UpdateTypeLookupError:
        return "other"
    return kind if kind in UPDATE_TYPES else "other"


class CountUpdates(BaseMiddleware):
    """Outermost of ours: an update whose handling, commit or replies raised is an error (the
    person got the apology of `routers.errors`)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        kind = update_type(event)
        try:
            result = await handler(event, data)
        except (SkipHandler, CancelHandler):
            METRICS.updates.inc(type=kind, outcome="ok")
            raise
        except Exception:
            METRICS.updates.inc(type=kind, outcome="error")
            raise
        METRICS.updates.inc(type=kind, outcome="ok")
        return result
