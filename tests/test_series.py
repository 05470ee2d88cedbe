"""When occurrences of a recurring event start."""

from __future__ import annotations

from datetime import date

import pytest

from events.db.models import Frequency
from events.domain.series import check_repeat_count, occurrence_start, within_end


@pytest.mark.parametrize(
    ("frequency", "index", "expected"),
    [
        (Frequency.WEEKLY, 1, "2027-02-07T19:00:00+07:00"),
        (Frequency.BIWEEKLY, 2, "2027-02-28T19:00:00+07:00"),
        (Frequency.MONTHLY, 1, "2027-02-28T19:00:00+07:00"),  # the 31st in a short month
        (Frequency.MONTHLY, 2, "2027-03-31T19:00:00+07:00"),  # and back to the 31st
        (Frequency.MONTHLY, 3, "2027-04-30T19:00:00+07:00"),
        (Frequency.MONTHLY, 12, "2028-01-31T19:00:00+07:00"),
    ],
)
def test_occurrences_keep_the_wall_clock(frequency: Frequency, index: int, expected: str) -> None:
    start = occurrence_start(frequency, "2027-01-31T19:00", 0, index, "Asia/Jakarta")
    assert start.isoformat() == expected


def test_a_moved_anchor_counts_from_its_own_occurrence() -> None:
    start = occurrence_start(Frequency.WEEKLY, "2027-01-10T10:00", 1, 3, "Asia/Jakarta")
    assert start.isoformat() == "2027-01-24T10:00:00+07:00"


def test_the_end_of_a_series() -> None:
    assert within_end(2, date(2027, 1, 1), None, 3)
    assert not within_end(3, date(2027, 1, 1), None, 3)
    assert within_end(5, date(2027, 12, 31), "2027-12-31", None)
    assert not within_end(5, date(2028, 1, 1), "2027-12-31", None)


@pytest.mark.parametrize(("text", "count"), [("6", 6), ("6 kali", 6), ("1", None), ("x", None)])
def test_a_number_of_times(text: str, count: int | None) -> None:
    assert check_repeat_count(text) == count
