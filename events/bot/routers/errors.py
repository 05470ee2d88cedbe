"""Errors we cause: logged with the update id; the person gets a short apology, no traceback.

Through the webhook a failed update is delivered again (`events.web.webhook`): the failure is
marked on its ``attempt`` so it is answered 500, and only the first failure is apologised for.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import Router, html
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from events.i18n import CatalogueI18n

if TYPE_CHECKING:
    from events.web.webhook import Attempt

log = logging.getLogger(__name__)


async def apologise(
    event: ErrorEvent,
    i18n: CatalogueI18n,
    locale: str | None = None,
    attempt: Attempt | None = None,
) -> None:
    update = event.update
    log.error("update %s failed: %s", update.update_id, event.exception, exc_info=event.exception)
    if attempt is not None:
        attempt.failed = True
        if not attempt.first:
            return  # the person was told when it first failed
    text = i18n.gettext(
        "Sorry, something went wrong on our side. Please try again in a moment.",
        locale=locale or i18n.default_locale,
    )
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None and update.message.chat.type == "private":
            await update.message.answer(html.quote(text))
    except TelegramAPIError as exc:
        log.warning("could not tell the person about update %s: %s", update.update_id, exc)


def build_router() -> Router:
    router = Router(name="errors")
    router.error.register(apologise)
    return router
