"""Which events a feed holds (the database side of the feeds)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from events.db.models import (
    Community,
    Event,
    EventStatus,
    FeedKind,
    FeedToken,
    Host,
    Person,
    Rsvp,
    RsvpStatus,
)

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


class Version(NamedTuple):
    """What decides how an event shows in a feed, short of loading it: every change of an
    event's row moves ``updated_at`` (and an edit its revision, a cancellation its status)."""

    id: int
    revision: int
    status: str
    updated_at: datetime


class PersonalLink(NamedTuple):
    """A live personal token's row and its person's language, read in one query."""

    person_id: int
    discreet: bool
    all_events: bool
    created_at: datetime
    locale: str | None
    language_code: str | None


class CommunityLink(NamedTuple):
    """A live community token's row and its community's title and language."""

    community_id: int
    created_at: datetime
    title: str
    locale: str


_VERSION = (Event.id, Event.revision, Event.status, Event.updated_at)


def _live(token_hash: str, kind: FeedKind) -> ColumnElement[bool]:
    return and_(
        FeedToken.token_hash == token_hash,
        FeedToken.revoked_at.is_(None),
        FeedToken.kind == kind,
    )


async def personal_link(session: AsyncSession, token_hash: str) -> PersonalLink | None:
    """The live personal token with this hash, or None."""
    query = (
        select(
            FeedToken.person_id,
            FeedToken.discreet,
            FeedToken.all_events,
            FeedToken.created_at,
            Person.locale,
            Person.language_code,
        )
        .join(Person, Person.id == FeedToken.person_id)
        .where(_live(token_hash, FeedKind.PERSONAL))
    )
    row = (await session.execute(query)).first()
    return None if row is None else PersonalLink(*row)


async def community_link(session: AsyncSession, token_hash: str) -> CommunityLink | None:
    """The live community token with this hash, or None."""
    query = (
        select(FeedToken.community_id, FeedToken.created_at, Community.title, Community.locale)
        .join(Community, Community.id == FeedToken.community_id)
        .where(_live(token_hash, FeedKind.COMMUNITY))
    )
    row = (await session.execute(query)).first()
    return None if row is None else CommunityLink(*row)


def _latest(query: Select[Any]) -> Select[Any]:
    return query.order_by(Event.starts_at.desc(), Event.id.desc()).limit(MOST)


def _answered(person_id: int, statuses: Collection[RsvpStatus]) -> Select[tuple[int]]:
    return select(Rsvp.event_id).where(Rsvp.person_id == person_id, Rsvp.status.in_(statuses))


def _personal(person_id: int, now: datetime, communities: Collection[int]) -> object:
    theirs = Event.id.in_(_answered(person_id, IN_PERSONAL_FEED))
    if communities:
        declined = _answered(person_id, [RsvpStatus.DECLINED])
        theirs = or_(
            theirs,
            and_(Event.community_id.in_(list(communities)), Event.id.not_in(declined)),
        )
    return and_(theirs, _shown(now))


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
    query = select(Event).where(_personal(person_id, now, communities))
    return list(await session.scalars(_latest(query)))


async def personal_versions(
    session: AsyncSession,
    person_id: int,
    now: datetime,
    *,
    communities: Collection[int] = (),
) -> list[Version]:
    """The versions of the events :func:`personal_events` gives, in the same order."""
    query = select(*_VERSION).where(_personal(person_id, now, communities))
    return [Version(*row) for row in await session.execute(_latest(query))]


def _members(person_id: int, now: datetime) -> Select[tuple[Community]]:
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
    return query


async def member_communities(
    session: AsyncSession, person_id: int, now: datetime
) -> list[Community]:
    """The active communities the database knows the person to be in, by title: they host it,
    or lately created or answered (any answer) one of its events. Every answer
    needed membership (a tap on the group's post, or a card only members open), so this asks
    Telegram nothing; a feed request must not."""
    return list(await session.scalars(_members(person_id, now)))


async def member_community_ids(session: AsyncSession, person_id: int, now: datetime) -> list[int]:
    """The ids of :func:`member_communities`, in the same order."""
    query = _members(person_id, now).with_only_columns(Community.id)
    return list(await session.scalars(query))


async def community_events(session: AsyncSession, community_id: int, now: datetime) -> list[Event]:
    """The community's published events, upcoming and recent."""
    query = select(Event).where(Event.community_id == community_id, _shown(now))
    return list(await session.scalars(_latest(query)))


async def community_versions(
    session: AsyncSession, community_id: int, now: datetime
) -> list[Version]:
    """The versions of the events :func:`community_events` gives, in the same order."""
    query = select(*_VERSION).where(Event.community_id == community_id, _shown(now))
    return [Version(*row) for row in await session.execute(_latest(query))]


async def events_by_id(session: AsyncSession, ids: Sequence[int]) -> list[Event]:
    """The events with these ids (those that still exist)."""
    if not ids:
        return []
    return list(await session.scalars(select(Event).where(Event.id.in_(list(ids)))))


async def answer_of(session: AsyncSession, person_id: int, event_id: int) -> RsvpStatus | None:
    """The person's answer to an event, if any."""
    status = await session.scalar(
        select(Rsvp.status).where(Rsvp.event_id == event_id, Rsvp.person_id == person_id)
    )
    return None if status is None else RsvpStatus(status)
