"""RSVP taps handled per second through the Dispatcher, against aiogram's own ceiling.

    python -m bench.rsvp [taps] [sqlite|postgresql]

``taps`` Going taps from as many people who never talked to the bot, on one event's group
post, are fed to ``dispatcher.feed_update(bot, update)`` as polling would hand them over: one
task per update, started in update_id order, all at once. Three dispatchers get the same
updates, on a fresh event each round (the best of the rounds counts):

- ceiling: a bare aiogram ``Dispatcher`` whose callback handler only answers the tap;
- straightforward: a bare ``Dispatcher`` whose handler does what a typical bot does: in one
  transaction of the same engine, get or create the person, select the event and the answer,
  write it, count those going; then answer the tap;
- the bot: ``build_app(settings)``'s dispatcher with all its middlewares, the answers' line
  (answers to one event taken together), the reminders and check-in planned for each person and
  the group post's refresh requested; the heap settled as the bot settles it before its first
  update.

Every request the bots make goes to a counting session: aiogram serialises it exactly as it
would for the network (``build_form_data``) and parses a JSON answer (``check_response``), but
no server runs. The Bot API emulator would run in this process and loop, and its own work per
request (parsing, its world, JSON) would be added to all three alike and push the ratios
towards 1; a real Telegram server costs the bot only the request. Before a rate is reported the
database must hold one answer per person (going, counted by the bot's own ``counts``) and every
tap must have been answered exactly once.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import TelegramMethod
from aiogram.types import CallbackQuery, Update
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import BOT_USERNAME, POSTGRES_URL, TOKEN, NotDone, Row, check
from events.app import App, build_app, settle_heap
from events.bot.callbacks import RsvpAnswer, RsvpCallback
from events.clock import Clock
from events.config import load_settings
from events.db.engine import create_engine, create_sessionmaker
from events.db.migrate import upgrade_to_head
from events.db.models import (
    ChatType,
    Community,
    Delivery,
    Event,
    EventKind,
    EventStatus,
    Person,
    Place,
    Rsvp,
    RsvpStatus,
)
from events.db.rsvps import counts

COMMUNITY = -1001234567890
POST = 10  # the message id of the event's group post
GOAL = 0.35


class CountingSession(AiohttpSession):
    """Answers every Bot API request at once, after aiogram has serialised it; counts them."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()
        self.answered: Counter[str] = Counter()  # callback_query_id -> answers
        self._message_id = 1000

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109
    ) -> Any:
        self.build_form_data(bot=bot, method=method)  # the cost of the request's body
        name = method.__api_method__
        self.calls[name] += 1
        result: Any = True
        if name == "answerCallbackQuery":
            self.answered[method.callback_query_id] += 1  # type: ignore[attr-defined]
        elif name == "getMe":
            result = {"id": 123456, "is_bot": True, "first_name": "Events",
                      "username": BOT_USERNAME}  # fmt: skip
        elif name == "sendMessage":
            self._message_id += 1
            result = {
                "message_id": self._message_id,
                "date": int(time.time()),
                "chat": {"id": method.chat_id, "type": "private"},  # type: ignore[attr-defined]
                "text": "",
            }
        elif not name.startswith(("answer", "edit", "set", "delete", "pin")):
            raise NotDone(f"the benchmark does not answer {name}")
        content = json.dumps({"ok": True, "result": result})
        response = self.check_response(bot=bot, method=method, status_code=200, content=content)
        return response.result

    async def close(self) -> None:
        return None


def updates(bot: Bot, event_id: int, first_user: int, taps: int, first_update: int) -> list[Update]:
    """Going taps on the event's group post, one per person, in update_id order."""
    data = RsvpCallback(event_id=event_id, answer=RsvpAnswer.GOING).pack()
    group = {"id": COMMUNITY, "type": "supergroup", "title": "Lingkar Tenang"}
    post = {
        "message_id": POST,
        "date": int(time.time()),
        "chat": group,
        "from": {"id": 123456, "is_bot": True, "first_name": "Events", "username": BOT_USERNAME},
        "text": "Lingkar Dukungan",
    }
    found = []
    for number in range(taps):
        user = {
            "id": first_user + number,
            "is_bot": False,
            "first_name": f"Anggota {number}",
            "language_code": "id",
        }
        payload = {
            "update_id": first_update + number,
            "callback_query": {
                "id": f"{first_user + number}-{event_id}",
                "from": user,
                "message": post,
                "chat_instance": "-42",
                "data": data,
            },
        }
        found.append(Update.model_validate(payload, context={"bot": bot}))
    return found


