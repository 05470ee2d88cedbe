"""Time zones people name: Indonesia's three zones, its cities, and the world's IANA names."""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import available_timezones

JAKARTA = "Asia/Jakarta"
PONTIANAK = "Asia/Pontianak"
MAKASSAR = "Asia/Makassar"
JAYAPURA = "Asia/Jayapura"

# The Indonesian names of the zones, by IANA zone (CONTRACT §7).
INDONESIAN_ABBREVIATIONS: dict[str, str] = {
    JAKARTA: "WIB",
    PONTIANAK: "WIB",
    MAKASSAR: "WITA",
    JAYAPURA: "WIT",
}


def _words(text: str) -> list[str]:
    return text.split()


# What people type for a zone, keyed by the same normalisation as ``_key``.
_INDONESIAN_NAMES: dict[str, str] = {
    # Western Indonesia (WIB): Java and Sumatra.
    **dict.fromkeys(
        _words(
            "wib waktuindonesiabarat jawa java sumatra sumatera jakarta bandung surabaya"
            " semarang yogyakarta yogya jogja jogjakarta djogjakarta medan palembang bogor"
            " depok tangerang bekasi malang solo surakarta padang pekanbaru batam jambi"
            " bengkulu lampung bandarlampung serang cirebon tasikmalaya aceh bandaaceh"
            " pangkalpinang tanjungpinang kediri madiun purwokerto tegal pekalongan magelang"
            " sukabumi karawang jember banyuwangi sidoarjo gresik cilegon"
        ),
        JAKARTA,
    ),
    # West and Central Kalimantan are WIB too, under their own IANA zone.
    **dict.fromkeys(_words("pontianak singkawang palangkaraya sampit ketapang"), PONTIANAK),
    # Central Indonesia (WITA).
    **dict.fromkeys(
        _words(
            "wita waktuindonesiatengah ujungpandang bali denpasar ubud kuta makassar balikpapan"
            " banjarmasin banjarbaru manado mataram lombok kupang samarinda bontang tarakan palu"
            " kendari"
            " gorontalo mamuju bitung labuanbajo sulawesi ntb ntt bima sumbawa"
        ),
        MAKASSAR,
    ),
    # Eastern Indonesia (WIT).
    **dict.fromkeys(
        _words(
            "wit waktuindonesiatimur papua maluku jayapura ambon sorong merauke ternate"
            " sofifi manokwari timika biak nabire wamena fakfak tual"
        ),
        JAYAPURA,
    ),
    **dict.fromkeys(_words("utc gmt z"), "UTC"),
}

# Zone areas of the IANA database, preferred over older top-level aliases.
_AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
_OFFSET = re.compile(r"(?:utc|gmt)([+-])(\d{1,2})(?::?00)?")


def _key(text: str) -> str:
    """Lower case without spaces, underscores, hyphens, dots or apostrophes."""
    return re.sub(r"[\s_\-.'’]+", "", text.strip().lower())


@cache
def _world_names() -> dict[str, str]:
    """Every way an IANA zone can be named loosely: the full name and, for areas, the city."""
    full: dict[str, str] = {}
    cities: dict[str, list[str]] = {}
    for name in available_timezones():
        area = name.split("/", 1)[0]
        if "/" in name:
            full[_key(name)] = name
            if area in _AREAS:
                cities.setdefault(_key(name.rsplit("/", 1)[1]), []).append(name)
        elif name.isalpha() and name.istitle() and name != "Factory":
            # Old aliases such as "Singapore" or "Japan": a city wins over them.
            cities.setdefault(_key(name), []).append(name)
    names: dict[str, str] = {}
    for city, zones in cities.items():
        zones.sort(key=lambda zone: ("/" not in zone, zone.count("/"), zone))
        names[city] = zones[0]
    names.update(full)
    return names


def zone_from_text(text: str) -> str | None:
    """The IANA zone someone means by a zone, city or zone name they typed, or None."""
    key = _key(text)
    if not key:
        return None
    if key in _INDONESIAN_NAMES:
        return _INDONESIAN_NAMES[key]
    offset = _OFFSET.fullmatch(re.sub(r"\s+", "", text.lower()))
    if offset:
        hours = int(offset.group(2))
        if hours == 0:
            return "UTC"
        # The Etc/ names count the other way round: UTC+7 is Etc/GMT-7.
        sign = "-" if offset.group(1) == "+" else "+"
        name = f"Etc/GMT{sign}{hours}"
        return name if name in available_timezones() else None
    found = _world_names().get(key)
    if found is None and "," in text:
        return zone_from_text(text.split(",", 1)[0])
    return found
