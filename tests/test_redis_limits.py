"""The Redis limiter: three limiters on one Redis keep the limits of one (real time, sped up)."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from aiogram import Bot
from aiogram.methods import SendMessage

from events.delivery.limits import ChatKind, CountOtherWrites, RateLimits
from events.delivery.redis_limits import RedisLimiter
from tests.services import redis_url

PRIVATE, GROUP = ChatKind.PRIVATE, ChatKind.GROUP

Limiters = Callable[..., list[RedisLimiter]]


@pytest.fixture
async def limiters() -> AsyncIterator[Limiters]:
    """``limiters(n, **limits)``: n limiters sharing one fresh set of keys, as n processes."""
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url())
    prefix = f"events:limits:test-{uuid.uuid4().hex[:8]}:"

    def make(n: int = 3, **limits: float) -> list[RedisLimiter]:
        scale = limits.pop("scale", 1.0)
        rate_limits = RateLimits(**limits).scaled(scale)  # type: ignore[arg-type]
        return [RedisLimiter(redis, rate_limits, prefix=prefix) for _ in range(n)]

    try:
        yield make
        # Nothing is kept for ever.
        keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
        assert keys
        for key in keys:
            assert await redis.pttl(key) != -1, key  # an expiry, or already gone
    finally:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


async def hammer(
    limiter: RedisLimiter,
    chats: Callable[[], int],
    kind: ChatKind,
    until: float,
    asked: list[float] | None = None,
) -> list[float]:
    """Write as fast as the limiter lets this process until ``until``; the grant times
    (``asked`` gets the time of every request)."""
    granted: list[float] = []
    while True:
        chat = chats()
        permit = await limiter.acquire(chat, kind)
        now = time.monotonic()
        if asked is not None:
            asked.append(now)
        if now >= until:
            if permit.granted:
                await limiter.release(chat, kind)
            return granted
        if permit.granted:
            granted.append(now)
            await limiter.release(chat, kind)
        else:
            await asyncio.sleep(min(max(permit.wait, 0.001), until - now))


def most_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(len([t for t in times if start <= t < start + window]) for start in times)


async def test_three_processes_together_never_exceed_the_rate(limiters: Limiters) -> None:
    """The rate is kept for all of them together. Which process gets the next turn is not
    promised (one may take most of them while it has work): each asks throughout."""
    shared = limiters(3, per_second=25, scale=4)  # 100 a second: 25 in any quarter second
    chat = itertools.count(1)
    start = time.monotonic()
    until = start + 1.5
    asked: list[list[float]] = [[] for _ in shared]
    per_process = await asyncio.gather(
        *(
            hammer(lim, lambda: next(chat), PRIVATE, until, asks)
            for lim, asks in zip(shared, asked, strict=True)
        )
    )
    for asks in asked:  # three processes pressing all along, none sent away for long
        assert len(asks) >= 20
        assert asks[0] < start + 0.1
        assert max(b - a for a, b in itertools.pairwise(asks)) < 0.5
    granted = sorted(itertools.chain(*per_process))
    assert 40 <= len(granted) <= 152  # about 150, less on a busy machine
    assert most_in_window(granted, 0.25) <= 25
    gaps = [b - a for a, b in itertools.pairwise(granted)]
    assert sorted(gaps)[len(gaps) // 2] >= 0.008  # spread out (10 ms apart), not in bursts


async def test_writes_that_travel_long_never_crowd_a_window_of_arrivals(
    limiters: Limiters,
) -> None:
    """A write arrives somewhere between its turn and its answer: taking the latest for
    each, no quarter second of arrivals holds more than 25, across three processes."""
    shared = limiters(3, per_second=25, scale=4)
    chat = itertools.count(1)
    arrivals: list[float] = []
    start = time.monotonic()
    until = start + 1.5

    async def write(limiter: RedisLimiter) -> None:
        while time.monotonic() < until:
            number = next(chat)
            permit = await limiter.acquire(number, PRIVATE)
            if not permit.granted:
                await asyncio.sleep(max(permit.wait, 0.001))
                continue
            # Every 0.35 s: the writes of the first 0.1 s travel until its end, arriving
            # together with the quick ones of the next quarter second.
            phase = (time.monotonic() - start) % 0.35
            await asyncio.sleep(0.1 - phase if phase < 0.1 else 0.001)
            arrivals.append(time.monotonic())
            await limiter.release(number, PRIVATE)

    # Many writes in flight per process, as the sender has.
    await asyncio.gather(*(write(lim) for lim in shared for _ in range(20)))
    assert len(arrivals) > 40
    assert most_in_window(arrivals, 0.25) <= 25


async def test_a_refusal_for_the_overall_rate_says_so(limiters: Limiters) -> None:
    first, second, _ = limiters(3, per_second=2)
    assert (await first.acquire(1, PRIVATE)).granted
    permit = await second.acquire(2, PRIVATE)
    assert not permit.granted
    assert permit.overall
    assert 0.3 < permit.wait <= 0.5


async def test_one_private_chat_one_message_per_interval_across_processes(
    limiters: Limiters,
) -> None:
    first, second, third = limiters(3, per_second=100, scale=4)  # 0.25 s per private chat
    assert (await first.acquire(7, PRIVATE)).granted
    busy = await second.acquire(7, PRIVATE)  # the first is still in flight
    assert not busy.granted
    assert not busy.overall
    await asyncio.sleep(0.1)
    await first.release(7, PRIVATE)
    refused = await third.acquire(7, PRIVATE)
    assert not refused.granted
    assert 0.15 < refused.wait <= 0.25  # counted from the answer
    assert (await third.acquire(8, PRIVATE)).granted  # other chats go meanwhile
    await third.release(8, PRIVATE)
    await asyncio.sleep(refused.wait + 0.01)
    assert (await second.acquire(7, PRIVATE)).granted


async def test_a_group_gets_at_most_20_writes_a_minute_from_all_processes(
    limiters: Limiters,
) -> None:
    shared = limiters(3, scale=60)  # a group's minute lasts one second
    until = time.monotonic() + 1.6
    per_process = await asyncio.gather(*(hammer(lim, lambda: -100, GROUP, until) for lim in shared))
    granted = sorted(itertools.chain(*per_process))
    assert most_in_window(granted, 1.0) <= 20
    assert len(granted) == 40  # 20 in each minute, none lost


async def test_a_429_closes_the_chat_and_slows_every_process(limiters: Limiters) -> None:
    first, second, third = limiters(3, per_second=20, recover_after=10, scale=20)
    assert (await first.acquire(5, PRIVATE)).granted
    await first.retry_after(5, 0.3)
    await first.release(5, PRIVATE)
    assert first.rate() == 200  # 400 a second halved
    closed = await second.acquire(5, PRIVATE)
    assert not closed.granted
    assert 0.2 < closed.wait <= 0.3
    assert second.rate() == 200  # the other processes hear of it with their next call
    await asyncio.sleep(closed.wait + 0.01)
    assert (await third.acquire(5, PRIVATE)).granted
    await third.release(5, PRIVATE)
    await second.retry_after(6, 0.05)
    await third.retry_after(6, 0.05)
    assert third.rate() == 80  # never below a fifth
    await asyncio.sleep(0.5)  # recover_after, sped up
    await first.acquire(9, PRIVATE)
    assert first.rate() == 160
    await asyncio.sleep(0.5)
    await second.acquire(10, PRIVATE)
    await asyncio.sleep(0.5)
    await third.acquire(11, PRIVATE)
    assert third.rate() == 400


async def test_writes_without_a_turn_are_counted_by_every_process(limiters: Limiters) -> None:
    first, second, _ = limiters(3, per_second=100, scale=4)
    calls: list[bool] = []

    async def make_request(bot: Bot, method: SendMessage) -> None:
        calls.append((await second.acquire(3, PRIVATE)).granted)

    counting = CountOtherWrites(first)
    await counting(make_request, None, SendMessage(chat_id=3, text="Halo"))  # type: ignore[arg-type]
    assert calls == [False]  # busy while it travels
    refused = await second.acquire(3, PRIVATE)
    assert not refused.granted
    assert 0.15 < refused.wait <= 0.25
    await asyncio.sleep(refused.wait + 0.01)
    assert (await second.acquire(3, PRIVATE)).granted
