"""RSVPs in the database: answers, counts, the waitlist and promotions.

Every change runs with the event's row locked (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite
the transaction's ``BEGIN IMMEDIATE`` already holds the only write lock), so counting the seats
and taking one are a single step: however many answers arrive at once, the number going never
exceeds the capacity.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from events.db.models import Event, EventStatus, Rsvp, RsvpStatus
from events.domain.rsvp import Counts, free_seats, landing
from events.reminders import plan, plan_first

if TYPE_CHECKING:
    from events.delivery import Delivery


def promotion_key(event_id: int, generation: int) -> str:
    """CONTRACT §3: ``promotion:<event>:<rsvp generation>``."""
    return f"promotion:{event_id}:{generation}"


async def lock_event(session: AsyncSession, event_id: int) -> Event | None:
    """The event, its row locked until the transaction ends (fresh from the database)."""
    statement = (
        select(Event)
        .where(Event.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def counts(session: AsyncSession, event_id: int) -> Counts:
    statement = (
        select(Rsvp.status, func.count()).where(Rsvp.event_id == event_id).group_by(Rsvp.status)
    )
    found = {RsvpStatus(status): number for status, number in (await session.execute(statement))}
    return Counts(
        going=found.get(RsvpStatus.GOING, 0),
        maybe=found.get(RsvpStatus.MAYBE, 0),
        waitlisted=found.get(RsvpStatus.WAITLISTED, 0),
        declined=found.get(RsvpStatus.DECLINED, 0),
    )


async def rsvp_of(session: AsyncSession, event_id: int, person_id: int) -> Rsvp | None:
    statement = select(Rsvp).where(Rsvp.event_id == event_id, Rsvp.person_id == person_id)
    return (await session.scalars(statement)).one_or_none()


async def statuses_of(session: AsyncSession, person_id: int) -> dict[int, RsvpStatus]:
    """The person's answer to every event they answered, by event id."""
    statement = select(Rsvp.event_id, Rsvp.status).where(Rsvp.person_id == person_id)
    return {event_id: RsvpStatus(status) for event_id, status in await session.execute(statement)}


async def waitlist_position(session: AsyncSession, rsvp: Rsvp) -> int | None:
    """1 for the first in line; None when not waiting."""
    if rsvp.status is not RsvpStatus.WAITLISTED or rsvp.position is None:
        return None
    statement = select(func.count()).where(
        Rsvp.event_id == rsvp.event_id,
        Rsvp.status == RsvpStatus.WAITLISTED,
        Rsvp.position <= rsvp.position,
    )
    return int((await session.scalar(statement)) or 0)


async def _going(session: AsyncSession, event_id: int) -> int:
    statement = select(func.count()).where(
        Rsvp.event_id == event_id, Rsvp.status == RsvpStatus.GOING
    )
    return int((await session.scalar(statement)) or 0)


@dataclass
class Outcome:
    """What an answer did."""

    status: RsvpStatus
    changed: bool
    position: int | None = None  # place on the waitlist, when waiting
    promoted: list[int] = field(default_factory=list)  # people who got a seat because of it


async def answer(
    session: AsyncSession,
    event: Event,
    person_id: int,
    wanted: RsvpStatus,
    delivery: Delivery,
    *,
    arrival: int,
) -> Outcome:
    """Record a person's answer; ``event`` must come from :func:`lock_event` in this transaction.

    ``arrival`` places a changed answer in line: the update_id of the tap. Telegram numbers
    updates in the order they happened, so the waitlist is in the order people tapped, whichever
    worker handled which tap and whichever committed first.

    A seat freed by someone who stops going goes to the first person waiting, in the same
    transaction, with a promotion message queued for them. Reminders and the check-in follow
    the answer (events/reminders.py).
    """
    rsvp = await rsvp_of(session, event.id, person_id)
    current = rsvp.status if rsvp is not None else None
    going = await _going(session, event.id)
    status = landing(current, wanted, going, event.capacity)
    if rsvp is not None and status is current:
        return Outcome(status, False, await waitlist_position(session, rsvp))
    if rsvp is None:
        rsvp = Rsvp(event_id=event.id, person_id=person_id, status=status, position=arrival)
        session.add(rsvp)
    else:
        rsvp.status, rsvp.position = status, arrival
    await session.flush()
    await plan(session, delivery, event, now=delivery.clock.now(), person_ids=[person_id])
    promoted: list[int] = []
    if current is RsvpStatus.GOING:
        promoted = await promote_waitlisted(session, event, delivery)
    return Outcome(status, True, await waitlist_position(session, rsvp), promoted)


@dataclass(frozen=True)
class Wanted:
    """One answer of many to one event: who, what, and the update_id of the tap."""

    person_id: int
    status: RsvpStatus
    arrival: int


