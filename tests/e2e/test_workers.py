"""Several workers on one database: each occurrence of a series is created and posted once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from events.app import App, build_app
from events.bot import occurrences as occurrences_module
from events.config import Settings
from events.db.models import Event
from events.emulator import ApiCall, BotAPIEmulator
from tests.e2e.conftest import CommunitySetup
from tests.e2e.test_series import weekly


@pytest.fixture
async def workers(settings: Settings) -> AsyncIterator[list[App]]:
    """Two more workers on the test's database, not polling (the running bot takes the
    updates): only their scheduled work runs, called by the test."""
    apps = [build_app(settings) for _ in range(2)]
    yield apps
    for app in apps:
        await app.bot.session.close()
        await app.engine.dispose()


async def extend(app: App) -> int:
    assert app.occurrences is not None
    with app.i18n.context():
        return await app.occurrences.extend_all()


@pytest.mark.parametrize("locked", [True, False], ids=["advisory-lock", "insert-first-only"])
async def test_two_workers_create_and_post_an_occurrence_once(
    emulator: BotAPIEmulator,
    bot: App,
    community: CommunitySetup,
    workers: list[App],
    locked: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host, group = community.host, community.group
    await host.tap(await weekly(host, "3"), "Terbitkan")
    await group.wait_for_message(contains="Minggu, 5 Desember 2027")
    if not locked:  # the second line of defence alone: the row before the post

        async def granted(*_: object) -> bool:
            return True

        monkeypatch.setattr(occurrences_module, "try_job_lock", granted)
    first, second = workers
    for worker in workers:  # a week before the second occurrence, on both workers
        worker.clock.advance(datetime(2027, 12, 1, tzinfo=UTC) - worker.clock.now())

    # The first worker's post is held in flight, its transaction open, while the second looks.
    posting, release = asyncio.Event(), asyncio.Event()

    async def hold(_: ApiCall) -> None:
        posting.set()
        await asyncio.wait_for(release.wait(), 10)

    emulator.on_call("sendMessage", hold, chat_id=group.id)
    one = asyncio.create_task(extend(first))
    await asyncio.wait_for(posting.wait(), 5)
    other = asyncio.create_task(extend(second))
    # With the lock (PostgreSQL) the second worker skips the series at once; otherwise it waits
    # for the first one's row (PostgreSQL) or for the only write lock (SQLite): let it go then.
    await asyncio.wait({other}, timeout=1.0)
    release.set()
    assert sorted(await asyncio.gather(one, other)) == [0, 1]

    async with bot.sessions() as session:
        indexes = list(await session.scalars(select(Event.series_index).order_by(Event.id)))
    assert indexes == [0, 1]
    assert len(posts_of(emulator, group.id, "12 Desember 2027")) == 1

    # Looking again, on either worker, creates nothing more.
    assert await extend(second) == 0
    assert await extend(first) == 0
    assert len(posts_of(emulator, group.id, "Desember 2027")) == 2


def posts_of(emulator: BotAPIEmulator, chat_id: int, date: str) -> list[ApiCall]:
    """Posts to the group (sendMessage, every try) naming ``date``."""
    return [
        call
        for call in emulator.calls_to("sendMessage", chat_id=chat_id)
        if date in str(call.params.get("text", ""))
    ]
