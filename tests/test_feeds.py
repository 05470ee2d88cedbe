"""Calendar files: valid for every parser we have, deterministic, and private."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import recurring_ical_events
import vobject
from ical.calendar_stream import IcsCalendarStream
from ics import Calendar as IcsCalendar

from events.db.models import Event, EventKind, EventStatus, Place
from events.feeds.calendar import FeedEvent, RenderCache, build_calendar, etag
from events.feeds.web import COMMUNITY_NAME, PERSONAL_NAME
from events.i18n import catalogues

HOST = "feeds.example.org"
BOT = "events_test_bot"
JOIN_LINK = "https://meet.example.org/rahasia-lingkar"
ATTENDEE = "Dewi Lestari"
CHANGED = datetime(2026, 11, 1, 3, 4, 5, tzinfo=UTC)
START = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)

TITLES = [
    "Lingkar Dukungan",
    "Cemas, sedih; lalu apa?",
    "Baris satu\nbaris dua",
    "Ngobrol santai 🌱💬 bareng teman",
    "Kata" + "x" * 300,
    'Tanya \\ jawab: "kecemasan"',
]
ZONES = ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "Europe/Amsterdam"]


def make_event(number: int, **changes: object) -> FeedEvent:
    starts_at = START + timedelta(days=number)
    event = FeedEvent(
        id=number,
        revision=1,
        kind=list(EventKind)[number % 3],
        title=TITLES[number % len(TITLES)],
        description=f"Sesi berbagi yang aman, nomor {number};\nbawa teh hangat ☕",
        timezone=ZONES[number % len(ZONES)],
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=90),
        place=list(Place)[number % 3],
        location="Rumah Teduh, Jl. Melati 5; lantai 2",
        status=EventStatus.PUBLISHED,
        updated_at=CHANGED,
    )
    return replace(event, **changes)  # type: ignore[arg-type]


def many_events() -> list[FeedEvent]:
    events = [make_event(number) for number in range(1, 13)]
    events.append(make_event(20, status=EventStatus.CANCELLED, revision=3))
    events.append(make_event(21, revision=5, updated_at=CHANGED + timedelta(days=3)))
    # Summer time in the foreign zone (CEST, UTC+2), and a title that is one long word of
    # two-byte and four-byte characters, so folding must not cut one in half.
    summer = datetime(2027, 7, 3, 16, 30, tzinfo=UTC)
    events.append(
        make_event(
            22,
            timezone="Europe/Amsterdam",
            starts_at=summer,
            ends_at=summer + timedelta(hours=2),
            title="Één" + "é" * 150 + "🌱" * 40,
        )
    )
    # Occurrences of a recurring event are events of their own; one of them was edited.
    for week in range(4):
        events.append(
            make_event(
                30 + week,
                starts_at=START + timedelta(weeks=week),
                ends_at=START + timedelta(weeks=week, hours=1),
            )
        )
    events[-2] = replace(events[-2], title="Edisi khusus", revision=2)
    return events


def build(
    events: list[FeedEvent],
    *,
    locale: str = "id",
    discreet: bool = False,
    cache: RenderCache | None = None,
) -> bytes:
    return build_calendar(
        events,
        name="Acara komunitas",
        locale=locale,
        host=HOST,
        bot_username=BOT,
        discreet=discreet,
        cache=cache,
    )


def vevents(data: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(data).walk("VEVENT"))


def by_uid(data: bytes) -> dict[str, icalendar.Event]:
    return {str(event["UID"]): event for event in vevents(data)}


NEUTRAL = {"id": "Sesi komunitas", "en": "Community session"}
CANCELLED = {"id": "Dibatalkan: {title}", "en": "Cancelled: {title}"}
FEED_KINDS = ["personal", "discreet", "community", "event"]


def expected_summary(event: FeedEvent, locale: str, discreet: bool) -> str:
    title = NEUTRAL[locale] if discreet else event.title
    return CANCELLED[locale].format(title=title) if event.cancelled else title


def feeds_of(kind: str, locale: str) -> list[tuple[str, list[FeedEvent], bool]]:
    """The feeds the server makes, as (name, events, discreet): a person's (plain or discreet),
    a community's, and every event's own file."""
    words = catalogues()[locale]
    events = many_events()
    if kind in ("personal", "discreet"):
        return [(words.gettext(PERSONAL_NAME), events, kind == "discreet")]
    if kind == "community":
        name = words.gettext(COMMUNITY_NAME).format(community="Lingkar; Tenang, 🌱 C:\\new")
        return [(name, events, False)]
    return [
        (NEUTRAL[locale] if discreet else event.title, [event], discreet)
        for event in events
        for discreet in (False, True)
    ]


def unescape(text: str) -> str:
    """A TEXT value as RFC 5545 3.3.11 escapes it, back to the text."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], text)


