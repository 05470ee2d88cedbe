"""Models on a migrated database: time zones, uniqueness, cascades, constraints, defaults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from events.db.engine import create_engine, create_sessionmaker
from events.db.migrate import migrate_engine, upgrade_to_head
from events.db.models import (
    Base,
    ChatType,
    Community,
    Delivery,
    DeliveryStatus,
    Event,
    EventKind,
    EventStatus,
    FsmState,
    Host,
    Person,
    Place,
    Rsvp,
    RsvpStatus,
)
from events.db.types import UTCDateTime
from tests.services import fresh_database

JAKARTA = ZoneInfo("Asia/Jakarta")
USER_ID = 2**52 - 1
OTHER_USER_ID = 777000
CHAT_ID = -1001234567890
STARTS = datetime(2026, 12, 5, 19, 0, tzinfo=JAKARTA)  # 12:00 UTC


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with fresh_database(request.param, tmp_path) as url:
        await upgrade_to_head(url)
        engine = create_engine(url)
        try:
            yield engine
        finally:
            await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


def person(person_id: int = USER_ID, name: str = "Sari") -> Person:
    return Person(id=person_id, first_name=name)


def community() -> Community:
    return Community(id=CHAT_ID, title="Ruang Aman", chat_type=ChatType.SUPERGROUP)


def event(**overrides: object) -> Event:
    values: dict[str, object] = {
        "community_id": CHAT_ID,
        "kind": EventKind.WORKSHOP,
        "title": "Mengelola cemas",
        "timezone": "Asia/Jakarta",
        "starts_at": STARTS,
        "ends_at": STARTS + timedelta(hours=1, minutes=30),
        "place": Place.ONLINE,
        "created_by": USER_ID,
    }
    values.update(overrides)
    return Event(**values)


async def seed(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Two people, a community and one event; returns the event id."""
    async with sessions.begin() as session:
        session.add_all([person(), person(OTHER_USER_ID, "Budi"), community()])
        await session.flush()
        new_event = event()
        session.add(new_event)
        await session.flush()
        return new_event.id


async def count(session: AsyncSession, model: type[Base], *where: object) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


# --- time ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()])
def test_the_utc_type_refuses_naive_datetimes(dialect: object) -> None:
    with pytest.raises(ValueError, match="naive datetime 2026-12-05T19:00:00 refused"):
        UTCDateTime().process_bind_param(datetime(2026, 12, 5, 19, 0), dialect)  # type: ignore[arg-type]


