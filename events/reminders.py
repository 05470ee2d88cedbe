"""Reminders and check-ins: which ledger rows each person of an event should have.

A person going to an event has one ledger row per reminder offset they chose (or their
community's default), ``reminder:<event>:<seconds before the start>``, due at that moment and
expiring at the start, and one ``checkin:<event>`` row due an hour after the end. A person
"maybe" has the reminders too if they asked for them (``Person.remind_maybe``); waitlisted and
declined people have none (a promotion makes them going, and plans their rows then).

:func:`plan` brings the *pending* rows of an event's people in line with that, in the caller's
transaction, whenever something they depend on changes: an answer, a promotion, a move, a
cancellation, a person's or a community's choice. Rows already sent (or failed, expired…) are
never touched and their keys never sent again. The rules of time:

- a reminder whose moment has passed when it is planned is not written (someone who says
  "going" 30 minutes before the start gets no "in 1 hour" reminder: they just decided);
- a row already pending keeps its due time while nothing moves it, so one that fell due while
  the bot was down is still sent late, until the start (``expires_at``);
- a row whose event moved is moved with it, or dropped if its new moment has passed.

What a reminder says is decided when it is sent (events/bot/reminders.py); there too, of
several overdue reminders of one event only the latest goes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, delete, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from events.db.models import (
    Community,
    Delivery,
    DeliveryStatus,
    Event,
    EventStatus,
    Person,
    Rsvp,
    RsvpStatus,
)
from events.db.upsert import insert
from events.delivery.ledger import Planned

if TYPE_CHECKING:
    from events.delivery import Delivery as DeliveryService

OFFSETS: tuple[int, ...] = (86400, 10800, 3600, 900)
"""The reminders a person may choose, in seconds before the start: 1 day, 3 h, 1 h, 15 min."""

CHECKIN_AFTER = timedelta(hours=1)
"""The check-in goes this long after the end of the event."""

CHECKIN_LIFETIME = timedelta(hours=24)
"""…and is not sent any more this long after it fell due."""

_CHUNK = 500


def parse_offsets(text: str | None) -> tuple[int, ...]:
    """``"86400,3600"`` → ``(86400, 3600)``: known offsets only, earliest reminder first."""
    found = set()
    for part in (text or "").split(","):
        if part.strip().isdigit() and int(part) in OFFSETS:
            found.add(int(part))
    return tuple(sorted(found, reverse=True))


def format_offsets(offsets: Iterable[int]) -> str:
    """The stored form of a choice (``""`` for no reminders)."""
    return ",".join(str(offset) for offset in sorted(set(offsets), reverse=True))


def offsets_for(person: Person, community: Community) -> tuple[int, ...]:
    """The person's own choice, else the community's default."""
    return parse_offsets(person.reminders if person.reminders is not None else community.reminders)


def reminder_key(event_id: int, offset: int) -> str:
    """CONTRACT §3: ``reminder:<event>:<offset>`` (seconds before the start)."""
    return f"reminder:{event_id}:{offset}"


def checkin_key(event_id: int) -> str:
    """CONTRACT §3: ``checkin:<event>``."""
    return f"checkin:{event_id}"


def offset_of(key: str) -> int:
    """``"reminder:12:3600"`` → ``3600``."""
    return int(key.rsplit(":", 1)[1])


def _rows_for(
    event: Event, status: RsvpStatus, person: Person, community: Community
) -> list[Planned]:
    """The rows a person with this answer should have (before the rules of time)."""
    if event.status is not EventStatus.PUBLISHED:
        return []
    reminded = status is RsvpStatus.GOING or (status is RsvpStatus.MAYBE and person.remind_maybe)
    rows = []
    if reminded:
        for offset in offsets_for(person, community):
            due = event.starts_at - timedelta(seconds=offset)
            rows.append(Planned(person.id, reminder_key(event.id, offset), due, event.starts_at))
    if status is RsvpStatus.GOING:
        due = event.ends_at + CHECKIN_AFTER
        rows.append(Planned(person.id, checkin_key(event.id), due, due + CHECKIN_LIFETIME))
    return rows


def _keys(event_id: int) -> list[str]:
    return [reminder_key(event_id, offset) for offset in OFFSETS] + [checkin_key(event_id)]


async def plan(
    session: AsyncSession,
    delivery: DeliveryService,
    event: Event,
    *,
    now: datetime,
    person_ids: Sequence[int] | None = None,
) -> None:
    """Bring the pending reminder and check-in rows of the event's people (or only of
    ``person_ids``) in line with their answers and choices and the event's time and status."""
    community = await session.get(Community, event.community_id)
    if community is None:
        return
    people = select(Rsvp.status, Person).join(Person, Person.id == Rsvp.person_id)
    people = people.where(Rsvp.event_id == event.id)
    if person_ids is not None:
        people = people.where(Rsvp.person_id.in_(person_ids))
    wanted: dict[tuple[int, str], Planned] = {}
    for status, person in await session.execute(people):
        for row in _rows_for(event, RsvpStatus(status), person, community):
            wanted[row.person_id, row.key] = row
    pending = (
        select(Delivery.id, Delivery.person_id, Delivery.key, Delivery.due_at)
        .where(Delivery.key.in_(_keys(event.id)))
        .where(Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)))
    )
    if person_ids is not None:
        pending = pending.where(Delivery.person_id.in_(person_ids))
    existing: set[tuple[int, str]] = set()
    drop: list[int] = []
    moves: dict[Planned, list[int]] = defaultdict(list)
    for row_id, person_id, key, due_at in (await session.execute(pending)).all():
        existing.add((person_id, key))
        want = wanted.get((person_id, key))
        if want is None:
            drop.append(row_id)  # (a row in flight is not dropped: see below)
        elif want.due_at != due_at:
            if want.due_at > now:
                moves[Planned(0, key, want.due_at, want.expires_at)].append(row_id)
            else:
                drop.append(row_id)  # moved to a moment already past
    for start in range(0, len(drop), _CHUNK):
        await session.execute(
            delete(Delivery)
            .where(Delivery.id.in_(drop[start : start + _CHUNK]))
            .where(Delivery.status == DeliveryStatus.PENDING)
        )
    for target, ids in moves.items():
        for start in range(0, len(ids), _CHUNK):
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids[start : start + _CHUNK]))
                .where(Delivery.status == DeliveryStatus.PENDING)
                .values(due_at=target.due_at, expires_at=target.expires_at)
                .execution_options(synchronize_session=False)
            )
        delivery.wake_after_commit(session, target.due_at)
    new = [row for pair, row in wanted.items() if pair not in existing and row.due_at > now]
    if new:
        await delivery.enqueue_rows(session, new)


