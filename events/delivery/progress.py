"""Live progress for a host's send to many people: "Sent 120 / 450", then a summary.

A batch is the set of ledger rows sharing one key (``announce:<broadcast id>``) for a known
list of people. The reporter counts them in the ledger, posts one message to the host and
edits it at most every few seconds until nothing is left to send, ending with how many were
sent, blocked and failed. Its own writes go through the same limiter as everything else (an
edit is a write to the host's private chat). The reporter lives in the process that started
the batch; after a restart the rows are still sent, the progress message just stops moving.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.clock import Clock
from events.db.engine import SQLITE_BEGIN_OPTION
from events.db.models import Person
from events.delivery import ledger
from events.delivery.ledger import BatchCounts
from events.delivery.limits import ChatKind, Limiter, holding_turn
from events.i18n import CatalogueI18n, html_, locale_for

log = logging.getLogger(__name__)

PROGRESS_THRESHOLD = 20
"""A host's send to more people than this shows them its progress."""

PROGRESS_INTERVAL = 3.0
"""Seconds between two edits of the progress message, at least."""

POLL_INTERVAL = 1.0


def progress_text(counts: BatchCounts) -> str:
    return html_("Sent {sent} / {total}", sent=counts.sent, total=counts.total)


def summary_text(counts: BatchCounts) -> str:
    return html_(
        "Finished. Sent {sent} / {total}.\n"
        "Blocked the bot or never started it: {blocked}\n"
        "Failed: {failed}",
        sent=counts.sent,
        total=counts.total,
        blocked=counts.blocked,
        failed=counts.failed,
    )


class ProgressReporter:
    def __init__(
        self,
        *,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        limiter: Limiter,
        i18n: CatalogueI18n,
        default_locale: str,
        key: str,
        host_id: int,
        person_ids: Sequence[int],
        due_at: datetime,
        interval: float = PROGRESS_INTERVAL,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.clock = clock
        self.limiter = limiter
        self.i18n = i18n
        self.default_locale = default_locale
        self.key = key
        self.host_id = host_id
        self.person_ids = list(dict.fromkeys(person_ids))
        self.due_at = due_at
        self.interval = interval
        self.message_id: int | None = None
        self.counts: BatchCounts | None = None

    async def run(self) -> None:
        try:
            await self._run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("progress of %s for host %s failed", self.key, self.host_id)

    async def _run(self) -> None:
        # (an answer to the host's own command, sent as the batch commits, is counted by the
        # limiter first, so this message keeps its distance from it)
        while (ahead := (self.due_at - self.clock.now()).total_seconds()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(min(ahead, POLL_INTERVAL))  # (the clock may also jump)
        locale = await self._locale()

        async def first() -> TelegramMethod[Any]:
            counts = await self._count()
            with self.i18n.context(), self.i18n.use_locale(locale):
                return SendMessage(chat_id=self.host_id, text=progress_text(counts))

        sent = await self._write(first)
        if sent is None:
            return
        self.message_id = sent.message_id
        assert self.counts is not None
        counts = shown = self.counts
        edited = time.monotonic()
        while not counts.finished:
            await asyncio.sleep(POLL_INTERVAL)
            counts = await self._count()
            if counts.finished or counts == shown:
                continue
            await asyncio.sleep(max(0.0, edited + self.interval - time.monotonic()))
            if await self._write(self._edit(locale)) is not None:
                edited = time.monotonic()
            assert self.counts is not None
            counts = shown = self.counts
            if counts.finished:
                return  # that edit was the summary
        await asyncio.sleep(max(0.0, edited + self.interval - time.monotonic()))
        await self._write(self._edit(locale), persist=True)

    def _edit(self, locale: str) -> Callable[[], Awaitable[TelegramMethod[Any]]]:
        """The edit, with the counts taken once the turn to write is ours: the progress, or
        the summary when nothing is left to send."""

        async def edit() -> TelegramMethod[Any]:
            counts = await self._count()
            text = summary_text if counts.finished else progress_text
            with self.i18n.context(), self.i18n.use_locale(locale):
                return EditMessageText(
                    chat_id=self.host_id, message_id=self.message_id, text=text(counts)
                )

        return edit

    async def _locale(self) -> str:
        async with self.sessions() as session:
            await session.connection(execution_options={SQLITE_BEGIN_OPTION: "DEFERRED"})
            host = await session.get(Person, self.host_id)
        if host is None:
            return self.default_locale
        return locale_for(host.locale, host.language_code, self.default_locale)

    async def _count(self) -> BatchCounts:
        async with self.sessions() as session:
            await session.connection(execution_options={SQLITE_BEGIN_OPTION: "DEFERRED"})
            self.counts = await ledger.batch_counts(session, self.key, self.person_ids)
        return self.counts

    async def _write(
        self, method: Callable[[], Awaitable[TelegramMethod[Any]]], *, persist: bool = False
    ) -> Any:
        """One write to the host's chat through the limiter; None if it did not happen."""
        while True:
            await self.limiter.turn(self.host_id, ChatKind.PRIVATE)
            try:
                try:
                    call = await method()
                    with holding_turn():
                        return await self.bot(call)
                finally:
                    await self.limiter.release(self.host_id, ChatKind.PRIVATE)
            except TelegramRetryAfter as exc:
                await self.limiter.retry_after(self.host_id, exc.retry_after)
                if not persist:
                    return None
            except TelegramBadRequest as exc:
                if "message is not modified" not in exc.message:
                    log.warning("progress of %s: %s", self.key, exc.message)
                return None
            except TelegramAPIError as exc:
                log.warning("progress of %s: %s", self.key, exc)
                return None
