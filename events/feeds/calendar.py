"""iCalendar files of events (RFC 5545 and 7986), pure: no database, no Telegram, no clock.

What goes in is what a calendar may show: titles, times, places, a link back to the event in
Telegram. What never goes in: join links, attendee names, anything about the reader.

A feed is deterministic: the same events give the same bytes (DTSTAMP and LAST-MODIFIED are the
event's last change), so its ETag only changes when an event did. Each VEVENT and VTIMEZONE is
rendered once and kept in a :class:`RenderCache`; a feed is the concatenation of cached blocks.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from gettext import GNUTranslations
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Timezone, vDuration, vText
from icalendar import Event as VEvent

from events.db.models import Event, EventKind, EventStatus, Place
from events.i18n import N_, catalogues

PRODID = "-//events//Telegram community events//EN"
REFRESH = timedelta(hours=1)
CRLF = b"\r\n"

CATEGORY_NAMES = {
    EventKind.WORKSHOP: N_("Workshop"),
    EventKind.WEBINAR: N_("Webinar"),
    EventKind.QA: N_("Q&A"),
}
DISCREET_TITLE = N_("Community session")
CANCELLED_TITLE = N_("Cancelled: {title}")


@dataclass(frozen=True)
class FeedEvent:
    """The parts of an event a calendar may see (never its join link)."""

    id: int
    revision: int
    kind: EventKind
    title: str
    description: str | None
    timezone: str
    starts_at: datetime
    ends_at: datetime
    place: Place
    location: str | None
    status: EventStatus
    updated_at: datetime

    @classmethod
    def of(cls, event: Event) -> FeedEvent:
        description = event.description
        if description and event.join_link:
            # A host may have pasted the join link into the description too.
            description = description.replace(event.join_link, "")
        return cls(
            id=event.id,
            revision=event.revision,
            kind=EventKind(event.kind),
            title=event.title,
            description=description,
            timezone=event.timezone,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            place=Place(event.place),
            location=event.location,
            status=EventStatus(event.status),
            updated_at=event.updated_at,
        )

    @property
    def cancelled(self) -> bool:
        return self.status is EventStatus.CANCELLED


@dataclass(frozen=True)
class FeedStyle:
    """How a feed shows its events: the same style and event always give the same VEVENT."""

    locale: str
    host: str  # the host part of every UID: `event-<id>@<host>`
    bot_username: str  # for the deep link back to the event
    discreet: bool = False


def event_uid(event_id: int, host: str) -> str:
    return f"event-{event_id}@{host}"


def deep_link(bot_username: str, event_id: int) -> str:
    return f"https://t.me/{bot_username}?start=e{event_id}"


def _words(locale: str) -> GNUTranslations:
    return catalogues()[locale]


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def summary(event: FeedEvent, style: FeedStyle) -> str:
    words = _words(style.locale)
    title = words.gettext(DISCREET_TITLE) if style.discreet else event.title
    if event.cancelled:
        title = words.gettext(CANCELLED_TITLE).format(title=title)
    return title


def render_event(event: FeedEvent, style: FeedStyle) -> bytes:
    """One VEVENT, CRLF line ends, folded at 75 octets."""
    return vevent(event, style).to_ical()


def vevent(event: FeedEvent, style: FeedStyle) -> VEvent:
    """The VEVENT of an event."""
    words = _words(style.locale)
    link = deep_link(style.bot_username, event.id)
    changed = event.updated_at.astimezone(UTC).replace(microsecond=0)
    zone = _zone(event.timezone)
    component = VEvent()
    component.add("uid", event_uid(event.id, style.host))
    component.add("dtstamp", changed)
    component.add("last-modified", changed)
    component.add("sequence", max(event.revision - 1, 0))
    # In the event's own zone (with its VTIMEZONE), or in UTC for a zone nobody knows.
    component.add("dtstart", event.starts_at.astimezone(zone or UTC))
    component.add("dtend", event.ends_at.astimezone(zone or UTC))
    component.add("summary", summary(event, style))
    if style.discreet:
        component.add("description", link)
    else:
        text = (event.description or "").strip()
        component.add("description", f"{text}\n\n{link}" if text else link)
        if event.place is not Place.ONLINE and event.location:
            component.add("location", event.location)
        component.add("categories", [words.gettext(CATEGORY_NAMES[event.kind])])
    component.add("url", link)
    component.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    component.add("transp", "TRANSPARENT" if event.cancelled else "OPAQUE")
    return component


def render_timezone(name: str) -> bytes:
    """The VTIMEZONE of an IANA zone, as `Calendar.add_missing_timezones` would add it, except
    that each RDATE has a line of its own.

    icalendar lists a rule's transitions in one comma-separated RDATE; vobject (and the
    dateutil reading it relies on, as in Radicale) keeps only the first of them, so every
    summer after the first one would be read as winter time. One date a line is the same
    VTIMEZONE for everyone else (RFC 5545 allows RDATE any number of times).
    """
    zone = Timezone.from_tzid(name)
    for part in zone.subcomponents:
        listed = part.pop("RDATE", None)
        if listed is None:
            continue
        for dates in listed if isinstance(listed, list) else [listed]:
            for date in dates.dts:
                part.add("rdate", date.dt)
    return zone.to_ical()


def render_header(name: str) -> bytes:
    """BEGIN:VCALENDAR and the calendar's own properties, without its END line."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    # TEXT values (RFC 7986 5.1): escaped like SUMMARY, so a group or event title with a
    # newline, a comma, a semicolon or a backslash neither breaks the file nor reads otherwise.
    calendar.add("name", vText(name))
    calendar.add("x-wr-calname", vText(name))
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    ical = calendar.to_ical()
    end = b"END:VCALENDAR" + CRLF
    assert ical.endswith(end)
    return ical[: -len(end)]