async def feed(dispatcher: Dispatcher, bot: Bot, batch: list[Update]) -> tuple[float, int]:
    """Hand the updates over as polling does; seconds until every one was handled, and how
    many handlers failed."""
    began = time.perf_counter()
    tasks = [asyncio.create_task(dispatcher.feed_update(bot, update)) for update in batch]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    failed = sum(isinstance(result, Exception) for result in results)
    return time.perf_counter() - began, failed


async def add_event(sessions: async_sessionmaker[AsyncSession], starts_in: timedelta) -> int:
    async with sessions() as session, session.begin():
        if await session.get(Community, COMMUNITY) is None:
            session.add(
                Community(id=COMMUNITY, title="Lingkar Tenang", chat_type=ChatType.SUPERGROUP)
            )
            await session.flush()
        now = Clock().now()
        event = Event(
            community_id=COMMUNITY,
            kind=EventKind.WEBINAR,
            title="Lingkar Dukungan",
            timezone="Asia/Jakarta",
            starts_at=now + starts_in,
            ends_at=now + starts_in + timedelta(hours=1),
            place=Place.ONLINE,
            join_link="https://meet.example.org/lingkar",
            status=EventStatus.PUBLISHED,
            announcement_chat_id=COMMUNITY,
            announcement_message_id=POST,
        )
        session.add(event)
        await session.flush()
        return event.id


async def stored_answers(sessions: async_sessionmaker[AsyncSession], event_id: int) -> int:
    async with sessions() as session:
        found = await counts(session, event_id)
        rows = await session.scalar(
            select(func.count()).select_from(Rsvp).where(Rsvp.event_id == event_id)
        )
    check(rows == found.going, f"{rows} answers stored, {found.going} counted as going")
    return found.going


def ceiling_dispatcher() -> Dispatcher:
    router = Router()

    @router.callback_query()
    async def tapped(query: CallbackQuery) -> None:
        await query.answer()

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


def idle_dispatcher() -> Dispatcher:
    """A callback handler that does nothing at all (a bot that never answers: for the note)."""
    router = Router()

    @router.callback_query()
    async def tapped(query: CallbackQuery) -> None:
        return None

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


def straightforward_dispatcher(sessions: async_sessionmaker[AsyncSession]) -> Dispatcher:
    router = Router()

    @router.callback_query(RsvpCallback.filter())
    async def tapped(query: CallbackQuery, callback_data: RsvpCallback) -> None:
        user = query.from_user
        async with sessions() as session, session.begin():
            person = await session.get(Person, user.id)
            if person is None:
                session.add(
                    Person(id=user.id, first_name=user.first_name, language_code=user.language_code)
                )
            event = await session.get(Event, callback_data.event_id)
            if event is None:
                await query.answer("Acaranya tidak ada.", show_alert=True)
                return
            rsvp = (
                await session.scalars(
                    select(Rsvp).where(Rsvp.event_id == event.id, Rsvp.person_id == user.id)
                )
            ).one_or_none()
            if rsvp is None:
                session.add(Rsvp(event_id=event.id, person_id=user.id, status=RsvpStatus.GOING))
            else:
                rsvp.status = RsvpStatus.GOING
            await session.flush()
            going = await session.scalar(
                select(func.count()).where(
                    Rsvp.event_id == event.id, Rsvp.status == RsvpStatus.GOING
                )
            )
        await query.answer(f"Kamu akan hadir ({going} orang hadir).")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


@asynccontextmanager
async def database(backend: str) -> AsyncIterator[str]:
    """An empty, migrated database: a SQLite file (WAL) or a new PostgreSQL database."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            await upgrade_to_head(url)
            yield url
    else:
        from tests.services import postgres_database

        async with postgres_database(POSTGRES_URL) as url:
            await upgrade_to_head(url)
            yield url


async def reachable(url: str) -> str | None:
    """None when the server answers, else why not (one line)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    finally:
        await engine.dispose()
    return None


async def start_bot(url: str) -> tuple[App, CountingSession]:
    settings = load_settings(
        _env_file=None,
        bot_token=TOKEN,
        database_url=url,
        telegram_api_url="http://127.0.0.1:9",  # never called: the counting session answers
        http_port=0,
    )
    app = build_app(settings)
    counting = CountingSession()
    await app.bot.session.close()
    app.bot.session = counting
    app.scheduler.start()
    await app.delivery.start()
    settle_heap()  # as the bot does before it receives its first update
    return app, counting


async def stop_bot(app: App) -> None:
    if app.posts is not None:
        await app.posts.stop()
    await app.delivery.stop(timeout=5)
    app.scheduler.shutdown(wait=False)
    await app.engine.dispose()