def check_octets(data: bytes) -> None:
    """CRLF only, no line over 75 octets, no UTF-8 sequence cut by a fold."""
    assert data.endswith(b"\r\n")
    lines = data.split(b"\r\n")[:-1]
    for line in lines:
        assert b"\n" not in line
        assert b"\r" not in line
        assert len(line) <= 75, line
        line.decode("utf-8")  # raises on half a character


def check_feed(
    data: bytes, events: list[FeedEvent], *, name: str, locale: str, discreet: bool
) -> None:
    text = data.decode("utf-8")
    check_octets(data)
    uids = {f"event-{event.id}@{HOST}": event for event in events}
    summaries = {uid: expected_summary(e, locale, discreet) for uid, e in uids.items()}
    starts = {uid: e.starts_at for uid, e in uids.items()}

    # Unfolding gives back every title (and the calendar's name) exactly.
    unfolded = re.sub(r"\r\n[ \t]", "", text).split("\r\n")
    values = [unescape(line.split(":", 1)[1]) for line in unfolded if line.startswith("SUMMARY")]
    assert sorted(values) == sorted(summaries.values())
    assert unescape(next(v for v in unfolded if v.startswith("NAME:"))[5:]) == name

    # icalendar: parses, no zone missing, every VEVENT complete.
    calendar = icalendar.Calendar.from_ical(data)
    assert calendar.get_missing_tzids() == set()
    # (icalendar keeps the value of these two as it is written: unescaped here)
    assert unescape(str(calendar["NAME"])) == unescape(str(calendar["X-WR-CALNAME"])) == name
    found = vevents(data)
    assert {str(e["UID"]): str(e["SUMMARY"]) for e in found} == summaries
    assert {str(e["UID"]): e.start for e in found} == starts
    for event in found:
        assert {"UID", "DTSTAMP", "SEQUENCE", "DTSTART", "DTEND"} <= set(event.keys())
        assert int(event["SEQUENCE"]) == uids[str(event["UID"])].revision - 1

    # vobject, validating.
    parsed = vobject.readOne(text, validate=True)
    parsed.validate()
    assert {v.uid.value: v.summary.value for v in parsed.vevent_list} == summaries
    assert {v.uid.value: v.dtstart.value for v in parsed.vevent_list} == starts

    # ics.
    loose = IcsCalendar(text)
    assert {e.uid: e.name for e in loose.events} == summaries
    assert {e.uid: e.begin.datetime for e in loose.events} == starts

    # ical, the strict parser of Home Assistant.
    strict = IcsCalendarStream.calendar_from_ics(text)
    assert {e.uid: e.summary for e in strict.events} == summaries
    assert {e.uid: e.dtstart for e in strict.events} == starts
    assert {e.uid: e.sequence for e in strict.events} == {
        uid: e.revision - 1 for uid, e in uids.items()
    }

    # recurring-ical-events: each event exactly once, where it is.
    first = min(e.starts_at for e in events) - timedelta(days=1)
    last = max(e.ends_at for e in events) + timedelta(days=1)
    occurrences = recurring_ical_events.of(calendar).between(first, last)
    assert sorted(str(o["UID"]) for o in occurrences) == sorted(uids)
    assert {str(o["UID"]): o.start for o in occurrences} == starts


@pytest.mark.parametrize("locale", ["id", "en"])
@pytest.mark.parametrize("kind", FEED_KINDS)
def test_every_parser_accepts_every_feed(locale: str, kind: str) -> None:
    cache = RenderCache()
    for name, events, discreet in feeds_of(kind, locale):
        data = build_calendar(
            events,
            name=name,
            locale=locale,
            host=HOST,
            bot_username=BOT,
            discreet=discreet,
            cache=cache,
        )
        check_feed(data, events, name=name, locale=locale, discreet=discreet)
        # Nothing changed: the same bytes, whether rendered again or taken from the cache.
        assert data == build_calendar(
            events, name=name, locale=locale, host=HOST, bot_username=BOT, discreet=discreet
        )


