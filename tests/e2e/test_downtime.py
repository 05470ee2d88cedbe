"""Reminders across a crash and an outage, with `events run` as a separate process.

The scenario's data is written straight into the database (the real planner plans the reminder
rows), then `events run` starts against the emulator. A crash is a SIGKILL sent by the emulator
while it holds the K-th reminder, so that one is exactly in flight; an outage is a restart with
the process's clock shifted by libfaketime. Assertions read what the emulator recorded and what
the ledger holds.

Limits and the bot's send rate are sped up alike (CONTRACT §8): the 1000 reminders go at
25 × SCALE a second. EVENTS_TEST_SCALE=1 runs the crash at Telegram's real pace (bench size);
EVENTS_TEST_CRASH_PEOPLE and EVENTS_TEST_CRASH_KILL_AT change its size.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events import reminders
from events.db.engine import SQLITE_BEGIN_OPTION, create_engine, create_sessionmaker
from events.db.migrate import upgrade_to_head
from events.db.models import (
    ChatType,
    Community,
    Delivery,
    DeliveryStatus,
    Event,
    EventKind,
    EventStatus,
    Person,
    Place,
    Rsvp,
    RsvpStatus,
)
from events.delivery import ledger
from events.delivery.sender import SendPolicy
from events.emulator import ApiCall, BotAPIEmulator, Limits
from events.emulator import Person as User
from tests.e2e.conftest import RunEvents, eventually

if TYPE_CHECKING:
    from events.delivery import Delivery as DeliveryService

SCALE = float(os.environ.get("EVENTS_TEST_SCALE", "4"))
CRASH_PEOPLE = int(os.environ.get("EVENTS_TEST_CRASH_PEOPLE", "1000"))
CRASH_KILL_AT = int(os.environ.get("EVENTS_TEST_CRASH_KILL_AT", "300"))
SEND_RATE = {"EVENTS_SEND_RATE": f"{25 * SCALE:g}", "EVENTS_LIMITS_SCALE": f"{SCALE:g}"}

GROUP_ID = -1001234567890
TITLE = "Lingkar Dukungan"
HOUR = 3600


# How late the bot comes back: its clock shows this long before the start when the process
# starts (a quarter of a minute more than 30 minutes: the reminder goes within seconds of the
# start-up, and says the time left rounded to the minute).
LATE = timedelta(minutes=30, seconds=15)


def shift_to(instant: datetime) -> timedelta:
    """How far to shift a process started now for its clock to show ``instant``."""
    return instant - datetime.now(UTC)


@pytest.fixture
def emulator_limits() -> Limits:
    return Limits(scale=SCALE)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The bot's database, schema made, as this test process sees it."""
    await upgrade_to_head(database_url)
    engine = create_engine(database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


class _Ledger:
    """What the planner asks of delivery, with no bot running: the rows go straight into the
    ledger, and the bot finds them when it starts."""

    async def enqueue_rows(self, session: AsyncSession, rows: Iterable[ledger.Planned]) -> int:
        return await ledger.enqueue_rows(session, rows)

    def wake_after_commit(self, session: AsyncSession, due: datetime) -> None:
        pass


def opened(emulator: BotAPIEmulator, name: str) -> User:
    """A Telegram user who opened the private chat with the bot at some point."""
    user = emulator.user(name, language_code="id")
    user.record.started = True
    return user


async def seed(
    sessions: async_sessionmaker[AsyncSession],
    people: Iterable[tuple[User, str | None]],
    *,
    starts_at: datetime,
    answered_at: datetime,
) -> int:
    """A community with one online event at ``starts_at``; ``people`` (each with their own
    reminder choice, or None for the community's "1 hour before") answered "going" at
    ``answered_at``, when the planner wrote their rows. Returns the event's id."""
    async with sessions() as session, session.begin():
        session.add(
            Community(
                id=GROUP_ID, title="Lingkar Tenang", chat_type=ChatType.SUPERGROUP, reminders="3600"
            )
        )
        event = Event(
            community_id=GROUP_ID,
            kind=EventKind.WEBINAR,
            title=TITLE,
            timezone="Asia/Jakarta",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            place=Place.ONLINE,
            join_link="https://meet.example.org/lingkar",
            status=EventStatus.PUBLISHED,
        )
        session.add(event)
        for position, (user, choice) in enumerate(people):
            session.add(
                Person(
                    id=user.id,
                    first_name=user.first_name,
                    language_code=user.language_code,
                    can_message=True,
                    reminders=choice,
                )
            )
            session.add(
                Rsvp(event=event, person_id=user.id, status=RsvpStatus.GOING, position=position)
            )
        await session.flush()
        delivery = cast("DeliveryService", _Ledger())
        await reminders.plan(session, delivery, event, now=answered_at)
        return event.id


@dataclass(frozen=True)
class Row:
    status: DeliveryStatus
    message_id: int | None
    attempts: int


async def reminder_rows(
    sessions: async_sessionmaker[AsyncSession], event_id: int, offset: int = HOUR
) -> dict[int, Row]:
    """person -> their ``reminder:<event>:<offset>`` row."""
    async with sessions() as session:
        await session.connection(execution_options={SQLITE_BEGIN_OPTION: "DEFERRED"})
        found = await session.execute(
            select(
                Delivery.person_id, Delivery.status, Delivery.message_id, Delivery.attempts
            ).where(Delivery.key == reminders.reminder_key(event_id, offset))
        )
        return {
            person: Row(DeliveryStatus(status), message_id, attempts)
            for person, status, message_id, attempts in found.all()
        }


def reminder_calls(emulator: BotAPIEmulator) -> list[ApiCall]:
    """Every reminder the emulator took (answered or not)."""
    return [
        call
        for call in emulator.calls_to("sendMessage", ok=True)
        if str(call.params.get("text", "")).startswith("⏰")
    ]


async def seed_a_crowd(
    emulator: BotAPIEmulator, sessions: async_sessionmaker[AsyncSession], count: int
) -> tuple[list[User], int]:
    """``count`` people going to one event, whose 1-hour reminder fell due a minute ago for all
    of them at once (they answered yesterday); the people and the event's id."""
    people = [opened(emulator, f"Peserta {n}") for n in range(count)]
    now = datetime.now(UTC)
    event_id = await seed(
        sessions,
        [(person, None) for person in people],
        starts_at=now + timedelta(minutes=59),
        answered_at=now - timedelta(days=1),
    )
    return people, event_id


async def settled(sessions: async_sessionmaker[AsyncSession], event_id: int) -> bool:
    """No 1-hour reminder of the event is waiting or being sent any more."""
    async with sessions() as session:
        await session.connection(execution_options={SQLITE_BEGIN_OPTION: "DEFERRED"})
        waiting = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.key == reminders.reminder_key(event_id, HOUR))
            .where(Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)))
        )
    return waiting == 0


