"""A person's feed over HTTP: the 304 against the 200, and requests per second under load.

    python -m bench.feed_http [events]

The feed routes of the bot (``Feeds.register``) are served by aiohttp on loopback from a SQLite
file (WAL) holding one person going to ``events`` events, with their personal token.

- 304: the same feed asked for again and again, with and without its ETag in If-None-Match.
  A middleware times the handler inside the server (the query, the body look-up, the answer);
  the row is the median server time of a 304 against the median of a 200. The app's SQLite
  setting is used (`Changes`), so an unchanged feed is answered from memory; the note also
  gives a 304 right after a commit to a table feeds read, which asks the database again.
- load: a load generator in its own process (so it does not share the server's loop) sends a
  fixed number of GETs over a fixed number of keep-alive connections; the baseline is a plain
  aiohttp handler that returns the same bytes, under the same load. Every response must be a
  200 with exactly the feed's bytes, and the feed must parse with icalendar with every event.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from icalendar import Calendar

from bench.common import BOT_USERNAME, TOKEN, NotDone, Row, check, median
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
    Person,
    Place,
    Rsvp,
    RsvpStatus,
)
from events.feeds import tokens
from events.feeds.tokens import feed_secret
from events.feeds.web import FEED_TABLES, Feeds

COMMUNITY = -1001234567890
PERSON = 4242
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def seed(sessions, clock: Clock, count: int, secret: bytes) -> str:
    """One person going to ``count`` upcoming events; their personal feed's token."""
    now = clock.now()
    async with sessions() as session, session.begin():
        session.add(Community(id=COMMUNITY, title="Lingkar Tenang", chat_type=ChatType.SUPERGROUP))
        session.add(Person(id=PERSON, first_name="Dewi", language_code="id", can_message=True))
        await session.flush()
        events = [
            Event(
                community_id=COMMUNITY,
                kind=list(EventKind)[number % 3],
                title=f"Lingkar Dukungan {number}; sesi ke-{number} 🌱",
                description="Sesi berbagi yang aman.\nBawa teh hangat.",
                timezone="Asia/Jakarta",
                starts_at=now + timedelta(days=1, hours=number),
                ends_at=now + timedelta(days=1, hours=number, minutes=90),
                place=list(Place)[number % 3],
                location="Rumah Teduh, Jl. Melati 5",
                join_link="https://meet.example.org/lingkar",
                status=EventStatus.PUBLISHED,
            )
            for number in range(count)
        ]
        session.add_all(events)
        await session.flush()
        for position, event in enumerate(events, start=1):
            session.add(
                Rsvp(
                    event_id=event.id, person_id=PERSON, status=RsvpStatus.GOING, position=position
                )
            )
        _row, token = await tokens.current(session, secret, FeedKind.PERSONAL, PERSON, now)
    return token


class ServerTimes:
    """Seconds the server spent on each answer, by status."""

    def __init__(self) -> None:
        self.by_status: dict[int, list[float]] = {}

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        began = time.perf_counter()
        response = await handler(request)
        self.by_status.setdefault(response.status, []).append(time.perf_counter() - began)
        return response


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


def valid_feed(data: bytes, count: int) -> None:
    found = Calendar.from_ical(data).walk("VEVENT")
    check(len(found) == count, f"the feed has {len(found)} events, not {count}")


async def conditional(
    base: str,
    path: str,
    count: int,
    rounds: int,
    times: ServerTimes,
    touch: Callable[[int], Awaitable[None]],
) -> dict:
    """Alternate plain GETs and GETs with the ETag; client and server medians. Then GETs with
    the ETag each after a commit that leaves the feed as it is (``touch``), so the server has
    to ask the database again."""
    client: dict[int, list[float]] = {200: [], 304: []}
    async with aiohttp.ClientSession() as session:
        async with session.get(base + path) as response:
            check(response.status == 200, f"the feed answered {response.status}")
            data = await response.read()
            tag = response.headers["ETag"]
        valid_feed(data, count)
        times.by_status.clear()
        for _ in range(rounds):
            for headers, status in (({}, 200), ({"If-None-Match": tag}, 304)):
                began = time.perf_counter()
                async with session.get(base + path, headers=headers) as response:
                    body = await response.read()
                client[status].append(time.perf_counter() - began)
                check(response.status == status, f"{response.status} where {status} was due")
                check(body == (data if status == 200 else b""), f"a wrong body with {status}")
        check(
            len(times.by_status.get(200, [])) == rounds
            and len(times.by_status.get(304, [])) == rounds,
            "the server did not time every answer",
        )
        server_200, server_304 = median(times.by_status[200]), median(times.by_status[304])
        times.by_status.clear()
        for number in range(rounds):
            await touch(number)
            async with session.get(base + path, headers={"If-None-Match": tag}) as response:
                await response.read()
            check(response.status == 304, f"{response.status} after an unrelated commit")
        check(len(times.by_status.get(304, [])) == rounds, "the server did not time every answer")
    return {
        "server_200": server_200,
        "server_304": server_304,
        "server_304_checked": median(times.by_status[304]),
        "client_200": median(client[200]),
        "client_304": median(client[304]),
        "bytes": len(data),
    }


