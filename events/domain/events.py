"""Events before and after publishing: what a host may enter, and the draft the wizard builds.

Pure rules: no Telegram, no SQL. Each check returns the cleaned value or a `Problem`, which the
wizard turns into a localized hint.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from events.db.models import Event, EventKind, Place

MAX_TITLE = 120  # UTF-16 code units, as Telegram counts
MAX_DESCRIPTION = 2000
MAX_LOCATION = 300
MAX_ANNOUNCEMENT = 3500  # with its header and the host's preview, under Telegram's 4096
MAX_LINK = 2048
MAX_CAPACITY = 100_000
MAX_DURATION = timedelta(hours=24)


class Problem(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    NOT_A_LINK = "not_a_link"
    NOT_A_NUMBER = "not_a_number"
    NOT_POSITIVE = "not_positive"
    TOO_LARGE = "too_large"
    IN_THE_PAST = "in_the_past"


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _one_line(text: str) -> str:
    return " ".join(text.split())


def check_title(text: str) -> str | Problem:
    title = _one_line(text)
    if not title:
        return Problem.EMPTY
    if utf16_length(title) > MAX_TITLE:
        return Problem.TOO_LONG
    return title


def check_description(text: str) -> str | Problem:
    description = text.strip()
    if not description:
        return Problem.EMPTY
    if utf16_length(description) > MAX_DESCRIPTION:
        return Problem.TOO_LONG
    return description


def check_announcement(text: str) -> str | Problem:
    """A host's message to the people going: plain text, its line breaks kept."""
    announcement = text.strip()
    if not announcement:
        return Problem.EMPTY
    if utf16_length(announcement) > MAX_ANNOUNCEMENT:
        return Problem.TOO_LONG
    return announcement


def check_location(text: str) -> str | Problem:
    location = _one_line(text)
    if not location:
        return Problem.EMPTY
    if utf16_length(location) > MAX_LOCATION:
        return Problem.TOO_LONG
    return location


def check_link(text: str) -> str | Problem:
    link = text.strip()
    if len(link) > MAX_LINK:
        return Problem.TOO_LONG
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in link:
        return Problem.NOT_A_LINK
    if "." not in parts.hostname and parts.hostname != "localhost":
        return Problem.NOT_A_LINK
    return link


def check_capacity(text: str) -> int | Problem:
    digits = text.strip().replace(".", "").replace(",", "")
    try:
        capacity = int(digits)
    except ValueError:
        return Problem.NOT_A_NUMBER
    if capacity <= 0:
        return Problem.NOT_POSITIVE
    if capacity > MAX_CAPACITY:
        return Problem.TOO_LARGE
    return capacity


def check_start(starts_at: datetime, now: datetime) -> datetime | Problem:
    return Problem.IN_THE_PAST if starts_at <= now else starts_at


def check_duration(duration: timedelta | None) -> timedelta | Problem:
    if duration is None:
        return Problem.NOT_A_NUMBER
    if duration <= timedelta(0):
        return Problem.NOT_POSITIVE
    if duration > MAX_DURATION:
        return Problem.TOO_LARGE
    return duration


@dataclass
class Draft:
    """What the wizard has gathered so far; kept as JSON in the wizard's state.

    The start is kept as a wall-clock time plus a zone, so changing the zone keeps "19.00".
    """

    community_id: int | None = None
    kind: EventKind | None = None
    title: str | None = None
    description: str | None = None
    timezone: str | None = None
    local_start: str | None = None  # ISO wall-clock time in `timezone`, no offset
    duration_minutes: int | None = None
    place: Place | None = None
    join_link: str | None = None
    location: str | None = None
    capacity: int | None = None
    unlimited: bool = False  # the host chose "no limit" (capacity stays None)
    repeat: str | None = None  # "none" or a Frequency value
    repeat_until: str | None = None  # ISO date, the last day an occurrence may start
    repeat_count: int | None = None  # or how many occurrences there are

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Draft:
        names = {field.name for field in fields(cls)}
        draft = cls(**{k: v for k, v in data.get("draft", {}).items() if k in names})
        draft.kind = EventKind(draft.kind) if draft.kind else None
        draft.place = Place(draft.place) if draft.place else None
        return draft

    def to_data(self) -> dict[str, Any]:
        return {"draft": {k: v for k, v in asdict(self).items() if v is not None}}

    @property
    def starts_at(self) -> datetime | None:
        if self.local_start is None or self.timezone is None:
            return None
        return datetime.fromisoformat(self.local_start).replace(tzinfo=ZoneInfo(self.timezone))

    def set_start(self, starts_at: datetime, zone: str) -> None:
        local = starts_at.astimezone(ZoneInfo(zone))
        self.timezone = zone
        self.local_start = local.replace(tzinfo=None).isoformat(timespec="minutes")

    @property
    def duration(self) -> timedelta | None:
        return None if self.duration_minutes is None else timedelta(minutes=self.duration_minutes)

    @property
    def needs_link(self) -> bool:
        return self.place in (Place.ONLINE, Place.BOTH)

    @property
    def needs_location(self) -> bool:
        return self.place in (Place.IN_PERSON, Place.BOTH)

    @property
    def repeats(self) -> bool:
        return self.repeat not in (None, "none")

    @classmethod
    def of_event(cls, event: Event) -> Draft:
        """The draft of a stored event (to edit it, or to copy it)."""
        draft = cls(
            community_id=event.community_id,
            kind=event.kind,
            title=event.title,
            description=event.description,
            duration_minutes=int((event.ends_at - event.starts_at).total_seconds() // 60),
            place=event.place,
            join_link=event.join_link,
            location=event.location,
            capacity=event.capacity,
            unlimited=event.capacity is None,
            repeat="none",
        )
        draft.set_start(event.starts_at, event.timezone)
        return draft

    @property
    def capacity_chosen(self) -> bool:
        return self.unlimited or self.capacity is not None
