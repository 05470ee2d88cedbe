"""The in-memory limiter, on a hand-moved monotonic clock."""

from __future__ import annotations

import itertools

import pytest

from events.delivery.limits import ChatKind, InMemoryLimiter, RateLimits, chat_kind

PRIVATE, GROUP = ChatKind.PRIVATE, ChatKind.GROUP


class Tick:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(**limits: float) -> tuple[InMemoryLimiter, Tick]:
    tick = Tick()
    return InMemoryLimiter(RateLimits(**limits), now=tick), tick  # type: ignore[arg-type]


async def send(lim: InMemoryLimiter, chat_id: int, kind: ChatKind = PRIVATE) -> bool:
    permit = await lim.acquire(chat_id, kind)
    if permit.granted:
        await lim.release(chat_id, kind)
    return permit.granted


async def test_sends_are_spread_and_never_exceed_the_rate_in_any_window() -> None:
    lim, tick = limiter(per_second=25)
    granted: list[float] = []
    chat = 1
    while tick.now < 1003.0:
        if await send(lim, chat):
            granted.append(tick.now)
            chat += 1
        tick.now += 0.001
    # 25 per second, 40 ms apart: never a burst.
    assert 74 <= len(granted) <= 76
    gaps = [b - a for a, b in itertools.pairwise(granted)]
    assert min(gaps) >= 0.04 - 1e-9
    for start in granted:
        assert len([t for t in granted if start <= t < start + 1.0]) <= 25


async def test_a_write_counts_until_a_window_after_its_answer() -> None:
    # Telegram counts a write when it arrives, anywhere between the turn and the answer.
    lim, tick = limiter(per_second=2)
    assert (await lim.acquire(1, PRIVATE)).granted
    tick.now += 0.6
    assert (await lim.acquire(2, PRIVATE)).granted
    tick.now += 0.9  # both still travelling, 1.5 s after the first turn
    refused = await lim.acquire(3, PRIVATE)
    assert not refused.granted
    assert refused.overall
    await lim.release(1, PRIVATE)  # it may have arrived just now
    tick.now += 0.1
    await lim.release(2, PRIVATE)
    tick.now += 0.8
    still = await lim.acquire(3, PRIVATE)
    assert not still.granted
    assert still.wait == pytest.approx(0.1)
    tick.now += 0.1
    assert (await lim.acquire(3, PRIVATE)).granted


async def test_however_long_writes_travel_no_window_of_arrivals_is_over_the_rate() -> None:
    lim, tick = limiter(per_second=25)
    travelling: dict[int, tuple[float, float]] = {}  # chat: (granted, answered)
    arrivals: list[float] = []
    chat = 0
    while tick.now < 1004.0:
        for open_chat, (granted, answered) in list(travelling.items()):
            if tick.now >= answered:
                del travelling[open_chat]
                await lim.release(open_chat, PRIVATE)
                # Arrived anywhere on the way: the worst case for the next window is late.
                arrivals.append(answered if open_chat % 2 else granted)
        chat += 1
        if (await lim.acquire(chat, PRIVATE)).granted:
            travel = 0.3 if chat % 3 == 0 else 0.002  # some writes take long
            travelling[chat] = (tick.now, tick.now + travel)
        tick.now += 0.001
    assert len(arrivals) > 60
    for start in arrivals:
        assert len([t for t in arrivals if start <= t < start + 1.0]) <= 25


async def test_a_refusal_for_the_overall_rate_says_so() -> None:
    lim, _ = limiter(per_second=2)
    assert await send(lim, 1)
    permit = await lim.acquire(2, PRIVATE)
    assert not permit.granted
    assert permit.overall
    assert 0.4 < permit.wait <= 0.5


async def test_one_private_chat_gets_one_message_per_interval_from_the_answer() -> None:
    lim, tick = limiter(per_second=100)
    assert (await lim.acquire(7, PRIVATE)).granted
    busy = await lim.acquire(7, PRIVATE)  # the first is still in flight
    assert not busy.granted
    assert not busy.overall
    tick.now += 0.3  # it took 0.3 s
    await lim.release(7, PRIVATE)
    tick.now += 0.9
    refused = await lim.acquire(7, PRIVATE)
    assert not refused.granted
    assert refused.wait == pytest.approx(0.1)
    assert (await lim.acquire(8, PRIVATE)).granted  # other chats go meanwhile
    tick.now += 0.1
    assert (await lim.acquire(7, PRIVATE)).granted


async def test_a_group_gets_at_most_20_writes_a_minute() -> None:
    lim, tick = limiter(per_second=100)
    times = []
    while tick.now < 1000.0 + 130:
        if await send(lim, -100, GROUP):
            times.append(tick.now)
        tick.now += 0.5
    for start in times:
        assert len([t for t in times if start <= t < start + 60]) <= 20
    assert len(times) == 60  # 20 in each of the three minutes (and none lost)


async def test_after_a_429_the_chat_waits_and_the_rate_halves_then_recovers() -> None:
    lim, tick = limiter(per_second=20, recover_after=10)
    assert lim.rate() == 20
    assert (await lim.acquire(5, PRIVATE)).granted
    await lim.retry_after(5, 3)
    await lim.release(5, PRIVATE)
    assert lim.rate() == 10
    tick.now += 2.9
    closed = await lim.acquire(5, PRIVATE)
    assert not closed.granted
    assert closed.wait == pytest.approx(0.1)
    tick.now += 0.1
    assert (await lim.acquire(5, PRIVATE)).granted
    await lim.release(5, PRIVATE)
    await lim.retry_after(6, 1)
    assert lim.rate() == 5
    await lim.retry_after(6, 1)
    assert lim.rate() == 4  # never below a fifth
    tick.now += 10
    await lim.acquire(9, PRIVATE)
    assert lim.rate() == 8
    tick.now += 10
    await lim.acquire(10, PRIVATE)
    tick.now += 10
    await lim.acquire(11, PRIVATE)
    assert lim.rate() == 20


async def test_scaled_limits_speed_everything_up_alike() -> None:
    limits = RateLimits(per_second=25).scaled(4)
    assert limits.sends_per_second == 100
    assert limits.window == 0.25
    assert limits.private_gap == 0.25
    assert limits.group_window == 15
    lim, tick = limiter(per_second=25, scale=4)
    granted = 0
    chat = 1
    while tick.now < 1001.0:
        if await send(lim, chat):
            granted += 1
            chat += 1
        tick.now += 0.0002
    assert 95 <= granted <= 101


async def test_writes_without_a_turn_are_counted() -> None:
    lim, tick = limiter(per_second=100)
    await lim.begin(3, PRIVATE, send=True)  # an answer to the person acting
    assert not (await lim.acquire(3, PRIVATE)).granted
    await lim.release(3, PRIVATE)
    tick.now += 0.5
    assert not (await lim.acquire(3, PRIVATE)).granted
    tick.now += 0.5
    assert (await lim.acquire(3, PRIVATE)).granted


def test_chat_kinds_follow_telegram_ids() -> None:
    assert chat_kind(12345) is PRIVATE
    assert chat_kind(-1001234567890) is GROUP
    assert chat_kind("@lingkar") is GROUP
