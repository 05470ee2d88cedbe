"""Reading the dates, times and durations people type, in Indonesian or English.

Everything here is pure: "now" and the zone come in as arguments. Anything that cannot be read
without guessing gives ``None``; see docs/dates.md for the phrasings and the choices made.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from events.zones import JAKARTA, JAYAPURA, MAKASSAR, zone_from_text

__all__ = ["parse_duration", "parse_when", "zone_from_text"]

MAX_DURATION = timedelta(hours=24)


class _Unreadable(Exception):
    """The text cannot be read without guessing."""


# ---------------------------------------------------------------------------------------------
# Words

_WEEKDAYS: dict[str, int] = {
    "senin": 0,
    "selasa": 1,
    "rabu": 2,
    "kamis": 3,
    "jumat": 4,
    "jumaat": 4,
    "sabtu": 5,
    "minggu": 6,
    "ahad": 6,
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}

_MONTHS: dict[str, int] = {
    **dict.fromkeys(("januari", "january", "jan"), 1),
    **dict.fromkeys(("februari", "pebruari", "february", "feb", "peb"), 2),
    **dict.fromkeys(("maret", "march", "mar"), 3),
    **dict.fromkeys(("april", "apr"), 4),
    **dict.fromkeys(("mei", "may"), 5),
    **dict.fromkeys(("juni", "june", "jun"), 6),
    **dict.fromkeys(("juli", "july", "jul"), 7),
    **dict.fromkeys(("agustus", "august", "agu", "agt", "ags", "aug"), 8),
    **dict.fromkeys(("september", "sep", "sept"), 9),
    **dict.fromkeys(("oktober", "october", "okt", "oct"), 10),
    **dict.fromkeys(("november", "nopember", "nov", "nop"), 11),
    **dict.fromkeys(("desember", "december", "des", "dec"), 12),
}

_RELATIVE_DAYS: dict[str, int] = {
    "today": 0,
    "besok": 1,
    "besuk": 1,
    "bsk": 1,
    "tomorrow": 1,
    "tomorow": 1,
    "tommorow": 1,
    "tmrw": 1,
    "tmr": 1,
    "lusa": 2,
}

# A part of the day: how a 12-hour hour reads in it (24 is the midnight that ends the day),
# and which 24-hour hours belong to it.
_PARTS: dict[str, tuple[dict[int, int], range]] = {
    "dini": ({12: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5}, range(0, 6)),
    "subuh": ({3: 3, 4: 4, 5: 5, 6: 6}, range(3, 7)),
    "pagi": ({h: h for h in range(1, 12)}, range(0, 12)),
    "siang": ({10: 10, 11: 11, 12: 12, 1: 13, 2: 14, 3: 15}, range(10, 16)),
    "afternoon": ({12: 12, **{h: h + 12 for h in range(1, 7)}}, range(12, 19)),
    "sore": ({h: h + 12 for h in range(2, 8)}, range(14, 20)),
    "petang": ({h: h + 12 for h in range(3, 8)}, range(15, 20)),
    "evening": ({h: h + 12 for h in range(4, 12)}, range(16, 24)),
    "malam": ({**{h: h + 12 for h in range(6, 12)}, 12: 24}, range(18, 24)),
}
_PART_WORDS: dict[str, str] = {
    "pagi": "pagi",
    "morning": "pagi",
    "subuh": "subuh",
    "siang": "siang",
    "afternoon": "afternoon",
    "sore": "sore",
    "petang": "petang",
    "evening": "evening",
    "malam": "malam",
    "mlm": "malam",
    "night": "malam",
}

_ZONE_WORDS: dict[str, str] = {"wib": JAKARTA, "wita": MAKASSAR, "wit": JAYAPURA}
_ZONE_WORDS.update(dict.fromkeys(("utc", "gmt"), "UTC"))
_TIME_PREFIXES = frozenset(("jam", "jm", "pukul", "pkl", "pk", "at"))
_DATE_PREFIXES = frozenset(("tgl", "tanggal", "tg"))
_FILLERS = frozenset(("pada", "on", "the", "of", "hari", "nanti", "ntar", "mulai", "tepat"))

_ID_DIGITS = {
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
}
_EN_NUMBERS = {
    word: value
    for value, word in enumerate(
        (
            *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
            *("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"),
            *("seventeen", "eighteen", "nineteen"),
        )
    )
}
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}


def _number_at(words: list[str], i: int) -> tuple[int, int] | None:
    """A number written in words starting at ``words[i]``: (value, index after it)."""
    word = words[i]
    after = words[i + 1] if i + 1 < len(words) else ""
    if word == "sepuluh":
        return 10, i + 1
    if word == "sebelas":
        return 11, i + 1
    if word in _ID_DIGITS:
        value = _ID_DIGITS[word]
        if after == "belas":
            return 10 + value, i + 2
        if after == "puluh":
            if i + 2 < len(words) and words[i + 2] in _ID_DIGITS:
                return 10 * value + _ID_DIGITS[words[i + 2]], i + 3
            return 10 * value, i + 2
        return value, i + 1
    if word in _EN_TENS:
        if after in _EN_NUMBERS and 0 < _EN_NUMBERS[after] < 10:
            return _EN_TENS[word] + _EN_NUMBERS[after], i + 2
        return _EN_TENS[word], i + 1
    if word in _EN_NUMBERS:
        return _EN_NUMBERS[word], i + 1
    return None


def _clean(text: str) -> str:
    """Lower case, compatible characters, ½ as a decimal, no apostrophes, single spaces."""
    text = re.sub(r"(\d)\s*½", r"\1.5", text).replace("½", " 0.5 ")
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"['’`´]", "", text)
    text = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text)
    return re.sub(r"\s+", " ", text).strip()


# ---------------------------------------------------------------------------------------------
# Durations

_DURATION_UNITS: dict[str, tuple[int, int]] = {
    # word: (rank, minutes)
    **dict.fromkeys(("hari", "d", "day", "days"), (2, 1440)),
    **dict.fromkeys(("jam", "j", "jm", "h", "hr", "hrs", "hour", "hours"), (1, 60)),
    **dict.fromkeys(("menit", "mnt", "m", "min", "mins", "minute", "minutes"), (0, 1)),
}
_DURATION_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+")
_MAX_MINUTES = int(MAX_DURATION.total_seconds()) // 60


def _duration_words(text: str) -> list[str]:
    """The words and numbers of a duration, number words turned into digits ([] if unreadable)."""
    text = re.sub(r"(\d),(\d)", r"\1.\2", _clean(text))
    raw = _DURATION_TOKEN.findall(text)
    if "".join(raw) != text.replace(" ", ""):
        return []
    words: list[str] = []
    i = 0
    while i < len(raw):
        number = _number_at(raw, i)
        if number is not None:
            words.append(str(number[0]))
            i = number[1]
            continue
        if raw[i].startswith("se") and raw[i][2:] in ("jam", "hari", "menit"):
            words += ["1", raw[i][2:]]  # sejam, sehari
        elif raw[i] not in ("dan", "and"):
            words.append(raw[i])
        i += 1
    return words


def _half_after(words: list[str], i: int) -> int:
    """How many words say "and a half" at ``words[i]`` (0 if they don't)."""
    if words[i : i + 1] == ["setengah"]:
        return 1
    if words[i : i + 2] == ["a", "half"]:
        return 2
    return 0


def _amount_at(words: list[str], i: int) -> tuple[float, int] | None:
    """The amount before a unit: "2", "1.5", "satu setengah", "an", "half an"."""
    word = words[i]
    if re.fullmatch(r"\d+(?:\.\d|\.25|\.75)?", word):
        amount, i = float(word), i + 1
        half = _half_after(words, i)
        return amount + (0.5 if half else 0), i + half
    if word in ("a", "an"):
        return 1.0, i + 1
    if word == "setengah":
        return 0.5, i + 1
    if word == "half":
        return 0.5, i + (2 if words[i + 1 : i + 2] in (["a"], ["an"]) else 1)
    return None


def _duration_minutes(text: str, *, allow_days: bool = True) -> int | None:
    """Whole minutes of a written duration, or None."""
    clock = re.fullmatch(r"\s*(\d{1,2}):([0-5]\d)\s*", text)
    if clock:
        minutes = int(clock.group(1)) * 60 + int(clock.group(2))
        return minutes if 0 < minutes <= _MAX_MINUTES else None
    words = _duration_words(text)
    total = 0.0
    rank_before, unit_before = 3, 0
    i = 0
    while i < len(words):
        # "1 jam 30" and "1h30": minutes after hours may go without their unit.
        if i == len(words) - 1 and rank_before == 1 and words[i].isdigit():
            if int(words[i]) >= 60:
                return None
            total += int(words[i])
            break
        amount_at = _amount_at(words, i)
        if amount_at is None or amount_at[1] >= len(words):
            return None
        amount, i = amount_at
        if words[i] not in _DURATION_UNITS:
            return None
        rank, minutes = _DURATION_UNITS[words[i]]
        i += 1
        half = _half_after(words, i)
        amount, i = amount + (0.5 if half else 0), i + half
        if rank >= rank_before or (rank == 2 and not allow_days):
            return None
        if unit_before and amount * minutes >= unit_before:
            return None  # "1 jam 90 menit"
        if amount != int(amount) and i < len(words):
            return None  # a fraction only in the last part
        total += amount * minutes
        rank_before, unit_before = rank, minutes
    whole = round(total)
    if abs(total - whole) > 1e-6 or not 0 < whole <= _MAX_MINUTES:
        return None
    return whole


def parse_duration(text: str) -> timedelta | None:
    """How long something lasts ("90 menit", "1,5 jam", "1h30", "2 hours"); None if unreadable.

    Zero, more than a day, seconds, and anything without a unit give None.
    """
    minutes = _duration_minutes(text)
    return None if minutes is None else timedelta(minutes=minutes)


# ---------------------------------------------------------------------------------------------
# Dates and times


@dataclass(frozen=True)
class _Token:
    kind: str  # "date" (day, month, year), "time" (hour, minute, meridiem), "num", "word"
    values: tuple[int | None, ...] = ()
    word: str = ""
    padded: bool = False  # an hour written with a leading zero ("08.00") is a 24-hour hour


_LEXICON: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:t(?=\d)|(?![\d/-]))")),
    ("dmy", re.compile(r"(\d{1,2})[/-](\d{1,2})(?:[/-](\d{4}|\d{2}))?(?![\d/-])")),
    ("dmy", re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?![\d.])")),
    ("ampm", re.compile(r"(\d{1,2})(?:[:.](\d{2}))? ?([ap])\.?m\b\.?")),
    ("time", re.compile(r"(\d{1,2})[:.](\d{2})(?::\d{2})?(?![\d:]|\.\d)")),
    ("num", re.compile(r"(\d+)(?:st|nd|rd|th)?(?![\d])")),
    ("word", re.compile(r"[a-z]+")),
    ("at", re.compile(r"@")),
    ("skip", re.compile(r"[\s,.;:!?()\-–—]+")),
)


