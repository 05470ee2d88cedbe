"""Answers to one event wait in one line and are taken together.

A session announced in a big group gets hundreds of taps within seconds. Each answer has to see
the ones before it (the seats are counted), so two answers to one event never run side by side,
and one transaction per tap, one after the other, is slow: a dozen statements and a commit each,
and on SQLite the next tap's ``BEGIN IMMEDIATE`` collides with the previous commit. So the
answers to an event wait in a line, and whatever gathered in it while the previous answers were
being written is answered in one transaction: one statement marks the updates as processed, one
reads the people (two more create and read those never seen), one locks the event, then
:func:`events.db.rsvps.answer_many` (a handful of statements for any number of answers) and one
commit. Each tap then gets its own toast, in its own language, from its own update's task.

Order: lower update_id first (CONTRACT §1). Polling starts the updates' tasks in update_id
order and each joins the line before it first waits; a batch is sorted by update_id anyway.
Seats go in that order; the waitlist is in update_id order whichever process took which tap
(``position`` is the tap's update_id).

Taken together: taps on an event's post in a group. A tap on an event's card in a private chat
(it edits the card and may need a membership lookup) goes through the ordinary handlers, alone,
in its turn in the line. If a batch fails, its taps are tried again one at a time, the ordinary
way, so one bad tap cannot fail the others. Answers to other events and all other updates do not
wait. The lines are this process's: several processes rely on the event's row lock for the
count. Answers do not take the person-and-chat isolation lock (events/bot/middlewares/
isolation.py): the line keeps them in order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from aiogram import Bot
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.bot.callbacks import RsvpCallback
from events.bot.membership import Membership
from events.bot.middlewares.once import first_deliveries
from events.bot.posts import PostUpdater
from events.bot.replies import Replies
from events.bot.routers.rsvp import WANTED, answer_tap, on_its_post, refusal
from events.db.models import Event, Person
from events.db.people import people_for
from events.db.rsvps import Outcome, Wanted, answer_many, lock_event
from events.db.unit import handling_update
from events.delivery import Delivery
from events.i18n import CatalogueI18n, locale_for

log = logging.getLogger(__name__)

Handler = Callable[[Update, dict[str, Any]], Awaitable[Any]]

BATCH = 500
"""At most this many answers in one transaction (the rest wait for the next)."""

_PREFIX = RsvpCallback.__prefix__ + RsvpCallback.__separator__


@lru_cache(maxsize=4096)
def _unpack(data: str) -> RsvpCallback | None:
    """The answer in a button's data (a post's few buttons are tapped over and over)."""
    try:
        return RsvpCallback.unpack(data)
    except (TypeError, ValueError):
        return None


def answered(update: Update) -> tuple[CallbackQuery, RsvpCallback] | None:
    """The tap and what it answers, when the update is an answer to an event."""
    query = update.callback_query
    if query is None or not query.data or not query.data.startswith(_PREFIX):
        return None
    found = _unpack(query.data)
    return None if found is None else (query, found)


@dataclass
class Done:
    """What an update left for its own task once its transaction committed."""

    result: Any = None
    committed: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    replies: Replies = field(default_factory=Replies)


@dataclass(eq=False)
class Tap:
    update: Update
    query: CallbackQuery
    answer: RsvpCallback
    handler: Handler
    data: dict[str, Any]
    done: asyncio.Future[Done]

    @property
    def in_group(self) -> bool:
        message = self.query.message
        return message is not None and message.chat.type != ChatType.PRIVATE

    def settle(self, done: Done | None = None, error: BaseException | None = None) -> None:
        if self.done.done():  # its task was cancelled (a webhook request gone)
            return
        if error is not None:
            self.done.set_exception(error)
        else:
            self.done.set_result(done or Done())


Taken = tuple[Tap, Done, Person, Event, Outcome]
"""An answer taken: the tap, what its task gets, who, to what, and where it landed."""

Alone = Callable[[Handler, Update, dict[str, Any]], Awaitable[Done]]


class Taps:
    """The lines of answers, one per event, each emptied by a task of its own."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], i18n: CatalogueI18n, alone: Alone
    ) -> None:
        self.sessions = sessions
        self.i18n = i18n
        self.alone = alone  # the ordinary way: the update's own transaction and handlers
        self._lines: dict[int, list[Tap]] = {}
        self._workers: set[asyncio.Task[None]] = set()

    def tap(self, handler: Handler, update: Update, data: dict[str, Any]) -> Tap | None:
        """The update as a tap to line up, or None when it answers no event."""
        found = answered(update)
        if found is None:
            return None
        query, answer = found
        done: asyncio.Future[Done] = asyncio.get_running_loop().create_future()
        return Tap(update, query, answer, handler, data, done)

    async def take(self, tap: Tap) -> Done:
        """Line the tap up; what it left once it was answered."""
        event_id = tap.answer.event_id
        line = self._lines.get(event_id)
        if line is None:
            line = self._lines[event_id] = []
            worker = asyncio.create_task(self._empty(event_id, line))
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)
        line.append(tap)
        return await tap.done

    async def _empty(self, event_id: int, line: list[Tap]) -> None:
        batch: list[Tap] = []
        try:
            while line:
                line.sort(key=lambda tap: tap.update.update_id)
                batch = line[:BATCH]
                del line[:BATCH]
                try:
                    await self._answer(event_id, batch)
                except Exception as exc:  # each tap's update fails with it
                    for tap in batch:
                        tap.settle(error=exc)
        finally:
            for tap in batch + line:  # none left waiting, even if this task is cancelled
                tap.settle(error=asyncio.CancelledError())
            del self._lines[event_id]

    async def _answer(self, event_id: int, batch: list[Tap]) -> None:
        """Runs of group taps together, every other tap alone, in order."""
        start = 0
        while start < len(batch):
            end = start
            while end < len(batch) and batch[end].in_group:
                end += 1
            if end == start:
                await self._alone(batch[start])
                start += 1
                continue
            run = batch[start:end]
            dones = [Done() for _ in run]
            try:
                answers = await self._together(event_id, run, dones)
            except Exception:
                log.warning(
                    "%d answers to event %s failed together; each is tried alone",
                    len(run),
                    event_id,
                    exc_info=True,
                )
                for tap in run:
                    await self._alone(tap)
            else:
                await self._toast(run[0].data["bot"], answers)
                for tap, done in zip(run, dones, strict=True):
                    tap.settle(done)
            start = end

    async def _alone(self, tap: Tap) -> None:
        try:
            done = await self.alone(tap.handler, tap.update, tap.data)
        except Exception as exc:
            tap.settle(error=exc)
        else:
            tap.settle(done)

    async def _together(self, event_id: int, run: Sequence[Tap], dones: list[Done]) -> list[Taken]:
        """One transaction for a run of group taps (see :meth:`_write`)."""
        async with self.sessions() as session, session.begin():
            with handling_update(session):
                return await self._write(session, event_id, run, dones)

    async def _toast(self, bot: Bot, answers: list[Taken]) -> None:
        """Each answer's toast, in the tapper's language."""
        for tap, done, person, event, outcome in answers:
            with self._language(tap, person):
                toast = await answer_tap(tap.query, outcome, person, event.id, bot, private=False)
            done.replies.add(toast)

    async def _write(
        self, session: AsyncSession, event_id: int, run: Sequence[Tap], dones: list[Done]
    ) -> list[Taken]:
        """The run's effects in ``session``: refusals go straight to ``dones``; the answers
        taken, with their outcomes."""
        data = run[0].data
        membership: Membership = data["membership"]
        delivery: Delivery = data["delivery"]
        posts: PostUpdater = data["posts"]
        now = delivery.clock.now()
        fresh = await first_deliveries(session, [tap.update.update_id for tap in run], now)
        live = []
        for tap, done in zip(run, dones, strict=True):
            if tap.update.update_id in fresh:  # (an update delivered twice in one run: once)
                fresh.discard(tap.update.update_id)
                live.append((tap, done))
        if not live:
            return []
        people = await people_for(session, [tap.query.from_user for tap, _ in live])
        event = await lock_event(session, event_id)
        taken: list[tuple[Tap, Done, Person]] = []
        for tap, done in live:
            person = people[tap.query.from_user.id]
            chat_id = tap.query.message.chat.id if tap.query.message else 0
            with self._language(tap, person):
                refused = refusal(event, on_its_post(event, chat_id), now)
            if refused is not None or event is None:
                done.replies.add(tap.query.answer(refused, show_alert=True))
                continue
            membership.note_member(event.community_id, person.id)
            taken.append((tap, done, person))
        if event is None or not taken:
            return []
        wanted = [
            Wanted(person.id, WANTED[tap.answer.answer], tap.update.update_id)
            for tap, _, person in taken
        ]
        outcomes = await answer_many(session, event, wanted, delivery)
        if any(outcome.changed for outcome in outcomes):
            posts.request_after_commit(session, event.id)
        return [
            (tap, done, person, event, outcome)
            for (tap, done, person), outcome in zip(taken, outcomes, strict=True)
        ]

    @contextmanager
    def _language(self, tap: Tap, person: Person) -> Iterator[None]:
        """A tap is answered in the tapper's language (CONTRACT §6)."""
        code = tap.query.from_user.language_code
        locale = locale_for(person.locale, code, self.i18n.default_locale)
        with self.i18n.context(), self.i18n.use_locale(locale):
            yield