@pytest.mark.parametrize("discreet", [False, True])
def test_a_series_with_an_edited_occurrence(discreet: bool) -> None:
    data = build(many_events(), discreet=discreet)
    calendar = icalendar.Calendar.from_ical(data)
    weeks = recurring_ical_events.of(calendar).between(START, START + timedelta(weeks=4))
    series = sorted(
        (o for o in weeks if str(o["UID"]) in {f"event-{n}@{HOST}" for n in range(30, 34)}),
        key=lambda o: o.start,
    )
    assert [o.start for o in series] == [START + timedelta(weeks=w) for w in range(4)]
    assert [int(o["SEQUENCE"]) for o in series] == [0, 0, 1, 0]
    if discreet:
        assert {str(o["SUMMARY"]) for o in series} == {"Sesi komunitas"}
    else:
        assert [str(o["SUMMARY"]) for o in series] == [
            TITLES[0],
            TITLES[1],
            "Edisi khusus",
            TITLES[3],
        ]


def test_the_foreign_zone_keeps_summer_time() -> None:
    summer = next(e for e in many_events() if e.id == 22)
    data = build(many_events())
    assert b"DTSTART;TZID=Europe/Amsterdam:20270703T183000\r\n" in data
    zone = next(
        z
        for z in icalendar.Calendar.from_ical(data).walk("VTIMEZONE")
        if str(z["TZID"]) == "Europe/Amsterdam"
    )
    assert {c.name for c in zone.subcomponents} >= {"STANDARD", "DAYLIGHT"}
    assert by_uid(data)[f"event-22@{HOST}"].start == summer.starts_at
    for zone_name, local in (
        ("Asia/Jakarta", b"20261209T190000"),
        ("Asia/Makassar", b"20261210T200000"),
        ("Asia/Jayapura", b"20261211T210000"),
    ):
        assert b"DTSTART;TZID=" + zone_name.encode() + b":" + local + b"\r\n" in data
        assert b"TZID:" + zone_name.encode() + b"\r\n" in data


def test_the_file_follows_rfc5545_to_the_octet() -> None:
    data = build(many_events())
    check_octets(data)
    head = icalendar.Calendar.from_ical(data)
    assert str(head["PRODID"])
    assert str(head["VERSION"]) == "2.0"
    assert str(head["CALSCALE"]) == "GREGORIAN"
    assert str(head["METHOD"]) == "PUBLISH"
    assert str(head["NAME"]) == str(head["X-WR-CALNAME"]) == "Acara komunitas"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in data
    assert b"X-PUBLISHED-TTL:PT1H\r\n" in data


def test_times_are_in_the_events_zone_with_its_vtimezone() -> None:
    data = build([make_event(4)])  # Asia/Jakarta
    assert b"BEGIN:VTIMEZONE\r\nTZID:Asia/Jakarta\r\n" in data
    assert b"DTSTART;TZID=Asia/Jakarta:20261209T190000\r\n" in data
    assert b"DTEND;TZID=Asia/Jakarta:20261209T203000\r\n" in data
    (event,) = vevents(data)
    assert event.start == START + timedelta(days=4)


def test_an_unchanged_feed_is_byte_identical_and_uids_never_change() -> None:
    first = build(many_events())
    again = build(many_events(), cache=RenderCache())
    assert first == again
    assert etag(first) == etag(again)
    assert sorted(by_uid(first)) == sorted(f"event-{e.id}@{HOST}" for e in many_events())


def test_an_edit_raises_sequence_and_last_modified() -> None:
    before = make_event(1)
    after = replace(before, title="Judul baru", revision=2, updated_at=CHANGED + timedelta(hours=2))
    old, new = by_uid(build([before])), by_uid(build([after]))
    uid = f"event-1@{HOST}"
    assert int(old[uid]["SEQUENCE"]) == 0
    assert int(new[uid]["SEQUENCE"]) == 1
    assert new[uid]["LAST-MODIFIED"].dt > old[uid]["LAST-MODIFIED"].dt
    assert new[uid]["DTSTAMP"].dt == CHANGED + timedelta(hours=2)
    assert str(new[uid]["SUMMARY"]) == "Judul baru"
    assert build([before]) != build([after])


