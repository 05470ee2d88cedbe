"""One update at a time per person and chat, in the order they came, with nothing left over."""

from __future__ import annotations

import asyncio

from aiogram.fsm.storage.base import StorageKey

from events.bot.middlewares.isolation import LocalIsolation


async def test_a_persons_updates_run_one_at_a_time_in_arrival_order() -> None:
    isolation = LocalIsolation()
    dewi = StorageKey(bot_id=1, chat_id=7, user_id=7)
    sam = StorageKey(bot_id=1, chat_id=8, user_id=8)
    seen: list[str] = []

    async def update(key: StorageKey, name: str, pause: float) -> None:
        async with isolation.lock(key):
            seen.append(f"{name} begins")
            await asyncio.sleep(pause)
            seen.append(f"{name} ends")

    await asyncio.gather(
        update(dewi, "dewi 1", 0.05),
        update(dewi, "dewi 2", 0.0),
        update(sam, "sam 1", 0.01),
    )
    assert seen == [
        "dewi 1 begins",
        "sam 1 begins",
        "sam 1 ends",
        "dewi 1 ends",
        "dewi 2 begins",
        "dewi 2 ends",
    ]
    assert isolation._locks == {}  # no lock kept per person once nobody waits


async def test_a_failing_update_gives_the_lock_back() -> None:
    isolation = LocalIsolation()
    key = StorageKey(bot_id=1, chat_id=7, user_id=7)
    try:
        async with isolation.lock(key):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    async with asyncio.timeout(1), isolation.lock(key):
        pass
    assert isolation._locks == {}