def _match_at(text: str, pos: int) -> tuple[str, re.Match[str]]:
    """The first lexicon entry that matches at ``pos``."""
    for kind, pattern in _LEXICON:
        match = pattern.match(text, pos)
        if match:
            return kind, match
    raise _Unreadable


def _lex(text: str) -> list[_Token]:
    """The tokens of a cleaned text; raises _Unreadable on a character it cannot place."""
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        kind, match = _match_at(text, pos)
        pos = match.end()
        groups = match.groups()
        if kind == "iso":
            year, month, day = (int(g) for g in groups)
            tokens.append(_Token("date", (day, month, year)))
        elif kind == "dmy":
            written = None if groups[2] is None else int(groups[2])
            if written is not None and written < 100:
                written += 2000
            tokens.append(_Token("date", (int(groups[0]), int(groups[1]), written)))
        elif kind == "ampm":
            minute = 0 if groups[1] is None else int(groups[1])
            tokens.append(_Token("time", (int(groups[0]), minute, "ap".index(groups[2]))))
        elif kind == "time":
            padded = len(groups[0]) == 2 and groups[0].startswith("0")
            tokens.append(_Token("time", (int(groups[0]), int(groups[1]), None), padded=padded))
        elif kind == "num":
            padded = len(groups[0]) > 1 and groups[0].startswith("0")
            tokens.append(_Token("num", (int(groups[0]),), word=groups[0], padded=padded))
        elif kind == "word":
            tokens.append(_Token("word", word=match.group()))
        elif kind == "at":
            tokens.append(_Token("word", word="at"))
    return _merge_number_words(tokens)


