"""Three `events run --webhook` processes behind a round-robin of the test's own, on the real
PostgreSQL and Redis: nothing lost, nothing doubled, the limits kept by all three together.

The balancer passes each POST from the emulator to the next worker in turn, as a load balancer
in front of several workers does; a worker that does not answer gets a 502, and the emulator
posts the update again later, like Telegram. The limits and the send rate are sped up alike
(CONTRACT §8): the emulator counts 25 messages in any quarter second and the workers, told
`EVENTS_LIMITS_SCALE`, keep to that together through Redis.
"""

from __future__ import annotations

import itertools
import os
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from events import reminders
from events.app import build_app
from events.db.models import Delivery, DeliveryStatus, Person, RsvpStatus
from events.emulator import ApiCall, BotAPIEmulator, Limits, Tap
from events.inprocess import emulator_settings
from events.web.webhook import SECRET_HEADER
from tests.e2e.conftest import (
    BotProcess,
    RunEvents,
    eventually,
    free_port,
    make_community,
)
from tests.e2e.publishing import answers, publish
from tests.e2e.test_downtime import (
    HOUR,
    reminder_calls,
    reminder_rows,
    seed_a_crowd,
    sessions,
    settled,
)
from tests.e2e.test_webhook import FORGED
from tests.services import postgres_database, postgres_url, redis_url

__all__ = ["sessions"]  # the database as the test sees it (tests/e2e/test_downtime.py)

SCALE = float(os.environ.get("EVENTS_TEST_SCALE", "4"))
WORKERS = 3
TAPS = int(os.environ.get("EVENTS_TEST_CLUSTER_TAPS", "500"))
SEATS = int(os.environ.get("EVENTS_TEST_CLUSTER_SEATS", "50"))
PEOPLE = int(os.environ.get("EVENTS_TEST_CLUSTER_PEOPLE", "1000"))
KILL_AT = int(os.environ.get("EVENTS_TEST_CLUSTER_KILL_AT", "300"))
LEASE = 5  # seconds: the smallest EVENTS_DELIVERY_LEASE, so the survivors take over soon
SECRET = "lingkar-tenang_cluster-2024"
PATH = "/telegram/webhook"


@pytest.fixture
def emulator_limits() -> Limits:
    return Limits(scale=SCALE)


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    """PostgreSQL only: SQLite serves one process."""
    async with postgres_database(postgres_url()) as url:
        yield url


@dataclass
class Balancer:
    """Round robin over the workers' webhook servers; how many updates each one answered."""

    ports: list[int]
    client: aiohttp.ClientSession
    port: int = field(default_factory=free_port)
    answered: Counter[int] = field(default_factory=Counter)  # worker index -> 2xx answers
    refused: Counter[int] = field(default_factory=Counter)  # worker index -> failed passes
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    async def pass_on(self, request: web.Request) -> web.Response:
        index = next(self._turn) % len(self.ports)
        body = await request.read()
        headers = {
            name: value
            for name, value in request.headers.items()
            if name in (SECRET_HEADER, "Content-Type")
        }
        target = f"http://127.0.0.1:{self.ports[index]}{request.path}"
        try:
            async with self.client.post(target, data=body, headers=headers) as response:
                answer = await response.read()
                if 200 <= response.status < 300:
                    self.answered[index] += 1
                return web.Response(
                    status=response.status,
                    body=answer,
                    content_type=response.content_type,
                )
        except aiohttp.ClientError:
            self.refused[index] += 1
            return web.Response(status=502, text="worker unavailable")


@dataclass
class Cluster:
    emulator: BotAPIEmulator
    workers: list[BotProcess]
    balancer: Balancer
    database_url: str

    def owner_of(self, worker: BotProcess) -> str:
        """The id the worker's sender claims messages in (from its log)."""
        found = re.findall(r"claiming messages as ([0-9a-f]{32})", worker.output)
        assert found, worker.output
        return found[-1]


StartCluster = Callable[[], Awaitable[Cluster]]


@pytest.fixture
async def cluster(
    emulator: BotAPIEmulator, run_events: RunEvents, database_url: str, redis: Redis
) -> AsyncIterator[StartCluster]:
    """``await cluster()``: the balancer, then three workers registering its URL (on a Redis
    without the bot's keys: the ``redis`` fixture)."""
    ports = [free_port() for _ in range(WORKERS)]
    balancer = Balancer(ports, aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)))
    app = web.Application()
    app.router.add_post(PATH, balancer.pass_on)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", balancer.port).start()

    async def start() -> Cluster:
        env = {
            "EVENTS_REDIS_URL": redis_url(),
            "EVENTS_WEBHOOK_URL": balancer.url,
            "EVENTS_WEBHOOK_SECRET": SECRET,
            "EVENTS_SEND_RATE": f"{25 * SCALE:g}",
            "EVENTS_LIMITS_SCALE": f"{SCALE:g}",
            "EVENTS_DELIVERY_LEASE": str(LEASE),
        }
        workers = [
            await run_events(
                database_url=database_url,
                env=env,
                args=["--webhook"],
                wait=False,
                port=port,
            )
            for port in ports
        ]
        for worker in workers:
            await worker.ready()
        return Cluster(emulator, workers, balancer, database_url)

    try:
        yield start
    finally:
        await balancer.client.close()
        await runner.cleanup()


