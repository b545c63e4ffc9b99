"""Reading what staff type after a command: clinic references, names, start times, options."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core import zones
from bot.core.schedule import MissingTime, WallClockInstant, wall_clock_instant

_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{1,2}:\d{2}$")
_MEASURE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_WHOLE_NUMBER = re.compile(r"^\d{1,6}$")
_OPTION = re.compile(r"^([^=]*)=(.*)$")
MAX_NAME = 64
MAX_DOSE = 64
LATEST_FUTURE_START = timedelta(hours=12)
EARLIEST_PAST_START = timedelta(days=3)


class ParseError(ValueError):
    """What the staff member typed cannot be used; the message says why."""


def clinic_ref(text: str) -> str:
    """A clinic reference: letters, digits, . _ -, up to 32, starting with a letter or digit."""
    if not _REF.match(text):
        raise ParseError(
            f"{text[:40]!r} is not a clinic reference (letters, digits, . _ -, up to 32)"
        )
    return text


def display_name(words: list[str]) -> str | None:
    """An optional display name made of the remaining words."""
    name = " ".join(words).strip()
    if not name:
        return None
    if len(name) > MAX_NAME or not name.isprintable():
        raise ParseError(f"the display name must be printable and at most {MAX_NAME} characters")
    return name


def time_zone(text: str) -> ZoneInfo:
    """A time zone: an IANA name (Europe/Madrid) or a place (Madrid, New_York)."""
    try:
        return zones.find_zone(text)
    except zones.ZoneNotFound as exc:
        several = f"; it could be {', '.join(exc.candidates)}" if exc.candidates else ""
        raise ParseError(
            f"{text[:40]!r} is not one time zone I know{several}. Write an IANA name such as"
            " Europe/Madrid or America/New_York"
        ) from None


def options(
    words: list[str],
    readers: dict[str, Callable[[str], Any]],
    any_other: Callable[[str, str], Any] | None = None,
) -> tuple[list[str], dict[str, Any]]:
    """Split `key=value` options (keys in any case) from the other words.

    Each key is read by its reader, or, when `any_other` is given, any other key by
    `any_other(key, value)`; otherwise an unknown key is refused. A word holding `=` is
    always an option, so a mistyped one is refused instead of passing for a name or a dose.
    """
    found: dict[str, Any] = {}
    rest = []
    for word in words:
        option = _OPTION.match(word)
        if option is None:
            rest.append(word)
            continue
        key, value = option.group(1).lower(), option.group(2)
        if key in found:
            raise ParseError(f"{key}= is given twice")
        if key in readers:
            found[key] = readers[key](value)
        elif any_other is not None:
            found[key] = any_other(key, value)
        else:
            known = ", ".join(f"{k}=" for k in readers)
            raise ParseError(f"{key[:20]}= is not an option here (options: {known})")
    return rest, found


def reading(measure: str, value: str) -> int:
    """A reading typed as `measure=N`: N a whole number (the service checks name and range)."""
    if not _MEASURE.match(measure):
        raise ParseError(f"{measure[:20]!r} is not a measure name (such as pain=6)")
    if not _WHOLE_NUMBER.match(value):
        raise ParseError(f"{measure}= needs a whole number, such as {measure}=6")
    return int(value)


def language(code: str, languages: tuple[str, ...]) -> str:
    """One of the protocol's language codes."""
    if code not in languages:
        raise ParseError(
            f"{code[:20]!r} is not a language of the protocol ({', '.join(languages)})"
        )
    return code


# One line per /enroll option: its key, and what reads its value (a ParseError says why not).
ENROLL_OPTIONS: dict[str, Callable[[str], Any]] = {
    "tz": time_zone,
    "lang": str.lower,  # checked against the protocol's languages by the handler
}


@dataclass(frozen=True)
class EnrollArgs:
    """A parsed /enroll or /reinvite command: the options are named as typed."""

    ref: str
    name: str | None
    tz: ZoneInfo | None = None
    lang: str | None = None


def enroll_args(args: list[str]) -> EnrollArgs | None:
    """Parse `<ref> [display name] [tz=Europe/Madrid] [lang=es]`; None without a reference."""
    words, found = options(args, ENROLL_OPTIONS)
    if not words:
        return None
    return EnrollArgs(clinic_ref(words[0]), display_name(words[1:]), **found)


@dataclass(frozen=True)
class InfusionArgs:
    """A parsed /infusion command."""

    ref: str
    started_at: datetime
    dose: str | None
    readings: dict[str, int] = field(default_factory=dict)  # baseline taken in the clinic
    # The typed start came twice (the clocks went back): the first was taken.
    start_repeated: bool = False


