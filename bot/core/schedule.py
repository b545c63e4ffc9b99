"""When each check-in of an infusion is due: offsets, windows, reminders and quiet hours.

All instants are aware UTC datetimes; local times are only used to place quiet hours and
calendar-day offsets on the patient's own clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.checkin import Answers, baseline_value, measure_value
from bot.core.outcomes import points_worse
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


def plan_step(
    step: Step, started_at: datetime, recorded_at: datetime, tz: ZoneInfo, quiet: QuietHours
) -> PlannedCheckIn:
    """Due time, window end and reminder time of one step of an infusion."""
    if step.baseline or step.offset is None:
        nominal = recorded_at
        due_at = recorded_at
    else:
        nominal = step.offset.after(started_at, tz)
        due_at = nominal
    closes_at = step.window.after(nominal, tz)
    if not step.baseline:
        due_at = defer_for_quiet_hours(due_at, closes_at, tz, quiet)
    remind_at = None
    if step.reminder is not None:
        candidate = defer_for_quiet_hours(step.reminder.after(due_at, tz), closes_at, tz, quiet)
        remind_at = candidate if candidate < closes_at else None
    return PlannedCheckIn(step.id, due_at, closes_at, remind_at)


def plan_infusion(
    protocol: Protocol, started_at: datetime, recorded_at: datetime, tz: ZoneInfo
) -> list[PlannedCheckIn]:
    """Every check-in of an infusion whose window is still open when it is recorded."""
    quiet = quiet_hours(protocol)
    planned = [plan_step(s, started_at, recorded_at, tz, quiet) for s in protocol.steps]
    return [p for p in planned if p.closes_at > recorded_at]


def follow_up_over(protocol: Protocol, baseline: Answers, completed: Sequence[Answers]) -> bool:
    """Whether an infusion's follow-up can end early.

    True when the protocol's end measure is back at (or above) baseline on the last
    `end_after_back_at_baseline` completed check-ins and none of them reports a side effect.
    """
    count = protocol.end_after_back_at_baseline
    measure_id = protocol.end_measure
    if not count or measure_id is None or len(completed) < count:
        return False
    measure = protocol.measures[measure_id]
    base = baseline_value(protocol, measure_id, baseline)
    if base is None:
        return False
    for answers in completed[-count:]:
        now = measure_value(protocol, measure_id, answers)
        if now is None or points_worse(base, now, measure.higher_is_worse) < 0:
            return False
        if any(isinstance(v, dict) and v for v in answers.values()):
            return False
    return True
