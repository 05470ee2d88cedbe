"""Events published the fast way: the row written directly, the group post sent by the bot's own
rendering, as the wizard does at the end (tests/e2e/test_wizard.py covers the wizard itself)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from events.app import App
from events.bot.posts import announce
from events.db.models import (
    Community,
    Event,
    EventKind,
    EventStatus,
    Place,
    Rsvp,
    RsvpStatus,
)
from events.emulator import BotAPIEmulator, Message

LINK = "https://meet.example.org/lingkar-rahasia"


@dataclass(frozen=True)
class Published:
    id: int
    post: Message


async def publish(
    app: App,
    emulator: BotAPIEmulator,
    community_id: int,
    *,
    title: str = "Lingkar Dukungan",
    capacity: int | None = None,
    place: Place = Place.ONLINE,
    starts_in: timedelta = timedelta(days=3),
    starts_at: datetime | None = None,
    kind: EventKind = EventKind.WEBINAR,
    created_by: int | None = None,
) -> Published:
    async with app.sessions() as session, session.begin():
        community = await session.get(Community, community_id)
        assert community is not None
        starts_at = starts_at or app.clock.now() + starts_in
        event = Event(
            community_id=community_id,
            kind=kind,
            title=title,
            description="Sesi berbagi yang aman.",
            timezone="Asia/Jakarta",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            place=place,
            location="Rumah Teduh" if place is not Place.ONLINE else None,
            join_link=LINK if place is not Place.IN_PERSON else None,
            capacity=capacity,
            status=EventStatus.PUBLISHED,
            created_by=created_by,
        )
        session.add(event)
        await session.flush()
        assert await announce(app.bot, session, event, community, app.i18n)
        event_id, chat_id, message_id = (
            event.id,
            event.announcement_chat_id,
            event.announcement_message_id,
        )
    assert chat_id is not None
    assert message_id is not None
    post = emulator.message(chat_id, message_id)
    assert post is not None
    return Published(event_id, post)


async def answers(app: App, event_id: int) -> dict[int, tuple[RsvpStatus, int | None]]:
    """person id -> (status, position)."""
    async with app.sessions() as session:
        rows = await session.execute(
            select(Rsvp.person_id, Rsvp.status, Rsvp.position).where(Rsvp.event_id == event_id)
        )
        return {person: (RsvpStatus(status), position) for person, status, position in rows}


async def count_status(app: App, event_id: int, status: RsvpStatus) -> int:
    async with app.sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).where(Rsvp.event_id == event_id, Rsvp.status == status)
            )
            or 0
        )
