"""POST <path of EVENTS_WEBHOOK_URL>: updates from Telegram, each handled before it is answered.

aiogram's `SimpleRequestHandler`, made to keep the promises of CONTRACT §1:

- the update is handled to the end (transaction committed, replies sent) before the answer, so
  a crash before the answer leaves the update with Telegram, which delivers it again;
- the answer is always an empty ``{}``: a method a handler returns is sent as a request of its
  own, never in the response body;
- a request without the right ``X-Telegram-Bot-Api-Secret-Token`` is answered 401 and touches
  nothing;
- an update whose handling failed (rolled back, nothing kept) is answered 500, so Telegram
  delivers it again; the person is apologised to on the first failure only, and after
  `MAX_ATTEMPTS` failures in this process the update is answered 200 and dropped, with an error
  in the log;
- while the process stops, updates are answered 503: Telegram keeps them for the next worker.

A retried update that was applied already is recognised by its id (`OncePerUpdate`).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_ATTEMPTS = 5  # failures of one update in this process before it is dropped
REMEMBERED_FAILURES = 1024  # update ids whose failures are counted, newest kept


@dataclass
class Attempt:
    """One delivery of an update, as the error handler sees it (``attempt`` in handler data)."""

    number: int = 1  # deliveries of this update that reached this process, this one included
    failed: bool = False

    @property
    def first(self) -> bool:
        return self.number == 1


class WebhookHandler(SimpleRequestHandler):
    def __init__(self, dispatcher: Dispatcher, bot: Bot, secret_token: str) -> None:
        super().__init__(dispatcher, bot, handle_in_background=False, secret_token=secret_token)
        self.closing = False
        self._failures: OrderedDict[int, int] = OrderedDict()

    def register(self, app: web.Application, /, path: str, **kwargs: Any) -> None:
        # Not aiogram's: it would close the bot's HTTP session with the web server, and the app
        # closes it itself after the last update was handled.
        app.router.add_post(path, self.handle, **kwargs)

    async def close(self) -> None:
        """Nothing to close: the app owns the bot's session."""

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        # A secret is required: an empty one must not let every request in.
        return bool(self.secret_token) and super().verify_secret(telegram_secret_token, bot)

    async def handle(self, request: web.Request) -> web.Response:
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), self.bot):
            log.warning("webhook: a request without the right secret token was refused")
            return web.Response(status=401)
        if self.closing:
            return web.Response(status=503)
        try:
            raw = await request.json(loads=self.bot.session.json_loads)
            update = Update.model_validate(raw, context={"bot": self.bot})
        except (ValueError, ValidationError):
            log.warning("webhook: a request that is not an update was refused")
            return web.Response(status=400)
        update_id = update.update_id
        attempt = Attempt(number=self._failures.get(update_id, 0) + 1)
        try:
            result = await self.dispatcher.feed_update(
                self.bot, update, **self.data, attempt=attempt
            )
        except Exception:
            log.exception("update %s failed outside its handlers", update_id)
            attempt.failed = True
        else:
            if isinstance(result, TelegramMethod):
                await self.dispatcher.silent_call_request(bot=self.bot, result=result)
        if not attempt.failed:
            self._failures.pop(update_id, None)
            return web.json_response({})
        if attempt.number >= MAX_ATTEMPTS:
            self._failures.pop(update_id, None)
            log.error(
                "update %s failed %d times; it is dropped (answered 200)", update_id, attempt.number
            )
            return web.json_response({})
        self._failures[update_id] = attempt.number
        self._failures.move_to_end(update_id)
        while len(self._failures) > REMEMBERED_FAILURES:
            self._failures.popitem(last=False)
        log.warning(
            "update %s failed (attempt %d of %d); answered 500 so Telegram delivers it again",
            update_id,
            attempt.number,
            MAX_ATTEMPTS,
        )
        return web.Response(status=500)