async def plan_first(
    session: AsyncSession,
    delivery: DeliveryService,
    event: Event,
    *,
    now: datetime,
    person_ids: Sequence[int],
) -> None:
    """:func:`plan` for people whose first answer to the event was just written (so none of
    its rows are theirs yet), the rows written by the database straight from the answers: one
    statement per kind of row (a reminder offset, the check-in) however many people, and no
    row object in Python. The rules are :func:`_rows_for`'s; a row already there is kept."""
    community = await session.get(Community, event.community_id)
    if community is None or event.status is not EventStatus.PUBLISHED or not person_ids:
        return
    ids = list(person_ids)
    answered = and_(Rsvp.event_id == event.id, Rsvp.person_id.in_(ids))
    choices = await session.scalars(select(Person.reminders).where(Person.id.in_(ids)).distinct())
    chosen = list(choices.all())
    wanted: list[tuple[Planned, ColumnElement[bool]]] = []
    for offset in OFFSETS:
        due = event.starts_at - timedelta(seconds=offset)
        # People whose choice (or, having none, their community's default) has this offset.
        having = [
            c
            for c in chosen
            if offset in parse_offsets(c if c is not None else community.reminders)
        ]
        if due <= now or not having:
            continue
        listed = [c for c in having if c is not None]
        choice = or_(
            *([Person.reminders.in_(listed)] if listed else []),
            *([Person.reminders.is_(None)] if None in having else []),
        )
        reminded = or_(
            Rsvp.status == RsvpStatus.GOING,
            and_(Rsvp.status == RsvpStatus.MAYBE, Person.remind_maybe),
        )
        wanted.append(
            (
                Planned(0, reminder_key(event.id, offset), due, event.starts_at),
                and_(choice, reminded),
            )
        )
    checkin = event.ends_at + CHECKIN_AFTER
    if checkin > now:
        row = Planned(0, checkin_key(event.id), checkin, checkin + CHECKIN_LIFETIME)
        wanted.append((row, Rsvp.status == RsvpStatus.GOING))
    for row, who in wanted:
        people = (
            select(
                Rsvp.person_id,
                literal(row.key, Delivery.key.type),
                literal(row.due_at, Delivery.due_at.type),
                literal(row.expires_at, Delivery.expires_at.type),
            )
            .join(Person, Person.id == Rsvp.person_id)
            .where(answered, who)
        )
        statement = (
            insert(session, Delivery.__table__)
            .from_select(["person_id", "key", "due_at", "expires_at"], people)
            .on_conflict_do_nothing(index_elements=["person_id", "key"])
        )
        if (await session.execute(statement)).rowcount:
            delivery.wake_after_commit(session, row.due_at)


async def plan_person(
    session: AsyncSession, delivery: DeliveryService, person_id: int, *, now: datetime
) -> None:
    """Re-plan one person's rows for every event still ahead that they answered (after they
    changed their reminder choice)."""
    events = await session.scalars(
        select(Event)
        .join(Rsvp, Rsvp.event_id == Event.id)
        .where(Rsvp.person_id == person_id, Event.ends_at > now - CHECKIN_AFTER)
        .where(Event.status == EventStatus.PUBLISHED)
    )
    for event in events.all():
        await plan(session, delivery, event, now=now, person_ids=[person_id])


async def plan_community(
    session: AsyncSession, delivery: DeliveryService, community_id: int, *, now: datetime
) -> None:
    """Re-plan the rows of every event still ahead in a community (after its admins changed
    the default reminders)."""
    events = await session.scalars(
        select(Event).where(
            Event.community_id == community_id,
            Event.status == EventStatus.PUBLISHED,
            Event.starts_at > now,
        )
    )
    for event in events.all():
        await plan(session, delivery, event, now=now)
