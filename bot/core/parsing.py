"""Reading what staff type after a command: clinic references, names, start times."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{1,2}:\d{2}$")
_READING = re.compile(r"^([a-z][a-z0-9_]{0,31})=(\d{1,2})$")
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


@dataclass(frozen=True)
class InfusionArgs:
    """A parsed /infusion command."""

    ref: str
    started_at: datetime
    dose: str | None
    readings: dict[str, int] = field(default_factory=dict)  # baseline taken in the clinic


def infusion_args(args: list[str], now: datetime, tz: ZoneInfo) -> InfusionArgs:
    """Parse `<ref> [HH:MM | YYYY-MM-DD HH:MM | now] [dose...] [measure=N ...]`.

    Times are on the clinic's clock; `pain=6` style words are baseline readings taken in
    the clinic, wherever they stand after the reference.
    """
    if not args:
        raise ParseError("the patient's clinic reference is missing")
    ref = clinic_ref(args[0])
    readings = {}
    rest = []
    for word in args[1:]:
        reading = _READING.match(word)
        if reading is None:
            rest.append(word)
        elif reading.group(1) in readings:
            raise ParseError(f"{reading.group(1)} is given twice")
        else:
            readings[reading.group(1)] = int(reading.group(2))
    started_at = now
    if rest and rest[0].lower() == "now":
        rest = rest[1:]
    elif len(rest) >= 2 and _DATE.match(rest[0]) and _TIME.match(rest[1]):
        started_at = _local(rest[0], rest[1], tz)
        rest = rest[2:]
    elif rest and _TIME.match(rest[0]):
        started_at = _local(now.astimezone(tz).date().isoformat(), rest[0], tz)
        rest = rest[1:]
    elif rest and _DATE.match(rest[0]):
        raise ParseError("a date needs a time too: YYYY-MM-DD HH:MM")
    if started_at - now > LATEST_FUTURE_START:
        raise ParseError("the start time is more than 12 hours ahead")
    if now - started_at > EARLIEST_PAST_START:
        raise ParseError("the start time is more than 3 days ago")
    dose = " ".join(rest).strip() or None
    if dose is not None and (len(dose) > MAX_DOSE or not dose.isprintable()):
        raise ParseError(f"the dose must be printable and at most {MAX_DOSE} characters")
    return InfusionArgs(ref, started_at, dose, readings)


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
    end = _local(words[0], words[1] if len(words) == 2 else "09:00", tz)
    if end <= now:
        raise ParseError("the end of the pause must be in the future")
    if end - now > LONGEST_PAUSE:
        raise ParseError("a pause can last a year at most")
    return end


def _local(day: str, clock: str, tz: ZoneInfo) -> datetime:
    try:
        hours, minutes = (int(p) for p in clock.split(":"))
        moment = datetime.combine(datetime.fromisoformat(day).date(), time(hours, minutes))
    except ValueError:
        raise ParseError(f"{day} {clock} is not a valid date and time") from None
    return moment.replace(tzinfo=tz).astimezone(ZoneInfo("UTC"))
