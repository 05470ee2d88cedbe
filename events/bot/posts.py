"""The announcement of an event in its community's group: what it says and keeping it current.

Posted when the event is published, in the group's language, with the RSVP buttons; edited when
the event changes and as answers come in. It shows counts and names nobody.

Answers can arrive far faster than a group may be written to (CONTRACT §2: an edit of a post at
least 3 s after the previous one, 20 writes a minute to a group), so the counts are not edited
in by the tap itself: :class:`PostUpdater` is asked to refresh the post and does it when the
post's turn comes, reading the counts afresh each time, so the last edit shows the final counts.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.methods import SendMessage
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from events.bot.keyboards import rsvp_buttons
from events.bot.render import Announcement
from events.db.engine import SQLITE_BEGIN_OPTION
from events.db.models import Community, Event, EventStatus
from events.db.rsvps import counts as count_answers
from events.delivery.limits import ChatKind, Limiter, holding_turn
from events.domain.rsvp import Counts
from events.i18n import CatalogueI18n, Html, html_

log = logging.getLogger(__name__)

EDIT_GAP = 3.0  # CONTRACT §2: seconds between two edits of one post (at scale 1)


def counts_line(counts: Counts, capacity: int | None) -> Html:
    """Going n (of capacity) · maybe m · waitlist w, in the current gettext locale."""
    if capacity is None:
        parts = [html_("Going: {going}", going=counts.going)]
    else:
        parts = [html_("Going: {going} of {capacity}", going=counts.going, capacity=capacity)]
    parts.append(html_("Maybe: {maybe}", maybe=counts.maybe))
    if capacity is not None or counts.waitlisted:
        parts.append(html_("Waitlist: {waitlisted}", waitlisted=counts.waitlisted))
    return Html("✋ " + " · ".join(parts))


def post_markup(event: Event) -> InlineKeyboardMarkup | None:
    """The RSVP buttons, while the event takes answers (in the current gettext locale)."""
    if event.status is not EventStatus.PUBLISHED:
        return None
    builder = InlineKeyboardBuilder()
    rsvp_buttons(builder, event.id)
    builder.adjust(3)
    return builder.as_markup()


def group_post(community: Community, text: str, **kwargs: Any) -> SendMessage:
    """A message to the community's group, in the topic where it was set up (forums)."""
    thread_id = community.thread_id if community.is_forum else None
    return SendMessage(chat_id=community.id, text=text, message_thread_id=thread_id, **kwargs)


async def announce(
    bot: Bot, session: AsyncSession, event: Event, community: Community, i18n: CatalogueI18n
) -> bool:
    """Post a new event in its group, inside the transaction that creates it: without its post
    an event is not published. False when the bot is no longer in the group: the community is
    marked inactive and the event removed. Other Telegram errors propagate."""
    username = (await bot.me()).username or ""
    text, markup = render_post(event, community, i18n, username, Counts())
    try:
        sent = await bot(group_post(community, text, reply_markup=markup))
    except TelegramForbiddenError:
        await session.delete(event)
        community.active = False
        return False
    event.announcement_chat_id = sent.chat.id
    event.announcement_message_id = sent.message_id
    return True


