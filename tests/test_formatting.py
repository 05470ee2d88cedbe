"""Showing dates, times, durations and relative times (CONTRACT §7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from events.formatting import (
    format_date,
    format_datetime,
    format_datetime_for,
    format_duration,
    format_leads,
    format_relative,
    format_short_date,
    format_time,
    zone_abbreviation,
)

# Saturday 5 December 2026, 12.00 UTC = 19.00 WIB.
SATURDAY_NOON_UTC = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
# Sunday 5 July 2026, 12.00 UTC: summer in the north.
JULY_NOON_UTC = datetime(2026, 7, 5, 12, 0, tzinfo=UTC)

ZONE_NAMES = [
    # zone, at, abbreviation
    ("Asia/Jakarta", SATURDAY_NOON_UTC, "WIB"),
    ("Asia/Pontianak", SATURDAY_NOON_UTC, "WIB"),
    ("Asia/Makassar", SATURDAY_NOON_UTC, "WITA"),
    ("Asia/Jayapura", SATURDAY_NOON_UTC, "WIT"),
    ("Europe/Amsterdam", SATURDAY_NOON_UTC, "CET"),
    ("Europe/Amsterdam", JULY_NOON_UTC, "CEST"),
    ("Asia/Singapore", SATURDAY_NOON_UTC, "UTC+08:00"),
    ("America/New_York", SATURDAY_NOON_UTC, "EST"),
    ("America/New_York", JULY_NOON_UTC, "EDT"),
    ("UTC", SATURDAY_NOON_UTC, "UTC"),
    ("Etc/GMT-7", SATURDAY_NOON_UTC, "UTC+07:00"),
    ("Asia/Kathmandu", SATURDAY_NOON_UTC, "UTC+05:45"),
    ("America/Caracas", SATURDAY_NOON_UTC, "UTC-04:00"),
    ("Africa/Abidjan", SATURDAY_NOON_UTC, "GMT"),
]


@pytest.mark.parametrize(
    ("zone", "at", "abbreviation"),
    [pytest.param(z, at, a, id=f"{z}-{at:%b}") for z, at, a in ZONE_NAMES],
)
def test_zone_abbreviation(zone: str, at: datetime, abbreviation: str) -> None:
    assert zone_abbreviation(zone, at) == abbreviation


DATETIMES = [
    # instant, zone, Indonesian, English
    (
        SATURDAY_NOON_UTC,
        "Asia/Jakarta",
        "Sabtu, 5 Desember 2026 pukul 19.00 WIB",
        "Saturday, 5 December 2026 at 7:00 PM WIB",
    ),
    (
        SATURDAY_NOON_UTC,
        "Asia/Pontianak",
        "Sabtu, 5 Desember 2026 pukul 19.00 WIB",
        "Saturday, 5 December 2026 at 7:00 PM WIB",
    ),
    (
        SATURDAY_NOON_UTC,
        "Asia/Makassar",
        "Sabtu, 5 Desember 2026 pukul 20.00 WITA",
        "Saturday, 5 December 2026 at 8:00 PM WITA",
    ),
    (
        SATURDAY_NOON_UTC,
        "Asia/Jayapura",
        "Sabtu, 5 Desember 2026 pukul 21.00 WIT",
        "Saturday, 5 December 2026 at 9:00 PM WIT",
    ),
    (
        SATURDAY_NOON_UTC,
        "Europe/Amsterdam",
        "Sabtu, 5 Desember 2026 pukul 13.00 CET",
        "Saturday, 5 December 2026 at 1:00 PM CET",
    ),
    (
        JULY_NOON_UTC,
        "Europe/Amsterdam",
        "Minggu, 5 Juli 2026 pukul 14.00 CEST",
        "Sunday, 5 July 2026 at 2:00 PM CEST",
    ),
    (
        SATURDAY_NOON_UTC,
        "Asia/Singapore",
        "Sabtu, 5 Desember 2026 pukul 20.00 UTC+08:00",
        "Saturday, 5 December 2026 at 8:00 PM UTC+08:00",
    ),
    (
        SATURDAY_NOON_UTC,
        "America/New_York",
        "Sabtu, 5 Desember 2026 pukul 07.00 EST",
        "Saturday, 5 December 2026 at 7:00 AM EST",
    ),
    (
        JULY_NOON_UTC,
        "America/New_York",
        "Minggu, 5 Juli 2026 pukul 08.00 EDT",
        "Sunday, 5 July 2026 at 8:00 AM EDT",
    ),
    (
        SATURDAY_NOON_UTC,
        "UTC",
        "Sabtu, 5 Desember 2026 pukul 12.00 UTC",
        "Saturday, 5 December 2026 at 12:00 PM UTC",
    ),
    (
        datetime(2026, 1, 1, 17, 5, tzinfo=UTC),
        "Asia/Jakarta",
        "Jumat, 2 Januari 2026 pukul 00.05 WIB",
        "Friday, 2 January 2026 at 12:05 AM WIB",
    ),
    (
        datetime(2027, 5, 17, 2, 30, tzinfo=UTC),
        "Asia/Jayapura",
        "Senin, 17 Mei 2027 pukul 11.30 WIT",
        "Monday, 17 May 2027 at 11:30 AM WIT",
    ),
]


@pytest.mark.parametrize(
    ("instant", "zone", "indonesian", "english"),
    [pytest.param(*row, id=f"{row[1]}-{row[0]:%Y%m%d%H%M}") for row in DATETIMES],
)
def test_format_datetime(instant: datetime, zone: str, indonesian: str, english: str) -> None:
    assert format_datetime(instant, zone, "id") == indonesian
    assert format_datetime(instant, zone, "en") == english


@pytest.mark.parametrize(
    ("function", "locale", "text"),
    [
        pytest.param(format_time, "id", "19.00 WIB", id="time-id"),
        pytest.param(format_time, "en", "7:00 PM WIB", id="time-en"),
        pytest.param(format_date, "id", "Sabtu, 5 Desember 2026", id="date-id"),
        pytest.param(format_date, "en", "Saturday, 5 December 2026", id="date-en"),
        pytest.param(format_short_date, "id", "Sab, 5 Des", id="short-date-id"),
        pytest.param(format_short_date, "en", "Sat, 5 Dec", id="short-date-en"),
    ],
)
def test_parts_of_a_datetime(function, locale: str, text: str) -> None:
    assert function(SATURDAY_NOON_UTC, "Asia/Jakarta", locale) == text


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        pytest.param("fr", "19.00 WIB", id="unknown-is-indonesian"),
        pytest.param("", "19.00 WIB", id="empty-is-indonesian"),
        pytest.param("en-GB", "7:00 PM WIB", id="english-variant"),
        pytest.param("EN", "7:00 PM WIB", id="upper-case"),
        pytest.param("id_ID", "19.00 WIB", id="indonesian-variant"),
    ],
)
def test_locale_fallback(locale: str, text: str) -> None:
    assert format_time(SATURDAY_NOON_UTC, "Asia/Jakarta", locale) == text


def test_a_naive_instant_is_utc() -> None:
    naive = SATURDAY_NOON_UTC.replace(tzinfo=None)
    assert format_datetime(naive, "Asia/Jakarta", "id") == "Sabtu, 5 Desember 2026 pukul 19.00 WIB"


FOR_VIEWER = [
    # instant, event zone, viewer zone, Indonesian, English
    (
        SATURDAY_NOON_UTC,
        "Asia/Jakarta",
        "Asia/Jakarta",
        "Sabtu, 5 Desember 2026 pukul 19.00 WIB",
        "Saturday, 5 December 2026 at 7:00 PM WIB",
    ),
    (
        SATURDAY_NOON_UTC,
        "Asia/Jakarta",
        "Asia/Pontianak",
        "Sabtu, 5 Desember 2026 pukul 19.00 WIB",
        "Saturday, 5 December 2026 at 7:00 PM WIB",
    ),
    (
        SATURDAY_NOON_UTC,
        "Asia/Makassar",
        "Asia/Singapore",  # the same clock, so shown once
        "Sabtu, 5 Desember 2026 pukul 20.00 WITA",
        "Saturday, 5 December 2026 at 8:00 PM WITA",
    ),
    (
        SATURDAY_NOON_UTC,
        "Asia/Jakarta",
        "Asia/Makassar",
        "Sabtu, 5 Desember 2026 pukul 19.00 WIB / 20.00 WITA",
        "Saturday, 5 December 2026 at 7:00 PM WIB / 8:00 PM WITA",
    ),
    (
        SATURDAY_NOON_UTC,
        "Asia/Jakarta",
        "Asia/Jayapura",
        "Sabtu, 5 Desember 2026 pukul 19.00 WIB / 21.00 WIT",
        "Saturday, 5 December 2026 at 7:00 PM WIB / 9:00 PM WIT",
    ),
    (
        SATURDAY_NOON_UTC,
        "Asia/Makassar",
        "Asia/Jakarta",
        "Sabtu, 5 Desember 2026 pukul 20.00 WITA / 19.00 WIB",
        "Saturday, 5 December 2026 at 8:00 PM WITA / 7:00 PM WIB",
    ),
    (
        SATURDAY_NOON_UTC,
        "Asia/Jakarta",
        "Europe/Amsterdam",
        "Sabtu, 5 Desember 2026 pukul 19.00 WIB / 13.00 CET",
        "Saturday, 5 December 2026 at 7:00 PM WIB / 1:00 PM CET",
    ),
    (
        datetime(2026, 12, 5, 16, 30, tzinfo=UTC),
        "Asia/Jakarta",
        "Asia/Makassar",
        "Sabtu, 5 Desember 2026 pukul 23.30 WIB / Minggu, 6 Desember pukul 00.30 WITA",
        "Saturday, 5 December 2026 at 11:30 PM WIB / Sunday, 6 December at 12:30 AM WITA",
    ),
    (
        datetime(2026, 12, 5, 1, 0, tzinfo=UTC),
        "Asia/Jakarta",
        "America/New_York",
        "Sabtu, 5 Desember 2026 pukul 08.00 WIB / Jumat, 4 Desember pukul 20.00 EST",
        "Saturday, 5 December 2026 at 8:00 AM WIB / Friday, 4 December at 8:00 PM EST",
    ),
    (
        datetime(2026, 12, 31, 16, 30, tzinfo=UTC),
        "Asia/Jakarta",
        "Asia/Jayapura",
        "Kamis, 31 Desember 2026 pukul 23.30 WIB / Jumat, 1 Januari 2027 pukul 01.30 WIT",
        "Thursday, 31 December 2026 at 11:30 PM WIB / Friday, 1 January 2027 at 1:30 AM WIT",
    ),
]


@pytest.mark.parametrize(
    ("instant", "event_zone", "viewer_zone", "indonesian", "english"),
    [pytest.param(*row, id=f"{row[1]}-to-{row[2]}-{row[0]:%d%H%M}") for row in FOR_VIEWER],
)
def test_format_datetime_for(
    instant: datetime, event_zone: str, viewer_zone: str, indonesian: str, english: str
) -> None:
    assert format_datetime_for(instant, event_zone, viewer_zone, "id") == indonesian
    assert format_datetime_for(instant, event_zone, viewer_zone, "en") == english


DURATIONS = [
    # delta, Indonesian, English
    (timedelta(minutes=90), "1 jam 30 menit", "1 h 30 min"),
    (timedelta(minutes=30), "30 menit", "30 min"),
    (timedelta(hours=1), "1 jam", "1 h"),
    (timedelta(hours=2), "2 jam", "2 h"),
    (timedelta(minutes=1), "1 menit", "1 min"),
    (timedelta(days=1, hours=2), "1 hari 2 jam", "1 day 2 h"),
    (timedelta(days=2, minutes=5), "2 hari 5 menit", "2 days 5 min"),
    (timedelta(days=1), "1 hari", "1 day"),
    (timedelta(0), "0 menit", "0 min"),
    (timedelta(minutes=44, seconds=31), "45 menit", "45 min"),
    (timedelta(minutes=44, seconds=29), "44 menit", "44 min"),
    (-timedelta(minutes=90), "1 jam 30 menit", "1 h 30 min"),
]


@pytest.mark.parametrize(
    ("delta", "indonesian", "english"),
    [pytest.param(*row, id=row[2].replace(" ", "")) for row in DURATIONS],
)
def test_format_duration(delta: timedelta, indonesian: str, english: str) -> None:
    assert format_duration(delta, "id") == indonesian
    assert format_duration(delta, "en") == english


# Friday 27 November 2026, 10.00 WIB.
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
RELATIVE = [
    # from now, Indonesian, English
    (timedelta(seconds=30), "sekarang", "now"),
    (timedelta(0), "sekarang", "now"),
    (-timedelta(seconds=59), "sekarang", "now"),
    (timedelta(minutes=1), "dalam 1 menit", "in 1 minute"),
    (timedelta(minutes=15), "dalam 15 menit", "in 15 minutes"),
    (timedelta(minutes=59, seconds=40), "dalam 1 jam", "in 1 hour"),
    (timedelta(hours=1), "dalam 1 jam", "in 1 hour"),
    (timedelta(minutes=92), "dalam 1 jam 30 menit", "in 1 hour 30 minutes"),
    (timedelta(hours=2, minutes=30), "dalam 2 jam 30 menit", "in 2 hours 30 minutes"),
    (timedelta(hours=2, minutes=58), "dalam 3 jam", "in 3 hours"),
    (timedelta(hours=5, minutes=20), "dalam 5 jam", "in 5 hours"),
    (timedelta(hours=13), "dalam 13 jam", "in 13 hours"),  # still today, 23.00
    (timedelta(hours=14, minutes=30), "besok", "tomorrow"),
    (timedelta(days=1), "besok", "tomorrow"),
    (timedelta(days=2), "lusa", "the day after tomorrow"),
    (timedelta(days=3), "dalam 3 hari", "in 3 days"),
    (timedelta(days=10), "dalam 10 hari", "in 10 days"),
    (-timedelta(minutes=1), "1 menit yang lalu", "1 minute ago"),
    (-timedelta(minutes=15), "15 menit yang lalu", "15 minutes ago"),
    (-timedelta(hours=2), "2 jam yang lalu", "2 hours ago"),
    (-timedelta(hours=11), "kemarin", "yesterday"),
    (-timedelta(days=2), "2 hari yang lalu", "2 days ago"),
]


@pytest.mark.parametrize(
    ("offset", "indonesian", "english"),
    [pytest.param(*row, id=row[2].replace(" ", "-")) for row in RELATIVE],
)
def test_format_relative(offset: timedelta, indonesian: str, english: str) -> None:
    assert format_relative(NOW + offset, NOW, "Asia/Jakarta", "id") == indonesian
    assert format_relative(NOW + offset, NOW, "Asia/Jakarta", "en") == english


def test_tomorrow_is_a_calendar_day_of_the_zone() -> None:
    late = datetime(2026, 11, 27, 22, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    # 3 hours later is tomorrow, but too close to say "tomorrow".
    assert format_relative(late + timedelta(hours=3), late, "Asia/Jakarta", "en") == "in 3 hours"
    # 9 hours later is tomorrow in Jakarta, and still today in New York (10.00 → 19.00 EST).
    assert format_relative(late + timedelta(hours=9), late, "Asia/Jakarta", "id") == "besok"
    assert format_relative(late + timedelta(hours=9), late, "America/New_York", "en") == (
        "in 9 hours"
    )


def test_relative_across_summer_time_counts_real_hours() -> None:
    now = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01.30 CET; clocks go to CEST at 02.00 CET
    assert format_relative(now + timedelta(hours=2), now, "Europe/Amsterdam", "en") == "in 2 hours"


ODD_SPACES = ("\u202f", "\u00a0", "\u2009", "\u2007")


@pytest.mark.parametrize("locale", ["id", "en"])
@pytest.mark.parametrize(
    "zone",
    [
        "Asia/Jakarta",
        "Asia/Makassar",
        "Asia/Jayapura",
        "Europe/Amsterdam",
        "Asia/Singapore",
        "America/New_York",
        "UTC",
    ],
)
def test_only_plain_spaces(zone: str, locale: str) -> None:
    outputs = []
    for hour in range(0, 24 * 14, 5):
        instant = SATURDAY_NOON_UTC + timedelta(hours=hour)
        outputs += [
            format_datetime(instant, zone, locale),
            format_time(instant, zone, locale),
            format_date(instant, zone, locale),
            format_short_date(instant, zone, locale),
            format_datetime_for(instant, zone, "Asia/Jayapura", locale),
            format_duration(timedelta(hours=hour, minutes=7), locale),
            format_relative(instant, SATURDAY_NOON_UTC, zone, locale),
            format_relative(SATURDAY_NOON_UTC, instant, zone, locale),
        ]
    for text in outputs:
        assert not any(space in text for space in ODD_SPACES), repr(text)
        assert "  " not in text, repr(text)


@pytest.mark.parametrize(
    ("leads", "indonesian", "english"),
    [
        ((86400, 3600), "1 hari dan 1 jam", "1 day and 1 hour"),
        ((3600, 86400, 900), "1 hari, 1 jam, dan 15 menit", "1 day, 1 hour, and 15 minutes"),
        ((10800,), "3 jam", "3 hours"),
        ((172800, 5400), "2 hari dan 90 menit", "2 days and 90 minutes"),
        ((), "", ""),
    ],
)
def test_format_leads(leads: tuple[int, ...], indonesian: str, english: str) -> None:
    assert format_leads(leads, "id") == indonesian
    assert format_leads(leads, "en") == english
