"""When each check-in of an infusion is due: offsets, windows, reminders and quiet hours.

All instants are aware UTC datetimes; local times are only used to place quiet hours and
calendar-day offsets on the patient's own clock.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.protocol import Protocol, Step


@dataclass(frozen=True)
class QuietHours:
    """A nightly span (start may be later than end: 22:00-08:00) when nothing is sent."""

    start: time
    end: time

    def contains(self, moment: datetime, tz: ZoneInfo) -> bool:
        """Whether `moment` falls inside quiet hours on the patient's clock."""
        local = moment.astimezone(tz).time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def end_after(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """The first instant at or after `moment` outside quiet hours (UTC)."""
        if not self.contains(moment, tz):
            return moment
        local = moment.astimezone(tz)
        day = local.date()
        if local.time() >= self.end and self.start > self.end:
            day += timedelta(days=1)
        # Wall-clock construction keeps the end at 08:00 local across daylight-saving changes.
        return datetime.combine(day, self.end, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class PlannedCheckIn:
    """One check-in to write to the database when an infusion is recorded."""

    step_id: str
    due_at: datetime
    closes_at: datetime
    remind_at: datetime | None


def quiet_hours(protocol: Protocol) -> QuietHours:
    """The protocol's quiet hours."""
    return QuietHours(protocol.quiet_start, protocol.quiet_end)


def defer_for_quiet_hours(
    due_at: datetime, closes_at: datetime, tz: ZoneInfo, quiet: QuietHours
) -> datetime:
    """Move a send time out of quiet hours, unless the window would close first."""
    morning = quiet.end_after(due_at, tz)
    return morning if morning < closes_at else due_at


def reminder_time(
    wanted: datetime, closes_at: datetime, tz: ZoneInfo, quiet: QuietHours
) -> datetime | None:
    """When a reminder may go: never in quiet hours; None when the morning is too late."""
    morning = quiet.end_after(wanted, tz)
    return morning if morning < closes_at else None


def plan_step(step: Step, started_at: datetime, tz: ZoneInfo, quiet: QuietHours) -> PlannedCheckIn:
    """Due time, window end and reminder time of one step of an infusion (not the baseline)."""
    nominal = step.offset.after(started_at, tz)
    closes_at = step.window.after(nominal, tz)
    due_at = defer_for_quiet_hours(nominal, closes_at, tz, quiet)
    remind_at = plan_reminder(step, due_at, closes_at, tz, quiet)
    return PlannedCheckIn(step.id, due_at, closes_at, remind_at)


# What moves when a patient changes zone: the infusion start is an instant, so due times
# measured in hours from it stay put; what hangs on the patient's clock is re-planned from
# the start, on the new clock: quiet-hour holds (a check-in waiting for the old zone's
# morning), calendar-day offsets and windows ("7d" is the same wall-clock time a week on),
# and reminders: plan_step again for a check-in not yet sent. One already sent keeps its
# due time and window; only its reminder, if still to come, is re-planned (plan_reminder).
def plan_reminder(
    step: Step, due_at: datetime, closes_at: datetime, tz: ZoneInfo, quiet: QuietHours
) -> datetime | None:
    """When a check-in due at `due_at` is reminded on the patient's clock (None: never)."""
    if step.reminder is None:
        return None
    return reminder_time(step.reminder.after(due_at, tz), closes_at, tz, quiet)


def plan_baseline(
    protocol: Protocol, step: Step, started_at: datetime, recorded_at: datetime
) -> PlannedCheckIn | None:
    """The baseline check-in, if it can still be a "before": None when recorded too late.

    It is sent at once (or up to its window before a start booked ahead) and closes
    `baseline_until` after the start: pain reported later is no longer "before".
    """
    closes_at = started_at + protocol.baseline_until.approx
    if recorded_at >= closes_at:
        return None
    due_at = max(recorded_at, started_at - step.window.approx)
    return PlannedCheckIn(step.id, due_at, closes_at, None)


def plan_infusion(
    protocol: Protocol, started_at: datetime, recorded_at: datetime, tz: ZoneInfo
) -> list[PlannedCheckIn]:
    """Every check-in of an infusion whose window is still open when it is recorded."""
    quiet = quiet_hours(protocol)
    planned: list[PlannedCheckIn | None] = [
        plan_baseline(protocol, s, started_at, recorded_at)
        if s.baseline
        else plan_step(s, started_at, tz, quiet)
        for s in protocol.steps
    ]
    return [p for p in planned if p is not None and p.closes_at > recorded_at]


# -- local times typed by staff --------------------------------------------------------


class MissingTime(ValueError):
    """A wall-clock time the zone skips: the clocks go forward over it."""


@dataclass(frozen=True)
class WallClockInstant:
    """The instant a typed local time names; `repeated` when that time came twice (the
    clocks went back) and `at` is the first of the two."""

    at: datetime
    repeated: bool


def wall_clock_instant(wall: datetime, tz: ZoneInfo) -> WallClockInstant:
    """The UTC instant a naive local date and time names on `tz`'s clock.

    Raises MissingTime in the hour skipped in spring; in the hour repeated in autumn it
    takes the first (summer-time) reading and says so.
    """
    first = wall.replace(tzinfo=tz, fold=0)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        raise MissingTime(f"{wall:%Y-%m-%d %H:%M} does not exist in {tz.key}")
    second = wall.replace(tzinfo=tz, fold=1)
    return WallClockInstant(first.astimezone(UTC), first.utcoffset() != second.utcoffset())


@dataclass(frozen=True)
class OfficeHours:
    """When the clinic's team works: some weekdays, from start to end, on the clinic's clock."""

    days: frozenset[int]  # 0 = Monday
    start: time
    end: time

    def is_open(self, moment: datetime, tz: ZoneInfo) -> bool:
        """Whether the team is at work at `moment` (start = end: all day on its days)."""
        local = moment.astimezone(tz)
        if local.weekday() not in self.days:
            return False
        return self.start == self.end or self.start <= local.time() < self.end

    def next_opening(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """The next time the team is at work, at or after `moment` (UTC)."""
        if self.is_open(moment, tz):
            return moment
        local = moment.astimezone(tz)
        opens_at = time(0) if self.start == self.end else self.start  # all day: from midnight
        for ahead in range(8):
            day = local.date() + timedelta(days=ahead)
            opening = datetime.combine(day, opens_at, tzinfo=tz)
            if day.weekday() in self.days and opening >= local:
                return opening.astimezone(UTC)
        return moment


def office_hours(protocol: Protocol) -> OfficeHours:
    """The protocol's office hours."""
    return OfficeHours(protocol.office_days, protocol.office_start, protocol.office_end)


def safety_part(protocol: Protocol, step: Step) -> Step:
    """The step as asked once relief has worn off: only the protocol's safety questions.

    Follow-up never ends early: after relief wears off the remaining check-ins still ask
    the safety screener, side effects and urine/liver questions up to the last step.
    """
    kept = tuple(q for q in step.questions if q in protocol.safety_part)
    return dataclasses.replace(step, questions=kept)


def steps_with_safety_part(protocol: Protocol) -> set[str]:
    """Steps that keep at least one question once relief has worn off (the rest are dropped)."""
    return {s.id for s in protocol.steps if safety_part(protocol, s).questions}


def quiet_share(start: datetime, end: datetime, tz: ZoneInfo, quiet: QuietHours) -> float:
    """The share (0 to 1) of the span from `start` to `end` that lies in quiet hours."""
    total = (end - start).total_seconds()
    if total <= 0 or quiet.start == quiet.end:
        return 0.0
    inside = 0.0
    day = start.astimezone(tz).date() - timedelta(days=1)
    while datetime.combine(day, quiet.start, tzinfo=tz) < end:
        night_end_day = day + timedelta(days=1) if quiet.start > quiet.end else day
        night_start = datetime.combine(day, quiet.start, tzinfo=tz).astimezone(UTC)
        night_end = datetime.combine(night_end_day, quiet.end, tzinfo=tz).astimezone(UTC)
        overlap = (min(end, night_end) - max(start, night_start)).total_seconds()
        inside += max(0.0, overlap)
        day += timedelta(days=1)
    return inside / total