def load(url: str, requests: int, connections: int, digest: str) -> float:
    """Requests per second from a load generator in its own process."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.feed_http",
            "load",
            url,
            str(requests),
            str(connections),
            digest,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise NotDone(f"the load generator failed: {done.stderr.strip()[-500:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["rate"])


async def generate(url: str, requests: int, connections: int, digest: str) -> float:
    """The load generator: every answer a 200 with the expected bytes."""
    connector = aiohttp.TCPConnector(limit=connections)
    queue = iter(range(requests))
    wrong: list[str] = []

    async def worker(session: aiohttp.ClientSession) -> None:
        for _ in queue:
            async with session.get(url) as response:
                body = await response.read()
            if response.status != 200 or hashlib.sha256(body).hexdigest() != digest:
                wrong.append(f"{response.status}, {len(body)} bytes")

    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.get(url) as response:  # the connections' first request, untimed
            await response.read()
        began = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(connections)))
        seconds = time.perf_counter() - began
    if wrong:
        raise SystemExit(f"{len(wrong)} wrong answers, e.g. {wrong[0]}")
    return requests / seconds


async def measure(count: int, rounds: int, requests: int, connections: int) -> dict:
    clock = Clock()
    secret = feed_secret(TOKEN)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade_to_head(url)
        engine = create_engine(url)
        sessions = create_sessionmaker(engine)
        token = await seed(sessions, clock, count, secret)

        async def username() -> str:
            return BOT_USERNAME

        feeds = Feeds(
            sessions=sessions,
            clock=clock,
            secret=secret,
            public_url="http://127.0.0.1",
            bot_username=username,
            default_locale="id",
            changes=Changes(engine, FEED_TABLES),  # as the app has it on SQLite
        )
        times = ServerTimes()
        app = web.Application(middlewares=[times.middleware])
        feeds.register(app)
        runner, base = await serve(app)
        path = f"/feeds/{token}.ics"

        async def touch(number: int) -> None:
            """A commit to a table feeds read that changes nothing a feed shows."""
            async with sessions() as session, session.begin():
                person = await session.get(Person, PERSON)
                assert person is not None
                person.first_name = f"Dewi {number}"

        try:
            result = await conditional(base, path, count, rounds, times, touch)
            async with aiohttp.ClientSession() as session, session.get(base + path) as response:
                data = await response.read()
            digest = hashlib.sha256(data).hexdigest()

            async def same_bytes(_request: web.Request) -> web.Response:
                return web.Response(body=data, content_type="text/calendar", charset="utf-8")

            plain_app = web.Application()
            plain_app.router.add_get("/feed.ics", same_bytes)
            plain_runner, plain_base = await serve(plain_app)
            try:
                plain_rate = bot_rate = 0.0
                loop = asyncio.get_running_loop()
                for _ in range(2):  # the best of two, alternating
                    plain_rate = max(
                        plain_rate,
                        await loop.run_in_executor(
                            None, load, plain_base + "/feed.ics", requests, connections, digest
                        ),
                    )
                    bot_rate = max(
                        bot_rate,
                        await loop.run_in_executor(
                            None, load, base + path, requests, connections, digest
                        ),
                    )
            finally:
                await plain_runner.cleanup()
        finally:
            await runner.cleanup()
            await engine.dispose()
    result.update(plain_rate=plain_rate, bot_rate=bot_rate)
    return result


def rows(quick: bool = False) -> list[Row]:
    count = 100
    rounds, requests, connections = (30, 200, 10) if quick else (300, 3000, 50)
    result = asyncio.run(measure(count, rounds, requests, connections))
    not_modified = result["server_304"] / result["server_200"]
    load_ratio = result["bot_rate"] / result["plain_rate"]
    return [
        Row(
            name=f"feed 304 vs 200 ({count}-event personal feed)",
            baseline=f"200: {result['server_200'] * 1000:.2f} ms in the server",
            measured=f"304: {result['server_304'] * 1000:.2f} ms in the server",
            ratio=not_modified,
            goal="report",
            met=None,
            note=f"medians of {rounds}; at the client 200 {result['client_200'] * 1000:.2f} ms, "
            f"304 {result['client_304'] * 1000:.2f} ms; the 200 carries {result['bytes']} bytes; "
            f"a 304 right after a commit (asking the database) "
            f"{result['server_304_checked'] * 1000:.2f} ms in the server",
        ),
        Row(
            name=f"feed requests/s under load ({count}-event personal feed)",
            baseline=f"plain aiohttp, same bytes {result['plain_rate']:.0f}/s",
            measured=f"{result['bot_rate']:.0f}/s",
            ratio=load_ratio,
            goal="≥ 0.5",
            met=load_ratio >= 0.5,
            note=f"{requests} GETs over {connections} connections from another process, best of 2",
        ),
    ]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "load":
        url, requests, connections, digest = sys.argv[2:6]
        rate = asyncio.run(generate(url, int(requests), int(connections), digest))
        print(json.dumps({"rate": rate}))
        return
    for row in rows(quick=len(sys.argv) > 1 and sys.argv[1] == "quick"):
        print(f"{row.name}: {row.measured} against {row.baseline}: {row.ratio:.3f} ({row.note})")


if __name__ == "__main__":
    main()
