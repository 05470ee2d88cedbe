"""Webhook delivery as Telegram does it: POST each pending update, retry until a 2xx answer.

While a webhook is set, every pending update is POSTed to its URL as JSON with the secret in
``X-Telegram-Bot-Api-Secret-Token``, at most ``max_connections`` at once. A 2xx answer confirms
the update; any other answer, a connection error or a timeout leaves it pending and it is posted
again after a short back-off (doubling from `FIRST_BACKOFF` up to `MAX_BACKOFF`), at most
`MAX_ATTEMPTS` times, after which it is given up like Telegram eventually does.

Only loopback URLs are posted to: a test never reaches out of the machine, so updates for any
other URL stay pending (as if the server were unreachable).

For tests: every POST is recorded (``deliveries``: status, body, error), an update can be
delivered once more on purpose (:meth:`WebhookSender.deliver_again`, a duplicate) and the answer
to a delivery can be lost (:meth:`WebhookSender.lose_answer`: the bot handled it and answered,
the emulator treats it as a failed connection and delivers the update again).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp

from .polling import Update

if TYPE_CHECKING:
    from .server import BotAPIEmulator

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
FIRST_BACKOFF = 0.05  # seconds before the first retry of an update
MAX_BACKOFF = 1.0
MAX_ATTEMPTS = 12
TIMEOUT = 60.0  # Telegram waits about a minute for an answer
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass(eq=False)
class WebhookDelivery:
    """One POST of an update to the webhook and how it ended."""

    update_id: int
    attempt: int  # 1 for the first POST of this update (duplicates count too)
    started: float
    duplicate: bool = False  # posted again on purpose by a test
    status: int | None = None  # the HTTP status; None when no answer came
    body: bytes = b""
    content_type: str | None = None
    error: str | None = None  # why no answer came
    lost: bool = False  # answered, but the answer was treated as lost
    finished: float | None = None

    @property
    def ok(self) -> bool:
        """The update was confirmed by this delivery."""
        return self.status is not None and 200 <= self.status < 300 and not self.lost

    @property
    def method(self) -> str | None:
        """The Bot API method the answer's body carried, if any (Telegram would execute it)."""
        if not self.body:
            return None
        if self.content_type == "application/json":
            with contextlib.suppress(ValueError):
                data = json.loads(self.body)
                if isinstance(data, dict) and data.get("method"):
                    return str(data["method"])
            return None
        marker = b'name="method"'
        if marker in self.body:
            rest = self.body.split(marker, 1)[1].split(b"\r\n\r\n", 1)[-1]
            return rest.split(b"\r\n", 1)[0].decode(errors="replace")
        return None


class WebhookSender:
    """Posts the pending updates while a webhook is set (one per emulator)."""

    def __init__(self, emu: BotAPIEmulator) -> None:
        self.emu = emu
        self.deliveries: list[WebhookDelivery] = []
        self.given_up: list[Update] = []
        self._attempts: dict[int, int] = {}
        self._retry_at: dict[int, float] = {}
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._extra: set[asyncio.Task[WebhookDelivery]] = set()
        self._losing: list[Callable[[Update], bool]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    # ----------------------------------------------------------------- test API

    def lose_answer(self, update_id: int | None = None) -> None:
        """The next delivery (of this update, or of any) is handled by the bot and answered,
        but the answer counts as lost: the update stays pending and is delivered again."""
        self._losing.append(lambda update: update_id is None or update.update_id == update_id)

    async def deliver_again(self, update: Update) -> WebhookDelivery:
        """POST ``update`` once more, whatever became of it before (Telegram may do that)."""
        task = asyncio.create_task(self._post(update, duplicate=True))
        self._extra.add(task)
        task.add_done_callback(self._extra.discard)
        return await task

    # ----------------------------------------------------------------- delivery

    @property
    def active(self) -> bool:
        url = self.emu.world.webhook.url
        return bool(url) and urlsplit(url).hostname in LOOPBACK

    def poke(self) -> None:
        """Something changed (an update, setWebhook): deliver what is due."""
        if not self.active:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        self._wake.set()

    async def _run(self) -> None:
        while self.active:
            self._wake.clear()
            now = time.monotonic()
            limit = max(self.emu.world.webhook.max_connections, 1)
            for update in list(self.emu.queue.pending):
                if len(self._in_flight) >= limit:
                    break
                if update.update_id in self._in_flight:
                    continue
                if self._retry_at.get(update.update_id, 0.0) > now:
                    continue
                task = asyncio.create_task(self._deliver(update))
                self._in_flight[update.update_id] = task
            due = [at for key, at in self._retry_at.items() if key not in self._in_flight]
            wait = max(min(due) - now, 0.001) if due else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _deliver(self, update: Update) -> None:
        try:
            record = await self._post(update, duplicate=False)
            if record.ok:
                self._retry_at.pop(update.update_id, None)
                if update in self.emu.queue.pending:
                    self.emu.queue.pending.remove(update)
            elif record.attempt >= MAX_ATTEMPTS:
                self._retry_at.pop(update.update_id, None)
                if update in self.emu.queue.pending:
                    self.emu.queue.pending.remove(update)
                self.given_up.append(update)
            else:
                backoff = min(FIRST_BACKOFF * 2 ** (record.attempt - 1), MAX_BACKOFF)
                self._retry_at[update.update_id] = time.monotonic() + backoff
        finally:
            self._in_flight.pop(update.update_id, None)
            self.emu._changed()
            self._wake.set()

    async def _post(self, update: Update, *, duplicate: bool) -> WebhookDelivery:
        webhook = self.emu.world.webhook
        attempt = self._attempts[update.update_id] = self._attempts.get(update.update_id, 0) + 1
        record = WebhookDelivery(update.update_id, attempt, time.monotonic(), duplicate)
        self.deliveries.append(record)
        if update.delivered is None:
            update.delivered = record.started
        headers = {SECRET_HEADER: webhook.secret_token} if webhook.secret_token else {}
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT))
        self.emu.note_webhook(started=True)
        try:
            async with self._session.post(
                webhook.url, json=update.to_dict(), headers=headers
            ) as response:
                record.status = response.status
                record.content_type = response.content_type
                record.body = await response.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            record.error = f"{type(exc).__name__}: {exc}"
        finally:
            record.finished = time.monotonic()
            self.emu.note_webhook(started=False)
        if record.status is not None and not duplicate:
            for index, losing in enumerate(self._losing):
                if losing(update):
                    del self._losing[index]
                    record.lost = True
                    break
        return record

    async def close(self) -> None:
        tasks = [self._task, *self._in_flight.values(), *self._extra]
        for task in tasks:
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in tasks if t is not None), return_exceptions=True)
        self._task = None
        self._in_flight.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
