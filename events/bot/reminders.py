"""What a reminder says, decided when it is sent (the rows come from events/reminders.py).

``reminder:<event>:<offset>``: the event's title, how long until it starts ("dalam 1 jam" /
"in 1 hour", counted from the moment it is sent, so a late reminder says the truth), the start
in the person's zone, the place, and for people going to an online event the join link in
their last reminder (sent with ``protect_content``). Buttons: Can't make it (frees the seat,
the next person waiting gets it) and Add to calendar.

Nothing is sent when the event is gone, cancelled or has started, when the person no longer
wants it, or when a later reminder of the same event is due too (after an outage only the
latest goes) or went already: nobody gets two reminders of one event at once.
"""

from __future__ import annotations

from aiogram import html
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from events.bot.callbacks import RsvpAnswer, RsvpCallback
from events.bot.cards import has_link, viewer_zone
from events.bot.keyboards import add_to_calendar_button
from events.bot.render import where_text
from events.clock import Clock
from events.db.models import Delivery, DeliveryStatus, Event, EventStatus, Person, RsvpStatus
from events.db.rsvps import rsvp_of
from events.delivery import OutgoingMessage, Renderer
from events.formatting import format_datetime_for, format_relative
from events.i18n import html_
from events.reminders import OFFSETS, offset_of, reminder_key

_WAITING = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


def reminder_renderer(clock: Clock) -> Renderer:
    """The renderer of ``reminder:`` rows, on the bot's clock."""

    async def render(session: AsyncSession, person: Person, key: str) -> OutgoingMessage | None:
        return await render_reminder(session, person, key, clock)

    return render


async def render_reminder(
    session: AsyncSession, person: Person, key: str, clock: Clock
) -> OutgoingMessage | None:
    _kind, event_id, _offset = key.split(":")
    event = await session.get(Event, int(event_id))
    now = clock.now()
    if event is None or event.status is not EventStatus.PUBLISHED or event.starts_at <= now:
        return None
    rsvp = await rsvp_of(session, event.id, person.id)
    going = rsvp is not None and rsvp.status is RsvpStatus.GOING
    maybe = rsvp is not None and rsvp.status is RsvpStatus.MAYBE and person.remind_maybe
    if not (going or maybe):
        return None
    offset = offset_of(key)
    later_keys = [reminder_key(event.id, other) for other in OFFSETS if other < offset]
    later = (
        await session.execute(
            select(Delivery.status, Delivery.due_at).where(
                Delivery.person_id == person.id, Delivery.key.in_(later_keys)
            )
        )
    ).all()
    if any(s is DeliveryStatus.SENT or (s in _WAITING and due <= now) for s, due in later):
        return None  # a later reminder is due as well, or went already: that one speaks
    last = not any(s in _WAITING for s, _due in later)
    locale = I18n.get_current().current_locale
    zone = viewer_zone(person, event)
    lines = [
        "⏰ "
        + html_(
            "{title} starts {relative}.",
            title=event.title,
            relative=format_relative(event.starts_at, now, zone, locale),
        ),
        "",
        "🗓 " + html.quote(format_datetime_for(event.starts_at, event.timezone, zone, locale)),
        "📍 " + where_text(event.place, event.location),
    ]
    protect = None
    if going and last and has_link(event):
        lines += ["", html_("Link to join: {link}", link=event.join_link)]
        protect = True
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Can't make it"),
        callback_data=RsvpCallback(event_id=event.id, answer=RsvpAnswer.NOT_GOING),
    )
    add_to_calendar_button(builder, event.id)
    builder.adjust(1)
    return OutgoingMessage(
        text="\n".join(lines), reply_markup=builder.as_markup(), protect_content=protect
    )
