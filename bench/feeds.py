"""Feed rendering: a naive full rebuild against the cached one, in the same run.

    python -m bench.feeds [events]

Prints milliseconds and the ratio to the naive rebuild (docs/benchmarks.md keeps the table).
:func:`rows` is the row of ``python -m bench``: the feed after one event changed must parse with
icalendar, hold every event and show the change, or no figure is reported.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from bench.common import Row, check
from events.db.models import EventKind, EventStatus, Place
from events.feeds.calendar import FeedEvent, FeedStyle, RenderCache, build_calendar, vevent

ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "Europe/Amsterdam")
CHANGED = datetime(2026, 11, 1, tzinfo=UTC)


def events(count: int) -> list[FeedEvent]:
    start = datetime(2026, 12, 1, 12, tzinfo=UTC)
    return [
        FeedEvent(
            id=number,
            revision=1,
            kind=list(EventKind)[number % 3],
            title=f"Lingkar Dukungan {number}, sesi; ke-{number} 🌱",
            description="Sesi berbagi yang aman.\nBawa teh hangat.",
            timezone=ZONES[number % len(ZONES)],
            starts_at=start + timedelta(hours=number),
            ends_at=start + timedelta(hours=number, minutes=90),
            place=list(Place)[number % 3],
            location="Rumah Teduh, Jl. Melati 5",
            status=EventStatus.PUBLISHED,
            updated_at=CHANGED,
        )
        for number in range(1, count + 1)
    ]


def naive(feed: list[FeedEvent]) -> bytes:
    """Everything from scratch with icalendar: one Calendar, add_missing_timezones, to_ical."""
    style = FeedStyle(locale="id", host="example.org", bot_username="bot")
    calendar = Calendar()
    calendar.add("prodid", "-//bench//EN")
    calendar.add("version", "2.0")
    for event in feed:
        calendar.add_component(vevent(event, style))
    calendar.add_missing_timezones()
    return calendar.to_ical()


def best(work: Callable[[], object], rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return min(times)


def measure(count: int) -> dict[str, float]:
    """Seconds: the naive rebuild, a cold build_calendar, and one after one event changed."""
    feed = events(count)

    def build(cache: RenderCache | None = None) -> bytes:
        return build_calendar(
            feed,
            name="Acara komunitas",
            locale="id",
            host="example.org",
            bot_username="bot",
            cache=cache,
        )

    expected = naive(feed)
    check(len(Calendar.from_ical(expected).walk("VEVENT")) == count, "the naive feed is short")
    baseline = best(lambda: naive(feed), rounds=3)
    full = best(build, rounds=3)
    cache = RenderCache()
    build(cache)
    index = count // 2
    made: list[bytes] = []

    def one_changed() -> None:
        feed[index] = replace(feed[index], revision=feed[index].revision + 1, title=f"Baru {index}")
        made.append(build(cache))

    incremental = best(one_changed)
    parsed = Calendar.from_ical(made[-1])
    found = parsed.walk("VEVENT")
    check(len(found) == count, f"the re-rendered feed has {len(found)} events, not {count}")
    check(
        sum(str(event.get("summary")) == f"Baru {index}" for event in found) == 1,
        "the changed event is not in the re-rendered feed",
    )
    return {"naive": baseline, "full": full, "incremental": incremental}


def rows(quick: bool = False) -> list[Row]:
    count = 200 if quick else 1000
    times = measure(count)
    ratio = times["incremental"] / times["naive"]
    return [
        Row(
            name=f"feed re-render after one change ({count} events)",
            baseline=f"icalendar full rebuild {times['naive'] * 1000:.0f} ms",
            measured=f"{times['incremental'] * 1000:.1f} ms",
            ratio=ratio,
            goal="≤ 0.10",
            met=ratio <= 0.10,
            note=f"cold build_calendar {times['full'] * 1000:.0f} ms "
            f"= {times['full'] / times['naive']:.3f} of the rebuild",
        )
    ]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    feed = events(count)

    def build(cache: RenderCache | None = None) -> bytes:
        return build_calendar(
            feed,
            name="Acara komunitas",
            locale="id",
            host="example.org",
            bot_username="bot",
            cache=cache,
        )

    baseline = best(lambda: naive(feed), rounds=3)
    full = best(build, rounds=3)
    cache = RenderCache()
    build(cache)

    def one_changed() -> None:
        index = count // 2
        feed[index] = replace(feed[index], revision=feed[index].revision + 1)
        build(cache)

    incremental = best(one_changed)
    print(f"{count} events")
    print(f"naive full rebuild          {baseline * 1000:8.1f} ms  1.000")
    print(f"build_calendar, cold cache  {full * 1000:8.1f} ms  {full / baseline:.3f}")
    print(f"after one event changed     {incremental * 1000:8.1f} ms  {incremental / baseline:.3f}")


if __name__ == "__main__":
    main()
