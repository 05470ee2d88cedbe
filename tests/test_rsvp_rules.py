"""The RSVP rules, case by case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from events.db.models import EventStatus, RsvpStatus
from events.domain.rsvp import closes_at, free_seats, landing, takes_answers

G, M, D, W = RsvpStatus.GOING, RsvpStatus.MAYBE, RsvpStatus.DECLINED, RsvpStatus.WAITLISTED


@pytest.mark.parametrize(
    ("current", "wanted", "going", "capacity", "lands"),
    [
        (None, G, 0, None, G),
        (None, G, 1, 2, G),
        (None, G, 2, 2, W),
        (M, G, 2, 2, W),
        (D, G, 5, 2, W),  # over capacity after a host lowered it: still the waitlist
        (G, G, 2, 2, G),  # tapping again keeps the seat
        (W, G, 2, 2, W),  # ... and the place in line
        (W, G, 1, 2, W),  # promotion is not the tap's business
        (G, M, 2, 2, M),
        (W, D, 2, 2, D),
        (None, M, 0, 1, M),
    ],
)
def test_where_an_answer_lands(
    current: RsvpStatus | None,
    wanted: RsvpStatus,
    going: int,
    capacity: int | None,
    lands: RsvpStatus,
) -> None:
    assert landing(current, wanted, going, capacity) is lands


@pytest.mark.parametrize(
    ("going", "capacity", "waiting", "seats"),
    [(2, 2, 3, 0), (1, 2, 3, 1), (0, 5, 3, 3), (3, None, 4, 4), (5, 2, 1, 0), (0, 2, 0, 0)],
)
def test_free_seats(going: int, capacity: int | None, waiting: int, seats: int) -> None:
    assert free_seats(going, capacity, waiting) == seats


def test_answers_close_at_the_cut_off_or_the_start() -> None:
    start = datetime(2027, 12, 5, 12, tzinfo=UTC)
    cut_off = start - timedelta(hours=2)
    assert closes_at(start, None) == start
    assert closes_at(start, cut_off) == cut_off
    assert closes_at(start, start + timedelta(hours=1)) == start
    published = EventStatus.PUBLISHED
    assert takes_answers(published, start, None, start - timedelta(seconds=1))
    assert not takes_answers(published, start, None, start)
    assert not takes_answers(published, start, cut_off, cut_off)
    assert not takes_answers(EventStatus.CANCELLED, start, None, cut_off)