def infusion_args(args: list[str], now: datetime, tz: ZoneInfo) -> InfusionArgs:
    """Parse `<ref> [HH:MM | YYYY-MM-DD HH:MM | now] [dose...] [measure=N ...]`.

    Times are on the clinic's clock; `pain=6` style words are baseline readings taken in
    the clinic, wherever they stand after the reference.
    """
    if not args:
        raise ParseError("the patient's clinic reference is missing")
    ref = clinic_ref(args[0])
    rest, readings = options(args[1:], {}, any_other=reading)
    start, rest = _typed_start(rest, now, tz)
    dose = " ".join(rest).strip() or None
    if dose is not None and (len(dose) > MAX_DOSE or not dose.isprintable()):
        raise ParseError(f"the dose must be printable and at most {MAX_DOSE} characters")
    started_at = start.at if start else now
    return InfusionArgs(ref, started_at, dose, readings, bool(start and start.repeated))


def _typed_start(
    words: list[str], now: datetime, tz: ZoneInfo
) -> tuple[WallClockInstant | None, list[str]]:
    """An infusion's start typed at the head of `words` (None: now), and the words after it."""
    start, rest = None, words
    if words and words[0].lower() == "now":
        rest = words[1:]
    elif len(words) >= 2 and _DATE.match(words[0]) and _TIME.match(words[1]):
        start, rest = _local(words[0], words[1], tz), words[2:]
    elif words and _TIME.match(words[0]):
        start, rest = _local(now.astimezone(tz).date().isoformat(), words[0], tz), words[1:]
    elif words and _DATE.match(words[0]):
        raise ParseError("a date needs a time too: YYYY-MM-DD HH:MM")
    started_at = start.at if start else now
    if started_at - now > LATEST_FUTURE_START:
        raise ParseError("the start time is more than 12 hours ahead")
    if now - started_at > EARLIEST_PAST_START:
        raise ParseError("the start time is more than 3 days ago")
    return start, rest


def new_start(words: list[str], now: datetime, tz: ZoneInfo) -> datetime:
    """The corrected start of an infusion: `HH:MM`, `YYYY-MM-DD HH:MM` or `now`, nothing more."""
    if not words:
        raise ParseError("the new start time is missing")
    start, rest = _typed_start(words, now, tz)
    if rest:
        raise ParseError(
            f"{' '.join(words)[:40]!r} is not a start time (HH:MM or YYYY-MM-DD HH:MM)"
        )
    return start.at if start else now


LONGEST_PAUSE = timedelta(days=366)


def pause_end(words: list[str], now: datetime, tz: ZoneInfo) -> datetime | None:
    """An optional end of a pause: `YYYY-MM-DD [HH:MM]` on the clinic's clock (default 09:00)."""
    if not words:
        return None
    if (
        len(words) > 2
        or not _DATE.match(words[0])
        or (len(words) == 2 and not _TIME.match(words[1]))
    ):
        raise ParseError("the end of the pause must be a date, YYYY-MM-DD, and maybe a time, HH:MM")
    end = _local(words[0], words[1] if len(words) == 2 else "09:00", tz).at
    if end <= now:
        raise ParseError("the end of the pause must be in the future")
    if end - now > LONGEST_PAUSE:
        raise ParseError("a pause can last a year at most")
    return end


def _local(day: str, clock: str, tz: ZoneInfo) -> WallClockInstant:
    """A typed date and time on `tz`'s clock; one the clocks skip is refused, saying so."""
    try:
        hours, minutes = (int(p) for p in clock.split(":"))
        moment = datetime.combine(datetime.fromisoformat(day).date(), time(hours, minutes))
    except ValueError:
        raise ParseError(f"{day} {clock} is not a valid date and time") from None
    try:
        return wall_clock_instant(moment, tz)
    except MissingTime:
        raise ParseError(
            f"{day} {clock} does not exist in {tz.key}: the clocks went forward an hour that"
            " night. Please check the time and give it as the clock showed it"
        ) from None


# Records (patients, check-ins, alerts ...) are numbered by the database's 32-bit integer keys
# (PostgreSQL's `integer`); a larger number names nothing, and must not reach a query.
LARGEST_RECORD_NUMBER = 2**31 - 1


def record_number(text: str) -> int | None:
    """A record's number as typed or carried on a button, or None when it cannot be one."""
    if not text.isdigit() or len(text) > len(str(LARGEST_RECORD_NUMBER)):
        return None
    number = int(text)
    return number if number <= LARGEST_RECORD_NUMBER else None
