"""What people going, maybe or waitlisted hear when a host changes or cancels an event.

One ledger row per person and revision (``notice:<event>:<revision>``, CONTRACT §3), written in
the transaction of the change; the text is decided when it is sent, in the recipient's language
and zone, from the event as it is then. The join link goes to people going only, protected.
"""

from __future__ import annotations

from aiogram import html
from aiogram.utils.i18n import I18n
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.bot.render import Announcement, where_text
from events.db.models import Event, EventStatus, Person, Rsvp, RsvpStatus
from events.delivery import OutgoingMessage
from events.formatting import format_datetime_for, format_duration
from events.i18n import html_

# Who hears of a change or a cancellation.
TOLD = (RsvpStatus.GOING, RsvpStatus.MAYBE, RsvpStatus.WAITLISTED)


def notice_key(event: Event) -> str:
    return f"notice:{event.id}:{event.revision}"


async def people_to_tell(session: AsyncSession, event_id: int) -> list[int]:
    """Everyone going, maybe or waitlisted, in the order they answered."""
    rows = await session.scalars(
        select(Rsvp.person_id)
        .where(Rsvp.event_id == event_id, Rsvp.status.in_(TOLD))
        .order_by(Rsvp.position, Rsvp.id)
    )
    return list(rows)


async def render_notice(session: AsyncSession, person: Person, key: str) -> OutgoingMessage | None:
    """``notice:<event>:<revision>``: the event changed or was cancelled."""
    _kind, event_id, revision = key.split(":")
    event = await session.get(Event, int(event_id))
    if event is None:
        return None
    status = await session.scalar(
        select(Rsvp.status).where(Rsvp.event_id == event.id, Rsvp.person_id == person.id)
    )
    if status not in TOLD:
        return None  # they answered no since: nothing to tell them
    locale = I18n.get_current().current_locale
    when = format_datetime_for(
        event.starts_at, event.timezone, person.timezone or event.timezone, locale
    )
    if event.status is EventStatus.CANCELLED:
        if int(revision) != event.revision:
            return None  # a change superseded by the cancellation
        lines = [
            "❌ " + html_("Cancelled: {title}", title=event.title),
            html_("It was going to take place {when}.", when=when),
        ]
        if event.cancel_reason:
            lines += ["", html_("The host says: {reason}", reason=event.cancel_reason)]
        return OutgoingMessage(text="\n".join(lines))
    fields = Announcement.of_event(event)
    where = where_text(event.place, event.location)
    lines = [
        "✏️ " + html_("{title} has changed. This is how it is now:", title=event.title),
        "",
        "🗓 " + html.quote(when),
        "⏱ " + html.quote(format_duration(fields.duration, locale)),
        "📍 " + where,
    ]
    protect = None
    if event.join_link and status is RsvpStatus.GOING:
        lines += ["", html_("Link to join: {link}", link=event.join_link)]
        protect = True
    return OutgoingMessage(text="\n".join(lines), protect_content=protect)