@pytest.mark.parametrize(("locale", "marked"), [("id", "Dibatalkan: "), ("en", "Cancelled: ")])
def test_a_cancelled_event_stays_marked_cancelled(locale: str, marked: str) -> None:
    data = build([make_event(1, status=EventStatus.CANCELLED, revision=2)], locale=locale)
    (event,) = vevents(data)
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["SUMMARY"]) == marked + TITLES[1]
    assert int(event["SEQUENCE"]) == 1


def test_confirmed_events_carry_what_a_calendar_shows() -> None:
    (event,) = vevents(build([make_event(2, place=Place.IN_PERSON, kind=EventKind.QA)]))
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["LOCATION"]) == "Rumah Teduh, Jl. Melati 5; lantai 2"
    assert str(event["URL"]) == f"https://t.me/{BOT}?start=e2"
    assert f"https://t.me/{BOT}?start=e2" in str(event["DESCRIPTION"])
    assert event.categories == ["Tanya Jawab"]
    (online,) = vevents(build([make_event(3, place=Place.ONLINE)], locale="en"))
    assert "LOCATION" not in online
    assert online.categories == ["Workshop"]


def test_no_join_link_and_no_names_ever() -> None:
    events = many_events()
    for locale in ("id", "en"):
        for discreet in (False, True):
            data = build(events, locale=locale, discreet=discreet)
            unfolded = re.sub(rb"\r\n[ \t]", b"", data)
            assert JOIN_LINK.encode() not in unfolded
            assert b"meet.example.org" not in unfolded
            assert ATTENDEE.encode() not in unfolded
            assert b"ATTENDEE" not in unfolded
            assert b"ORGANIZER" not in unfolded


@pytest.mark.parametrize(
    ("locale", "neutral"), [("id", "Sesi komunitas"), ("en", "Community session")]
)
def test_discreet_titles_reveal_nothing(locale: str, neutral: str) -> None:
    events = [make_event(number) for number in range(1, 7)]
    data = build(events, locale=locale, discreet=True)
    unfolded = re.sub(rb"\r\n[ \t]", b"", data).decode()
    for event in vevents(data):
        assert str(event["SUMMARY"]) == neutral
        assert str(event["DESCRIPTION"]).startswith(f"https://t.me/{BOT}?start=e")
        assert "LOCATION" not in event
        assert "CATEGORIES" not in event
    for original in events:
        assert original.title.split("\n")[0][:12] not in unfolded
        assert "Rumah Teduh" not in unfolded
        assert "Sesi berbagi" not in unfolded


def test_one_changed_event_renders_one_vevent_again() -> None:
    cache = RenderCache()
    events = [make_event(number % 50, id=number) for number in range(1, 1001)]
    first = build(events, cache=cache)
    assert cache.renders == 1000
    events[500] = replace(events[500], revision=2, updated_at=CHANGED + timedelta(hours=1))
    second = build(events, cache=cache)
    assert cache.renders == 1001
    assert second != first
    assert second == build(events, cache=RenderCache())


def test_a_join_link_pasted_into_the_description_is_left_out() -> None:
    row = Event(
        id=7,
        revision=1,
        kind=EventKind.WEBINAR,
        title="Lingkar Dukungan",
        description=f"Masuk lewat {JOIN_LINK} ya",
        timezone="Asia/Jakarta",
        starts_at=START,
        ends_at=START + timedelta(hours=1),
        place=Place.ONLINE,
        join_link=JOIN_LINK,
        status=EventStatus.PUBLISHED,
        updated_at=CHANGED,
    )
    data = build_calendar(
        [row], name="Acara", locale="id", host=HOST, bot_username=BOT, cache=RenderCache()
    )
    assert b"meet.example.org" not in re.sub(rb"\r\n[ \t]", b"", data)
    (event,) = vevents(data)
    assert str(event["DESCRIPTION"]).startswith("Masuk lewat  ya")