def _merge_number_words(tokens: list[_Token]) -> list[_Token]:
    """Numbers written as words ("jam tujuh malam") become numbers."""
    words = [token.word if token.kind == "word" else "" for token in tokens]
    merged: list[_Token] = []
    i = 0
    while i < len(tokens):
        number = _number_at(words, i) if words[i] else None
        if number is None:
            merged.append(tokens[i])
            i += 1
        else:
            merged.append(_Token("num", (number[0],), word=str(number[0])))
            i = number[1]
    return merged


@dataclass(frozen=True)
class _Time:
    hour: int
    minute: int
    clock: str  # "12" (could be either half of the day), "24", "am", "pm", "noon", "midnight"


@dataclass
class _Reading:
    """What the words of a text said, before it is placed in time."""

    dates: list[tuple[int, int, int | None]] = field(default_factory=list)
    relative_days: list[int] = field(default_factory=list)
    days_of_month: list[int] = field(default_factory=list)
    weekday: int | None = None
    day_modes: set[str] = field(default_factory=set)  # "this" / "next" (week)
    weeks: set[str] = field(default_factory=set)  # "minggu depan" with no day said
    parts: set[str] = field(default_factory=set)
    times: list[_Time] = field(default_factory=list)
    zones: set[str] = field(default_factory=set)


