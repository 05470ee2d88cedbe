"""The ledger on a migrated database: enqueue, claim, outcomes, expiry, lost leases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from events.db.engine import create_engine, create_sessionmaker
from events.db.migrate import upgrade_to_head
from events.db.models import Delivery, DeliveryStatus, Person
from events.delivery import ledger
from events.delivery.ledger import Outcome
from tests.services import fresh_database, postgres_database, postgres_url

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
OWNER = "sender-1"


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
async def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    sessions = create_sessionmaker(engine)
    async with sessions() as session, session.begin():
        session.add_all(
            Person(id=person_id, first_name=f"P{person_id}", can_message=True)
            for person_id in range(1, 11)
        )
    return sessions


async def all_rows(sessions: async_sessionmaker[AsyncSession]) -> list[Delivery]:
    async with sessions() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def test_a_key_is_written_once_per_person(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        first = await ledger.enqueue(session, person_id=1, key="notice:1:1", due_at=NOW)
        again = await ledger.enqueue(session, person_id=1, key="notice:1:1", due_at=NOW)
        other = await ledger.enqueue(session, person_id=2, key="notice:1:1", due_at=NOW)
        revision = await ledger.enqueue(session, person_id=1, key="notice:1:2", due_at=NOW)
        many = await ledger.enqueue_many(
            session, key="notice:1:1", person_ids=[1, 2, 3, 3, 4], due_at=NOW
        )
    assert (first, again, other, revision, many) == (True, False, True, True, 2)
    rows = await all_rows(sessions)
    assert len(rows) == 5
    # Without its own expiry a row is worth sending for a day after it falls due.
    assert {row.expires_at for row in rows} == {NOW + ledger.DEFAULT_LIFETIME}


async def test_keys_are_checked(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        for bad in ("reminder", ":12", "reminder:", "x:" + "1" * 70):
            with pytest.raises(ValueError, match="delivery key"):
                await ledger.enqueue(session, person_id=1, key=bad, due_at=NOW)


async def test_claim_takes_due_rows_earliest_first_and_skips_blocked_people(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        for person_id in range(1, 6):
            await ledger.enqueue(
                session,
                person_id=person_id,
                key="announce:1",
                due_at=NOW - timedelta(minutes=person_id),
            )
        await ledger.enqueue(session, person_id=6, key="announce:1", due_at=NOW + timedelta(1))
        blocked = await session.get(Person, 5)
        assert blocked is not None
        blocked.blocked_at = NOW - timedelta(days=1)

    async with sessions() as session, session.begin():
        first = await ledger.claim(session, owner=OWNER, now=NOW, limit=2)
        rest = await ledger.claim(session, owner=OWNER, now=NOW, limit=10)
        upcoming = await ledger.next_due(session, owner=OWNER)

    assert [row.person_id for row in first] == [4, 3]
    assert [row.person_id for row in rest] == [2, 1]
    assert upcoming == NOW + timedelta(1)  # person 5's row waits for them, not the wake-up
    states = {row.person_id: (row.status, row.lease_until) for row in await all_rows(sessions)}
    assert states[1] == (DeliveryStatus.SENDING, NOW + ledger.LEASE)
    assert states[5][0] is DeliveryStatus.PENDING
    assert states[6][0] is DeliveryStatus.PENDING


async def test_outcomes_are_recorded_and_a_blocked_person_is_marked(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        await ledger.enqueue_many(session, key="announce:1", person_ids=[1, 2, 3, 4], due_at=NOW)
        claimed = {
            row.person_id: row.id
            for row in await ledger.claim(session, owner=OWNER, now=NOW, limit=9)
        }
    later = NOW + timedelta(seconds=30)
    async with sessions() as session, session.begin():
        await ledger.record(
            session,
            [
                Outcome(claimed[1], 1, DeliveryStatus.SENT, tries=1, message_id=77, sent_at=NOW),
                Outcome(claimed[2], 2, DeliveryStatus.BLOCKED, tries=1, error="Forbidden"),
                Outcome(claimed[3], 3, DeliveryStatus.FAILED, tries=2, error="x" * 400),
                Outcome(
                    claimed[4], 4, DeliveryStatus.PENDING, tries=1, error="502", retry_at=later
                ),
            ],
            now=NOW,
            owner=OWNER,
        )
    rows = {row.person_id: row for row in await all_rows(sessions)}
    assert (rows[1].status, rows[1].message_id, rows[1].sent_at) == (DeliveryStatus.SENT, 77, NOW)
    assert rows[2].status is DeliveryStatus.BLOCKED
    assert rows[3].status is DeliveryStatus.FAILED
    assert rows[3].last_error == "x" * 255
    assert rows[3].attempts == 2
    assert (rows[4].status, rows[4].due_at, rows[4].lease_until) == (
        DeliveryStatus.PENDING,
        later,
        None,
    )
    async with sessions() as session:
        person = await session.get(Person, 2)
        assert person is not None
        assert (person.can_message, person.blocked_at) == (False, NOW)
        counts = await ledger.batch_counts(session, "announce:1", [1, 2, 3, 4])
    assert (counts.total, counts.sent, counts.blocked, counts.failed, counts.waiting) == (
        4,
        1,
        1,
        1,
        1,
    )


async def test_overdue_rows_expire_and_lost_leases_become_unknown_or_pending(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        await ledger.enqueue(
            session, person_id=1, key="reminder:1:60", due_at=NOW, expires_at=NOW + timedelta(1)
        )
        await ledger.enqueue(
            session, person_id=2, key="reminder:1:60", due_at=NOW, expires_at=NOW + timedelta(3)
        )
        await ledger.enqueue(session, person_id=3, key="reminder:1:60", due_at=NOW)
        await ledger.enqueue(session, person_id=4, key="reminder:1:60", due_at=NOW)
        await ledger.enqueue(session, person_id=5, key="reminder:1:60", due_at=NOW)
        held = await ledger.claim(session, owner=OWNER, now=NOW, limit=5)
    ids = {row.person_id: row.id for row in held}
    async with sessions() as session, session.begin():
        await ledger.release(session, [ids[1], ids[2]], owner=OWNER)
        await ledger.mark_tried(session, [ids[3], ids[4]], now=NOW, owner=OWNER)
    later = NOW + timedelta(days=2)
    async with sessions() as session, session.begin():
        recovered = await ledger.recover_lost(session, now=later, keep=[ids[4]])
        expired = await ledger.expire_overdue(session, now=later)
    assert (recovered.unknown, recovered.returned, expired) == (1, 1, 2)
    states = {row.person_id: row.status for row in await all_rows(sessions)}
    assert states == {
        1: DeliveryStatus.EXPIRED,
        2: DeliveryStatus.PENDING,
        3: DeliveryStatus.UNKNOWN,  # its HTTP call had started: it may have arrived
        4: DeliveryStatus.SENDING,  # still held by this process
        5: DeliveryStatus.EXPIRED,  # never tried: back to pending (then past its lifetime)
    }


async def test_a_stalled_claimer_never_sends_what_another_took_back(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    lease = timedelta(seconds=30)
    async with sessions() as session, session.begin():
        await ledger.enqueue_many(session, key="announce:1", person_ids=[1, 2, 3], due_at=NOW)
        mine = await ledger.claim(session, now=NOW, limit=9, owner="first", lease=lease)
    ids = {row.person_id: row.id for row in mine}
    async with sessions() as session, session.begin():
        # The others wake when the first one's lease would run out; the first one does not.
        assert await ledger.next_due(session, owner="second") == NOW + lease
        assert await ledger.next_due(session, owner="first") is None
        await ledger.mark_tried(session, [ids[1]], now=NOW, owner="first")
        # A renewal keeps person 3's row with the first claimer past the first lease.
        await ledger.renew(
            session, [ids[3]], now=NOW + timedelta(seconds=20), owner="first", lease=lease
        )
    later = NOW + timedelta(seconds=31)
    async with sessions() as session, session.begin():
        recovered = await ledger.recover_lost(session, now=later)
        taken = await ledger.claim(session, now=later, limit=9, owner="second", lease=lease)
    assert (recovered.unknown, recovered.returned) == (1, 1)
    assert [row.id for row in taken] == [ids[2]]
    async with sessions() as session, session.begin():
        # The first claimer wakes up: person 2's row is no longer its own to send or record.
        still_mine = await ledger.mark_tried(session, [ids[2], ids[3]], now=later, owner="first")
        await ledger.record(
            session,
            [Outcome(ids[2], 2, DeliveryStatus.EXPIRED), Outcome(ids[1], 1, DeliveryStatus.SENT)],
            now=later,
            owner="first",
        )
    assert still_mine == {ids[3]}
    rows = {row.person_id: row for row in await all_rows(sessions)}
    assert rows[1].status is DeliveryStatus.UNKNOWN  # taken back as possibly sent: kept so
    assert (rows[2].status, rows[2].claimed_by) == (DeliveryStatus.SENDING, "second")
    assert (rows[3].status, rows[3].claimed_by) == (DeliveryStatus.SENDING, "first")


async def test_two_postgresql_claimers_never_take_the_same_row(tmp_path: Path) -> None:
    async with postgres_database(postgres_url()) as url:
        await upgrade_to_head(url)
        engine = create_engine(url)
        try:
            sessions = create_sessionmaker(engine)
            async with sessions() as session, session.begin():
                session.add_all(
                    Person(id=person_id, first_name="P", can_message=True)
                    for person_id in range(1, 101)
                )
                await ledger.enqueue_many(
                    session, key="announce:9", person_ids=range(1, 101), due_at=NOW
                )

            first_claimed = asyncio.Event()
            finish_first = asyncio.Event()

            async def first() -> list[int]:
                async with sessions() as session, session.begin():
                    rows = await ledger.claim(session, owner=OWNER, now=NOW, limit=60)
                    first_claimed.set()
                    await finish_first.wait()  # holds its row locks, uncommitted
                return [row.id for row in rows]

            async def second() -> list[int]:
                await first_claimed.wait()
                async with sessions() as session, session.begin():
                    rows = await ledger.claim(session, owner=OWNER, now=NOW, limit=60)
                return [row.id for row in rows]

            holder = asyncio.create_task(first())
            # SKIP LOCKED: the second claimer neither waits for the first nor gets its rows.
            theirs = await asyncio.wait_for(second(), timeout=5)
            finish_first.set()
            mine = await holder
            assert len(mine) == 60
            assert len(theirs) == 40
            assert not set(mine) & set(theirs)
            async with sessions() as session:
                states = list(await session.scalars(select(Delivery.status)))
            assert states == [DeliveryStatus.SENDING] * 100
        finally:
            await engine.dispose()
