"""An event as one person sees it in their private chat: the card, and who may see it.

The card shows the date and time in the event's zone and the viewer's, the person's own answer
and the counts (never names), with the answer buttons in the viewer's language. Only members
of the event's community (and its hosts) see it; anyone else gets the same answer as for an
event that does not exist (CONTRACT §5).
"""

from __future__ import annotations

from datetime import datetime

from aiogram import html
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from events.bot.callbacks import CardCallback
from events.bot.keyboards import card_keyboard
from events.bot.membership import Membership
from events.bot.posts import counts_line
from events.bot.render import KIND_NAMES, where_text
from events.db.communities import is_host
from events.db.models import (
    Community,
    Event,
    EventKind,
    EventStatus,
    Person,
    Place,
    Rsvp,
    RsvpStatus,
)
from events.db.rsvps import counts, promotion_key, rsvp_of, waitlist_position
from events.delivery import OutgoingMessage
from events.domain.rsvp import takes_answers
from events.formatting import format_datetime_for, format_duration
from events.i18n import N_, Html, html_

STATUS_NAMES = {
    RsvpStatus.GOING: N_("Going"),
    RsvpStatus.MAYBE: N_("Maybe"),
    RsvpStatus.DECLINED: N_("Can't go"),
}


def not_available() -> Html:
    """What anyone hears about an event they may not see, or that does not exist."""
    return html_("I can't find that event. Ask in your group for a new link.")


async def may_see(
    session: AsyncSession, membership: Membership, event: Event | None, person_id: int
) -> bool:
    """A published (or cancelled) event of an active community the person belongs to or
    hosts in."""
    if event is None or event.status is EventStatus.DRAFT:
        return False
    community = await session.get(Community, event.community_id)
    if community is None or not community.active:
        return False
    if await is_host(session, community.id, person_id):
        return True
    return await membership.is_member(community.id, person_id)


def viewer_zone(person: Person, event: Event) -> str:
    return person.timezone or event.timezone


def status_text(rsvp: Rsvp | None, position: int | None) -> Html:
    if rsvp is None:
        return html_("You have not answered yet.")
    if rsvp.status is RsvpStatus.WAITLISTED:
        return html_("Your answer: on the waitlist, number {position}", position=position or 0)
    return html_("Your answer: {status}", status=_(STATUS_NAMES[rsvp.status]))


def has_link(event: Event) -> bool:
    return event.place in (Place.ONLINE, Place.BOTH) and bool(event.join_link)


async def render_card(
    session: AsyncSession,
    event: Event,
    person: Person,
    locale: str,
    now_open: bool,
    now: datetime,
) -> tuple[Html, InlineKeyboardMarkup | None]:
    """The card's text and buttons in the current gettext locale (``locale`` for dates)."""
    rsvp = await rsvp_of(session, event.id, person.id)
    position = await waitlist_position(session, rsvp) if rsvp is not None else None
    when = format_datetime_for(event.starts_at, event.timezone, viewer_zone(person, event), locale)
    where = where_text(event.place, event.location)
    lines = [
        html.bold(html.quote(event.title)),
        html_(KIND_NAMES[event.kind]),
        "",
        "🗓 " + html.quote(when),
        "⏱ " + html.quote(format_duration(event.ends_at - event.starts_at, locale)),
        "📍 " + where,
    ]
    if event.description:
        lines += ["", html.quote(event.description)]
    lines.append("")
    if event.status is EventStatus.CANCELLED:
        lines.append(html_("This event was cancelled."))
    else:
        lines.append(counts_line(await counts(session, event.id), event.capacity))
        lines.append(status_text(rsvp, position))
        if not now_open:
            lines.append(html_("Answers are closed for this event."))
    going = rsvp is not None and rsvp.status is RsvpStatus.GOING
    on = going and event.status is EventStatus.PUBLISHED and now < event.ends_at
    link = on and has_link(event)
    ask = on and event.kind is EventKind.QA
    markup = card_keyboard(event.id, answers=now_open, link=link, ask=ask)
    return Html("\n".join(lines)), markup


def card_is_open(event: Event, now: datetime) -> bool:
    return takes_answers(event.status, event.starts_at, event.rsvp_closes_at, now)


async def render_promotion(
    session: AsyncSession, person: Person, key: str
) -> OutgoingMessage | None:
    """``promotion:<event>:<generation>``: a seat opened up and the person has it now.

    Nothing to say if the event is no longer on or the person no longer holds that seat.
    """
    _kind, event_id, generation = key.split(":")
    event = await session.get(Event, int(event_id))
    if event is None or event.status is not EventStatus.PUBLISHED:
        return None
    rsvp = await rsvp_of(session, event.id, person.id)
    if (
        rsvp is None
        or rsvp.status is not RsvpStatus.GOING
        or promotion_key(event.id, rsvp.generation) != key
        or str(rsvp.generation) != generation
    ):
        return None
    locale = I18n.get_current().current_locale
    when = format_datetime_for(event.starts_at, event.timezone, viewer_zone(person, event), locale)
    text = html_(
        "Good news: a place opened up and you are now going to {title} ({when}).",
        title=event.title,
        when=when,
    )
    if has_link(event):
        text = Html(text + "\n" + html_("Open the event to get the link when it is time."))
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Open the event"), callback_data=CardCallback(event_id=event.id))
    return OutgoingMessage(text=text, reply_markup=builder.as_markup())
