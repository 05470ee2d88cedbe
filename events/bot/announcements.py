"""A host's message to everyone going to an event (``announce:<broadcast id>``, CONTRACT §3).

The host's text is kept in a ``broadcasts`` row; one ledger row per person going is written in
the same transaction. The message is put together when it is sent, in the recipient's language:
a header naming the event (never the host, never anyone else), the host's text as plain text
with its line breaks, and a button that opens the event's card. Never the join link.
"""

from __future__ import annotations

from aiogram import html
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.bot.callbacks import CardCallback
from events.db.models import Broadcast, Event, EventStatus, Person, Rsvp, RsvpStatus
from events.delivery import OutgoingMessage
from events.i18n import Html, html_


def announce_key(broadcast_id: int) -> str:
    return f"announce:{broadcast_id}"


def plural_html(translated: str, count: int, /, **values: object) -> Html:
    """A plural message chosen with ``ngettext`` (which marks it for extraction), escaped and
    filled in as :func:`events.i18n.html_` does."""
    escaped = {
        name: value if isinstance(value, Html) else html.quote(str(value))
        for name, value in values.items()
    }
    return Html(html.quote(translated).format(count=count, **escaped))


async def people_going(session: AsyncSession, event_id: int) -> list[int]:
    """Everyone going, in the order they answered (not maybe, waitlisted or declined)."""
    rows = await session.scalars(
        select(Rsvp.person_id)
        .where(Rsvp.event_id == event_id, Rsvp.status == RsvpStatus.GOING)
        .order_by(Rsvp.position, Rsvp.id)
    )
    return list(rows)


def announcement_text(title: str, text: str) -> Html:
    """The message as the people going read it, in the current language."""
    header = "📣 " + html_(
        "Message from the host of {title}", title=Html(html.bold(html.quote(title)))
    )
    return Html(f"{header}\n\n{html.quote(text)}")


def open_event_markup(event_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Open the event"), callback_data=CardCallback(event_id=event_id))
    return builder.as_markup()


async def render_announce(
    session: AsyncSession, person: Person, key: str
) -> OutgoingMessage | None:
    """``announce:<broadcast id>``: nothing to say once the broadcast or its event is gone,
    the event is cancelled, or the person is no longer going."""
    _kind, broadcast_id = key.split(":")
    broadcast = await session.get(Broadcast, int(broadcast_id))
    event = await session.get(Event, broadcast.event_id) if broadcast is not None else None
    if broadcast is None or event is None or event.status is not EventStatus.PUBLISHED:
        return None
    status = await session.scalar(
        select(Rsvp.status).where(Rsvp.event_id == event.id, Rsvp.person_id == person.id)
    )
    if status is not RsvpStatus.GOING:
        return None
    return OutgoingMessage(
        text=announcement_text(event.title, broadcast.text),
        reply_markup=open_event_markup(event.id),
    )
