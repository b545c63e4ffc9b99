"""Durations written in protocol files: "90s", "30m", "4h", "3d", "2w" or combinations "1d 12h"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_PART = re.compile(r"(\d+)\s*([smhdw])")
_WHOLE = re.compile(r"^\s*(\d+\s*[smhdw]\s*)+$")
_SECONDS = {"s": 1, "m": 60, "h": 3600}
_DAYS = {"d": 1, "w": 7}


class DurationError(ValueError):
    """A duration string that cannot be read."""


@dataclass(frozen=True)
class Duration:
    """A span of time: whole calendar days plus exact seconds.

    Days (d, w) move the wall clock in the patient's time zone, so "7d" after 10:00 is
    10:00 a week later even across a daylight-saving change; s, m and h are exact.
    """

    days: int = 0
    seconds: int = 0

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Read "4h", "3d", "1d 12h" and the like; raise DurationError otherwise."""
        if not isinstance(text, str) or not _WHOLE.match(text):
            raise DurationError(
                f"{text!r} is not a duration; write a number and a unit s, m, h, d or w, "
                'for example "30m" or "3d"'
            )
        days = seconds = 0
        for amount, unit in _PART.findall(text):
            if unit in _DAYS:
                days += int(amount) * _DAYS[unit]
            else:
                seconds += int(amount) * _SECONDS[unit]
        return cls(days=days, seconds=seconds)

    def after(self, start: datetime, tz: ZoneInfo) -> datetime:
        """The UTC instant this long after `start` (an aware datetime), days on `tz`'s clock."""
        moved = start
        if self.days:
            local_wall = start.astimezone(tz).replace(tzinfo=None) + timedelta(days=self.days)
            moved = local_wall.replace(tzinfo=tz)
        # Exact seconds are added in UTC: aware arithmetic in a zone would follow the wall clock.
        return moved.astimezone(UTC) + timedelta(seconds=self.seconds)

    @property
    def approx(self) -> timedelta:
        """The nominal length, for ordering and display (a day counted as 24 h)."""
        return timedelta(days=self.days, seconds=self.seconds)

    def __str__(self) -> str:
        parts: list[str] = []
        weeks, days = divmod(self.days, 7)
        hours, rest = divmod(self.seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        for amount, unit in ((weeks, "w"), (days, "d"), (hours, "h"), (minutes, "m")):
            if amount:
                parts.append(f"{amount}{unit}")
        if seconds or not parts:
            parts.append(f"{seconds}s")
        return " ".join(parts)


MAX_BACKOFF_SECONDS = 60


def backoff_seconds(failures_in_a_row: int, cap: int = MAX_BACKOFF_SECONDS) -> int:
    """The wait after the n-th failure in a row: 1, 2, 4 ... seconds, never more than `cap`."""
    return min(2 ** min(max(failures_in_a_row, 1) - 1, cap.bit_length()), cap)