async def test_a_naive_datetime_is_refused_on_flush(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        session.add(Person(id=1, first_name="Naive", blocked_at=datetime(2026, 1, 1, 8, 0)))
        with pytest.raises(StatementError) as caught:
            await session.flush()
        assert isinstance(caught.value.orig, ValueError)
        await session.rollback()
        assert await count(session, Person) == 0


async def test_aware_times_come_back_as_the_same_instant_in_utc(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    event_id = await seed(sessions)

    async with sessions() as session:
        loaded = await session.get_one(Event, event_id)
        assert loaded.starts_at == datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
        assert loaded.starts_at.tzinfo is UTC
        assert loaded.starts_at.isoformat() == "2026-12-05T12:00:00+00:00"
        assert loaded.ends_at.isoformat() == "2026-12-05T13:30:00+00:00"
        assert loaded.created_at.tzinfo is UTC
        assert abs(loaded.created_at - datetime.now(UTC)) < timedelta(minutes=1)

        # Bound parameters are converted too: a Jakarta time finds the UTC row.
        found = await session.scalar(select(Event.id).where(Event.starts_at == STARTS))
        assert found == event_id
        later = STARTS.astimezone(ZoneInfo("Asia/Jayapura")) + timedelta(seconds=1)
        assert await session.scalar(select(Event.id).where(Event.starts_at < later)) == event_id
        earlier = STARTS - timedelta(seconds=1)
        assert await session.scalar(select(Event.id).where(Event.starts_at < earlier)) is None


async def test_telegram_ids_beyond_32_bits_round_trip(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed(sessions)
    async with sessions() as session:
        assert (await session.get_one(Person, USER_ID)).id == 4503599627370495
        loaded = await session.get_one(Community, CHAT_ID)
        assert (loaded.id, loaded.chat_type) == (-1001234567890, ChatType.SUPERGROUP)


# --- defaults and stored values -------------------------------------------------------------


async def test_defaults_of_new_rows(sessions: async_sessionmaker[AsyncSession]) -> None:
    event_id = await seed(sessions)
    async with sessions.begin() as session:
        session.add(
            Delivery(
                person_id=USER_ID,
                key=f"reminder:{event_id}:3600",
                due_at=STARTS - timedelta(hours=1),
            )
        )

    async with sessions() as session:
        sari = await session.get_one(Person, USER_ID)
        assert (sari.can_message, sari.locale, sari.timezone, sari.blocked_at) == (
            False,
            None,
            None,
            None,
        )
        group = await session.get_one(Community, CHAT_ID)
        assert (group.locale, group.timezone, group.active, group.is_forum, group.thread_id) == (
            "id",
            "Asia/Jakarta",
            True,
            False,
            None,
        )
        loaded = await session.get_one(Event, event_id)
        assert (loaded.status, loaded.revision, loaded.capacity) == (EventStatus.DRAFT, 1, None)
        delivery = await session.scalar(select(Delivery))
        assert delivery is not None
        assert (delivery.status, delivery.attempts, delivery.sent_at) == (
            DeliveryStatus.PENDING,
            0,
            None,
        )
        assert delivery.due_at == datetime(2026, 12, 5, 11, 0, tzinfo=UTC)


async def test_enums_are_stored_as_their_values(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    event_id = await seed(sessions)
    async with sessions.begin() as session:
        session.add(Rsvp(event_id=event_id, person_id=USER_ID, status=RsvpStatus.WAITLISTED))
        await session.execute(
            update(Event).where(Event.id == event_id).values(place=Place.IN_PERSON)
        )

    async with sessions() as session:
        raw = (await session.execute(text("SELECT status FROM rsvps"))).scalar_one()
        assert raw == "waitlisted"
        place = (await session.execute(text("SELECT place FROM events"))).scalar_one()
        assert place == "in_person"
        rsvp = await session.scalar(select(Rsvp))
        assert rsvp is not None
        assert rsvp.status is RsvpStatus.WAITLISTED


async def test_fsm_state_keeps_json_data(sessions: async_sessionmaker[AsyncSession]) -> None:
    data = {"title": "Cerita & dukungan <b>", "step": 3, "zones": ["WIB", "WITA"], "x": None}
    async with sessions.begin() as session:
        session.add(FsmState(key="bot:1:1:42", state="Wizard:title", data=data))

    async with sessions() as session:
        loaded = await session.get_one(FsmState, "bot:1:1:42")
        assert (loaded.state, loaded.data) == ("Wizard:title", data)
        assert loaded.updated_at.tzinfo is UTC


# --- uniqueness -----------------------------------------------------------------------------


async def test_a_delivery_key_is_unique_per_person(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    event_id = await seed(sessions)
    key = f"reminder:{event_id}:3600"
    due = STARTS - timedelta(hours=1)
    async with sessions.begin() as session:
        session.add(Delivery(person_id=USER_ID, key=key, due_at=due))
        session.add(Delivery(person_id=OTHER_USER_ID, key=key, due_at=due))

    async with sessions() as session:
        session.add(Delivery(person_id=USER_ID, key=key, due_at=due + timedelta(minutes=5)))
        with pytest.raises(IntegrityError):
            await session.flush()
        await session.rollback()

        # A new revision of a notice is a new key.
        session.add(Delivery(person_id=USER_ID, key=f"notice:{event_id}:2", due_at=due))
        await session.commit()
        assert await count(session, Delivery, Delivery.person_id == USER_ID) == 2
        assert await count(session, Delivery) == 3


async def test_one_rsvp_per_event_and_person(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    event_id = await seed(sessions)
    async with sessions.begin() as session:
        session.add(Rsvp(event_id=event_id, person_id=USER_ID, status=RsvpStatus.GOING))

    async with sessions() as session:
        session.add(Rsvp(event_id=event_id, person_id=USER_ID, status=RsvpStatus.MAYBE))
        with pytest.raises(IntegrityError):
            await session.flush()
        await session.rollback()
        rows = (await session.execute(select(Rsvp.person_id, Rsvp.status))).all()
        assert rows == [(USER_ID, RsvpStatus.GOING)]


# --- cascades -------------------------------------------------------------------------------


async def test_deleting_a_person_removes_their_rsvps_deliveries_and_host_roles(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    event_id = await seed(sessions)
    async with sessions.begin() as session:
        for person_id in (USER_ID, OTHER_USER_ID):
            session.add(Rsvp(event_id=event_id, person_id=person_id, status=RsvpStatus.GOING))
            session.add(Delivery(person_id=person_id, key=f"checkin:{event_id}", due_at=STARTS))
        session.add(Host(community_id=CHAT_ID, person_id=USER_ID))
        session.add(Host(community_id=CHAT_ID, person_id=OTHER_USER_ID, added_by=USER_ID))

    async with sessions.begin() as session:
        await session.delete(await session.get_one(Person, USER_ID))

    async with sessions() as session:
        assert await count(session, Rsvp, Rsvp.person_id == USER_ID) == 0
        assert await count(session, Delivery, Delivery.person_id == USER_ID) == 0
        assert await count(session, Host, Host.person_id == USER_ID) == 0
        # Other people's rows stay; references to the person are cleared.
        assert await count(session, Rsvp, Rsvp.person_id == OTHER_USER_ID) == 1
        assert await count(session, Delivery, Delivery.person_id == OTHER_USER_ID) == 1
        budi_host = await session.get_one(Host, (CHAT_ID, OTHER_USER_ID))
        assert budi_host.added_by is None
        loaded = await session.get_one(Event, event_id)
        assert loaded.created_by is None


async def test_a_group_migrating_to_a_new_chat_id_keeps_its_events_and_hosts(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    event_id = await seed(sessions)
    async with sessions.begin() as session:
        session.add(Host(community_id=CHAT_ID, person_id=USER_ID))

    new_id = -1009876543210
    async with sessions.begin() as session:
        await session.execute(update(Community).where(Community.id == CHAT_ID).values(id=new_id))

    async with sessions() as session:
        assert (await session.get_one(Event, event_id)).community_id == new_id
        assert await count(session, Host, Host.community_id == new_id) == 1


async def test_deleting_an_event_removes_its_rsvps(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    event_id = await seed(sessions)
    async with sessions.begin() as session:
        session.add(Rsvp(event_id=event_id, person_id=USER_ID, status=RsvpStatus.GOING))
    async with sessions.begin() as session:
        await session.execute(delete(Event).where(Event.id == event_id))
    async with sessions() as session:
        assert await count(session, Rsvp) == 0
        assert await count(session, Person) == 2


# --- check constraints ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        ("UPDATE rsvps SET status = 'attending'", "ck_rsvps_status"),
        ("UPDATE deliveries SET status = 'lost'", "ck_deliveries_status"),
        ("UPDATE events SET status = 'archived'", "ck_events_status"),
        ("UPDATE events SET kind = 'party'", "ck_events_kind"),
        ("UPDATE events SET place = 'moon'", "ck_events_place"),
        ("UPDATE communities SET chat_type = 'channel'", "ck_communities_chat_type"),
        ("UPDATE events SET capacity = 0", "ck_events_capacity_positive"),
        ("UPDATE events SET ends_at = starts_at", "ck_events_ends_after_start"),
    ],
)
async def test_check_constraints_reject_unknown_values(
    sessions: async_sessionmaker[AsyncSession], statement: str, constraint: str
) -> None:
    event_id = await seed(sessions)
    async with sessions.begin() as session:
        session.add(Rsvp(event_id=event_id, person_id=USER_ID, status=RsvpStatus.GOING))
        session.add(Delivery(person_id=USER_ID, key=f"checkin:{event_id}", due_at=STARTS))

    async with sessions() as session:
        with pytest.raises(IntegrityError, match=constraint):
            await session.execute(text(statement))


async def test_an_unknown_status_is_refused_before_reaching_the_database(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    event_id = await seed(sessions)
    async with sessions() as session:
        session.add(Rsvp(event_id=event_id, person_id=USER_ID, status="attending"))
        with pytest.raises(StatementError, match="attending"):
            await session.flush()


# --- engine ---------------------------------------------------------------------------------


async def test_sqlite_connections_are_configured(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")  # the driver is added
    try:
        async with engine.connect() as connection:
            pragmas = [
                (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
                for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
            ]
        assert engine.dialect.driver == "aiosqlite"
        assert pragmas == ["wal", 5000, 1, 1]  # synchronous 1 = NORMAL
    finally:
        await engine.dispose()


async def test_a_sqlite_transaction_holds_the_write_lock_from_its_start(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'locks.db'}"
    await upgrade_to_head(url)
    engine = create_engine(url)
    try:
        async with engine.connect() as first, engine.connect() as second:
            # A read is enough: the transaction began with BEGIN IMMEDIATE.
            await first.execute(text("SELECT count(*) FROM people"))
            deferred = await second.execution_options(sqlite_begin="DEFERRED")
            await deferred.exec_driver_sql("PRAGMA busy_timeout=0")
            with pytest.raises(OperationalError, match="database is locked"):
                await deferred.execute(
                    text(
                        "INSERT INTO people (id, first_name, can_message, created_at, "
                        "updated_at) VALUES (1, 'x', 0, '2026-01-01', '2026-01-01')"
                    )
                )
            await deferred.rollback()
            await first.rollback()
    finally:
        await engine.dispose()


async def test_in_memory_sqlite_is_migrated_and_shared_between_sessions() -> None:
    engine = create_engine("sqlite+aiosqlite:///:memory:")
    try:
        await migrate_engine(engine)
        sessions = create_sessionmaker(engine)
        async with sessions.begin() as session:
            session.add(person())
        async with sessions() as session:
            assert (await session.get_one(Person, USER_ID)).first_name == "Sari"
    finally:
        await engine.dispose()