def render_post(
    event: Event,
    community: Community,
    i18n: CatalogueI18n,
    bot_username: str,
    counts: Counts | None = None,
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """The post's text and buttons in the community's language (with ``counts``: the line of
    counts at the end)."""
    with i18n.context(), i18n.use_locale(community.locale):
        text = Announcement.of_event(event).render(community.locale, bot_username)
        if counts is not None and event.status is EventStatus.PUBLISHED:
            text = Html(text + "\n\n" + counts_line(counts, event.capacity))
        if event.status is EventStatus.CANCELLED:
            text = Html("❌ <b>" + html_("Cancelled") + "</b>\n\n" + text)
        return text, post_markup(event)


async def refresh_post(
    bot: Bot,
    event: Event,
    community: Community,
    i18n: CatalogueI18n,
    counts: Counts | None = None,
) -> None:
    """Edit the group post to match the event; "not modified" and a deleted post are fine.

    Pass the event's ``counts`` (``events.db.rsvps.counts``) to keep them on the post, or ask
    :class:`PostUpdater` (dispatcher data ``posts``) to do it in the post's turn.
    """
    if event.announcement_chat_id is None or event.announcement_message_id is None:
        return
    username = (await bot.me()).username or ""
    text, markup = render_post(event, community, i18n, username, counts)
    try:
        await bot.edit_message_text(
            text,
            chat_id=event.announcement_chat_id,
            message_id=event.announcement_message_id,
            reply_markup=markup,
        )
    except TelegramBadRequest as exc:
        if "not modified" not in exc.message and "not found" not in exc.message:
            raise


class PostUpdater(ABC):
    """Keeps group posts' counts current, within the group limits, whatever the tap rate.

    ``request(event_id)`` after a change is committed (or ``request_after_commit(session, …)``
    inside the transaction); the post is edited at the next moment its turn allows, with the
    counts read at that moment. :class:`InMemoryPostUpdater` serves one process;
    ``events.bot.redis_posts.RedisPostUpdater`` keeps the same rules for several.
    """

    @abstractmethod
    def request(self, event_id: int) -> None:
        """The event's post should show what the database says now."""

    def request_after_commit(self, session: AsyncSession, event_id: int) -> None:
        """Ask for a refresh once the transaction of ``session`` commits (never if it rolls
        back)."""
        sync: Session = session.sync_session

        def committed(_: Session) -> None:
            self.request(event_id)

        sa_event.listen(sync, "after_commit", committed, once=True)

    async def start(self) -> None:  # noqa: B027 - optional
        """Begin work (nothing to do for the in-memory one)."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop refreshing; edits not yet made are dropped."""


class InMemoryPostUpdater(PostUpdater):
    """One task per post with a refresh wanted; edits spaced by monotonic time, each taking a
    turn of the delivery limiter as a write to the group (so 20 a minute is kept with the
    bot's other writes to it)."""

    def __init__(
        self,
        *,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        i18n: CatalogueI18n,
        limiter: Limiter,
        gap: float | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.i18n = i18n
        self.limiter = limiter
        self.gap = gap if gap is not None else EDIT_GAP / limiter.limits.scale
        self._now = now
        self._wanted: set[int] = set()
        self._last: dict[int, float] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._stopped = False

    def request(self, event_id: int) -> None:
        if self._stopped:
            return
        self._wanted.add(event_id)
        if event_id not in self._tasks:
            self._forget_old()
            self._tasks[event_id] = asyncio.create_task(
                self._run(event_id), name=f"post of event {event_id}"
            )

    async def stop(self) -> None:
        self._stopped = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def busy(self) -> bool:
        """Some post still waits for its edit."""
        return bool(self._tasks)

    def _forget_old(self) -> None:
        if len(self._last) > 1000:
            horizon = self._now() - self.gap
            for event_id, at in list(self._last.items()):
                if at < horizon:
                    del self._last[event_id]

    async def _run(self, event_id: int) -> None:
        try:
            while event_id in self._wanted:
                wait = self._last.get(event_id, -math.inf) + self.gap - self._now()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._wanted.discard(event_id)
                try:
                    edited = await self._edit(event_id)
                except Exception:
                    log.exception("the post of event %s could not be refreshed", event_id)
                    edited = True
                if edited:
                    self._last[event_id] = self._now()
        finally:
            self._tasks.pop(event_id, None)

    async def _edit(self, event_id: int) -> bool:
        """One edit of the post; False when it did not reach the group (try again later)."""
        edited = await edit_post(self.bot, self.sessions, self.i18n, self.limiter, event_id)
        if not edited:
            self._wanted.add(event_id)
        return edited


async def edit_post(
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    i18n: CatalogueI18n,
    limiter: Limiter,
    event_id: int,
) -> bool:
    """One edit of an event's post with the counts read now, in a turn of ``limiter`` as a write
    to the group; False when a 429 kept it from the group (try again later)."""
    async with sessions() as session:
        await session.connection(execution_options={SQLITE_BEGIN_OPTION: "DEFERRED"})
        event = await session.get(Event, event_id)
        if event is None or event.announcement_message_id is None:
            return True
        community = await session.get(Community, event.community_id)
        if community is None or event.announcement_chat_id is None:
            return True
        counts = await count_answers(session, event_id)
    username = (await bot.me()).username or ""
    with i18n.context():
        text, markup = render_post(event, community, i18n, username, counts)
    chat_id = event.announcement_chat_id
    await limiter.turn(chat_id, ChatKind.GROUP)
    try:
        with holding_turn():
            await bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=event.announcement_message_id,
                reply_markup=markup,
            )
    except TelegramRetryAfter as exc:
        await limiter.retry_after(chat_id, exc.retry_after)
        return False
    except TelegramBadRequest as exc:
        if "not modified" not in exc.message and "not found" not in exc.message:
            log.warning("editing the post of event %s: %s", event_id, exc.message)
    except TelegramAPIError as exc:
        log.warning("editing the post of event %s: %s", event_id, exc)
    finally:
        await limiter.release(chat_id, ChatKind.GROUP)
    return True