async def answer_many(
    session: AsyncSession, event: Event, wanted: Sequence[Wanted], delivery: Delivery
) -> list[Outcome]:
    """:func:`answer` for many answers to one event, one after the other in the order given,
    with the same outcomes, in a handful of statements however many answers: one read of the
    answers, one count, one insert and one update (each with many parameter sets), one plan of
    the reminders and one read of the waitlist. An answer that gives up a seat goes through
    :func:`answer` itself (the seat goes to the first person waiting at that point).
    ``event`` comes from :func:`lock_event`."""
    people = list({item.person_id: None for item in wanted})
    known = await _answers_of(session, event.id, people)
    going = await _going(session, event.id)
    waiting: list[int] | None = None  # the waitlist's positions, read when first needed
    batch = _Written(event.id)
    outcomes: list[Outcome] = []
    for item in wanted:
        current, held = known.get(item.person_id, (None, None))
        if current is RsvpStatus.GOING and item.status is not RsvpStatus.GOING:
            await batch.write(session)
            _expire_answers(session)
            outcomes.append(
                await answer(
                    session, event, item.person_id, item.status, delivery, arrival=item.arrival
                )
            )
            known = await _answers_of(session, event.id, people)  # a promotion changes them
            going = await _going(session, event.id)
            waiting = None
            continue
        status = landing(current, item.status, going, event.capacity)
        outcome = Outcome(status, status is not current)
        outcomes.append(outcome)
        if waiting is None and RsvpStatus.WAITLISTED in (current, status):
            await batch.write(session)  # (the line is read with what was decided so far)
            waiting = await _waitlist(session, event.id)
        if outcome.changed:
            batch.keep(item.person_id, status, item.arrival, new=current is None)
            known[item.person_id] = (status, item.arrival)
            going += status is RsvpStatus.GOING
            if waiting is not None and current is RsvpStatus.WAITLISTED and held is not None:
                waiting.remove(held)
            if waiting is not None and status is RsvpStatus.WAITLISTED:
                insort(waiting, item.arrival)
        place = known.get(item.person_id, (None, None))[1]
        if waiting is not None and status is RsvpStatus.WAITLISTED and place is not None:
            outcome.position = bisect_right(waiting, place)  # their place at this moment
    await batch.write(session)
    _expire_answers(session)
    now = delivery.clock.now()
    first = [person for person in batch.first if person not in batch.again]
    await plan_first(session, delivery, event, now=now, person_ids=first)
    if batch.again:
        await plan(session, delivery, event, now=now, person_ids=list(batch.again))
    return outcomes


async def _waitlist(session: AsyncSession, event_id: int) -> list[int]:
    """The positions of the people waiting for a seat, first in line first."""
    statement = (
        select(Rsvp.position)
        .where(Rsvp.event_id == event_id, Rsvp.status == RsvpStatus.WAITLISTED)
        .where(Rsvp.position.is_not(None))
        .order_by(Rsvp.position)
    )
    return list(await session.scalars(statement))


async def _answers_of(
    session: AsyncSession, event_id: int, people: Sequence[int]
) -> dict[int, tuple[RsvpStatus, int | None]]:
    """The people's answers to the event (status and position), by person."""
    statement = select(Rsvp.person_id, Rsvp.status, Rsvp.position).where(
        Rsvp.event_id == event_id, Rsvp.person_id.in_(people)
    )
    return {
        person: (RsvpStatus(status), position)
        for person, status, position in await session.execute(statement)
    }


def _expire_answers(session: AsyncSession) -> None:
    """Answers loaded as objects earlier in the transaction are read again when next used
    (they were written around the session)."""
    for item in list(session.identity_map.values()):
        if isinstance(item, Rsvp):
            session.expire(item)


@dataclass
class _Written:
    """Answers to write for one event: new rows and changed ones, each one statement."""

    event_id: int
    new: dict[int, dict[str, Any]] = field(default_factory=dict)
    changed: dict[int, dict[str, Any]] = field(default_factory=dict)
    first: dict[int, None] = field(default_factory=dict)  # people answering for the first time
    again: dict[int, None] = field(default_factory=dict)  # people who had answered before

    def keep(self, person_id: int, status: RsvpStatus, position: int, *, new: bool) -> None:
        if new or person_id in self.new:
            row = {"event_id": self.event_id, "person_id": person_id}
            self.new[person_id] = row | {"status": status, "position": position}
            self.first[person_id] = None
        else:
            self.changed[person_id] = {"who": person_id, "to": status, "at": position}
            self.again[person_id] = None

    async def write(self, session: AsyncSession) -> None:
        if self.new:
            await session.execute(insert(Rsvp.__table__), list(self.new.values()))
        if self.changed:
            statement = (
                update(Rsvp.__table__)
                .where(Rsvp.event_id == self.event_id, Rsvp.person_id == bindparam("who"))
                .values(status=bindparam("to"), position=bindparam("at"))
            )
            await session.execute(statement, list(self.changed.values()))
        self.new, self.changed = {}, {}


async def promote_waitlisted(session: AsyncSession, event: Event, delivery: Delivery) -> list[int]:
    """Give free seats to the people waiting, first come first served; queue one message for
    each (``promotion:<event>:<generation>``) and plan their reminders. Returns their ids.

    For the host side too: call it after raising an event's capacity, in the same transaction.
    """
    locked = await lock_event(session, event.id)
    if locked is None or locked.status is not EventStatus.PUBLISHED:
        return []
    going = await _going(session, locked.id)
    waiting_count = await session.scalar(
        select(func.count()).where(Rsvp.event_id == locked.id, Rsvp.status == RsvpStatus.WAITLISTED)
    )
    seats = free_seats(going, locked.capacity, int(waiting_count or 0))
    if seats == 0:
        return []
    statement = (
        select(Rsvp)
        .where(Rsvp.event_id == locked.id, Rsvp.status == RsvpStatus.WAITLISTED)
        .order_by(Rsvp.position, Rsvp.id)
        .limit(seats)
    )
    promoted = list((await session.scalars(statement)).all())
    for rsvp in promoted:
        rsvp.status = RsvpStatus.GOING
        rsvp.generation += 1
    await session.flush()
    for rsvp in promoted:
        await delivery.enqueue(
            session,
            person_id=rsvp.person_id,
            key=promotion_key(locked.id, rsvp.generation),
            expires_at=locked.starts_at,
        )
    people = [rsvp.person_id for rsvp in promoted]
    await plan(session, delivery, locked, now=delivery.clock.now(), person_ids=people)
    return people