async def measure(backend: str, taps: int, rounds: int) -> dict[str, float]:
    """The best rate (taps per second) of each dispatcher."""
    rates: dict[str, float] = {}
    lost: dict[str, int] = {}
    async with database(backend) as url:
        app, counting = await start_bot(url)
        plain = create_engine(url)
        plain_sessions = create_sessionmaker(plain)
        bot = app.bot
        dispatchers = {
            "idle": idle_dispatcher(),
            "ceiling": ceiling_dispatcher(),
            "straightforward": straightforward_dispatcher(plain_sessions),
            "bot": app.dispatcher,
        }
        next_user, next_update = 10_000_000, 1
        try:
            for _ in range(rounds):
                for name, dispatcher in dispatchers.items():
                    event_id = await add_event(app.sessions, timedelta(days=3))
                    batch = updates(bot, event_id, next_user, taps, next_update)
                    ids = [update.callback_query.id for update in batch]  # type: ignore[union-attr]
                    next_user += taps
                    next_update += taps
                    seconds, failed = await feed(dispatcher, bot, batch)
                    if name == "straightforward" and failed:
                        # What a typical bot does on SQLite under a burst: some taps time out
                        # on the write lock ("database is locked"); the rate counts the rest.
                        lost[name] = max(lost.get(name, 0), failed)
                        rates[name] = max(rates.get(name, 0.0), (taps - failed) / seconds)
                        continue
                    check(not failed, f"{name}: {failed} handlers failed")
                    if name != "idle":
                        missing = [i for i in ids if counting.answered[i] != 1]
                        check(not missing, f"{name}: {len(missing)} taps not answered once")
                    if name in ("straightforward", "bot"):
                        going = await stored_answers(app.sessions, event_id)
                        check(going == taps, f"{name}: {going} going, not {taps}")
                    if name == "bot":
                        await check_bot(app, event_id, batch)
                    rates[name] = max(rates.get(name, 0.0), taps / seconds)
        finally:
            await stop_bot(app)
            await plain.dispose()
    rates["straightforward_lost"] = lost.get("straightforward", 0)
    return rates


async def check_bot(app: App, event_id: int, batch: list[Update]) -> None:
    """The bot's own promises: answers in arrival order, the reminders and check-in planned for
    each."""
    async with app.sessions() as session:
        order = list(
            await session.scalars(
                select(Rsvp.person_id).where(Rsvp.event_id == event_id).order_by(Rsvp.position)
            )
        )
        reminders = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.key.like(f"reminder:{event_id}:%"))
        )
        checkins = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.key == f"checkin:{event_id}")
        )
    expected = [update.callback_query.from_user.id for update in batch]  # type: ignore[union-attr]
    check(order == expected, "the bot: the seats were not taken in update_id order")
    check(reminders == 2 * len(batch), f"the bot: {reminders} reminders planned, not 2 a person")
    check(checkins == len(batch), f"the bot: {checkins} check-ins planned, not 1 a person")


def rows(quick: bool = False, backend: str = "sqlite") -> list[Row]:
    taps, rounds = (100, 1) if quick else (500, 3)
    label = "SQLite WAL" if backend == "sqlite" else "PostgreSQL"
    if backend == "postgresql":
        reason = asyncio.run(reachable(POSTGRES_URL))
        if reason is not None:
            return [
                Row(
                    name=f"RSVP taps/s, {label}",
                    baseline="aiogram ceiling",
                    measured="skipped",
                    ratio=None,
                    goal="report",
                    met=None,
                    note=f"{POSTGRES_URL} unreachable ({reason})",
                )
            ]
    rates = asyncio.run(measure(backend, taps, rounds))
    ceiling, bot, plain = rates["ceiling"], rates["bot"], rates["straightforward"]
    ratio = bot / ceiling
    note = (
        f"{taps} taps at once, best of {rounds}; straightforward select-then-write handler "
        f"{plain:.0f}/s = {plain / ceiling:.3f} of the ceiling"
        + (
            f" (it lost up to {rates['straightforward_lost']:.0f} taps to a locked database)"
            if rates["straightforward_lost"]
            else ""
        )
        + "; a handler that does not even "
        f"answer: {rates['idle']:.0f}/s"
    )
    goal = f"≥ {GOAL}" if backend == "sqlite" else "report"
    return [
        Row(
            name=f"RSVP taps/s, {label}",
            baseline=f"aiogram ceiling {ceiling:.0f}/s",
            measured=f"{bot:.0f}/s",
            ratio=ratio,
            goal=goal,
            met=ratio >= GOAL if backend == "sqlite" else None,
            note=note,
        )
    ]


def main() -> None:
    taps = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    backend = sys.argv[2] if len(sys.argv) > 2 else "sqlite"
    rates = asyncio.run(measure(backend, taps, rounds=3))
    ceiling = rates["ceiling"]
    for name, rate in rates.items():
        if name.endswith("_lost"):
            continue
        print(f"{name:16} {rate:8.0f} taps/s  {rate / ceiling:.3f}")


if __name__ == "__main__":
    main()
