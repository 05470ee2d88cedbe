"""GET /metrics: Prometheus' text format, behind a bearer token, counting what the bot did."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

import aiohttp
import pytest

from events.app import App
from events.config import Settings, load_settings
from events.db.models import DeliveryStatus
from events.emulator import Blocked, BotAPIEmulator
from tests.e2e.conftest import TOKEN, CommunitySetup, StartBot, eventually
from tests.e2e.publishing import publish
from tests.e2e.test_delivery import MARK, render_test, rows
from tests.e2e.test_feeds import fetch, links, open_calendar

METRICS_TOKEN = "metrics-token-for-the-tests-0123"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@pytest.fixture
def settings(emulator: BotAPIEmulator, database_url: str) -> Settings:
    """The suite's settings, with /metrics on."""
    return load_settings(
        _env_file=None,
        bot_token=TOKEN,
        database_url=database_url,
        telegram_api_url=emulator.base_url,
        http_port=0,
        metrics_token=METRICS_TOKEN,
    )


# ----------------------------------------------------------------- a small parser of the format

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
SAMPLE = re.compile(rf"^({NAME})(?:\{{(.*)\}})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')
Labels = tuple[tuple[str, str], ...]


@dataclass
class Scrape:
    types: dict[str, str] = field(default_factory=dict)
    helps: dict[str, str] = field(default_factory=dict)
    samples: dict[tuple[str, Labels], float] = field(default_factory=dict)

    def value(self, name: str, **labels: str) -> float:
        return self.samples[(name, tuple(sorted(labels.items())))]


def parse(text: str) -> Scrape:
    """Text format 0.0.4, strictly: every sample's family is declared (HELP and TYPE) before
    it, once; label values are quoted and escaped; values are numbers; no sample twice."""
    assert text.endswith("\n")
    scrape = Scrape()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, words = line[len("# HELP ") :].partition(" ")
            assert re.fullmatch(NAME, name), line
            assert words, line
            assert name not in scrape.helps, line
            scrape.helps[name] = words
        elif line.startswith("# TYPE "):
            name, _, kind = line[len("# TYPE ") :].partition(" ")
            assert kind in ("counter", "gauge", "untyped"), line
            assert name in scrape.helps, line
            assert name not in scrape.types, line
            scrape.types[name] = kind
        else:
            match = SAMPLE.match(line)
            assert match is not None, line
            name, inner, value = match.groups()
            assert name in scrape.types, f"{name} sampled before its TYPE"
            labels: list[tuple[str, str]] = []
            rest = inner or ""
            while rest:
                label = LABEL.match(rest)
                assert label is not None, line
                labels.append((label.group(1), label.group(2)))
                rest = rest[label.end() :]
            key = (name, tuple(sorted(labels)))
            assert key not in scrape.samples, f"{line} twice"
            scrape.samples[key] = float(value)
    return scrape


async def get(app: App, token: str | None = METRICS_TOKEN) -> tuple[int, str, str]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"http://127.0.0.1:{app.http_port}/metrics", headers=headers) as response,
    ):
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def scrape(app: App) -> Scrape:
    status, content_type, text = await get(app)
    assert status == 200
    assert content_type == CONTENT_TYPE
    return parse(text)


# ----------------------------------------------------------------- the scenarios


async def test_metrics_are_off_without_a_token(start_bot: StartBot) -> None:
    app = await start_bot(metrics_token=None)
    status, _, _ = await get(app)
    assert status == 404


async def test_metrics_need_the_token(bot: App) -> None:
    assert (await get(bot, token=None))[0] == 401
    assert (await get(bot, token="metrics-token-for-the-tests-9999"))[0] == 401
    status, content_type, text = await get(bot)
    assert (status, content_type) == (200, CONTENT_TYPE)
    parsed = parse(text)
    assert parsed.types == {
        "events_updates_total": "counter",
        "events_delivery_outcomes_total": "counter",
        "events_feed_requests_total": "counter",
        "events_process_start_time_seconds": "gauge",
        "events_delivery_due": "gauge",
        "events_delivery_pending": "gauge",
    }
    # Every label value is known in advance: nothing about people, chats or tokens.
    for name, labels in parsed.samples:
        for label, value in labels:
            assert re.fullmatch(r"[a-z_]+|[0-9]{3}", value), (name, label, value)


