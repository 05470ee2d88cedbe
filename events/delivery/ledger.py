"""The ledger: one row per message to one person, unique per (person, key) (CONTRACT §3).

Every function works inside the caller's transaction and never commits. A feature writes its
rows with :func:`enqueue` in the same transaction as the change they announce, so nobody is
told of something the database then failed to keep; the sender sees a row only once that
transaction has committed.

States (docs/delivery.md draws them)::

    pending --claim--> sending --answer--> sent | blocked | failed
       |                  |  \\--5xx, network--> pending (due_at pushed back)
       |                  |--lease over, process gone, tried--> unknown (never re-sent)
       |                  \\--lease over, process gone, never tried--> pending
       \\--expires_at passed--> expired

A claim belongs to its claimer (``claimed_by``, one id per running sender) until
``lease_until``; a live claimer renews the lease of the rows it holds (:func:`renew`), so a
lease runs out only when its process stopped (or stalled longer than the lease). Every write
about a claimed row names its claimer: a stalled process whose rows were taken back finds out
when it marks them tried (:func:`mark_tried` returns only the rows still its own) and never
sends a row another process now holds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Integer, String, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from events.db.models import Delivery, DeliveryStatus, Person
from events.db.types import UTCDateTime, utcnow
from events.db.upsert import insert
from events.metrics import count_delivery

DEFAULT_LIFETIME = timedelta(hours=24)
"""How long a row without its own ``expires_at`` stays worth sending after it fell due."""

LEASE = timedelta(minutes=1)
"""How long a claimed row belongs to its claimer without a renewal (``EVENTS_DELIVERY_LEASE``)."""

KEY_LENGTH = 64
ERROR_LENGTH = 255
_CHUNK = 500  # rows per statement when writing many

FINAL = frozenset(
    {
        DeliveryStatus.SENT,
        DeliveryStatus.BLOCKED,
        DeliveryStatus.FAILED,
        DeliveryStatus.EXPIRED,
        DeliveryStatus.UNKNOWN,
    }
)


@dataclass(frozen=True)
class Claimed:
    """A row this process now holds in ``sending``."""

    id: int
    person_id: int
    key: str
    due_at: datetime
    expires_at: datetime | None
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed row.

    ``status`` is final, or ``pending`` for a retry at ``retry_at``. ``tries``: the HTTP calls
    made for it since it was claimed (added to ``attempts``).
    """

    id: int
    person_id: int
    status: DeliveryStatus
    tries: int = 0
    message_id: int | None = None
    error: str | None = None
    retry_at: datetime | None = None
    sent_at: datetime | None = None


def _check_key(key: str) -> None:
    kind, colon, rest = key.partition(":")
    if not kind or not colon or not rest or len(key) > KEY_LENGTH:
        raise ValueError(f"a delivery key is '<kind>:<id>…', at most {KEY_LENGTH} long: {key!r}")


def _row(person_id: int, key: str, due_at: datetime, expires_at: datetime | None) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "key": key,
        "status": DeliveryStatus.PENDING,
        "due_at": due_at,
        "expires_at": expires_at if expires_at is not None else due_at + DEFAULT_LIFETIME,
        "attempts": 0,
    }


