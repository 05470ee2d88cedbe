"""Delivery end to end: ledger rows become messages, once each, within Telegram's limits.

Every scenario runs the real app against the Bot API emulator and asserts what the emulator
recorded (calls, their times, what people see) and what the ledger says.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

import pytest
from aiogram import html
from aiogram.utils.i18n import gettext
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.app import App
from events.db.models import Delivery, DeliveryStatus, Person
from events.delivery import InMemoryLimiter, OutgoingMessage, RateLimits
from events.emulator import (
    ApiCall,
    Blocked,
    BotAPIEmulator,
    Failure,
    Limits,
    RetryAfter,
    ServerError,
)
from events.emulator import Person as User
from tests.e2e.conftest import StartBot, eventually

MARK = "[uji]"


async def render_test(session: AsyncSession, person: Person, key: str) -> OutgoingMessage | None:
    """A test-only kind: ``test:<n>`` says a catalogue phrase in the recipient's language;
    ``test:gone…`` has nothing to say any more."""
    if key.startswith("test:gone"):
        return None
    phrase = gettext("Choose your language")
    return OutgoingMessage(text=f"{MARK} {html.quote(key)} {html.quote(phrase)}")


async def start(start_bot: StartBot, **options: object) -> App:
    app = await start_bot(**options)
    app.delivery.register("test", render_test)
    return app


def deliveries(emulator: BotAPIEmulator, chat_id: int | None = None) -> list[ApiCall]:
    """Successful sends of test rows (greetings and the like left out)."""
    return [
        call
        for call in emulator.calls_to("sendMessage", chat_id=chat_id, ok=True)
        if str(call.params.get("text", "")).startswith(MARK)
    ]


def attempts(emulator: BotAPIEmulator, chat_id: int) -> list[ApiCall]:
    return [
        call
        for call in emulator.calls_to("sendMessage", chat_id=chat_id)
        if str(call.params.get("text", "")).startswith(MARK)
    ]


def key_of(call: ApiCall) -> str:
    return str(call.params["text"]).split()[1]


async def started(emulator: BotAPIEmulator, *people: tuple[str, str]) -> list[User]:
    """People who open the private chat with /start (and are greeted)."""
    users = [emulator.user(name, language_code=language) for name, language in people]
    for user in users:
        await user.send("/start")
        await user.wait_for_message()
    await emulator.quiet(0.3)
    return users


async def seeded(
    app: App, emulator: BotAPIEmulator, count: int = 1, *, started: bool = True
) -> list[User]:
    """``count`` people the bot met earlier: they opened the private chat (``started``) or
    only appeared in a group. Their rows are in the database already, as the bot left them."""
    users = [emulator.user(f"Anggota {n}", language_code="id") for n in range(count)]
    async with app.sessions() as session, session.begin():
        for user in users:
            user.record.started = started
            session.add(
                Person(
                    id=user.id,
                    first_name=user.first_name,
                    language_code="id",
                    can_message=started,
                )
            )
    return users


async def statuses(app: App) -> dict[str, DeliveryStatus]:
    return {row.key: row.status for row in await rows(app)}


async def settled(app: App, expected: dict[str, DeliveryStatus]) -> None:
    """Wait until the ledger says ``expected`` (outcomes are written just after the sends)."""

    async def check() -> bool:
        return await statuses(app) == expected

    try:
        await eventually(check, timeout=5)
    except AssertionError:
        assert await statuses(app) == expected
        raise


async def enqueue(
    app: App,
    person_ids: Iterable[int],
    *keys: str,
    due_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> list[bool]:
    """Write rows in one transaction, the way a feature does."""
    added = []
    async with app.sessions() as session, session.begin():
        for person_id in person_ids:
            for key in keys:
                added.append(
                    await app.delivery.enqueue(
                        session, person_id=person_id, key=key, due_at=due_at, expires_at=expires_at
                    )
                )
    return added


async def rows(app: App, **where: object) -> list[Delivery]:
    async with app.sessions() as session:
        query = select(Delivery).order_by(Delivery.id)
        for name, value in where.items():
            query = query.where(getattr(Delivery, name) == value)
        return list(await session.scalars(query))


async def person_row(app: App, person_id: int) -> Person:
    async with app.sessions() as session:
        person = await session.get(Person, person_id)
        assert person is not None
        return person


def scaled(scale: float) -> InMemoryLimiter:
    """The bot's limits sped up like the emulator's ``Limits(scale=...)`` (CONTRACT §8)."""
    return InMemoryLimiter(RateLimits(per_second=25).scaled(scale))


# ----------------------------------------------------------------------------- once each


@pytest.mark.parametrize("emulator_limits", [Limits(scale=4)])
async def test_each_row_is_sent_once_in_the_recipients_language(
    emulator: BotAPIEmulator, start_bot: StartBot
) -> None:
    app = await start(start_bot, send_rate=100.0, limiter=scaled(4))
    dewi, sam, ayu = await started(emulator, ("Dewi", "id"), ("Sam", "en"), ("Ayu", "id"))

    added = await enqueue(app, [dewi.id, sam.id, ayu.id], "test:1", "test:2")
    again = await enqueue(app, [dewi.id], "test:1")  # the same message once more

    assert added == [True] * 6
    assert again == [False]
    await emulator.wait_until(lambda: len(deliveries(emulator)) >= 6)
    await emulator.quiet(0.5)
    sent = deliveries(emulator)
    assert Counter((call.chat_id, key_of(call)) for call in sent) == {
        (person.id, key): 1 for person in (dewi, sam, ayu) for key in ("test:1", "test:2")
    }
    assert dewi.bot_messages[-1].text.endswith("Pilih bahasa")
    assert sam.bot_messages[-1].text.endswith("Choose your language")
    ledger = await rows(app)
    assert len(ledger) == 6
    assert {row.status for row in ledger} == {DeliveryStatus.SENT}
    assert all(row.sent_at is not None and row.attempts == 1 for row in ledger)
    shown = {(m.chat.id, m.message_id) for u in (dewi, sam, ayu) for m in u.bot_messages}
    assert {(row.person_id, row.message_id) for row in ledger} <= shown
    assert emulator.violations == []


async def test_nothing_is_sent_when_the_transaction_rolls_back(
    emulator: BotAPIEmulator, start_bot: StartBot
) -> None:
    app = await start(start_bot)
    (dewi,) = await seeded(app, emulator)

    async with app.sessions() as session:
        async with session.begin():
            await app.delivery.enqueue(session, person_id=dewi.id, key="test:1")
            await session.rollback()
        await enqueue(app, [dewi.id], "test:2")

    await emulator.wait_until(lambda: deliveries(emulator, dewi.id))
    await emulator.quiet(0.3)
    assert [key_of(call) for call in deliveries(emulator)] == ["test:2"]
    await settled(app, {"test:2": DeliveryStatus.SENT})


# ----------------------------------------------------------------------------- refusals


async def test_a_person_who_never_started_the_bot_is_marked_and_their_rows_wait(
    emulator: BotAPIEmulator, start_bot: StartBot
) -> None:
    app = await start(start_bot)
    (nina,) = await seeded(app, emulator, started=False)  # met in a group, never in private

    await enqueue(app, [nina.id], "test:1")

    [row] = await eventually(lambda: rows(app, status=DeliveryStatus.BLOCKED))
    assert "can't initiate" in (row.last_error or "")
    person = await person_row(app, nina.id)
    assert person.can_message is False
    assert person.blocked_at is not None

    # Her next message waits: not even tried while she has not written to the bot.
    await enqueue(app, [nina.id], "test:2")
    await emulator.quiet(0.3)
    assert len(attempts(emulator, nina.id)) == 1
    assert [r.status for r in await rows(app, key="test:2")] == [DeliveryStatus.PENDING]

    # She opens the chat; a minute later the waiting message goes out.
    await nina.send("/start")
    await nina.wait_for_message()
    app.clock.advance(timedelta(minutes=1))
    await emulator.wait_until(lambda: deliveries(emulator, nina.id))
    assert [key_of(call) for call in deliveries(emulator, nina.id)] == ["test:2"]
    assert emulator.violations == []


async def test_a_person_who_blocked_the_bot_is_marked(
    emulator: BotAPIEmulator, start_bot: StartBot
) -> None:
    app = await start(start_bot)
    dewi, sam = await seeded(app, emulator, 2)
    emulator.faults.add("sendMessage", error=Blocked(), chat_id=dewi.id)

    await enqueue(app, [dewi.id, sam.id], "test:1")

    await eventually(lambda: rows(app, status=DeliveryStatus.BLOCKED))
    await emulator.wait_until(lambda: deliveries(emulator, sam.id))
    assert (await person_row(app, dewi.id)).blocked_at is not None
    assert (await person_row(app, sam.id)).blocked_at is None
    assert deliveries(emulator, dewi.id) == []


async def test_a_refused_message_fails_with_the_reason(
    emulator: BotAPIEmulator, start_bot: StartBot
) -> None:
    app = await start(start_bot)
    (dewi,) = await seeded(app, emulator)
    emulator.faults.add(
        "sendMessage", error=Failure(400, "Bad Request: something is wrong"), chat_id=dewi.id
    )

    await enqueue(app, [dewi.id], "test:1")

    [row] = await eventually(lambda: rows(app, status=DeliveryStatus.FAILED))
    assert row.last_error == "Bad Request: something is wrong"
    assert row.attempts == 1
    await emulator.quiet(0.3)
    assert len(attempts(emulator, dewi.id)) == 1  # not tried again


# ----------------------------------------------------------------------------- retries


@pytest.mark.parametrize("emulator_limits", [Limits(scale=8)])
async def test_after_a_429_the_chat_waits_and_the_row_is_sent_later(
    emulator: BotAPIEmulator, start_bot: StartBot
) -> None:
    app = await start(start_bot, send_rate=200.0, limiter=scaled(8))
    (dewi,) = await seeded(app, emulator)
    emulator.faults.add("sendMessage", error=RetryAfter(2), chat_id=dewi.id, nth=10)
    keys = [f"test:{n:02}" for n in range(12)]

    await enqueue(app, [dewi.id], *keys)

    await emulator.wait_until(lambda: len(deliveries(emulator, dewi.id)) == 12, timeout=10)
    tried = attempts(emulator, dewi.id)
    refused = [call for call in tried if call.error_code == 429]
    assert len(refused) == 1
    after = [call for call in tried if call.time > refused[0].time]
    assert after
    assert after[0].time - refused[0].time >= 2.0
    assert [key_of(call) for call in deliveries(emulator, dewi.id)] == keys  # in order, once
    assert emulator.violations == []
    await settled(app, dict.fromkeys(keys, DeliveryStatus.SENT))


async def test_a_server_error_is_retried(emulator: BotAPIEmulator, start_bot: StartBot) -> None:
    app = await start(start_bot)
    (dewi,) = await seeded(app, emulator)
    emulator.faults.add("sendMessage", error=ServerError(), chat_id=dewi.id)

    await enqueue(app, [dewi.id], "test:1")

    await emulator.wait_until(lambda: deliveries(emulator, dewi.id), timeout=5)
    [failed, sent] = attempts(emulator, dewi.id)
    assert failed.error_code == 502
    assert sent.ok
    assert sent.time - failed.time >= 0.9  # backed off
    await settled(app, {"test:1": DeliveryStatus.SENT})
    [row] = await rows(app)
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.SENT, 2, "Bad Gateway")
    assert len([m for m in dewi.bot_messages if m.text.startswith(MARK)]) == 1


# ----------------------------------------------------------------------------- expiry, loss


async def test_what_is_no_longer_worth_sending_expires_unsent(
    emulator: BotAPIEmulator, start_bot: StartBot
) -> None:
    app = await start(start_bot)
    (dewi,) = await seeded(app, emulator)
    now = app.clock.now()

    await enqueue(
        app,
        [dewi.id],
        "test:late",
        due_at=now - timedelta(hours=2),
        expires_at=now - timedelta(hours=1),
    )
    await enqueue(app, [dewi.id], "test:gone")  # its renderer has nothing to say any more
    await enqueue(app, [dewi.id], "test:fine")

    await emulator.wait_until(lambda: deliveries(emulator, dewi.id))
    await settled(
        app,
        {
            "test:late": DeliveryStatus.EXPIRED,
            "test:gone": DeliveryStatus.EXPIRED,
            "test:fine": DeliveryStatus.SENT,
        },
    )
    await emulator.quiet(0.3)
    assert [key_of(call) for call in attempts(emulator, dewi.id)] == ["test:fine"]


async def test_a_row_left_sending_by_a_stopped_process_is_unknown_and_not_resent(
    emulator: BotAPIEmulator, start_bot: StartBot
) -> None:
    app = await start(start_bot)
    dewi, sam = await seeded(app, emulator, 2)
    now = app.clock.now()
    async with app.sessions() as session, session.begin():
        # What a process killed during its HTTP call leaves behind (tried), and a row it had
        # claimed but not tried yet.
        for person, key, tried in ((dewi, "test:inflight", True), (sam, "test:held", False)):
            session.add(
                Delivery(
                    person_id=person.id,
                    key=key,
                    status=DeliveryStatus.SENDING,
                    due_at=now - timedelta(minutes=10),
                    expires_at=now + timedelta(hours=1),
                    lease_until=now - timedelta(minutes=1),
                    tried_at=now - timedelta(minutes=6) if tried else None,
                    attempts=0,
                )
            )

    await enqueue(app, [dewi.id], "test:next")

    await emulator.wait_until(lambda: deliveries(emulator, dewi.id))
    await settled(
        app,
        {
            "test:inflight": DeliveryStatus.UNKNOWN,
            "test:held": DeliveryStatus.SENT,
            "test:next": DeliveryStatus.SENT,
        },
    )
    await emulator.quiet(0.3)
    assert [key_of(call) for call in attempts(emulator, dewi.id)] == ["test:next"]
    assert [key_of(call) for call in attempts(emulator, sam.id)] == ["test:held"]


# ----------------------------------------------------------------------------- time


async def test_moving_the_clock_past_a_due_time_sends_at_once(
    emulator: BotAPIEmulator, start_bot: StartBot
) -> None:
    app = await start(start_bot)
    (dewi,) = await seeded(app, emulator)

    await enqueue(app, [dewi.id], "test:later", due_at=app.clock.now() + timedelta(hours=1))
    await emulator.quiet(0.3)
    assert attempts(emulator, dewi.id) == []

    app.clock.advance(timedelta(minutes=59))
    await emulator.quiet(0.3)
    assert attempts(emulator, dewi.id) == []
    moved = time.monotonic()
    app.clock.advance(timedelta(minutes=1))
    await emulator.wait_until(lambda: deliveries(emulator, dewi.id), timeout=2)
    assert deliveries(emulator, dewi.id)[0].time - moved < 1.0


async def test_a_row_is_not_sent_before_it_is_due(
    emulator: BotAPIEmulator, start_bot: StartBot
) -> None:
    app = await start(start_bot)
    (dewi,) = await seeded(app, emulator)
    seen: list[datetime] = []
    emulator.on_call("sendMessage", lambda call: seen.append(app.clock.now()), chat_id=dewi.id)
    due = app.clock.now() + timedelta(seconds=1)

    await enqueue(app, [dewi.id], "test:soon", due_at=due)

    await emulator.wait_until(lambda: deliveries(emulator, dewi.id), timeout=5)
    assert seen[0] >= due
    assert seen[0] - due < timedelta(seconds=1)


# ----------------------------------------------------------------------------- limits


@pytest.mark.parametrize("emulator_limits", [Limits(scale=4)])
async def test_200_messages_keep_every_rate_limit(
    emulator: BotAPIEmulator, start_bot: StartBot
) -> None:
    # EVENTS_SEND_RATE 25 and Telegram's limits, both sped up four times (CONTRACT §8).
    app = await start(start_bot, send_rate=100.0, limiter=scaled(4))
    crowd = await seeded(app, emulator, 200)

    async with app.sessions() as session, session.begin():
        await app.delivery.enqueue_batch(
            session, key="test:crowd", person_ids=[u.id for u in crowd]
        )

    await emulator.wait_until(lambda: len(deliveries(emulator)) == 200, timeout=15)
    sent = deliveries(emulator)
    assert Counter(call.chat_id for call in sent) == {user.id: 1 for user in crowd}
    assert emulator.violations == []
    assert emulator.max_overall_in_window() <= 25  # 25 per (1 s / 4)
    rate = (len(sent) - 1) / (sent[-1].time - sent[0].time)
    print(f"sent 200 at {rate:.1f}/s with send_rate 100 (25 × 4)")
    assert rate > 60


# ----------------------------------------------------------------------------- restarts


@pytest.mark.parametrize("emulator_limits", [Limits(scale=4)])
async def test_a_restart_in_the_middle_of_a_send_to_many_sends_each_once(
    emulator: BotAPIEmulator, start_bot: StartBot
) -> None:
    app = await start(start_bot, send_rate=100.0, limiter=scaled(4))
    crowd = await seeded(app, emulator, 120)
    async with app.sessions() as session, session.begin():
        await app.delivery.enqueue_batch(
            session, key="test:crowd", person_ids=[u.id for u in crowd]
        )
    await emulator.wait_until(lambda: len(deliveries(emulator)) >= 20)

    app.stop()  # sends in flight finish, the rest go back to the ledger

    async def stopped() -> bool:
        return not app.health.receiving and not app.delivery.sender.running

    await eventually(stopped)
    before = len(deliveries(emulator))
    assert before < 120
    ledger = Counter(row.status for row in await rows(app))
    assert ledger == {DeliveryStatus.SENT: before, DeliveryStatus.PENDING: 120 - before}

    again = await start(start_bot, send_rate=100.0, limiter=scaled(4))
    await emulator.wait_until(lambda: len(deliveries(emulator)) >= 120, timeout=10)
    await emulator.quiet(0.3)
    assert Counter(call.chat_id for call in deliveries(emulator)) == {u.id: 1 for u in crowd}

    async def all_sent() -> bool:
        return Counter(row.status for row in await rows(again)) == {DeliveryStatus.SENT: 120}

    await eventually(all_sent)
    assert emulator.violations == []


# ----------------------------------------------------------------------------- progress


async def test_a_host_sees_the_progress_of_a_send_to_many(
    emulator: BotAPIEmulator, start_bot: StartBot
) -> None:
    app = await start(start_bot, send_rate=8.0)  # slow enough to watch for a few seconds
    (ayu,) = await seeded(app, emulator)  # a host
    crowd = await seeded(app, emulator, 33)
    strangers = await seeded(app, emulator, 2, started=False)  # never opened the chat
    emulator.faults.add("sendMessage", error=Failure(400, "Bad Request: odd"), chat_id=crowd[0].id)
    everyone = [u.id for u in crowd + strangers]

    async with app.sessions() as session, session.begin():
        added = await app.delivery.enqueue_batch(
            session, key="test:announce", person_ids=everyone, host_id=ayu.id
        )
    assert added == 35

    progress = await ayu.wait_for_message(contains="Terkirim")
    summary = await ayu.wait_for_edit(progress, contains="Selesai", timeout=20)
    assert summary.text.splitlines() == [
        "Selesai. Terkirim 32 / 35.",
        "Memblokir bot atau belum pernah memulainya: 2",
        "Gagal: 1",
    ]
    shown = [*progress.history, progress.text]
    assert len(shown) == 3  # it started, moved on once, and ended
    counted = [int(text.split()[1]) for text in shown[:2]]
    assert [text.split()[0] for text in shown[:2]] == ["Terkirim", "Terkirim"]
    assert counted[0] < 5 < counted[1] < 32
    assert all(gap >= 3.0 for gap in emulator.edit_gaps(ayu.id, progress.message_id))
    assert len(deliveries(emulator)) == 32
    assert emulator.violations == []
