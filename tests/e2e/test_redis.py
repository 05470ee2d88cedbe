"""With `EVENTS_REDIS_URL` (CONTRACT §8): the wizard's state in Redis, and the group post's edits
spaced across several processes sharing it."""

from __future__ import annotations

import json
import os

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from events.app import App
from events.bot.redis_posts import RedisPostUpdater, posts_prefix
from events.config import Settings
from events.db.models import FsmState, RsvpStatus
from events.delivery.limits import RateLimits
from events.delivery.redis_limits import RedisLimiter, limits_prefix
from events.emulator import BotAPIEmulator, Limits
from tests.e2e.conftest import CommunitySetup, StartBot
from tests.e2e.publishing import count_status, publish
from tests.e2e.test_wizard import (
    TITLE,
    fill_until_preview,
    test_a_restart_in_the_middle_keeps_the_draft,
    test_the_whole_wizard_to_a_published_group_post,
)
from tests.services import redis_url

SCALE = float(os.environ.get("EVENTS_TEST_SCALE", "4"))

__all__ = [  # the wizard's own scenarios, run again here with the state in Redis
    "test_a_restart_in_the_middle_keeps_the_draft",
    "test_the_whole_wizard_to_a_published_group_post",
]


@pytest.fixture
def settings(settings: Settings, redis: Redis) -> Settings:
    return settings.model_copy(update={"redis_url": redis_url()})


@pytest.fixture
def emulator_limits() -> Limits:
    return Limits(scale=SCALE)


def scaled_limiter(redis: Redis, app_bot_id: int) -> RedisLimiter:
    return RedisLimiter(redis, RateLimits().scaled(SCALE), prefix=limits_prefix(app_bot_id))


@pytest.fixture
async def bot(start_bot: StartBot, redis: Redis) -> App:
    return await start_bot(limiter=scaled_limiter(redis, 123456))


async def fsm_keys(redis: Redis) -> dict[str, bytes]:
    found = {}
    async for key in redis.scan_iter(match="events:fsm:*"):
        if await redis.type(key) == b"string":
            found[key.decode()] = await redis.get(key)
    return found


async def test_the_wizards_state_is_in_redis_and_moves_with_each_answer(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup, redis: Redis
) -> None:
    host = community.host
    assert type(bot.posts) is RedisPostUpdater
    assert type(bot.delivery.limiter) is RedisLimiter
    await fill_until_preview(host)
    # Written before the answer went out: the key names the bot, the chat and the person.
    prefix = f"events:fsm:{bot.bot.id}:{host.id}:{host.id}:default:"
    stored = await fsm_keys(redis)
    assert stored[prefix + "state"] == b"NewEvent:preview"
    assert json.loads(stored[prefix + "data"])["draft"]["title"] == TITLE
    assert all(key.startswith(prefix) for key in stored)
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(FsmState)) == 0

    await host.send("/cancel")
    assert (await host.wait_for_message()).text == "Dibatalkan. Tidak ada yang disimpan."
    assert await fsm_keys(redis) == {}


async def test_three_processes_edit_one_post_a_gap_apart_and_end_with_the_counts(
    emulator: BotAPIEmulator, bot: App, community: CommunitySetup, redis: Redis
) -> None:
    assert bot.posts is not None
    event = await publish(bot, emulator, community.id, capacity=10)
    # Two more processes: their own limiter and post updater on the same Redis.
    others = [
        RedisPostUpdater(
            redis=redis,
            bot=bot.bot,
            sessions=bot.sessions,
            i18n=bot.i18n,
            limiter=scaled_limiter(redis, bot.bot.id),
            prefix=posts_prefix(bot.bot.id),
        )
        for _ in range(2)
    ]
    updaters = [bot.posts, *others]
    people = [emulator.user(f"Peserta {n}", language_code="en") for n in range(60)]
    labels = ["Hadir", "Mungkin", "Tidak bisa"]
    try:
        for wave in range(0, len(people), 6):
            group = people[wave : wave + 6]
            edits = event.post.edits
            taps = [await p.press(event.post, labels[(wave + i) % 3]) for i, p in enumerate(group)]
            await emulator.wait_until(lambda taps=taps: all(t.answered for t in taps), timeout=30)
            for n, updater in enumerate(updaters):
                if (wave // 6 + n) % 2 == 0:
                    updater.request(event.id)
            if wave // 6 % 3 == 2:  # now and then, the next wave comes after an edit
                await emulator.wait_until(lambda edits=edits: event.post.edits > edits, timeout=10)
        going = await count_status(bot, event.id, RsvpStatus.GOING)
        maybe = await count_status(bot, event.id, RsvpStatus.MAYBE)
        waiting = await count_status(bot, event.id, RsvpStatus.WAITLISTED)
        assert (going, maybe, waiting) == (10, 20, 10)
        final = f"Hadir: 10 dari 10 · Mungkin: {maybe} · Daftar tunggu: {waiting}"
        await community.group.wait_for_message(
            predicate=lambda m: m.message_id == event.post.message_id and final in m.text,
            timeout=30,
        )
        gap = 3.0 / SCALE
        await emulator.quiet(gap * 2, timeout=30)
        await emulator.wait_until(lambda: not any(u.busy for u in others), timeout=10)
    finally:
        for updater in others:
            await updater.stop()
    assert final in event.post.text  # the last edit shows the final counts
    gaps = emulator.edit_gaps(community.id, event.post.message_id)
    assert len(gaps) >= 3
    assert min(gaps) >= gap - 0.05
    assert emulator.max_group_writes_in_window(community.id) <= 20
    assert emulator.violations == []
    # Nothing is kept for ever.
    async for key in redis.scan_iter(match="events:*"):
        assert await redis.pttl(key) != -1, key