class RenderCache:
    """Rendered VEVENT and VTIMEZONE blocks, least recently used first out.

    A VEVENT is keyed by everything it is made of that can change (revision, status, last
    change) and the style, so an edited event is rendered again and an unchanged one never is.
    """

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._events: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._zones: dict[str, bytes] = {}
        self.renders = 0  # VEVENTs rendered (not found in the cache)

    def event(self, event: FeedEvent, style: FeedStyle) -> bytes:
        key = (event, style)
        block = self._events.get(key)
        if block is None:
            block = render_event(event, style)
            self.renders += 1
            self._events[key] = block
            if len(self._events) > self.size:
                self._events.popitem(last=False)
        else:
            self._events.move_to_end(key)
        return block

    def timezone(self, name: str) -> bytes:
        block = self._zones.get(name)
        if block is None:
            block = self._zones[name] = render_timezone(name)
        return block


def _ordered(events: Iterable[FeedEvent]) -> list[FeedEvent]:
    return sorted(events, key=lambda event: (event.starts_at, event.id))


def build_calendar(
    events: Sequence[FeedEvent | Event],
    *,
    name: str,
    locale: str,
    host: str,
    bot_username: str,
    discreet: bool = False,
    cache: RenderCache | None = None,
) -> bytes:
    """A VCALENDAR with the events (ordered by start), their zones' VTIMEZONEs first."""
    cache = cache or RenderCache()
    style = FeedStyle(locale=locale, host=host, bot_username=bot_username, discreet=discreet)
    feed_events = _ordered(e if isinstance(e, FeedEvent) else FeedEvent.of(e) for e in events)
    zones = sorted({event.timezone for event in feed_events if _zone(event.timezone)})
    parts = [render_header(name)]
    parts.extend(cache.timezone(zone) for zone in zones)
    parts.extend(cache.event(event, style) for event in feed_events)
    parts.append(b"END:VCALENDAR" + CRLF)
    return b"".join(parts)


def etag(body: bytes) -> str:
    """A strong validator over the bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
