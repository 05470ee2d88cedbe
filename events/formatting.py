"""Showing dates, times and durations in a person's locale and zone (CONTRACT §7).

Babel supplies day and month names; the patterns are explicit so the output is exactly
``Sabtu, 5 Desember 2026 pukul 19.00 WIB`` / ``Saturday, 5 December 2026 at 7:00 PM WIB``,
with plain spaces only. The words around the numbers come from the catalogues.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from gettext import GNUTranslations
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_format
from babel.lists import format_list

from events.i18n import catalogues
from events.zones import INDONESIAN_ABBREVIATIONS

LOCALES = ("id", "en")
DEFAULT_LOCALE = "id"

# Within this many hours an instant on another calendar day still reads as "in 5 hours".
DAY_WORDS_AFTER = timedelta(hours=6)


@dataclass(frozen=True)
class _Patterns:
    """Babel patterns of one locale: data about the calendar, not words to translate."""

    date: str
    day_month: str
    short_date: str
    time: str


_PATTERNS: dict[str, _Patterns] = {
    "id": _Patterns(
        date="EEEE, d MMMM y", day_month="EEEE, d MMMM", short_date="EEE, d MMM", time="HH.mm"
    ),
    "en": _Patterns(
        date="EEEE, d MMMM y", day_month="EEEE, d MMMM", short_date="EEE, d MMM", time="h:mm a"
    ),
}


def _words(locale: str | None) -> GNUTranslations:
    """The catalogue of ``locale``: every word around the numbers comes from it."""
    return catalogues()[_locale(locale)]


def _at(date: str, time: str, locale: str | None) -> str:
    # Translators: a date, then a time of that date: "Sabtu, 5 Desember 2026 pukul 19.00 WIB".
    return _words(locale).gettext("{date} at {time}").format(date=date, time=time)


def _locale(locale: str | None) -> str:
    """ "id" or "en" ("en-GB" is "en"); anything else is "id"."""
    language = (locale or "").replace("-", "_").split("_", 1)[0].lower()
    return language if language in LOCALES else DEFAULT_LOCALE


def _local(instant: datetime, zone: str) -> datetime:
    """The instant on the wall clock of ``zone`` (a naive instant is taken as UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(ZoneInfo(zone))


def _babel(local: datetime, pattern: str, locale: str) -> str:
    """Babel with an explicit pattern: its spaces are the pattern's own."""
    return babel_format(local, pattern, tzinfo=local.tzinfo, locale=locale)


def zone_abbreviation(zone: str, at: datetime) -> str:
    """WIB, WITA or WIT in Indonesia; elsewhere the zone's letters (CET, EST) or UTC+hh:mm."""
    if zone in INDONESIAN_ABBREVIATIONS:
        return INDONESIAN_ABBREVIATIONS[zone]
    local = _local(at, zone)
    name = local.tzname() or ""
    if name.isalpha():
        return name
    offset = local.utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    minutes = int(abs(offset).total_seconds()) // 60
    sign = "+" if offset > timedelta(0) else "-"
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def format_time(instant: datetime, zone: str, locale: str) -> str:
    """ "19.00 WIB" / "7:00 PM WIB"."""
    local = _local(instant, zone)
    time = _babel(local, _PATTERNS[_locale(locale)].time, _locale(locale))
    return f"{time} {zone_abbreviation(zone, instant)}"


def format_date(instant: datetime, zone: str, locale: str) -> str:
    """ "Sabtu, 5 Desember 2026" / "Saturday, 5 December 2026"."""
    return _babel(_local(instant, zone), _PATTERNS[_locale(locale)].date, _locale(locale))


def format_short_date(instant: datetime, zone: str, locale: str) -> str:
    """ "Sab, 5 Des" / "Sat, 5 Dec"."""
    return _babel(_local(instant, zone), _PATTERNS[_locale(locale)].short_date, _locale(locale))


def format_datetime(instant: datetime, zone: str, locale: str) -> str:
    """ "Sabtu, 5 Desember 2026 pukul 19.00 WIB" / "Saturday, 5 December 2026 at 7:00 PM WIB"."""
    return _at(format_date(instant, zone, locale), format_time(instant, zone, locale), locale)


def format_datetime_for(instant: datetime, event_zone: str, viewer_zone: str, locale: str) -> str:
    """The event's date and time, then the viewer's own time when their clock shows another.

    "Sabtu, 5 Desember 2026 pukul 19.00 WIB / 20.00 WITA"; when the viewer's date differs too,
    their weekday and date come with it ("… 23.30 WIB / Minggu, 6 Desember pukul 00.30 WITA"),
    and their year as well if that differs.
    """
    shown = format_datetime(instant, event_zone, locale)
    event_local = _local(instant, event_zone)
    viewer_local = _local(instant, viewer_zone)
    if event_local.utcoffset() == viewer_local.utcoffset():
        return shown
    viewer_time = format_time(instant, viewer_zone, locale)
    if viewer_local.date() == event_local.date():
        return f"{shown} / {viewer_time}"
    patterns = _PATTERNS[_locale(locale)]
    pattern = patterns.day_month if viewer_local.year == event_local.year else patterns.date
    viewer_date = _babel(viewer_local, pattern, _locale(locale))
    return f"{shown} / {_at(viewer_date, viewer_time, locale)}"


def _whole_minutes(delta: timedelta) -> int:
    """The length of ``delta`` in minutes, rounded half up, ignoring its sign."""
    return int((abs(delta).total_seconds() + 30) // 60)


def format_duration(delta: timedelta, locale: str) -> str:
    """ "1 jam 30 menit" / "1 h 30 min"; days when a day or more ("1 hari 2 jam" / "1 day 2 h").

    Rounded to the minute; the sign is ignored.
    """
    words = _words(locale)
    days, minutes = divmod(_whole_minutes(delta), 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(words.ngettext("{count} day", "{count} days", days).format(count=days))
    if hours:
        # Translators: hours of a duration, short: "1 h 30 min".
        parts.append(words.ngettext("{count} h", "{count} h", hours).format(count=hours))
    if minutes or not parts:
        # Translators: minutes of a duration, short: "1 h 30 min".
        parts.append(words.ngettext("{count} min", "{count} min", minutes).format(count=minutes))
    return " ".join(parts)


def _hours(count: int, words: GNUTranslations) -> str:
    return words.ngettext("{count} hour", "{count} hours", count).format(count=count)


def _minutes(count: int, words: GNUTranslations) -> str:
    return words.ngettext("{count} minute", "{count} minutes", count).format(count=count)


def _amount(minutes: int, words: GNUTranslations) -> str:
    """A rounded amount of time: minutes under an hour, then hours and 5-minute steps, then
    whole hours from 3 hours on."""
    if minutes < 60:
        return _minutes(max(minutes, 1), words)
    if minutes < 180:
        hours, rest = divmod(5 * round(minutes / 5), 60)
        if rest:
            return f"{_hours(hours, words)} {_minutes(rest, words)}"
        return _hours(hours, words)
    return _hours(round(minutes / 60), words)


def format_lead(seconds: int, locale: str) -> str:
    """How long before a start a reminder comes: "1 hari", "3 jam", "15 menit" / "1 day",
    "3 hours", "15 minutes" (whole days, else whole hours, else minutes)."""
    words = _words(locale)
    minutes = max(seconds // 60, 1)
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return words.ngettext("{count} day", "{count} days", days).format(count=days)
    if minutes % 60 == 0:
        return _hours(minutes // 60, words)
    return _minutes(minutes, words)


def format_leads(seconds: Sequence[int], locale: str) -> str:
    """Several of them, earliest first: "1 hari dan 1 jam" / "1 day and 1 hour"."""
    leads = [format_lead(lead, locale) for lead in sorted(set(seconds), reverse=True)]
    return format_list(leads, locale=_locale(locale)) if leads else ""


def format_relative(instant: datetime, now: datetime, zone: str, locale: str) -> str:
    """How far ``instant`` is from ``now``, as people say it.

    Under a minute: "sekarang" / "now". On the next calendar day (in ``zone``) and at least six
    hours away: "besok" / "tomorrow"; the day after: "lusa" / "the day after tomorrow"; further:
    "dalam 3 hari" / "in 3 days". Otherwise minutes (under an hour), hours and minutes rounded to
    5 (under 3 hours) or whole hours: "dalam 15 menit", "dalam 1 jam 30 menit", "dalam 5 jam".
    The past mirrors it: "15 menit yang lalu" / "15 minutes ago", "kemarin" / "yesterday".
    """
    words = _words(locale)
    delta = _local(instant, "UTC") - _local(now, "UTC")
    if abs(delta) < timedelta(minutes=1):
        return words.gettext("now")
    days = (_local(instant, zone).date() - _local(now, zone).date()).days
    if days and abs(delta) >= DAY_WORDS_AFTER:
        if days == 1:
            return words.gettext("tomorrow")
        if days == 2:
            return words.gettext("the day after tomorrow")
        if days == -1:
            return words.gettext("yesterday")
        count = abs(days)
        amount = words.ngettext("{count} day", "{count} days", count).format(count=count)
    else:
        amount = _amount(_whole_minutes(delta), words)
    if delta > timedelta(0):
        return words.gettext("in {amount}").format(amount=amount)
    return words.gettext("{amount} ago").format(amount=amount)