def toasts_for(emulator: BotAPIEmulator, tap: Tap) -> list[ApiCall]:
    return [
        call
        for call in emulator.calls_to("answerCallbackQuery")
        if call.params.get("callback_query_id") == tap.id
    ]


async def test_500_going_taps_through_three_workers_for_50_seats(
    emulator: BotAPIEmulator,
    cluster: StartCluster,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    running = await cluster()
    community = await make_community(emulator)
    # The post is made the fast way, by a bot object on the same database that receives nothing
    # (and counts its writes in the same Redis: the group's 20 a minute are for all of them).
    settings = emulator_settings(emulator, database_url, redis_url=redis_url(), limits_scale=SCALE)
    poster = build_app(settings)
    try:
        event = await publish(poster, emulator, community.id, capacity=SEATS)
        people = [emulator.user(f"Anggota {n}", language_code="id") for n in range(TAPS)]
        taps = [await person.press(event.post, "Hadir") for person in people]
        await emulator.wait_until(
            lambda: all(tap.answered for tap in taps), timeout=120, message="taps left unanswered"
        )
        stored = await answers(poster, event.id)
        final = f"Hadir: {SEATS} dari {SEATS} · Mungkin: 0 · Daftar tunggu: {TAPS - SEATS}"
        await community.group.wait_for_message(
            predicate=lambda m: m.message_id == event.post.message_id and final in m.text,
            timeout=30,
        )
        # Two seats freed: they go to the first two in line, whoever handles the taps.
        in_line = sorted(
            (p for p in people if stored[p.id][0] is RsvpStatus.WAITLISTED),
            key=lambda p: stored[p.id][1] or 0,
        )
        going = [p for p in people if stored[p.id][0] is RsvpStatus.GOING]
        leaving = [await person.press(event.post, "Tidak bisa") for person in going[:2]]
        await emulator.wait_until(lambda: all(tap.answered for tap in leaving), timeout=30)
        after = await answers(poster, event.id)
    finally:
        await poster.bot.session.close()
        await poster.engine.dispose()

    # Every tap answered once, by one of the three, and each of them took its share.
    assert all(len(toasts_for(emulator, tap)) == 1 for tap in taps)
    assert all(running.balancer.answered[index] > TAPS // 10 for index in range(WORKERS))
    assert len(going) == SEATS
    assert len(in_line) == TAPS - SEATS
    # The waitlist is in the order people tapped, whichever worker took each tap.
    assert in_line == [p for p in people if stored[p.id][0] is RsvpStatus.WAITLISTED]
    texts = Counter(tap.answer.text if tap.answer else "" for tap in taps)
    assert texts["Kamu akan hadir. Sampai jumpa!"] == SEATS
    full = [t for t in texts.elements() if t.startswith("Acaranya sudah penuh")]
    assert len(full) == TAPS - SEATS

    assert [p for p in people if after[p.id][0] is RsvpStatus.GOING] == sorted(
        going[2:] + in_line[:2], key=people.index
    )
    assert [after[p.id][0] for p in going[:2]] == [RsvpStatus.DECLINED] * 2
    async with sessions() as session:
        promoted = await session.scalars(
            select(Delivery.person_id).where(Delivery.key.like(f"promotion:{event.id}:%"))
        )
        assert sorted(promoted) == sorted(p.id for p in in_line[:2])  # one message each
    await emulator.quiet(3.0 / SCALE * 2, timeout=30)
    gaps = emulator.edit_gaps(community.id, event.post.message_id)
    assert gaps
    assert min(gaps) >= 3.0 / SCALE - 0.05  # one post, edited by three workers, never too fast
    assert emulator.max_group_writes_in_window(community.id) <= 20
    assert emulator.violations == []
    for worker in running.workers:
        assert "Traceback" not in worker.output


async def owners(sessions: async_sessionmaker[AsyncSession], event_id: int) -> dict[int, str]:
    """person -> who claimed their reminder last."""
    async with sessions() as session:
        rows = await session.execute(
            select(Delivery.person_id, Delivery.claimed_by).where(
                Delivery.key == reminders.reminder_key(event_id, HOUR)
            )
        )
        return {person: owner for person, owner in rows.all()}


async def test_1000_reminders_due_at_once_go_once_each_within_the_limits_of_all_three(
    emulator: BotAPIEmulator,
    cluster: StartCluster,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    people, event_id = await seed_a_crowd(emulator, sessions, PEOPLE)
    running = await cluster()
    await eventually(lambda: settled(sessions, event_id), timeout=120, message="not all sent")
    await emulator.quiet(0.5)
    rows = await reminder_rows(sessions, event_id)
    received = Counter(int(call.chat_id) for call in reminder_calls(emulator))
    assert set(received) == {person.id for person in people}
    assert max(received.values()) == 1
    assert {row.status for row in rows.values()} == {DeliveryStatus.SENT}
    for person in people[:: PEOPLE // 20]:
        message = person.last_message
        assert message is not None
        assert message.message_id == rows[person.id].message_id
    # All three sent, together never above the rate.
    senders = Counter((await owners(sessions, event_id)).values())
    assert set(senders) == {running.owner_of(worker) for worker in running.workers}
    assert emulator.violations == []


async def test_a_worker_killed_mid_send_the_other_two_finish_nothing_doubled(
    emulator: BotAPIEmulator,
    cluster: StartCluster,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    _, event_id = await seed_a_crowd(emulator, sessions, PEOPLE)
    running = await cluster()
    doomed, *survivors = running.workers

    def kill(_call: ApiCall) -> None:
        # The emulator holds the K-th reminder (from whichever worker): SIGKILL one now.
        doomed.process.kill()

    hook = emulator.on_call("sendMessage", kill, n=KILL_AT)
    await emulator.wait_until(lambda: hook.fired, timeout=60, message="no kill")
    await doomed.wait()
    owner = running.owner_of(doomed)
    held = {p for p, o in (await owners(sessions, event_id)).items() if o == owner}
    at_kill = await reminder_rows(sessions, event_id)
    left_sending = {p for p in held if at_kill[p].status is DeliveryStatus.SENDING}
    taken_at_kill = Counter(int(call.chat_id) for call in reminder_calls(emulator))

    await eventually(lambda: settled(sessions, event_id), timeout=120, message="not finished")
    await emulator.quiet(0.5)
    rows = await reminder_rows(sessions, event_id)
    received = Counter(int(call.chat_id) for call in reminder_calls(emulator))
    claimed_by = await owners(sessions, event_id)

    # Nobody twice; everybody has it, except the few in doubt.
    assert max(received.values()) == 1
    unknown = {p for p, row in rows.items() if row.status is DeliveryStatus.UNKNOWN}
    sent = {p for p, row in rows.items() if row.status is DeliveryStatus.SENT}
    assert sent | unknown == set(rows)
    assert all(received[p] == 1 for p in sent)
    # The killed worker's rows in flight are accounted for: those it had started sending are
    # `unknown` and got nothing more; those it had only claimed went out from the other two.
    assert unknown <= left_sending
    assert all(claimed_by[p] == owner for p in unknown)
    assert all(received[p] == taken_at_kill[p] <= 1 for p in unknown)
    taken_back = left_sending - unknown
    assert taken_back  # it held rows it had not tried yet: the others sent them
    assert all(claimed_by[p] != owner and p in sent for p in taken_back)
    assert len(unknown) <= 25 * SCALE * 0.1 + 8  # the sends under way and the few marked next
    survivor_owners = {running.owner_of(worker) for worker in survivors}
    assert survivor_owners <= set(claimed_by.values())
    assert emulator.violations == []
    for worker in survivors:
        assert "Traceback" not in worker.output


async def test_through_the_balancer_a_duplicate_is_applied_once_and_a_wrong_secret_refused(
    emulator: BotAPIEmulator, cluster: StartCluster, sessions: async_sessionmaker[AsyncSession]
) -> None:
    running = await cluster()
    dewi = emulator.user("Dewi", language_code="id")
    await dewi.send("/start")
    greeting = await dewi.wait_for_message(contains="Halo")
    update = next(u for u in emulator.updates if u.kind == "message")
    for _ in range(WORKERS):  # to each worker once more
        again = await emulator.deliver_again(update)
        assert again.status == 200
        assert again.body == b"{}"
    await emulator.quiet(0.5)
    assert [m.message_id for m in dewi.bot_messages] == [greeting.message_id]

    async with aiohttp.ClientSession() as client:
        for _ in range(WORKERS):
            async with client.post(
                running.balancer.url, json=FORGED, headers={SECRET_HEADER: "not-the-secret"}
            ) as response:
                assert response.status == 401
    await emulator.quiet(0.3)
    assert emulator.calls_to("sendMessage", chat_id=555000111) == []
    async with sessions() as session:
        assert await session.get(Person, 555000111) is None
    assert all(running.balancer.answered[index] >= 1 for index in range(WORKERS))
