"""Recurring events: when each occurrence starts, and which ones are due to be created.

Pure rules: no Telegram, no SQL. Occurrences keep the wall-clock time in the event's zone.
A monthly series started on a day a shorter month lacks (the 29th to the 31st) falls on that
month's last day, and returns to its own day in the months that have it.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from events.db.models import Frequency

# Occurrences are created (and announced) once they start within this long from now; the
# first one of a series is published at once, whenever it starts.
HORIZON = timedelta(days=14)
MAX_OCCURRENCES = 52
MAX_SPAN_DAYS = 366


def add_months(day: date, months: int, wanted_day: int) -> date:
    """``day`` moved by ``months``, on ``wanted_day`` or the month's last day if it is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(wanted_day, last))


def occurrence_start(
    frequency: Frequency, anchor_local: str, anchor_index: int, index: int, zone: str
) -> datetime:
    """The aware start of occurrence ``index`` of a series anchored at ``anchor_local``
    (ISO wall-clock time of occurrence ``anchor_index``)."""
    anchor = datetime.fromisoformat(anchor_local)
    steps = index - anchor_index
    if frequency is Frequency.MONTHLY:
        day = add_months(anchor.date(), steps, anchor.day)
        local = datetime.combine(day, anchor.time())
    else:
        weeks = 1 if frequency is Frequency.WEEKLY else 2
        local = anchor + timedelta(weeks=weeks * steps)
    return local.replace(tzinfo=ZoneInfo(zone))


def within_end(index: int, local_day: date, until: str | None, count: int | None) -> bool:
    """Whether occurrence ``index`` (starting on ``local_day``) belongs to the series."""
    if index >= MAX_OCCURRENCES:
        return False
    if count is not None and index >= count:
        return False
    return until is None or local_day <= date.fromisoformat(until)


def check_repeat_count(text: str) -> int | None:
    """A number of times (2 to MAX_OCCURRENCES), or None."""
    digits = text.strip().removesuffix("x").removesuffix("kali").strip()
    if not digits.isdigit():
        return None
    count = int(digits)
    return count if 2 <= count <= MAX_OCCURRENCES else None
