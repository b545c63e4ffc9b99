"""Finding a patient's time zone: the clinic's neighbours, a typed IANA name or a city.

Pure: no Telegram, no database. Names come from `zoneinfo.available_timezones()`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

# Areas whose zones are named after a place; "US/Eastern", "Etc/GMT+5" and the like can
# still be typed in full, but are not matched as cities.
PLACE_AREAS = frozenset(
    {
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
    }
)
NOT_ZONES = frozenset({"Factory", "localtime"})
# Well-known zones of each area, west to east: /timezone offers the clinic's zone first,
# then these. An area not listed (UTC, for one) gets the world list.
COMMON_ZONES: dict[str, tuple[str, ...]] = {
    "Europe": (
        "Europe/London",
        "Europe/Dublin",
        "Europe/Lisbon",
        "Europe/Madrid",
        "Europe/Paris",
        "Europe/Berlin",
        "Europe/Athens",
    ),
    "America": (
        "America/Los_Angeles",
        "America/Denver",
        "America/Chicago",
        "America/New_York",
        "America/Mexico_City",
        "America/Bogota",
        "America/Sao_Paulo",
    ),
    "Asia": (
        "Asia/Dubai",
        "Asia/Kolkata",
        "Asia/Bangkok",
        "Asia/Singapore",
        "Asia/Shanghai",
        "Asia/Tokyo",
    ),
    "Australia": (
        "Australia/Perth",
        "Australia/Adelaide",
        "Australia/Brisbane",
        "Australia/Sydney",
        "Pacific/Auckland",
    ),
    "Africa": (
        "Africa/Casablanca",
        "Africa/Lagos",
        "Africa/Cairo",
        "Africa/Johannesburg",
        "Africa/Nairobi",
    ),
}
WORLD_ZONES = (
    "Europe/London",
    "Europe/Paris",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
)
MOST_OFFERED = 8
MOST_LISTED = 8
SHORTEST_PREFIX = 3
# Two names for one place (America/Buenos_Aires, America/Argentina/Buenos_Aires) are the
# same zone when their clocks agree at these instants: midwinter and midsummer, 2000-2037.
_PROBES = tuple(
    datetime(year, month, 1, tzinfo=UTC) for year in range(2000, 2038) for month in (1, 7)
)


@dataclass(frozen=True)
class ZoneNotFound(ValueError):
    """What was typed names no zone, or several: `candidates` lists them (maybe none)."""

    typed: str
    candidates: tuple[str, ...] = ()


def place(zone: str) -> str:
    """The place a zone is named after, as people write it: "America/Sao_Paulo" -> "Sao Paulo"."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def nearby_zones(clinic: ZoneInfo) -> tuple[str, ...]:
    """The zones /timezone offers: the clinic's own first, then well-known ones of its area."""
    common = COMMON_ZONES.get(clinic.key.split("/", 1)[0], WORLD_ZONES)
    others = [zone for zone in common if zone != clinic.key]
    return (clinic.key, *others)[:MOST_OFFERED]


def find_zone(typed: str) -> ZoneInfo:
    """The zone a patient or coordinator means: an IANA name or a place, typed loosely.

    Case, spaces, underscores, hyphens and accents do not matter ("sao paulo" is
    America/Sao_Paulo). A place may be shortened when only one zone starts so. Raises
    ZoneNotFound when nothing matches or several different zones do.
    """
    key = _simplified(typed)
    if not key:
        raise ZoneNotFound(typed)
    by_name = _zones_by_name()
    if typed.strip().lower() in by_name:
        return ZoneInfo(by_name[typed.strip().lower()])
    by_place = _zones_by_place()
    places = [key] if key in by_place else _places_starting(key, by_place)
    found = [zone for name in places for zone in _distinct_clocks(by_place[name])]
    if len(found) != 1:
        raise ZoneNotFound(typed, tuple(found[:MOST_LISTED]))
    return ZoneInfo(found[0])


def _places_starting(key: str, by_place: dict[str, list[str]]) -> list[str]:
    if len(key) < SHORTEST_PREFIX:
        return []
    return sorted(name for name in by_place if name.startswith(key))


def _simplified(text: str) -> str:
    """Lower case, without accents or anything but letters and digits."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


@cache
def _zones_by_name() -> dict[str, str]:
    return {zone.lower(): zone for zone in available_timezones() if zone not in NOT_ZONES}


@cache
def _zones_by_place() -> dict[str, list[str]]:
    places: dict[str, list[str]] = {}
    for zone in sorted(available_timezones()):
        if zone.split("/", 1)[0] in PLACE_AREAS:
            places.setdefault(_simplified(place(zone)), []).append(zone)
    return places


def _distinct_clocks(zones: list[str]) -> list[str]:
    """One place's zones, keeping only the first of names whose clocks always agree."""
    kept: dict[tuple, str] = {}
    for zone in zones:
        info = ZoneInfo(zone)
        kept.setdefault(tuple(probe.astimezone(info).utcoffset() for probe in _PROBES), zone)
    return list(kept.values())