async def test_the_counters_follow_what_the_bot_does(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup
) -> None:
    assert bot.metrics is not None
    bot.metrics.cache_seconds = 0  # the queue read afresh at each scrape
    bot.delivery.register("test", render_test)
    dewi, sam = community.member, community.english_member
    await emulator.quiet(0.3)
    before = await scrape(bot)
    assert before.value("events_delivery_due") == 0

    # /start: a message handled.
    await dewi.send("/start")
    await dewi.wait_for_message()
    # A tap on the group post: a callback query handled.
    event = await publish(bot, emulator, community.id)
    assert (await dewi.tap(event.post, "Hadir")).text == "Kamu akan hadir. Sampai jumpa!"

    # Two deliveries: one sent, one to someone who blocked the bot; and one for later.
    await sam.send("/start")
    await sam.wait_for_message()
    emulator.faults.add("sendMessage", error=Blocked(), chat_id=sam.id)
    async with bot.sessions() as session, session.begin():
        await bot.delivery.enqueue(session, person_id=dewi.id, key="test:1")
        await bot.delivery.enqueue(session, person_id=sam.id, key="test:1")
        await bot.delivery.enqueue(
            session, person_id=dewi.id, key="test:later", due_at=bot.clock.now() + timedelta(days=1)
        )
    await eventually(lambda: rows(bot, status=DeliveryStatus.BLOCKED))
    await dewi.wait_for_message(contains=MARK)

    # Feed requests: 200, then 304 for the same ETag, and 404 for a token that is not one.
    feed = links(await open_calendar(dewi))[0]
    status, headers, _ = await fetch(bot, feed)
    assert status == 200
    status, _, _ = await fetch(bot, feed, {"If-None-Match": headers["ETag"]})
    assert status == 304
    status, _, _ = await fetch(bot, feed.replace(feed.rsplit("/", 1)[1], "nope.ics"))
    assert status == 404

    def moved(name: str, **labels: str) -> float:
        return now.value(name, **labels) - before.value(name, **labels)

    async def counted() -> bool:  # an update is counted once its replies are out
        nonlocal now
        now = await scrape(bot)
        return (
            moved("events_delivery_outcomes_total", status="sent") >= 1
            and moved("events_updates_total", type="callback_query", outcome="ok") >= 1
            and moved("events_updates_total", type="message", outcome="ok") >= 3
        )

    now = before
    await eventually(counted)

    assert moved("events_updates_total", type="message", outcome="ok") >= 3  # /start ×2, /calendar
    assert moved("events_updates_total", type="callback_query", outcome="ok") == 1
    assert moved("events_updates_total", type="message", outcome="error") == 0
    assert moved("events_delivery_outcomes_total", status="sent") == 1
    assert moved("events_delivery_outcomes_total", status="blocked") == 1
    assert moved("events_delivery_outcomes_total", status="failed") == 0
    assert moved("events_feed_requests_total", kind="personal", code="200") == 1
    assert moved("events_feed_requests_total", kind="personal", code="304") == 1
    assert moved("events_feed_requests_total", kind="personal", code="404") == 1
    assert moved("events_feed_requests_total", kind="community", code="200") == 0
    # Pending: the later one and the reminders planned with Dewi's answer; none due yet.
    pending = await rows(bot, status=DeliveryStatus.PENDING)
    assert "test:later" in {row.key for row in pending}
    assert now.value("events_delivery_pending") == len(pending)
    assert now.value("events_delivery_due") == 0
    assert now.value("events_process_start_time_seconds") == before.value(
        "events_process_start_time_seconds"
    )

    # The queue is read at most once per cache period, however often it is scraped.
    bot.metrics.cache_seconds = 60
    await scrape(bot)
    async with bot.sessions() as session, session.begin():
        await bot.delivery.enqueue(
            session,
            person_id=dewi.id,
            key="test:later2",
            due_at=bot.clock.now() + timedelta(days=1),
        )
    assert (await scrape(bot)).value("events_delivery_pending") == now.value(
        "events_delivery_pending"
    )
