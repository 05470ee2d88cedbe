"""Reading what people type: dates and times, durations, and zones, in Indonesian and English."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from events.dates import parse_duration, parse_when, zone_from_text
from events.formatting import format_datetime

JAKARTA = "Asia/Jakarta"
WIB = ZoneInfo(JAKARTA)
# Friday 27 November 2026, 10.00 WIB.
FRIDAY = datetime(2026, 11, 27, 10, 0, tzinfo=WIB)
# Monday 30 November 2026, 10.00 WIB.
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=WIB)


def expected(spec: str | None) -> datetime | None:
    """ "2026-11-28 19:00" in WIB, or "2026-12-03 15:30 Asia/Makassar" in the zone named."""
    if spec is None:
        return None
    day, clock, *zone = spec.split()
    wall = datetime.fromisoformat(f"{day} {clock}")
    return wall.replace(tzinfo=ZoneInfo(zone[0] if zone else JAKARTA))


def assert_same(got: datetime | None, spec: str | None) -> None:
    """The same instant, in the same zone (so the same wall clock too)."""
    want = expected(spec)
    if want is None:
        assert got is None
        return
    assert got is not None
    assert isinstance(got.tzinfo, ZoneInfo)
    assert isinstance(want.tzinfo, ZoneInfo)
    assert (got, got.tzinfo.key) == (want, want.tzinfo.key)
    assert got.replace(tzinfo=None) == want.replace(tzinfo=None)


def rows(table: list[tuple[str, str | None]]) -> list[object]:
    return [pytest.param(text, spec, id=text or "(empty)") for text, spec in table]


# The sample: now is Friday 27 November 2026 10.00 WIB, tz Asia/Jakarta.
SAMPLE: list[tuple[str, str | None]] = [
    ("besok jam 19.00", "2026-11-28 19:00"),
    ("Sabtu 10.00", "2026-11-28 10:00"),
    ("5 Desember 19:30", "2026-12-05 19:30"),
    ("next friday 7pm", "2026-12-04 19:00"),
    ("2026-12-05 19:00", "2026-12-05 19:00"),
    ("lusa pukul 8 malam", "2026-11-29 20:00"),
    ("Minggu pagi jam 9", "2026-11-29 09:00"),
    ("besok sore jam 4", "2026-11-28 16:00"),
    ("Rabu depan 19.00", "2026-12-02 19:00"),
    ("12/12 16.00", "2026-12-12 16:00"),
    ("Jumat, 4 Des 2026 pukul 19.30 WIB", "2026-12-04 19:30"),
    ("tomorrow 9am", "2026-11-28 09:00"),
    ("nanti malam jam 8", "2026-11-27 20:00"),
    ("2 jam lagi", "2026-11-27 12:00"),
    ("in 90 minutes", "2026-11-27 11:30"),
    ("5 Januari 19.00", "2027-01-05 19:00"),
    ("Senin jam 1 siang", "2026-11-30 13:00"),
    ("3/12/2026 pukul 15.30 WITA", "2026-12-03 15:30 Asia/Makassar"),
    ("Saturday 10am", "2026-11-28 10:00"),
    ("Dec 5 7:30pm", "2026-12-05 19:30"),
    ("hari ini jam 15.00", "2026-11-27 15:00"),
    ("jam 7", "2026-11-27 19:00"),
    ("Kamis 3 Desember jam 7 malam", "2026-12-03 19:00"),
    ("10 Des pukul 09.00 WIT", "2026-12-10 09:00 Asia/Jayapura"),
    ("tonight at 8", "2026-11-27 20:00"),
    ("5 Desember", None),
    ("31 Februari 10.00", None),
    ("jam 25.00", None),
]

# The Monday sample: now is Monday 30 November 2026 10.00 WIB.
ON_MONDAY: list[tuple[str, str | None]] = [
    ("Rabu 19.00", "2026-12-02 19:00"),
    ("Rabu depan 19.00", "2026-12-09 19:00"),
    ("Senin 08.00", "2026-12-07 08:00"),
    ("Senin 15.00", "2026-11-30 15:00"),
    ("Senin depan 08.00", "2026-12-07 08:00"),
    ("this Wednesday 7pm", "2026-12-02 19:00"),
    ("Minggu ini jam 10 pagi", None),
    ("hari Minggu ini jam 10 pagi", "2026-12-06 10:00"),
]

# More Indonesian phrasings (now: Friday 27 November 2026 10.00 WIB).
INDONESIAN: list[tuple[str, str | None]] = [
    ("Jum'at 19.00", "2026-11-27 19:00"),
    ("jum’at jam 7 malam", "2026-11-27 19:00"),
    ("Jumaat jam 7 malam", "2026-11-27 19:00"),
    ("pkl 19.00", "2026-11-27 19:00"),
    ("pukul 07.00", "2026-11-28 07:00"),
    ("jam 19", "2026-11-27 19:00"),
    ("tgl 5 Des jam 7 malam", "2026-12-05 19:00"),
    ("tanggal 5 Desember pukul 19.00", "2026-12-05 19:00"),
    ("hari Sabtu tanggal 5 Desember jam 7 malam", "2026-12-05 19:00"),
    ("Sabtu ini jam 10 pagi", "2026-11-28 10:00"),
    ("Jumat ini jam 7 malam", "2026-11-27 19:00"),
    ("Senin ini jam 9 pagi", "2026-11-23 09:00"),  # the current week, already past
    ("Jumat depan jam 7 malam", "2026-12-04 19:00"),
    ("Kamis depan jam 8 pagi", "2026-12-03 08:00"),
    ("Rabu minggu depan jam 7 malam", "2026-12-02 19:00"),
    ("Rabu pekan depan pukul 19.00", "2026-12-02 19:00"),
    ("hari Minggu depan jam 10", "2026-12-06 10:00"),
    ("setengah 8 malam", "2026-11-27 19:30"),
    ("setengah 8", "2026-11-27 19:30"),
    ("besok setengah 10 pagi", "2026-11-28 09:30"),
    ("besok subuh jam 5", "2026-11-28 05:00"),
    ("jam 7 lewat 15", "2026-11-27 19:15"),
    ("jam 7.15", "2026-11-27 19:15"),
    ("jam 7 lewat 15 menit malam", "2026-11-27 19:15"),
    ("jam 8 kurang seperempat malam", "2026-11-27 19:45"),
    ("jam 8 kurang 10", "2026-11-27 19:50"),
    ("tengah hari", "2026-11-27 12:00"),
    ("besok tengah hari", "2026-11-28 12:00"),
    ("Sabtu dini hari jam 2", "2026-11-28 02:00"),
    ("dini hari jam 3", "2026-11-28 03:00"),
    ("nanti tengah malam", "2026-11-28 00:00"),
    ("jam 12 malam", "2026-11-28 00:00"),
    ("BESOK JAM 7 MALAM", "2026-11-28 19:00"),
    ("besok    jam   7   malam", "2026-11-28 19:00"),
    ("besok jam7malam", "2026-11-28 19:00"),
    ("besok19.00", "2026-11-28 19:00"),
    ("19.00 besok", "2026-11-28 19:00"),
    ("  Besok, jam 19.00!  ", "2026-11-28 19:00"),
    ("bsk jm 7 mlm", "2026-11-28 19:00"),
    ("besuk jam 9 pagi", "2026-11-28 09:00"),
    ("malam ini jam 8", "2026-11-27 20:00"),
    ("jam 8 malam ini", "2026-11-27 20:00"),
    ("sore ini jam 4", "2026-11-27 16:00"),
    ("ntar malam jam 9", "2026-11-27 21:00"),
    ("lusa jam 8 mlm", "2026-11-29 20:00"),
    ("Kamis, 3 Des jam 7 mlm", "2026-12-03 19:00"),
    ("Sabtu, 28/11 jam 10", "2026-11-28 10:00"),
    ("Sabtu malam jam 7", "2026-11-28 19:00"),
    ("besok siang jam 1", "2026-11-28 13:00"),
    ("jam tujuh malam", "2026-11-27 19:00"),
    ("pukul sembilan pagi", "2026-11-28 09:00"),
    ("besok jam 7 pagi WIT", "2026-11-28 07:00 Asia/Jayapura"),
    ("Senin jam 3 sore WITA", "2026-11-30 15:00 Asia/Makassar"),
    ("jam 7 malam wib", "2026-11-27 19:00"),
    ("19:00 WITA", "2026-11-27 19:00 Asia/Makassar"),
    ("Ahad jam 9 pagi", "2026-11-29 09:00"),
    ("ahad pagi 09.00", "2026-11-29 09:00"),
    ("05/12/2026 19.00", "2026-12-05 19:00"),
    ("5.12.2026 19.00", "2026-12-05 19:00"),
    ("12-12 16.00", "2026-12-12 16:00"),
    ("tanggal 1 jam 9 pagi", "2026-12-01 09:00"),
    ("tgl 31 jam 9 pagi", "2026-12-31 09:00"),
    ("27 Nov jam 9", "2026-11-27 21:00"),
    ("26 Nov jam 9", "2027-11-26 09:00"),  # the next 26 November
    ("29 Feb 10.00", "2028-02-29 10:00"),  # the next 29 February
    ("1 Jan 2027 jam 00.00", "2027-01-01 00:00"),
    ("Sabtu, 5 Desember 2026 pukul 19.00 WITA", "2026-12-05 19:00 Asia/Makassar"),
    ("besok jam 10.30", "2026-11-28 10:30"),
    ("lusa jam 07.30", "2026-11-29 07:30"),
    ("jam 11 siang", "2026-11-27 11:00"),
    ("jam 12 siang", "2026-11-27 12:00"),
    ("jam 6 sore", "2026-11-27 18:00"),
    ("jam 6 petang", "2026-11-27 18:00"),
    ("Minggu, 29 November 2026, 09.00", "2026-11-29 09:00"),
    ("Selasa 1 Des pkl 13.00", "2026-12-01 13:00"),
    ("Senin 7 Des jam 9", "2026-12-07 09:00"),
    ("5 Desember jam 7 malam", "2026-12-05 19:00"),
    ("Desember 5 19.00", "2026-12-05 19:00"),
    ("5 Agt 10.00", "2027-08-05 10:00"),
    ("5 Ags 10.00", "2027-08-05 10:00"),
    ("5 Agustus 10.00", "2027-08-05 10:00"),
    ("12 Peb 10.00", "2027-02-12 10:00"),
    ("3 Nop 10.00", "2027-11-03 10:00"),
    ("1 Okt 2027 pukul 10.00", "2027-10-01 10:00"),
    ("17 Mei 10.00", "2027-05-17 10:00"),
    ("1 jam lagi", "2026-11-27 11:00"),
    ("30 menit lagi", "2026-11-27 10:30"),
    ("dalam 2 jam", "2026-11-27 12:00"),
    ("dalam waktu 45 menit", "2026-11-27 10:45"),
    ("setengah jam lagi", "2026-11-27 10:30"),
    ("sejam lagi", "2026-11-27 11:00"),
    ("1½ jam lagi", "2026-11-27 11:30"),
    ("1,5 jam lagi", "2026-11-27 11:30"),
    ("dua jam lagi", "2026-11-27 12:00"),
]

# More English phrasings (same now).
ENGLISH: list[tuple[str, str | None]] = [
    ("this Saturday 10am", "2026-11-28 10:00"),
    ("noon tomorrow", "2026-11-28 12:00"),
    ("tomorrow at noon", "2026-11-28 12:00"),
    ("tomorrow at 9", "2026-11-28 09:00"),
    ("tomorrow morning at 9", "2026-11-28 09:00"),
    ("this evening at 7", "2026-11-27 19:00"),
    ("at 7 in the evening", "2026-11-27 19:00"),
    ("in 2 hours", "2026-11-27 12:00"),
    ("in an hour", "2026-11-27 11:00"),
    ("in half an hour", "2026-11-27 10:30"),
    ("2 hours from now", "2026-11-27 12:00"),
    ("5th December 7pm", "2026-12-05 19:00"),
    ("5th of December at 7pm", "2026-12-05 19:00"),
    ("December 5, 2026 at 7:00 PM", "2026-12-05 19:00"),
    ("Saturday, 5 December 2026 at 7:00 PM WIB", "2026-12-05 19:00"),
    ("fri 7pm", "2026-11-27 19:00"),
    ("Sat 10:30am", "2026-11-28 10:30"),
    ("Sunday 9am", "2026-11-29 09:00"),
    ("wednesday next week 7pm", "2026-12-02 19:00"),
    ("next week Friday 7pm", "2026-12-04 19:00"),
    ("next monday at 8.30 am", "2026-11-30 08:30"),
    ("half past 7 pm", "2026-11-27 19:30"),
    ("quarter to 8 in the evening", "2026-11-27 19:45"),
    ("quarter past 9 tomorrow morning", "2026-11-28 09:15"),
    ("7 o'clock tonight", "2026-11-27 19:00"),
    ("7 p.m.", "2026-11-27 19:00"),
    ("7.30 pm", "2026-11-27 19:30"),
    ("12pm", "2026-11-27 12:00"),
    ("12am", "2026-11-28 00:00"),
    ("midnight", "2026-11-28 00:00"),
    ("tonight at midnight", "2026-11-28 00:00"),
    ("the day after tomorrow at 8pm", "2026-11-29 20:00"),
    ("on Saturday at 10am", "2026-11-28 10:00"),
    ("2026-12-05T19:00", "2026-12-05 19:00"),
    ("2026/12/05 19:00", "2026-12-05 19:00"),
    ("Dec 5th at 19:00", "2026-12-05 19:00"),
    ("Jan 5 2027 6pm", "2027-01-05 18:00"),
    ("tonight 7.30pm", "2026-11-27 19:30"),
    ("tomorrow 19:00 WITA", "2026-11-28 19:00 Asia/Makassar"),
    ("Thursday 3 December at seven pm", "2026-12-03 19:00"),
    ("Sept 1 10am", "2027-09-01 10:00"),
]

# What must not be guessed (same now).
UNREADABLE: list[tuple[str, str | None]] = [
    ("jam 19.75", None),
    ("jam 24.00", None),
    ("30/2 10.00", None),
    ("13/13 10.00", None),
    ("Kamis 4 Desember 19.00", None),  # 4 December 2026 is a Friday
    ("besok 5 Desember jam 7", None),  # tomorrow is 28 November
    ("besok lusa jam 7", None),
    ("Sabtu Minggu jam 10", None),
    ("19.00 WIB WITA", None),
    ("Minggu depan jam 10", None),  # next week, or next Sunday?
    ("minggu ini jam 10", None),
    ("besok tengah malam", None),  # the midnight that starts it, or ends it?
    ("Jumat jam 12 malam", None),
    ("besok pagi", None),
    ("this Saturday", None),
    ("Rabu depan", None),
    ("Des 2026 jam 9", None),
    ("besok 7", None),
    ("7", None),
    ("19", None),
    ("hello", None),
    ("", None),
    ("   ", None),
    ("asdf qwerty", None),
    ("besok aja jam 7", None),
    ("kemarin jam 7", None),
    ("jam 13 pagi", None),
    ("jam 5 malam", None),
    ("jam 7 pagi malam", None),
    ("jam 7 am malam", None),
    ("besok jam 7 atau 8", None),
    ("19.00 - 21.00", None),
    ("dalam 2 hari", None),
    ("in 3 days", None),
    ("2 minggu lagi", None),
    ("100 jam lagi", None),
    ("0 menit lagi", None),
    ("half 8", None),
    ("setengah jam", None),
    ("jam 7 lewat 75", None),
    ("32 Desember 10.00", None),
]


@pytest.mark.parametrize(("text", "spec"), rows(SAMPLE))
def test_sample(text: str, spec: str | None) -> None:
    assert_same(parse_when(text, now=FRIDAY, tz=JAKARTA), spec)


@pytest.mark.parametrize(("text", "spec"), rows(ON_MONDAY))
def test_on_monday(text: str, spec: str | None) -> None:
    assert_same(parse_when(text, now=MONDAY, tz=JAKARTA), spec)


@pytest.mark.parametrize(("text", "spec"), rows(INDONESIAN + ENGLISH))
def test_phrasings(text: str, spec: str | None) -> None:
    assert_same(parse_when(text, now=FRIDAY, tz=JAKARTA), spec)


@pytest.mark.parametrize(("text", "spec"), rows(UNREADABLE))
def test_unreadable(text: str, spec: str | None) -> None:
    assert_same(parse_when(text, now=FRIDAY, tz=JAKARTA), spec)


def test_the_tables_are_as_large_as_promised() -> None:
    assert len(SAMPLE) + len(ON_MONDAY) == 36
    assert len(INDONESIAN) + len(ENGLISH) + len(UNREADABLE) >= 60


@pytest.mark.parametrize(
    ("now", "text", "spec"),
    [
        pytest.param(
            datetime(2026, 11, 27, 21, 0, tzinfo=WIB), "jam 7", "2026-11-28 07:00", id="late-jam-7"
        ),
        pytest.param(
            datetime(2026, 11, 27, 21, 0, tzinfo=WIB), "jam 9", "2026-11-28 09:00", id="late-jam-9"
        ),
        pytest.param(
            datetime(2026, 11, 27, 21, 0, tzinfo=WIB),
            "Jumat 19.00",
            "2026-12-04 19:00",
            id="late-friday-is-next-week",
        ),
        pytest.param(
            datetime(2026, 11, 27, 21, 0, tzinfo=WIB),
            "hari ini jam 20.00",
            "2026-11-27 20:00",
            id="late-today-as-named",
        ),
        pytest.param(
            datetime(2026, 11, 27, 23, 30, tzinfo=WIB),
            "2 jam lagi",
            "2026-11-28 01:30",
            id="late-relative-crosses-midnight",
        ),
        pytest.param(
            datetime(2026, 11, 27, 3, 0, tzinfo=ZoneInfo("UTC")),
            "besok jam 19.00",
            "2026-11-28 19:00",
            id="now-given-in-utc",
        ),
        pytest.param(
            datetime(2026, 11, 27, 17, 30, tzinfo=ZoneInfo("UTC")),
            "besok jam 19.00",
            "2026-11-29 19:00",
            id="now-in-utc-is-already-saturday-in-jakarta",
        ),
        pytest.param(
            datetime(2026, 11, 27, 10, 0, 42, tzinfo=WIB),
            "in 90 minutes",
            "2026-11-27 11:30",
            id="relative-to-the-minute",
        ),
        pytest.param(
            datetime(2026, 12, 30, 10, 0, tzinfo=WIB),
            "5 Januari 19.00",
            "2027-01-05 19:00",
            id="year-end-next-january",
        ),
        pytest.param(
            datetime(2026, 12, 30, 10, 0, tzinfo=WIB),
            "Senin depan jam 9 pagi",
            "2027-01-04 09:00",
            id="year-end-next-monday",
        ),
        pytest.param(
            datetime(2026, 11, 27, 10, 0, tzinfo=WIB),
            "19.00 WITA",
            "2026-11-27 19:00 Asia/Makassar",
            id="zone-named-wins",
        ),
        pytest.param(
            datetime(2026, 11, 27, 23, 30, tzinfo=WIB),
            "hari ini jam 9 malam WIT",
            "2026-11-28 21:00 Asia/Jayapura",
            id="today-is-today-in-the-zone-named",
        ),
    ],
)
def test_other_moments(now: datetime, text: str, spec: str) -> None:
    assert_same(parse_when(text, now=now, tz=JAKARTA), spec)


@pytest.mark.parametrize(
    ("tz", "text", "spec"),
    [
        pytest.param(
            "Europe/Amsterdam", "tomorrow 9am", "2026-11-28 09:00 Europe/Amsterdam", id="amsterdam"
        ),
        pytest.param(
            ZoneInfo("Asia/Makassar"),
            "besok jam 7 malam",
            "2026-11-28 19:00 Asia/Makassar",
            id="zoneinfo",
        ),
        pytest.param(
            "America/New_York", "Saturday 10am", "2026-11-28 10:00 America/New_York", id="new-york"
        ),
        pytest.param("Asia/Makassar", "besok jam 7 malam WIB", "2026-11-28 19:00", id="wib-wins"),
    ],
)
def test_default_zone(tz: str | ZoneInfo, text: str, spec: str) -> None:
    assert_same(parse_when(text, now=FRIDAY, tz=tz), spec)


def test_summer_time_is_taken_into_account() -> None:
    before = datetime(2026, 3, 28, 12, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))  # CET, +01:00
    got = parse_when("tomorrow 9am", now=before, tz="Europe/Amsterdam")
    assert_same(got, "2026-03-29 09:00 Europe/Amsterdam")
    assert got is not None
    assert got.utcoffset() == timedelta(hours=2)  # CEST by then


def test_a_time_skipped_by_summer_time_moves_on_with_the_clock() -> None:
    friday = datetime(2026, 3, 27, 12, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    got = parse_when("Sunday 2.30am", now=friday, tz="Europe/Amsterdam")
    assert_same(got, "2026-03-29 03:30 Europe/Amsterdam")


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("besok jam 7", now=datetime(2026, 11, 27, 10, 0), tz=JAKARTA)


@pytest.mark.parametrize("zone", ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"])
@pytest.mark.parametrize("locale", ["id", "en"])
def test_what_the_bot_shows_it_reads_back(zone: str, locale: str) -> None:
    instant = datetime(2026, 12, 5, 19, 30, tzinfo=ZoneInfo(zone))
    shown = format_datetime(instant, zone, locale)
    got = parse_when(shown, now=FRIDAY, tz=JAKARTA)
    assert got is not None
    assert got == instant
    assert isinstance(got.tzinfo, ZoneInfo)
    assert got.tzinfo.key == zone


# Durations.
DURATIONS: list[tuple[str, int | None]] = [
    ("90 menit", 90),
    ("1,5 jam", 90),
    ("1.5 jam", 90),
    ("1h30", 90),
    ("1 h 30 min", 90),
    ("2 jam", 120),
    ("1 jam 30 menit", 90),
    ("1 jam 30", 90),
    ("45 min", 45),
    ("2 hours", 120),
    ("1½ jam", 90),
    ("½ jam", 30),
    ("setengah jam", 30),
    ("satu setengah jam", 90),
    ("sejam", 60),
    ("sejam setengah", 90),
    ("2 jam setengah", 150),
    ("dua jam", 120),
    ("lima belas menit", 15),
    ("tiga puluh menit", 30),
    ("2 jam dan 15 menit", 135),
    ("an hour", 60),
    ("half an hour", 30),
    ("an hour and a half", 90),
    ("one and a half hours", 90),
    ("forty-five minutes", 45),
    ("1:30", 90),
    ("1.25 jam", 75),
    ("  2 JAM  ", 120),
    ("1 hari", 1440),
    ("24 jam", 1440),
    ("0 menit", None),
    ("0 jam", None),
    ("-30 menit", None),
    ("25 jam", None),
    ("2 hari", None),
    ("1 day 2 h", None),
    ("90", None),
    ("1.30 jam", None),
    ("1 jam 90 menit", None),
    ("1.5 jam 30 menit", None),
    ("30 menit 1 jam", None),
    ("1 jam 2 jam", None),
    ("30 detik", None),
    ("jam", None),
    ("blah", None),
    ("", None),
]


@pytest.mark.parametrize(
    ("text", "minutes"), [pytest.param(t, m, id=t or "(empty)") for t, m in DURATIONS]
)
def test_parse_duration(text: str, minutes: int | None) -> None:
    want = None if minutes is None else timedelta(minutes=minutes)
    assert parse_duration(text) == want


# Zones.
ZONES: list[tuple[str, str | None]] = [
    ("WIB", "Asia/Jakarta"),
    ("wib", "Asia/Jakarta"),
    ("WITA", "Asia/Makassar"),
    ("Wit", "Asia/Jayapura"),
    ("Jakarta", "Asia/Jakarta"),
    ("bandung", "Asia/Jakarta"),
    ("Surabaya", "Asia/Jakarta"),
    ("Semarang", "Asia/Jakarta"),
    ("Yogyakarta", "Asia/Jakarta"),
    ("Jogja", "Asia/Jakarta"),
    ("Jogjakarta", "Asia/Jakarta"),
    ("Medan", "Asia/Jakarta"),
    ("Palembang", "Asia/Jakarta"),
    ("Bandar Lampung", "Asia/Jakarta"),
    ("Pontianak", "Asia/Pontianak"),
    ("Palangka Raya", "Asia/Pontianak"),
    ("Denpasar", "Asia/Makassar"),
    ("Bali", "Asia/Makassar"),
    ("Makassar", "Asia/Makassar"),
    ("Balikpapan", "Asia/Makassar"),
    ("Banjarmasin", "Asia/Makassar"),
    ("Manado", "Asia/Makassar"),
    ("Mataram", "Asia/Makassar"),
    ("Kupang", "Asia/Makassar"),
    ("Samarinda", "Asia/Makassar"),
    ("Jayapura", "Asia/Jayapura"),
    ("Ambon", "Asia/Jayapura"),
    ("Sorong", "Asia/Jayapura"),
    ("Merauke", "Asia/Jayapura"),
    ("Ternate", "Asia/Jayapura"),
    ("Singapore", "Asia/Singapore"),
    ("amsterdam", "Europe/Amsterdam"),
    ("new york", "America/New_York"),
    ("New_York", "America/New_York"),
    ("Europe/Amsterdam", "Europe/Amsterdam"),
    ("europe/amsterdam", "Europe/Amsterdam"),
    ("kuala lumpur", "Asia/Kuala_Lumpur"),
    ("  Tokyo ", "Asia/Tokyo"),
    ("los angeles", "America/Los_Angeles"),
    ("port-au-prince", "America/Port-au-Prince"),
    ("Amsterdam, Netherlands", "Europe/Amsterdam"),
    ("UTC", "UTC"),
    ("gmt", "UTC"),
    ("UTC+7", "Etc/GMT-7"),
    ("GMT-5", "Etc/GMT+5"),
    ("utc+09:00", "Etc/GMT-9"),
    ("UTC+5:30", None),
    ("EST", None),
    ("Factory", None),
    ("localtime", None),
    ("Kalimantan", None),
    ("Indonesia", None),
    ("Mars", None),
    ("", None),
]


@pytest.mark.parametrize(
    ("text", "zone"), [pytest.param(t, z, id=t or "(empty)") for t, z in ZONES]
)
def test_zone_from_text(text: str, zone: str | None) -> None:
    assert zone_from_text(text) == zone