class _Reader:
    """Walks the tokens once, left to right, collecting what each phrase says."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.said = _Reading()

    def word(self, i: int) -> str:
        if 0 <= i < len(self.tokens) and self.tokens[i].kind == "word":
            return self.tokens[i].word
        return ""

    def read(self) -> _Reading:
        i = 0
        time_prefixed = date_prefixed = False
        while i < len(self.tokens):
            token = self.tokens[i]
            before = i
            if token.kind == "date":
                day, month, year = token.values
                assert day is not None
                assert month is not None
                self.said.dates.append((day, month, year))
                i += 1
            elif token.kind == "time":
                i = self.time_at(i, bare=False)
            elif token.kind == "num":
                i = self.number(i, time_prefixed=time_prefixed, date_prefixed=date_prefixed)
            else:
                i = self.words(i)
            time_prefixed = token.kind == "word" and token.word in _TIME_PREFIXES
            date_prefixed = token.kind == "word" and token.word in _DATE_PREFIXES
            if i == before:
                raise _Unreadable
        return self.said

    def number(self, i: int, *, time_prefixed: bool, date_prefixed: bool) -> int:
        """A number: the day of a date, a day of the month, or an hour."""
        of = 1 if self.word(i + 1) == "of" else 0
        if self.word(i + 1 + of) in _MONTHS:
            return self.date_at(i + 1 + of, i, i + 2 + of)
        if date_prefixed:
            self.said.days_of_month.append(self.number_value(i))
            return i + 1
        return self.time_at(i, bare=not time_prefixed)

    def date_at(self, month_at: int, day_at: int, after: int) -> int:
        """A day and a month ("5 Desember", "Dec 5"), and a year if one follows."""
        day = self.number_value(day_at)
        if not 1 <= day <= 31:
            raise _Unreadable
        year: int | None = None
        following = self.tokens[after] if after < len(self.tokens) else None
        if following is not None and following.kind == "num" and len(following.word) == 4:
            year = self.number_value(after)
            after += 1
        self.said.dates.append((day, _MONTHS[self.word(month_at)], year))
        return after

    def time_at(self, i: int, *, bare: bool) -> int:
        """A time of day starting at token ``i``; returns the index after it."""
        i = self.clock_time_at(i, bare=bare)
        meridiem = self.word(i)
        if meridiem in ("am", "pm") and self.said.times[-1].clock == "12":
            said = self.said.times.pop()
            self.said.times.append(_Time(said.hour, said.minute, meridiem))
            return i + 1
        return i

    def clock_time_at(self, i: int, *, bare: bool) -> int:
        """The time itself: "19.00", "7pm", "jam 7 lewat 15", "setengah 8", "noon"."""
        token = self.tokens[i]
        word = self.word(i)
        after = self.word(i + 1)
        if word in ("noon", "midday") or (word, after) == ("tengah", "hari"):
            self.said.times.append(_Time(12, 0, "noon"))
            return i + (2 if word == "tengah" else 1)
        if word == "midnight" or (word, after) == ("tengah", "malam"):
            self.said.times.append(_Time(0, 0, "midnight"))
            return i + (2 if word == "tengah" else 1)
        if word == "setengah":  # "setengah 8" is half past seven
            hour = self.number_value(i + 1)
            self.said.times.append(_shifted(hour, 30, -1, padded=False))
            return i + 2
        if word in ("half", "quarter"):
            return self.english_quarter_at(i)
        if token.kind == "time":
            clock_hour, clock_minute, meridiem = token.values
            assert clock_hour is not None
            assert clock_minute is not None
            if meridiem is not None:
                self.said.times.append(_Time(clock_hour, clock_minute, "ap"[meridiem] + "m"))
            else:
                self.said.times.append(_plain(clock_hour, clock_minute, padded=token.padded))
            return i + 1
        if token.kind != "num":
            raise _Unreadable
        hour = self.number_value(i)
        i += 1
        extended = True
        link = self.word(i)
        if link in ("lewat", "lebih", "kurang"):
            minute, i = self.minutes_at(i + 1)
            if link == "kurang":
                self.said.times.append(_shifted(hour, 60 - minute, -1, padded=token.padded))
            else:
                self.said.times.append(_plain(hour, minute, padded=token.padded))
        elif link in ("am", "pm", "oclock"):
            self.said.times.append(_plain(hour, 0, padded=token.padded))
            i += 1 if link == "oclock" else 0
        else:
            extended = False
            self.said.times.append(_plain(hour, 0, padded=token.padded))
        if bare and not extended and self.word(i) not in _PART_WORDS:
            raise _Unreadable  # a lone number is not a time
        return i

    def english_quarter_at(self, i: int) -> int:
        """ "half past 7", "quarter past 7", "quarter to 8" (with am/pm if written "7pm")."""
        word, link = self.word(i), self.word(i + 1)
        meridiem = None
        token = self.tokens[i + 2] if i + 2 < len(self.tokens) else None
        if token is not None and token.kind == "time":
            hour, minute, meridiem = token.values
            if minute != 0 or meridiem is None:
                raise _Unreadable
            assert hour is not None
        else:
            hour = self.number_value(i + 2)
        if link == "past":
            said = _plain(hour, 30 if word == "half" else 15, padded=False)
        elif (word, link) == ("quarter", "to"):
            said = _shifted(hour, 45, -1, padded=False)
        else:
            raise _Unreadable
        if meridiem is not None:
            if said.clock != "12":
                raise _Unreadable
            said = _Time(said.hour, said.minute, "ap"[meridiem] + "m")
        self.said.times.append(said)
        return i + 3

    def number_value(self, i: int) -> int:
        """The number at token ``i``."""
        if i >= len(self.tokens) or self.tokens[i].kind != "num":
            raise _Unreadable
        value = self.tokens[i].values[0]
        assert isinstance(value, int)
        return value

    def minutes_at(self, i: int) -> tuple[int, int]:
        """Minutes after "lewat" / "kurang": a number or "seperempat", maybe with "menit"."""
        if self.word(i) == "seperempat":
            return 15, i + 1
        minute = self.number_value(i)
        if not 1 <= minute <= 59:
            raise _Unreadable
        i += 1
        return minute, i + (1 if self.word(i) in ("menit", "min", "minutes") else 0)

    def words(self, i: int) -> int:
        """Words: day names, months, relative days, parts of the day, zones and fillers."""
        word = self.word(i)
        after = self.word(i + 1)
        said = self.said
        if word in _TIME_PREFIXES or word in _DATE_PREFIXES or word in _FILLERS:
            if word == "hari" and after == "ini":
                said.relative_days.append(0)
                return i + 2
            if word == "hari" and after == "minggu":
                return self.weekday_at(i + 1)  # "hari Minggu depan" is a Sunday
            if word in ("nanti", "ntar") and after in _PART_WORDS:
                said.relative_days.append(0)
            return i + 1
        if word in ("minggu", "pekan") and after in ("depan", "ini"):
            said.weeks.add("next" if after == "depan" else "this")
            return i + 2
        if word in ("next", "this") and after == "week":
            said.weeks.add(word)
            return i + 2
        if word in _WEEKDAYS:
            return self.weekday_at(i)
        if word in ("next", "this") and self.word(i + 1) in _WEEKDAYS:
            said.day_modes.add(word)
            return self.weekday_at(i + 1)
        if word == "this" and after in _PART_WORDS:
            said.relative_days.append(0)
            return i + 1
        if word in _MONTHS:
            return self.date_at(i, i + 1, i + 2)
        if word in _RELATIVE_DAYS:
            said.relative_days.append(_RELATIVE_DAYS[word])
            return i + 1
        if (word, after, self.word(i + 2)) == ("day", "after", "tomorrow"):
            said.relative_days.append(2)
            return i + 3
        if word == "tonight":
            said.relative_days.append(0)
            said.parts.add("malam")
            return i + 1
        if word == "dini" and after == "hari":
            said.parts.add("dini")
            return i + 2
        if word in _PART_WORDS:
            said.parts.add(_PART_WORDS[word])
            if after == "ini":
                said.relative_days.append(0)
                return i + 2
            return i + 1
        if word == "in" and after == "the" and self.word(i + 2) in _PART_WORDS:
            return i + 2
        if word in _ZONE_WORDS:
            said.zones.add(_ZONE_WORDS[word])
            return i + 1
        if word in ("noon", "midday", "midnight", "tengah", "setengah", "half", "quarter"):
            return self.time_at(i, bare=False)
        raise _Unreadable

    def weekday_at(self, i: int) -> int:
        """A day name and what may follow it: "depan", "ini", "minggu depan", "next week"."""
        weekday = _WEEKDAYS[self.word(i)]
        if self.said.weekday not in (None, weekday):
            raise _Unreadable
        self.said.weekday = weekday
        i += 1
        after = self.word(i)
        if after in ("depan", "ini"):
            self.said.day_modes.add("next" if after == "depan" else "this")
            return i + 1
        if after in ("minggu", "pekan", "next", "this") and self.word(i + 1) in (
            "depan",
            "ini",
            "week",
        ):
            following = self.word(i + 1)
            if (after in ("next", "this")) != (following == "week"):
                raise _Unreadable
            self.said.day_modes.add("next" if following == "depan" or after == "next" else "this")
            return i + 2
        return i


def _plain(hour: int, minute: int, *, padded: bool) -> _Time:
    """A time as written: 1–12 could be either half of the day unless written "08.00"."""
    if not 0 <= hour <= 23 or not 0 <= minute <= 59:
        raise _Unreadable
    if 1 <= hour <= 12 and not padded:
        return _Time(hour, minute, "12")
    return _Time(hour, minute, "24")


def _shifted(hour: int, minute: int, by: int, *, padded: bool) -> _Time:
    """The hour ``by`` hours from ``hour`` (on a 12-hour clock when ``hour`` is 1–12)."""
    if 1 <= hour <= 12 and not padded:
        return _Time((hour - 1 + by) % 12 + 1, minute, "12")
    if not 1 <= hour <= 24:
        raise _Unreadable
    return _plain(hour + by, minute, padded=True)


def _candidates(said: _Time, part: str | None) -> list[tuple[int, int, int]]:
    """The (days later, hour, minute) a time may mean, earliest first."""
    hours, belongs = _PARTS[part] if part else ({}, range(24))
    if said.clock == "noon":
        if part not in (None, "siang", "afternoon"):
            raise _Unreadable
        return [(0, 12, 0)]
    if said.clock == "midnight":
        if part not in (None, "malam"):
            raise _Unreadable
        return [(1, 0, 0)]
    if said.clock in ("am", "pm"):
        if not 1 <= said.hour <= 12:
            raise _Unreadable
        hour = said.hour % 12 + (12 if said.clock == "pm" else 0)
    elif said.clock == "24":
        hour = said.hour
    elif part:
        if said.hour not in hours:
            raise _Unreadable
        hour = hours[said.hour]
        if hour == 24:
            return [(1, 0, said.minute)]
        return [(0, hour, said.minute)]
    elif said.hour == 12:
        return [(0, 12, said.minute)]
    else:
        return [(0, said.hour, said.minute), (0, said.hour + 12, said.minute)]
    if hour not in belongs:
        raise _Unreadable
    return [(0, hour, said.minute)]


def _date_of(day: int, month: int, year: int | None, today: date) -> date:
    """The date written; without a year, the next such date from ``today`` on."""
    try:
        if year is not None:
            return date(year, month, day)
        for later in range(9):
            try:
                found = date(today.year + later, month, day)
            except ValueError:
                continue
            if found >= today:
                return found
    except ValueError:
        pass
    raise _Unreadable


def _next_day_of_month(day: int, today: date) -> date:
    """The next date from ``today`` on that falls on this day of the month."""
    for later in range(13):
        month = (today.month - 1 + later) % 12 + 1
        year = today.year + (today.month - 1 + later) // 12
        try:
            found = date(year, month, day)
        except ValueError:
            continue
        if found >= today:
            return found
    raise _Unreadable


def _on_the_clock(wall: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in ``zone``; one skipped by summer time moves on with the clock."""
    return datetime.fromtimestamp(wall.replace(tzinfo=zone).timestamp(), zone)