async def enqueue(
    session: AsyncSession,
    *,
    person_id: int,
    key: str,
    due_at: datetime,
    expires_at: datetime | None = None,
) -> bool:
    """Add the row for (``person_id``, ``key``) unless it exists; True if it was added.

    Sent after the caller's transaction commits, from ``due_at`` on, never after
    ``expires_at`` (default: :data:`DEFAULT_LIFETIME` after ``due_at``).
    """
    _check_key(key)
    statement = (
        insert(session, Delivery)
        .values(_row(person_id, key, due_at, expires_at))
        .on_conflict_do_nothing(index_elements=["person_id", "key"])
        .returning(Delivery.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def enqueue_many(
    session: AsyncSession,
    *,
    key: str,
    person_ids: Iterable[int],
    due_at: datetime,
    expires_at: datetime | None = None,
) -> int:
    """:func:`enqueue` of one key for many people; returns how many rows were added."""
    rows = (Planned(pid, key, due_at, expires_at) for pid in dict.fromkeys(person_ids))
    return await enqueue_rows(session, rows)


@dataclass(frozen=True)
class Planned:
    """A row to write: who, which message, from when, until when."""

    person_id: int
    key: str
    due_at: datetime
    expires_at: datetime | None = None


async def enqueue_rows(session: AsyncSession, planned: Iterable[Planned]) -> int:
    """:func:`enqueue` of many rows (any people, any keys); returns how many were added."""
    rows = []
    for row in planned:
        _check_key(row.key)
        rows.append(_row(row.person_id, row.key, row.due_at, row.expires_at))
    if not rows:
        return 0
    # One statement with many parameter sets: SQLAlchemy sends them as multi-row INSERTs
    # ("insertmanyvalues") from a statement compiled once.
    statement = (
        insert(session, Delivery.__table__)
        .on_conflict_do_nothing(index_elements=["person_id", "key"])
        .returning(Delivery.id)
    )
    return len((await session.execute(statement, rows)).all())


def _claimable(now: datetime) -> Any:
    # A person known to have blocked the bot is skipped until they write to it again.
    return and_(
        Delivery.status == DeliveryStatus.PENDING,
        Delivery.due_at <= now,
        Person.blocked_at.is_(None),
    )


async def claim(
    session: AsyncSession, *, now: datetime, limit: int, owner: str, lease: timedelta = LEASE
) -> list[Claimed]:
    """Take up to ``limit`` due rows (earliest first) into ``sending`` for ``owner`` until
    ``now + lease``.

    Atomic across processes: on SQLite one ``UPDATE … RETURNING`` in the caller's immediate
    transaction; on PostgreSQL ``SELECT … FOR UPDATE SKIP LOCKED`` then the update, so two
    claimers never take the same row and never wait for each other.
    """
    if limit <= 0:
        return []
    pick = (
        select(Delivery.id)
        .join(Person, Person.id == Delivery.person_id)
        .where(_claimable(now))
        .order_by(Delivery.due_at, Delivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        ids = list(await session.scalars(pick.with_for_update(of=Delivery, skip_locked=True)))
        if not ids:
            return []
        chosen = Delivery.id.in_(ids)
    else:
        chosen = Delivery.id.in_(pick.scalar_subquery())
    statement = (
        update(Delivery)
        .where(chosen, Delivery.status == DeliveryStatus.PENDING)
        .values(
            status=DeliveryStatus.SENDING,
            lease_until=now + lease,
            claimed_by=owner,
            tried_at=None,
            updated_at=utcnow(),
        )
        .returning(
            Delivery.id,
            Delivery.person_id,
            Delivery.key,
            Delivery.due_at,
            Delivery.expires_at,
            Delivery.attempts,
        )
        .execution_options(synchronize_session=False)
    )
    rows = [Claimed(*row) for row in (await session.execute(statement)).all()]
    rows.sort(key=lambda row: (row.due_at, row.id))
    return rows


def _held_by(owner: str, ids: Sequence[int]) -> Any:
    return and_(
        Delivery.id.in_(ids),
        Delivery.status == DeliveryStatus.SENDING,
        Delivery.claimed_by == owner,
    )


async def mark_tried(
    session: AsyncSession, ids: Collection[int], *, now: datetime, owner: str
) -> set[int]:
    """Claimed rows whose HTTP call starts now: written (and committed) *before* the call, so
    that after a crash the ledger knows which rows may have arrived. Returns the ids still
    held by ``owner``: only those may be sent."""
    listed = list(ids)
    marked: set[int] = set()
    for start in range(0, len(listed), _CHUNK):
        result = await session.execute(
            update(Delivery)
            .where(_held_by(owner, listed[start : start + _CHUNK]))
            .values(tried_at=now)
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        )
        marked.update(result.scalars())
    return marked


async def renew(
    session: AsyncSession, ids: Collection[int], *, now: datetime, owner: str, lease: timedelta
) -> None:
    """``owner`` still holds these rows: their leases run until ``now + lease``."""
    listed = list(ids)
    for start in range(0, len(listed), _CHUNK):
        await session.execute(
            update(Delivery)
            .where(_held_by(owner, listed[start : start + _CHUNK]))
            .values(lease_until=now + lease)
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class Recovered:
    """What :func:`recover_lost` did with the rows of processes that stopped."""

    unknown: int  # tried: they may have arrived, never sent again
    returned: int  # never tried: back to pending, sent as usual


async def recover_lost(
    session: AsyncSession, *, now: datetime, keep: Collection[int] = ()
) -> Recovered:
    """Rows left in ``sending`` past their lease belonged to a process that stopped.

    Those it had started sending (``tried_at`` set; it may have died during the HTTP call)
    become ``unknown``: they may have arrived, so they are not sent again. Those it had only
    claimed go back to ``pending``: nobody has seen them.

    ``keep``: ids this process still holds (their lease may look over after the clock moved).
    """
    condition = and_(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until <= now)
    if keep:
        condition = and_(condition, Delivery.id.not_in(list(keep)))
    lost = await session.execute(
        update(Delivery)
        .where(condition, Delivery.tried_at.is_not(None))
        .values(
            status=DeliveryStatus.UNKNOWN,
            last_error="lease ran out while sending (process stopped?)",
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    untried = await session.execute(
        update(Delivery)
        .where(condition, Delivery.tried_at.is_(None))
        .values(status=DeliveryStatus.PENDING, lease_until=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    recovered = Recovered(
        int(getattr(lost, "rowcount", 0) or 0), int(getattr(untried, "rowcount", 0) or 0)
    )
    count_delivery(session, "unknown", recovered.unknown)
    return recovered


async def expire_overdue(session: AsyncSession, *, now: datetime) -> int:
    """Pending rows past their ``expires_at`` become ``expired`` (never sent)."""
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.status == DeliveryStatus.PENDING,
            or_(
                Delivery.expires_at <= now,
                and_(Delivery.expires_at.is_(None), Delivery.due_at <= now - DEFAULT_LIFETIME),
            ),
        )
        .values(status=DeliveryStatus.EXPIRED, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    expired = int(getattr(result, "rowcount", 0) or 0)
    count_delivery(session, "expired", expired)
    return expired


async def next_due(session: AsyncSession, *, owner: str | None = None) -> datetime | None:
    """When there is next something to do (None: nothing is waiting): the earliest pending
    row that may be sent falls due, or a lease of another claimer than ``owner`` runs out (its
    rows are then taken back, should that process have stopped)."""
    earliest = (
        select(func.min(Delivery.due_at))
        .join(Person, Person.id == Delivery.person_id)
        .where(Delivery.status == DeliveryStatus.PENDING, Person.blocked_at.is_(None))
    )
    due = (await session.execute(earliest)).scalar_one_or_none()
    others = select(func.min(Delivery.lease_until)).where(Delivery.status == DeliveryStatus.SENDING)
    if owner is not None:
        others = others.where(or_(Delivery.claimed_by.is_(None), Delivery.claimed_by != owner))
    lease_end = (await session.execute(others)).scalar_one_or_none()
    if due is None or lease_end is None:
        return due or lease_end
    return min(due, lease_end)


async def record(
    session: AsyncSession, outcomes: Sequence[Outcome], *, now: datetime, owner: str
) -> None:
    """Write what became of rows ``owner`` claimed; a person who blocked the bot is marked so.
    A row no longer held by ``owner`` (its lease ran out) keeps what the ledger says."""
    if not outcomes:
        return
    table = Delivery.__table__
    statement = (
        update(table)
        .where(
            table.c.id == bindparam("row_id"),
            table.c.status == DeliveryStatus.SENDING,
            table.c.claimed_by == owner,
        )
        .values(
            status=bindparam("new_status", type_=table.c.status.type),
            message_id=func.coalesce(
                bindparam("new_message_id", type_=BigInteger()), table.c.message_id
            ),
            sent_at=func.coalesce(bindparam("new_sent_at", type_=UTCDateTime()), table.c.sent_at),
            last_error=func.coalesce(
                bindparam("new_error", type_=String(ERROR_LENGTH)), table.c.last_error
            ),
            due_at=func.coalesce(bindparam("new_due_at", type_=UTCDateTime()), table.c.due_at),
            lease_until=None,
            attempts=table.c.attempts + bindparam("tried", type_=Integer()),
            updated_at=utcnow(),
        )
    )
    params = [
        {
            "row_id": outcome.id,
            "new_status": outcome.status,
            "new_message_id": outcome.message_id,
            "new_sent_at": outcome.sent_at,
            "new_error": outcome.error[:ERROR_LENGTH] if outcome.error else None,
            "new_due_at": outcome.retry_at,
            "tried": outcome.tries,
        }
        for outcome in outcomes
    ]
    for start in range(0, len(params), _CHUNK):
        await session.execute(statement, params[start : start + _CHUNK])
    for status, number in Counter(
        "retried" if o.status is DeliveryStatus.PENDING else o.status.value for o in outcomes
    ).items():
        count_delivery(session, status, number)
    blocked = sorted({o.person_id for o in outcomes if o.status is DeliveryStatus.BLOCKED})
    for start in range(0, len(blocked), _CHUNK):
        await session.execute(
            update(Person)
            .where(Person.id.in_(blocked[start : start + _CHUNK]), Person.blocked_at.is_(None))
            .values(can_message=False, blocked_at=now)
            .execution_options(synchronize_session=False)
        )


async def release(session: AsyncSession, ids: Collection[int], *, owner: str) -> None:
    """Rows ``owner`` claimed but never tried go back to ``pending`` (a clean stop)."""
    listed = list(ids)
    for start in range(0, len(listed), _CHUNK):
        await session.execute(
            update(Delivery)
            .where(_held_by(owner, listed[start : start + _CHUNK]))
            .values(status=DeliveryStatus.PENDING, lease_until=None, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class BatchCounts:
    """Where the rows of one key (a broadcast) stand."""

    total: int
    sent: int
    blocked: int  # including rows held for people who blocked the bot
    failed: int  # failed, expired or unknown
    waiting: int  # still to be sent

    @property
    def finished(self) -> bool:
        return self.waiting == 0


async def batch_counts(session: AsyncSession, key: str, person_ids: Sequence[int]) -> BatchCounts:
    """Count the rows of ``key`` for ``person_ids`` by state (uses the (person, key) index)."""
    counts: Counter[tuple[DeliveryStatus, bool]] = Counter()
    for start in range(0, len(person_ids), _CHUNK):
        rows = await session.execute(
            select(Delivery.status, Person.blocked_at.is_not(None), func.count())
            .join(Person, Person.id == Delivery.person_id)
            .where(Delivery.key == key, Delivery.person_id.in_(person_ids[start : start + _CHUNK]))
            .group_by(Delivery.status, Person.blocked_at.is_not(None))
        )
        for status, held, number in rows.all():
            counts[(DeliveryStatus(status), bool(held))] += int(number)
    sent = blocked = failed = waiting = 0
    for (status, held), number in counts.items():
        if status is DeliveryStatus.SENT:
            sent += number
        elif status is DeliveryStatus.BLOCKED or (status is DeliveryStatus.PENDING and held):
            blocked += number
        elif status in FINAL:
            failed += number
        else:
            waiting += number
    return BatchCounts(sum(counts.values()), sent, blocked, failed, waiting)
