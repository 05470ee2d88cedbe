"""Which events a personal feed holds when it shows every event of the person's communities,
and which communities count as theirs; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.clock import Clock
from events.db.engine import create_engine, create_sessionmaker
from events.db.migrate import upgrade_to_head
from events.db.models import (
    ChatType,
    Community,
    Event,
    EventKind,
    EventStatus,
    FeedKind,
    Host,
    Person,
    Place,
    Rsvp,
    RsvpStatus,
)
from events.feeds import queries, tokens
from events.feeds.web import Feeds
from tests.services import fresh_database

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DEWI, SAM, AYU = 700000002, 700000003, 700000004
TENANG, AMAN, SEPI, TUTUP = -1001, -1002, -1003, -1004
SECRET = tokens.feed_secret("123456:test")


@pytest.fixture(params=["sqlite", "postgresql"])
async def sessions(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with fresh_database(request.param, tmp_path) as url:
        await upgrade_to_head(url)
        engine = create_engine(url)
        try:
            makes = create_sessionmaker(engine)
            async with makes() as session, session.begin():
                await _people_and_communities(session)
            yield makes
        finally:
            await engine.dispose()


class Fixed(Clock):
    """A clock that stays at NOW."""

    def now(self) -> datetime:
        return NOW


async def _people_and_communities(session: AsyncSession) -> None:
    for person_id, name in ((DEWI, "Dewi"), (SAM, "Sam"), (AYU, "Ayu")):
        session.add(Person(id=person_id, first_name=name))
    for community_id, title, active in (
        (TENANG, "Lingkar Tenang", True),
        (AMAN, "Ruang Aman", True),
        (SEPI, "Sepi", True),
        (TUTUP, "Tutup", False),
    ):
        session.add(
            Community(id=community_id, title=title, chat_type=ChatType.SUPERGROUP, active=active)
        )
    await session.flush()


def event(
    community_id: int,
    title: str,
    *,
    starts_in: timedelta = timedelta(days=3),
    status: EventStatus = EventStatus.PUBLISHED,
    updated_at: datetime = NOW,
    created_by: int | None = None,
) -> Event:
    starts_at = NOW + starts_in
    return Event(
        community_id=community_id,
        kind=EventKind.WEBINAR,
        title=title,
        timezone="Asia/Jakarta",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        place=Place.ONLINE,
        join_link="https://meet.example.org/rahasia",
        status=status,
        created_by=created_by,
        created_at=updated_at,
        updated_at=updated_at,
    )


async def add(session: AsyncSession, *rows: object) -> None:
    session.add_all(rows)
    await session.flush()


def answer(item: Event, person_id: int, status: RsvpStatus, at: datetime = NOW) -> Rsvp:
    return Rsvp(event_id=item.id, person_id=person_id, status=status, created_at=at, updated_at=at)


async def titles(
    session: AsyncSession, person_id: int, communities: list[Community] | list[int]
) -> list[str]:
    ids = [c if isinstance(c, int) else c.id for c in communities]
    found = await queries.personal_events(session, person_id, NOW, communities=ids)
    return sorted(item.title for item in found)


async def test_the_communities_a_person_is_known_to_be_in(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        answered = event(TENANG, "Lingkar Dukungan")
        long_ago = event(AMAN, "Dulu sekali", starts_in=-timedelta(days=200))
        closed = event(TUTUP, "Grup yang ditinggal bot")
        created = event(SEPI, "Dibuat Sam", created_by=SAM)
        await add(session, answered, long_ago, closed, created)
        await add(
            session,
            answer(answered, DEWI, RsvpStatus.DECLINED),  # any answer counts
            answer(long_ago, DEWI, RsvpStatus.GOING, NOW - timedelta(days=200)),
            answer(closed, DEWI, RsvpStatus.GOING),
            Host(community_id=AMAN, person_id=AYU),
        )

        def named(found: list[Community]) -> list[str]:
            return [c.title for c in found]

        # An old answer no longer counts; an inactive community never does.
        assert named(await queries.member_communities(session, DEWI, NOW)) == ["Lingkar Tenang"]
        assert named(await queries.member_communities(session, AYU, NOW)) == ["Ruang Aman"]
        assert named(await queries.member_communities(session, SAM, NOW)) == ["Sepi"]
        later = NOW + queries.MEMBER_EVIDENCE + timedelta(days=1)
        assert await queries.member_communities(session, SAM, later) == []


async def test_every_event_of_the_persons_communities_and_no_other(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        going = event(TENANG, "Lingkar Dukungan")
        other = event(TENANG, "Kelas Menulis", starts_in=timedelta(days=5))
        declined = event(TENANG, "Tidak bisa")
        waitlisted = event(TENANG, "Daftar tunggu")
        cancelled = event(TENANG, "Batal", status=EventStatus.CANCELLED)
        cancelled_long_ago = event(
            TENANG,
            "Batal lama",
            status=EventStatus.CANCELLED,
            updated_at=NOW - queries.CANCELLED_KEPT - timedelta(days=1),
        )
        recent = event(TENANG, "Minggu lalu", starts_in=-timedelta(days=7))
        old = event(TENANG, "Terlalu lama", starts_in=-queries.HISTORY - timedelta(days=1))
        draft = event(TENANG, "Draf", status=EventStatus.DRAFT)
        elsewhere = event(AMAN, "Rahasia Ruang Aman")
        elsewhere_going = event(AMAN, "Ruang Aman: hadir")
        await add(
            session,
            going,
            other,
            declined,
            waitlisted,
            cancelled,
            cancelled_long_ago,
            recent,
            old,
            draft,
            elsewhere,
            elsewhere_going,
        )
        await add(
            session,
            answer(going, DEWI, RsvpStatus.GOING),
            answer(declined, DEWI, RsvpStatus.DECLINED),
            answer(waitlisted, DEWI, RsvpStatus.WAITLISTED),
            answer(elsewhere_going, SAM, RsvpStatus.GOING),
        )
        mine = await queries.member_communities(session, DEWI, NOW)
        assert [c.id for c in mine] == [TENANG]

        assert await titles(session, DEWI, []) == ["Lingkar Dukungan"]
        assert await titles(session, DEWI, mine) == [
            "Batal",
            "Daftar tunggu",
            "Kelas Menulis",
            "Lingkar Dukungan",
            "Minggu lalu",
        ]
        # Sam's own event of another community keeps its place, the rest of it does not come.
        assert await titles(session, SAM, []) == ["Ruang Aman: hadir"]
        sams = await queries.member_communities(session, SAM, NOW)
        assert [c.id for c in sams] == [AMAN]
        assert await titles(session, SAM, sams) == ["Rahasia Ruang Aman", "Ruang Aman: hadir"]


async def test_a_group_telegram_says_the_person_left_is_out_at_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        going = event(TENANG, "Lingkar Dukungan")
        await add(session, going, event(TENANG, "Kelas Menulis"))
        await add(session, answer(going, DEWI, RsvpStatus.GOING))
    left: set[tuple[int, int]] = set()

    async def username() -> str:
        return "events_test_bot"

    feeds = Feeds(
        sessions=sessions,
        clock=Fixed(),
        secret=SECRET,
        public_url="https://feeds.example.org",
        bot_username=username,
        default_locale="id",
        absent=lambda community_id, person_id: (community_id, person_id) in left,
    )
    async with sessions() as session:
        assert await feeds.communities_of(session, DEWI) == [TENANG]
        left.add((TENANG, DEWI))
        assert await feeds.communities_of(session, DEWI) == []
        assert await titles(session, DEWI, await feeds.communities_of(session, DEWI)) == [
            "Lingkar Dukungan"
        ]


async def test_a_new_link_keeps_both_choices(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        row, token = await tokens.current(session, SECRET, FeedKind.PERSONAL, DEWI, NOW)
        assert (row.discreet, row.all_events) == (False, False)
        row.all_events = True
        await session.flush()
        renewed, new_token = await tokens.renew(session, SECRET, FeedKind.PERSONAL, DEWI, NOW)
        assert new_token != token
        assert (renewed.discreet, renewed.all_events) == (False, True)
        renewed.discreet = True
        await session.flush()
        again, _token = await tokens.renew(session, SECRET, FeedKind.PERSONAL, DEWI, NOW)
        assert (again.discreet, again.all_events) == (True, True)
        assert await tokens.find(session, token) is None
        assert await tokens.find(session, new_token) is None
        # A secret that changed (the bot's token was replaced) keeps the choices too.
        other = tokens.feed_secret("654321:other")
        moved, _token = await tokens.current(session, other, FeedKind.PERSONAL, DEWI, NOW)
        assert moved.id != again.id
        assert (moved.discreet, moved.all_events) == (True, True)