def _place(said: _Reading, now: datetime, default_zone: ZoneInfo) -> datetime:
    """Turn what was said into the one instant it means."""
    if len(said.times) != 1 or len(said.parts) > 1 or len(said.zones) > 1:
        raise _Unreadable
    zone = ZoneInfo(said.zones.pop()) if said.zones else default_zone
    today = now.astimezone(zone).date()
    candidates = _candidates(said.times[0], next(iter(said.parts), None))

    fixed = {_date_of(d, m, y, today) for d, m, y in said.dates}
    fixed |= {today + timedelta(days=n) for n in said.relative_days}
    fixed |= {_next_day_of_month(d, today) for d in said.days_of_month}
    modes = said.day_modes | said.weeks
    if len(modes) > 1 or (said.weeks and said.weekday is None):
        raise _Unreadable  # "minggu depan" alone: next week, or next Sunday?
    if said.weekday is not None and modes:
        monday = today - timedelta(days=today.weekday())
        weeks_on = 7 if "next" in modes else 0
        fixed.add(monday + timedelta(days=weeks_on + said.weekday))
    if len(fixed) > 1:
        raise _Unreadable  # the text contradicts itself
    if fixed:
        day = fixed.pop()
        if said.weekday is not None and day.weekday() != said.weekday:
            raise _Unreadable
        days = [day]
    elif said.weekday is not None:
        first = today + timedelta(days=(said.weekday - today.weekday()) % 7)
        days = [first, first + timedelta(days=7)]
    else:
        days = [today, today + timedelta(days=1)]
    named_day = said.dates or said.days_of_month or said.weekday is not None
    if any(later for later, _, _ in candidates) and (named_day or any(said.relative_days)):
        raise _Unreadable  # "Jumat jam 12 malam": the night before Friday, or after?

    instants = [
        _on_the_clock(datetime.combine(day + timedelta(days=later), time(hour, minute)), zone)
        for day in days
        for later, hour, minute in candidates
    ]
    for instant in instants:
        if instant > now:
            return instant
    return instants[-1]  # a day that was named, already past


_RELATIVE = (
    re.compile(r"(?:dalam|in|within)(?: waktu)? (?P<amount>.+)"),
    re.compile(r"(?P<amount>.+?) (?:lagi|dari sekarang|from now|later)"),
)


def _relative(text: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    """ "2 jam lagi", "dalam 30 menit", "in 90 minutes": from now, to the minute."""
    for pattern in _RELATIVE:
        match = pattern.fullmatch(text)
        if match:
            minutes = _duration_minutes(match.group("amount"), allow_days=False)
            if minutes is not None:
                later = now.astimezone(zone) + timedelta(minutes=minutes)
                return later.replace(second=0, microsecond=0)
    return None


def parse_when(text: str, *, now: datetime, tz: str | ZoneInfo) -> datetime | None:
    """The aware datetime someone meant by ``text``, or None when it cannot be read for sure.

    The result is in the zone the text names (WIB, WITA, WIT), else in ``tz``. ``now`` is aware.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    cleaned = _clean(text)
    if not cleaned or len(cleaned) > 200:
        return None
    relative = _relative(cleaned, now, zone)
    if relative is not None:
        return relative
    try:
        return _place(_Reader(_lex(cleaned)).read(), now, zone)
    except _Unreadable:
        return None
