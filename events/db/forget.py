"""/forget in the database: everything the bot keeps about a person's own doings, erased.

Erased: their answers to events (a seat they held goes to the first person waiting, in the same
transaction), their anonymous questions, the marks that they answered a check-in (the scores
and comments stay: nothing ties them to anyone), their calendar links, every message the ledger
holds for them (sent or not: a row saying a reminder of an event went to them says they were
going), and their settings (language, time zone, reminders). Kept: the person's row itself with
the name and username Telegram sends with every update (hosts see them on attendee lists only
while the person answers an event), the communities they host for and the events they created,
which belong to their communities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from events.db.models import (
    CheckinResponder,
    Delivery,
    FeedToken,
    Person,
    Question,
    Rsvp,
    RsvpStatus,
)
from events.db.rsvps import lock_event, promote_waitlisted

if TYPE_CHECKING:
    from events.delivery import Delivery as DeliveryService


@dataclass(frozen=True)
class Erased:
    """What :func:`erase` removed; ``events``: the events whose counts changed."""

    answers: int
    questions: int
    checkins: int
    links: int
    messages: int
    events: tuple[int, ...]


async def _delete(session: AsyncSession, statement: object) -> int:
    result = await session.execute(statement)  # type: ignore[call-overload]
    return int(getattr(result, "rowcount", 0) or 0)


async def erase(session: AsyncSession, person: Person, delivery: DeliveryService) -> Erased:
    """Erase what the bot keeps of ``person``'s doings (see the module's docstring)."""
    statement = select(Rsvp.event_id, Rsvp.status).where(Rsvp.person_id == person.id)
    answered = [(event_id, status) for event_id, status in await session.execute(statement)]
    # Every event's row is locked before its seats change (events.db.rsvps), in id order so
    # two erasures never wait for each other the other way round.
    events = {event_id: await lock_event(session, event_id) for event_id, _ in sorted(answered)}
    messages = await _delete(session, delete(Delivery).where(Delivery.person_id == person.id))
    answers = await _delete(session, delete(Rsvp).where(Rsvp.person_id == person.id))
    for event_id, status in answered:
        event = events[event_id]
        if status is RsvpStatus.GOING and event is not None:  # their seat is free
            await promote_waitlisted(session, event, delivery)
    questions = await _delete(session, delete(Question).where(Question.person_id == person.id))
    checkins = await _delete(
        session, delete(CheckinResponder).where(CheckinResponder.person_id == person.id)
    )
    links = await _delete(session, delete(FeedToken).where(FeedToken.person_id == person.id))
    person.locale = None
    person.timezone = None
    person.reminders = None
    person.remind_maybe = False
    await session.flush()
    return Erased(
        answers=answers,
        questions=questions,
        checkins=checkins,
        links=links,
        messages=messages,
        events=tuple(sorted(event_id for event_id, _ in answered)),
    )