async def test_a_sigkill_in_the_middle_of_1000_reminders_sends_none_twice_and_loses_none(
    emulator: BotAPIEmulator,
    run_events: RunEvents,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    people, event_id = await seed_a_crowd(emulator, sessions, CRASH_PEOPLE)

    first = await run_events(database_url=database_url, env=SEND_RATE, wait=False)
    in_flight: list[ApiCall] = []

    def crash(call: ApiCall) -> None:
        # The emulator has taken the K-th reminder and not answered yet: SIGKILL now.
        in_flight.append(call)
        first.process.kill()

    hook = emulator.on_call("sendMessage", crash, n=CRASH_KILL_AT)
    await first.ready()
    await emulator.wait_until(lambda: hook.fired, timeout=60, message="no kill")
    await first.wait()
    at_kill = await reminder_rows(sessions, event_id)
    taken_before_restart = Counter(int(call.chat_id) for call in reminder_calls(emulator))
    sending = {person for person, row in at_kill.items() if row.status is DeliveryStatus.SENDING}
    assert sum(row.status is DeliveryStatus.SENT for row in at_kill.values()) < CRASH_KILL_AT
    assert int(in_flight[0].chat_id) in sending

    # Up again six and a half minutes later (the dead process's leases ran out), before the start.
    second = await run_events(
        database_url=database_url, env=SEND_RATE, shift=timedelta(minutes=6, seconds=30)
    )

    # Waiting on the emulator rather than polling the database: the emulator runs in this
    # process and stamps each call when it handles it, so a busy test process would see sends
    # bunched together that were not. A claim round pauses the sends for a second at most.
    await emulator.quiet(3.0, timeout=90)
    await eventually(
        lambda: settled(sessions, event_id), timeout=10, message="reminders still waiting"
    )
    rows = await reminder_rows(sessions, event_id)
    assert await second.stop() == 0
    assert "Traceback" not in second.output

    received = Counter(int(call.chat_id) for call in reminder_calls(emulator))
    assert len(rows) == len(people)
    # Nobody twice.
    assert max(received.values()) == 1
    unknown = {person for person, row in rows.items() if row.status is DeliveryStatus.UNKNOWN}
    sent = {person for person, row in rows.items() if row.status is DeliveryStatus.SENT}
    assert sent | unknown == set(rows)
    # Every row sent is a message the person has, with its id.
    for person in sent:
        assert received[person] == 1
        message = emulator.person(person).last_message
        assert message is not None
        assert message.message_id == rows[person].message_id
    # Those in flight at the kill are unknown and got nothing after the restart: the message
    # the emulator took during the kill (the K-th, and any other it took) is the only one.
    assert unknown <= sending
    assert int(in_flight[0].chat_id) in unknown
    for person in unknown:
        assert received[person] == taken_before_restart[person] <= 1
    # Everybody else got it: only the sends under way at the kill are in doubt (with the few
    # next in line, written as tried together just before they go).
    ahead = math.ceil(float(SEND_RATE["EVENTS_SEND_RATE"]) * SendPolicy().mark_ahead)
    assert len(unknown) <= ahead + 8, f"{len(unknown)} reminders left unknown"
    assert emulator.violations == []
    last = emulator.person(people[-1].id).last_message
    assert last is not None
    assert last.text.startswith(f"⏰ {TITLE} dimulai dalam 5")  # about 52 minutes


async def test_a_reminder_due_while_the_bot_was_down_goes_late_and_once(
    emulator: BotAPIEmulator,
    run_events: RunEvents,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dewi = opened(emulator, "Dewi")
    sam = opened(emulator, "Sam")
    starts = datetime.now(UTC) + timedelta(hours=3)
    event_id = await seed(
        sessions, [(dewi, None), (sam, "900")], starts_at=starts, answered_at=datetime.now(UTC)
    )

    # Down from before the reminder's moment (2 h from now) until 30 minutes after it.
    first = await run_events(database_url=database_url, shift=shift_to(starts - LATE))
    late = await dewi.wait_for_message(contains="⏰", timeout=30)
    assert late.text.startswith(f"⏰ {TITLE} dimulai dalam 30 menit.")  # the time left
    row = await eventually(lambda: sent(sessions, event_id, dewi.id))
    assert row.attempts == 1
    assert row.message_id == late.message_id
    assert await first.stop() == 0

    # Up again 20 minutes later: Sam's 15-minute reminder goes, Dewi's does not go again.
    second = await run_events(
        database_url=database_url, shift=shift_to(starts - LATE + timedelta(minutes=20))
    )
    assert (await sam.wait_for_message(contains="⏰", timeout=30)).text.startswith(
        f"⏰ {TITLE} dimulai dalam 10 menit."
    )
    await eventually(lambda: sent(sessions, event_id, sam.id, offset=900))
    await emulator.quiet(0.3)
    assert [m.message_id for m in dewi.bot_messages] == [late.message_id]
    assert (await reminder_rows(sessions, event_id))[dewi.id] == row
    assert await second.stop() == 0
    assert "Traceback" not in first.output + second.output


async def test_a_reminder_is_not_sent_when_the_bot_comes_back_after_the_start(
    emulator: BotAPIEmulator,
    run_events: RunEvents,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dewi = opened(emulator, "Dewi")
    now = datetime.now(UTC)
    starts = now + timedelta(hours=3)
    event_id = await seed(sessions, [(dewi, None)], starts_at=starts, answered_at=now)

    bot = await run_events(
        database_url=database_url, shift=shift_to(starts + timedelta(minutes=10))
    )

    async def expired() -> bool:
        rows = await reminder_rows(sessions, event_id)
        return rows[dewi.id].status is DeliveryStatus.EXPIRED

    await eventually(expired, timeout=30, message="the reminder did not expire")
    await emulator.quiet(0.3)
    assert emulator.calls_to("sendMessage", chat_id=dewi.id) == []
    assert await bot.stop() == 0
    assert "Traceback" not in bot.output


async def sent(
    sessions: async_sessionmaker[AsyncSession], event_id: int, person_id: int, offset: int = HOUR
) -> Row | None:
    row = (await reminder_rows(sessions, event_id, offset)).get(person_id)
    return row if row is not None and row.status is DeliveryStatus.SENT else None
