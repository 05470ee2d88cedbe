"""Which events a feed holds (the database side of the feeds)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from events.db.models import Event, EventStatus, Rsvp, RsvpStatus

# Past events stay so calendars keep their history; cancelled ones stay a while, marked.
HISTORY = timedelta(days=90)
CANCELLED_KEPT = timedelta(days=30)
MOST = 2000  # events in one feed at most (the soonest-ending first out)

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


async def personal_events(session: AsyncSession, person_id: int, now: datetime) -> list[Event]:
    """What the person is going or may go to, upcoming and recent."""
    query = (
        select(Event)
        .join(Rsvp, Rsvp.event_id == Event.id)
        .where(Rsvp.person_id == person_id, Rsvp.status.in_(IN_PERSONAL_FEED), _shown(now))
    )
    return list(await session.scalars(_latest(query)))


async def community_events(session: AsyncSession, community_id: int, now: datetime) -> list[Event]:
    """The community's published events, upcoming and recent."""
    query = select(Event).where(Event.community_id == community_id, _shown(now))
    return list(await session.scalars(_latest(query)))


async def may_see(session: AsyncSession, person_id: int, event_id: int) -> bool:
    """A person sees an event's own file when they answered it (and did not decline)."""
    status = await session.scalar(
        select(Rsvp.status).where(Rsvp.event_id == event_id, Rsvp.person_id == person_id)
    )
    return status is not None and RsvpStatus(status) is not RsvpStatus.DECLINED
