"""A feed's ETag changes whenever what it shows changes, and never answers for another link:
an ETag that stays is a stale calendar. On SQLite and PostgreSQL, each with the answers kept
in memory between commits (`Changes`, as the app has it on SQLite) and without."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from icalendar import Calendar
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events.clock import Clock
from events.db.changes import Changes
from events.db.engine import create_engine, create_sessionmaker
from events.db.migrate import upgrade_to_head
from events.db.models import (
    ChatType,
    Community,
    Event,
    EventKind,
    EventStatus,
    FeedKind,
    FeedToken,
    Host,
    Person,
    Place,
    ProcessedUpdate,
    Rsvp,
    RsvpStatus,
)
from events.feeds import queries, tokens
from events.feeds.web import FEED_TABLES, RECHECK, Feeds
from tests.services import fresh_database

DEWI, SAM = 700000002, 700000003
TENANG, AMAN = -1001, -1002
SECRET = tokens.feed_secret("123456:test")


@dataclass
class Setup:
    sessions: async_sessionmaker[AsyncSession]
    feeds: Feeds
    clock: Clock
    going: int  # Dewi goes to it
    other: int  # another event of Lingkar Tenang
    elsewhere: int  # an event of Ruang Aman


def _event(community_id: int, title: str, now: datetime, days: int = 3) -> Event:
    return Event(
        community_id=community_id,
        kind=EventKind.WEBINAR,
        title=title,
        timezone="Asia/Jakarta",
        starts_at=now + timedelta(days=days),
        ends_at=now + timedelta(days=days, hours=1),
        place=Place.ONLINE,
        join_link="https://meet.example.org/rahasia",
        status=EventStatus.PUBLISHED,
    )


@pytest.fixture(
    params=[("sqlite", True), ("sqlite", False), ("postgresql", True), ("postgresql", False)],
    ids=["sqlite-memory", "sqlite", "postgresql-memory", "postgresql"],
)
async def setup(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Setup]:
    backend, remembered = request.param
    async with fresh_database(backend, tmp_path) as url:
        await upgrade_to_head(url)
        engine = create_engine(url)
        try:
            sessions = create_sessionmaker(engine)
            clock = Clock()
            now = clock.now()
            async with sessions() as session, session.begin():
                session.add_all(
                    [
                        Person(id=DEWI, first_name="Dewi", language_code="id"),
                        Person(id=SAM, first_name="Sam", language_code="en"),
                        Community(id=TENANG, title="Lingkar Tenang", chat_type=ChatType.SUPERGROUP),
                        Community(id=AMAN, title="Ruang Aman", chat_type=ChatType.SUPERGROUP),
                    ]
                )
                await session.flush()
                going = _event(TENANG, "Lingkar Dukungan", now)
                other = _event(TENANG, "Kelas Menulis", now, days=5)
                elsewhere = _event(AMAN, "Rahasia Ruang Aman", now)
                session.add_all([going, other, elsewhere])
                await session.flush()
                session.add(
                    Rsvp(event_id=going.id, person_id=DEWI, status=RsvpStatus.GOING, position=1)
                )

            async def username() -> str:
                return "events_test_bot"

            feeds = Feeds(
                sessions=sessions,
                clock=clock,
                secret=SECRET,
                public_url="https://feeds.example.org",
                bot_username=username,
                default_locale="id",
                changes=Changes(engine, FEED_TABLES) if remembered else None,
            )
            yield Setup(sessions, feeds, clock, going.id, other.id, elsewhere.id)
        finally:
            await engine.dispose()


@dataclass
class Answer:
    status: int
    etag: str
    last_modified: str
    data: bytes

    @property
    def titles(self) -> list[str]:
        return sorted(str(item["SUMMARY"]) for item in Calendar.from_ical(self.data).walk("VEVENT"))


async def fetch(feeds: Feeds, path: str, headers: dict[str, str] | None = None) -> Answer:
    token = path.rsplit("/", 1)[1].removesuffix(".ics")
    request = make_mocked_request("GET", path, headers=headers or {}, match_info={"token": token})
    handler = feeds.community_feed if path.startswith("/feeds/c/") else feeds.personal_feed
    try:
        response = await handler(request)
    except web.HTTPNotFound:
        return Answer(404, "", "", b"")
    assert isinstance(response, web.Response)
    return Answer(
        response.status,
        response.headers["ETag"],
        response.headers["Last-Modified"],
        bytes(response.body or b""),  # type: ignore[arg-type]
    )


async def link(setup: Setup, kind: FeedKind = FeedKind.PERSONAL, owner: int = DEWI) -> str:
    async with setup.sessions() as session, session.begin():
        _row, token = await tokens.current(session, SECRET, kind, owner, setup.clock.now())
    if kind is FeedKind.COMMUNITY:
        return f"/feeds/c/{token}.ics"
    return f"/feeds/{token}.ics"


async def changed(setup: Setup, path: str, before: Answer) -> Answer:
    """The feed again, asked with the ETag it had: it must be a 200 with another ETag."""
    again = await fetch(setup.feeds, path, {"If-None-Match": before.etag})
    assert again.status == 200
    assert again.etag != before.etag
    # and an unchanged feed is a 304 again
    assert (await fetch(setup.feeds, path, {"If-None-Match": again.etag})).status == 304
    return again


async def first(setup: Setup, path: str) -> Answer:
    found = await fetch(setup.feeds, path)
    assert found.status == 200
    assert (await fetch(setup.feeds, path, {"If-None-Match": found.etag})).status == 304
    return found


async def set_token(setup: Setup, **values: bool) -> None:
    async with setup.sessions() as session, session.begin():
        await session.execute(
            update(FeedToken)
            .where(FeedToken.person_id == DEWI, FeedToken.revoked_at.is_(None))
            .values(**values)
        )


async def test_an_edit_and_a_cancellation_change_the_etag(setup: Setup) -> None:
    path = await link(setup)
    before = await first(setup, path)
    assert before.titles == ["Lingkar Dukungan"]
    async with setup.sessions() as session, session.begin():
        event = await session.get(Event, setup.going)
        assert event is not None
        event.title = "Lingkar Dukungan (pindah jam)"
        event.revision += 1
    edited = await changed(setup, path, before)
    assert edited.titles == ["Lingkar Dukungan (pindah jam)"]
    # A bulk UPDATE (no ORM object) counts as well.
    async with setup.sessions() as session, session.begin():
        await session.execute(
            update(Event).where(Event.id == setup.going).values(status=EventStatus.CANCELLED)
        )
    cancelled = await changed(setup, path, edited)
    assert cancelled.titles == ["Dibatalkan: Lingkar Dukungan (pindah jam)"]


async def test_an_answer_brings_an_event_in_and_takes_it_out(setup: Setup) -> None:
    path = await link(setup)
    before = await first(setup, path)
    async with setup.sessions() as session, session.begin():
        session.add(Rsvp(event_id=setup.other, person_id=DEWI, status=RsvpStatus.MAYBE))
    entered = await changed(setup, path, before)
    assert entered.titles == ["Kelas Menulis", "Lingkar Dukungan"]
    async with setup.sessions() as session, session.begin():
        await session.execute(
            update(Rsvp)
            .where(Rsvp.event_id == setup.going, Rsvp.person_id == DEWI)
            .values(status=RsvpStatus.DECLINED)
        )
    # No event changed, yet a client that sends only If-Modified-Since gets the new feed (a
    # second later: the header counts whole seconds).
    setup.clock.advance(timedelta(seconds=1))
    left = await changed(setup, path, entered)
    assert left.titles == ["Kelas Menulis"]
    assert left.last_modified != entered.last_modified
    since = await fetch(setup.feeds, path, {"If-Modified-Since": entered.last_modified})
    assert since.status == 200
    assert since.titles == ["Kelas Menulis"]
    assert (await fetch(setup.feeds, path, {"If-Modified-Since": left.last_modified})).status == 304


async def test_the_persons_language_and_their_choices_change_the_etag(setup: Setup) -> None:
    path = await link(setup)
    before = await first(setup, path)
    async with setup.sessions() as session, session.begin():
        person = await session.get(Person, DEWI)
        assert person is not None
        person.locale = "en"
    english = await changed(setup, path, before)
    assert b"X-WR-CALNAME:Community events" in english.data
    await set_token(setup, discreet=True)
    discreet = await changed(setup, path, english)
    assert discreet.titles == ["Community session"]
    await set_token(setup, discreet=False, all_events=True)
    everything = await changed(setup, path, discreet)
    assert everything.titles == ["Kelas Menulis", "Lingkar Dukungan"]


async def test_the_communities_of_all_events_change_the_etag(setup: Setup) -> None:
    path = await link(setup)
    await set_token(setup, all_events=True)
    before = await first(setup, path)
    assert before.titles == ["Kelas Menulis", "Lingkar Dukungan"]
    # Made a host of Ruang Aman: its events come in.
    async with setup.sessions() as session, session.begin():
        session.add(Host(community_id=AMAN, person_id=DEWI))
    hosted = await changed(setup, path, before)
    assert hosted.titles == ["Kelas Menulis", "Lingkar Dukungan", "Rahasia Ruang Aman"]
    # Telegram told the process she left Ruang Aman: nothing is written, the feed changes.
    left: set[tuple[int, int]] = {(AMAN, DEWI)}
    setup.feeds.absent = lambda community_id, person_id: (community_id, person_id) in left
    gone = await changed(setup, path, hosted)
    assert gone.titles == ["Kelas Menulis", "Lingkar Dukungan"]
    left.clear()
    assert (await changed(setup, path, gone)).titles == hosted.titles
    # The bot left Lingkar Tenang's group: only her own answer stays.
    async with setup.sessions() as session, session.begin():
        await session.execute(update(Community).where(Community.id == TENANG).values(active=False))
    inactive = await fetch(setup.feeds, path, {"If-None-Match": hosted.etag})
    assert inactive.status == 200
    assert inactive.titles == ["Lingkar Dukungan", "Rahasia Ruang Aman"]


async def test_time_takes_an_event_out_of_the_window(setup: Setup) -> None:
    path = await link(setup)
    before = await first(setup, path)
    setup.clock.advance(RECHECK / 2)
    assert (await fetch(setup.feeds, path, {"If-None-Match": before.etag})).status == 304
    setup.clock.advance(timedelta(days=3) + queries.HISTORY + timedelta(hours=2))
    later = await changed(setup, path, before)
    assert later.titles == []


async def test_a_community_feed_follows_its_title_and_events(setup: Setup) -> None:
    path = await link(setup, FeedKind.COMMUNITY, TENANG)
    before = await first(setup, path)
    assert before.titles == ["Kelas Menulis", "Lingkar Dukungan"]
    async with setup.sessions() as session, session.begin():
        await session.execute(
            update(Community).where(Community.id == TENANG).values(title="Lingkar Teduh")
        )
    renamed = await changed(setup, path, before)
    assert b"Acara Lingkar Teduh" in renamed.data
    async with setup.sessions() as session, session.begin():
        session.add(_event(TENANG, "Sesi Baru", setup.clock.now(), days=7))
    added = await changed(setup, path, renamed)
    assert added.titles == ["Kelas Menulis", "Lingkar Dukungan", "Sesi Baru"]


async def test_a_link_answers_only_for_its_own_feed_and_stops_at_once(setup: Setup) -> None:
    dewi = await link(setup)
    sam = await link(setup, owner=SAM)
    mine = await first(setup, dewi)
    theirs = await fetch(setup.feeds, sam, {"If-None-Match": mine.etag})
    assert theirs.status == 200
    assert theirs.titles == []
    assert theirs.etag != mine.etag
    assert (await fetch(setup.feeds, dewi)).titles == ["Lingkar Dukungan"]
    # A new link: the old one is a missing page at once, even though its answer was kept.
    async with setup.sessions() as session, session.begin():
        _row, token = await tokens.renew(
            session, SECRET, FeedKind.PERSONAL, DEWI, setup.clock.now()
        )
    assert (await fetch(setup.feeds, dewi)).status == 404
    new = await fetch(setup.feeds, f"/feeds/{token}.ics")
    assert new.status == 200
    assert new.titles == ["Lingkar Dukungan"]
    # /forget: gone too.
    async with setup.sessions() as session, session.begin():
        await tokens.forget(session, DEWI)
    assert (await fetch(setup.feeds, f"/feeds/{token}.ics")).status == 404
    # A community token is not a personal one, nor the other way round.
    community = await link(setup, FeedKind.COMMUNITY, TENANG)
    assert (await fetch(setup.feeds, community.replace("/c/", "/"))).status == 404
    assert (await fetch(setup.feeds, sam.replace("/feeds/", "/feeds/c/"))).status == 404


async def test_changes_count_commits_to_the_watched_tables_only(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'changes.db'}"
    await upgrade_to_head(url)
    engine = create_engine(url)
    try:
        changes = Changes(engine, FEED_TABLES)
        sessions = create_sessionmaker(engine)
        async with sessions() as session, session.begin():
            await session.get(Person, DEWI)
            await session.execute(text("SELECT count(*) FROM events"))
            session.add(ProcessedUpdate(update_id=1))
        assert changes.count == 0
        async with sessions() as session, session.begin():
            session.add(Person(id=DEWI, first_name="Dewi"))
        assert changes.count == 1
        async with sessions() as session, session.begin():
            await session.execute(
                text("UPDATE people SET first_name = 'D' WHERE id = :id"), {"id": DEWI}
            )
        assert changes.count == 2
    finally:
        await engine.dispose()
