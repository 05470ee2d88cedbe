"""The sandbox's first day: a community with its group, a host, two members and two upcoming
events, made the way they are made with Telegram. The bot sees the group arrive and each person
start a chat and set their time zone; the events are written as the wizard writes them at its
last step and posted by the bot's own code; two answers are taps on the group posts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from events.app import App
from events.bot.posts import announce
from events.db.models import Community, Event, EventKind, EventStatus, Place
from events.emulator import BotAPIEmulator, Message, Person
from events.sandbox.cast import AYU, CAST, DEWI, GROUP_ID, GROUP_TITLE, SAM, Character

ZONE = "Asia/Jakarta"  # the community's and the events' zone
GOING = "Hadir"  # the group's language is Indonesian (CONTRACT §6)


@dataclass(frozen=True)
class Plan:
    kind: EventKind
    title: str
    description: str
    days_ahead: int
    at: time
    duration: timedelta
    place: Place
    location: str | None = None
    join_link: str | None = None
    capacity: int | None = None


QA = Plan(
    kind=EventKind.QA,
    title="Tanya Jawab: Mengelola Rasa Cemas",
    description=(
        "Bawa pertanyaanmu tentang rasa cemas; seorang psikolog menjawab. Pertanyaan boleh "
        "dikirim tanpa nama lewat bot."
    ),
    days_ahead=3,
    at=time(19, 30),
    duration=timedelta(hours=1, minutes=30),
    place=Place.ONLINE,
    join_link="https://meet.example.org/lingkar-tenang",
)
WORKSHOP = Plan(
    kind=EventKind.WORKSHOP,
    title="Journaling for Calm: a hands-on workshop",
    description="Bring a notebook. We write for ourselves and share only if we want to.",
    days_ahead=6,
    at=time(10, 0),
    duration=timedelta(hours=2),
    place=Place.IN_PERSON,
    location="Rumah Teduh, Jl. Kaliurang km 5, Yogyakarta",
    capacity=12,
)


async def introduce(person: Person, character: Character) -> None:
    """The person opens a private chat with the bot and tells it their city."""
    await person.send("/start")
    await person.wait_for_message()
    await person.send(f"/timezone {character.city}")
    await person.wait_for_message()


async def publish(app: App, emulator: BotAPIEmulator, plan: Plan, host: Person) -> Message:
    """Write the event as the wizard's Publish does and post it in the group; the post."""
    day = app.clock.now().astimezone(ZoneInfo(ZONE)).date() + timedelta(days=plan.days_ahead)
    starts_at = datetime.combine(day, plan.at, ZoneInfo(ZONE))
    async with app.sessions() as session, session.begin():
        community = await session.get(Community, GROUP_ID)
        if community is None:
            raise RuntimeError("the bot has no community for the sandbox's group")
        event = Event(
            community_id=community.id,
            kind=plan.kind,
            title=plan.title,
            description=plan.description,
            timezone=ZONE,
            starts_at=starts_at,
            ends_at=starts_at + plan.duration,
            place=plan.place,
            location=plan.location,
            join_link=plan.join_link,
            capacity=plan.capacity,
            status=EventStatus.PUBLISHED,
            created_by=host.id,
        )
        session.add(event)
        await session.flush()
        if not await announce(app.bot, session, event, community, app.i18n):
            raise RuntimeError("the bot could not post in the sandbox's group")
        message_id = event.announcement_message_id
    post = emulator.message(GROUP_ID, message_id or 0)
    if post is None:
        raise RuntimeError("the group post is missing")
    return post


async def seed(app: App, emulator: BotAPIEmulator) -> None:
    people = {
        character.key: emulator.user(
            character.first_name,
            language_code=character.language_code,
            user_id=character.user_id,
        )
        for character in CAST
    }
    ayu, dewi, sam = people[AYU.key], people[DEWI.key], people[SAM.key]
    group = emulator.group(GROUP_TITLE, members=[dewi, sam], creator=ayu, chat_id=GROUP_ID)
    await emulator.add_bot_to_group(group, by=ayu, admin=True)
    await group.wait_for_message()  # the bot's hello: the community is there
    await asyncio.gather(*(introduce(people[c.key], c) for c in CAST))
    qa = await publish(app, emulator, QA, ayu)
    workshop = await publish(app, emulator, WORKSHOP, ayu)
    await dewi.tap(qa, GOING)
    await sam.tap(workshop, GOING)
