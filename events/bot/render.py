"""How an event reads in Telegram: the announcement members see, and the names of its parts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram import html
from aiogram.utils.i18n import gettext as _

from events.db.models import Event, EventKind, Place
from events.domain.events import Draft
from events.formatting import format_datetime, format_duration
from events.i18n import N_, Html, html_

KIND_NAMES = {
    EventKind.WORKSHOP: N_("Workshop"),
    EventKind.WEBINAR: N_("Webinar"),
    EventKind.QA: N_("Q&A"),
}
PLACE_NAMES = {
    Place.ONLINE: N_("Online"),
    Place.IN_PERSON: N_("In person"),
    Place.BOTH: N_("Both"),
}


def where_text(place: Place, location: str | None) -> Html:
    """Where an event is, as a post, a card or a notice says it ("Online", the place, or both)."""
    if place is Place.ONLINE:
        return html_("Online")
    if place is Place.IN_PERSON:
        return Html(html.quote(location or ""))
    return html_("Online and {place}", place=location or "")


def event_link(bot_username: str, event_id: int | None) -> str:
    """The deep link that opens an event in a private chat (the bot itself before publishing)."""
    base = f"https://t.me/{bot_username}"
    return base if event_id is None else f"{base}?start=e{event_id}"


@dataclass(frozen=True)
class Announcement:
    title: str
    kind: EventKind
    starts_at: datetime
    timezone: str
    duration: timedelta
    place: Place
    location: str | None
    capacity: int | None
    description: str | None
    event_id: int | None = None

    @classmethod
    def of_draft(cls, draft: Draft) -> Announcement:
        starts_at, duration = draft.starts_at, draft.duration
        if not (draft.title and draft.kind and starts_at and draft.timezone and duration):
            raise ValueError("the draft is not complete")
        if draft.place is None:
            raise ValueError("the draft is not complete")
        return cls(
            title=draft.title,
            kind=draft.kind,
            starts_at=starts_at,
            timezone=draft.timezone,
            duration=duration,
            place=draft.place,
            location=draft.location if draft.needs_location else None,
            capacity=draft.capacity,
            description=draft.description,
        )

    @classmethod
    def of_event(cls, event: Event) -> Announcement:
        return cls(
            title=event.title,
            kind=event.kind,
            starts_at=event.starts_at,
            timezone=event.timezone,
            duration=event.ends_at - event.starts_at,
            place=event.place,
            location=event.location,
            capacity=event.capacity,
            description=event.description,
            event_id=event.id,
        )

    def render(self, locale: str, bot_username: str) -> Html:
        """The group post, in the current gettext locale (`locale` for dates and durations).

        Never the join link: that goes to people going only, privately.
        """
        where = where_text(self.place, self.location)
        when = html.quote(format_datetime(self.starts_at, self.timezone, locale))
        length = html.quote(format_duration(self.duration, locale))
        lines = [
            html.bold(html.quote(self.title)),
            html_(KIND_NAMES[self.kind]),
            "",
            "🗓 " + when,
            "⏱ " + length,
            "📍 " + where,
        ]
        if self.capacity is not None:
            lines.append("👥 " + html_("Places: {count}", count=self.capacity))
        if self.description:
            lines += ["", html.quote(self.description)]
        link = event_link(bot_username, self.event_id)
        lines += ["", html.link(html.quote(_("Open it in a private chat to join")), link)]
        return Html("\n".join(lines))
