"""Which events a feed holds (the database side of the feeds)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from events.db.models import Community, Event, EventStatus, Host, Rsvp, RsvpStatus

# Past events stay so calendars keep their history; cancelled ones stay a while, marked.
HISTORY = timedelta(days=90)
CANCELLED_KEPT = timedelta(days=30)
MOST = 2000  # events in one feed at most (the soonest-ending first out)
# How long an answer to one of a community's events counts as the person being in it.
MEMBER_EVIDENCE = timedelta(days=90)

IN_PERSONAL_FEED = (RsvpStatus.GOING, RsvpStatus.MAYBE)


def _shown(now: datetime) -> object:
    return and_(
        Event.ends_at >= now - HISTORY,
        or_(
            Event.status == EventStatus.PUBLISHED,
            and_(Event.status == EventStatus.CANCELLED, Event.updated_at >= now - CANCELLED_KEPT),
        ),
    )


def _latest(query: Select[tuple[Event]]) -> Select[tuple[Event]]:
    return query.order_by(Event.starts_at.desc(), Event.id.desc()).limit(MOST)


def _answered(person_id: int, statuses: Collection[RsvpStatus]) -> Select[tuple[int]]:
    return select(Rsvp.event_id).where(Rsvp.person_id == person_id, Rsvp.status.in_(statuses))


async def personal_events(
    session: AsyncSession,
    person_id: int,
    now: datetime,
    *,
    communities: Collection[int] = (),
) -> list[Event]:
    """What the person is going or may go to, upcoming and recent; with ``communities`` (the
    person's own, see :func:`member_communities`) also every other event of those, except the
    ones they said they cannot go to."""
    theirs = Event.id.in_(_answered(person_id, IN_PERSONAL_FEED))
    if communities:
        declined = _answered(person_id, [RsvpStatus.DECLINED])
        theirs = or_(
            theirs,
            and_(Event.community_id.in_(list(communities)), Event.id.not_in(declined)),
        )
    query = select(Event).where(theirs, _shown(now))
    return list(await session.scalars(_latest(query)))


async def member_communities(
    session: AsyncSession, person_id: int, now: datetime
) -> list[Community]:
    """The active communities the database knows the person to be in, by title: they host it,
    or lately created or answered (any answer) one of its events. Every answer
    needed membership (a tap on the group's post, or a card only members open), so this asks
    Telegram nothing; a feed request must not."""
    hosted = select(Host.community_id).where(Host.person_id == person_id)
    created = select(Event.community_id).where(
        Event.created_by == person_id, Event.created_at >= now - MEMBER_EVIDENCE
    )
    answered = (
        select(Event.community_id)
        .join(Rsvp, Rsvp.event_id == Event.id)
        .where(Rsvp.person_id == person_id, Rsvp.updated_at >= now - MEMBER_EVIDENCE)
    )
    known = union(hosted, created, answered).subquery()
    query = (
        select(Community)
        .where(Community.active.is_(True), Community.id.in_(select(known.c[0])))
        .order_by(Community.title, Community.id)
    )
    return list(await session.scalars(query))


async def community_events(session: AsyncSession, community_id: int, now: datetime) -> list[Event]:
    """The community's published events, upcoming and recent."""
    query = select(Event).where(Event.community_id == community_id, _shown(now))
    return list(await session.scalars(_latest(query)))


async def answer_of(session: AsyncSession, person_id: int, event_id: int) -> RsvpStatus | None:
    """The person's answer to an event, if any."""
    status = await session.scalar(
        select(Rsvp.status).where(Rsvp.event_id == event_id, Rsvp.person_id == person_id)
    )
    return None if status is None else RsvpStatus(status)
