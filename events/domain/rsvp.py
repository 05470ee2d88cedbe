"""RSVP rules: where an answer lands, when answers close, who is promoted. No Telegram, no SQL.

The database applies these under a lock on the event's row (see ``events.db.rsvps``), so the
decision and the write are one step for every answer to one event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from events.db.models import EventStatus, RsvpStatus


@dataclass(frozen=True)
class Counts:
    """How many answered what; what a group post shows (never who)."""

    going: int = 0
    maybe: int = 0
    waitlisted: int = 0
    declined: int = 0


def landing(
    current: RsvpStatus | None, wanted: RsvpStatus, going: int, capacity: int | None
) -> RsvpStatus:
    """Where an answer lands. ``going`` counts the seats taken now (the person's own included).

    Going takes a seat while seats remain, else a place at the end of the waitlist; someone
    already going or waiting who taps Going again keeps their place.
    """
    if wanted is not RsvpStatus.GOING:
        return wanted
    if current in (RsvpStatus.GOING, RsvpStatus.WAITLISTED):
        return current
    if capacity is None or going < capacity:
        return RsvpStatus.GOING
    return RsvpStatus.WAITLISTED


def free_seats(going: int, capacity: int | None, waiting: int) -> int:
    """How many waiting people can be promoted now."""
    if waiting <= 0:
        return 0
    if capacity is None:
        return waiting
    return max(0, min(capacity - going, waiting))


def closes_at(starts_at: datetime, rsvp_closes_at: datetime | None) -> datetime:
    """Answers close at the host's cut-off, and never later than the start."""
    if rsvp_closes_at is None:
        return starts_at
    return min(starts_at, rsvp_closes_at)


def takes_answers(
    status: EventStatus, starts_at: datetime, rsvp_closes_at: datetime | None, now: datetime
) -> bool:
    return status is EventStatus.PUBLISHED and now < closes_at(starts_at, rsvp_closes_at)
