"""Due times, windows, reminders and quiet hours, on the patient's clock, across DST."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.durations import Duration, DurationError
from bot.core.protocol import Step, load_protocol
from bot.core.schedule import (
    OfficeHours,
    QuietHours,
    defer_for_quiet_hours,
    plan_baseline,
    plan_infusion,
    plan_step,
    quiet_share,
    safety_part,
    steps_with_safety_part,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
NIGHT = QuietHours(time(22), time(8))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def step(offset: str | None, window: str, reminder: str | None = None, **kw) -> Step:
    return Step(
        id="s",
        title="S",
        questions=("q",),
        window=Duration.parse(window),
        offset=Duration.parse(offset) if offset else None,
        reminder=Duration.parse(reminder) if reminder else None,
        **kw,
    )


@pytest.mark.parametrize(
    ("text", "days", "seconds"),
    [
        ("30s", 0, 30),
        ("5m", 0, 300),
        ("4h", 0, 14400),
        ("3d", 3, 0),
        ("2w", 14, 0),
        ("1d 12h", 1, 43200),
    ],
)
def test_durations_parse_every_unit(text, days, seconds):
    assert Duration.parse(text) == Duration(days=days, seconds=seconds)


@pytest.mark.parametrize("text", ["", "4", "h", "4 hours", "-3d", "1.5h", "4h!", "3x"])
def test_bad_durations_are_refused(text):
    with pytest.raises(DurationError):
        Duration.parse(text)


def test_days_keep_the_wall_clock_across_the_spring_change():
    # London moves to summer time on 29 March 2026: a week after 10:00 GMT is 10:00 BST.
    start = datetime(2026, 3, 25, 10, 0, tzinfo=LONDON).astimezone(UTC)
    due = Duration.parse("7d").after(start, LONDON)
    assert due.astimezone(LONDON).hour == 10
    assert due - start == Duration(seconds=7 * 86400 - 3600).approx


def test_hours_are_exact_across_the_autumn_change():
    # 25 October 2026, London: 01:00-02:00 happens twice; 4h means four real hours.
    start = datetime(2026, 10, 25, 0, 30, tzinfo=LONDON).astimezone(UTC)
    assert Duration.parse("4h").after(start, LONDON) - start == Duration(seconds=4 * 3600).approx


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        ((2026, 6, 1, 21, 59), False),
        ((2026, 6, 1, 22, 0), True),
        ((2026, 6, 1, 3, 0), True),
        ((2026, 6, 1, 7, 59), True),
        ((2026, 6, 1, 8, 0), False),
    ],
)
def test_quiet_hours_span_midnight(local, quiet):
    moment = datetime(*local, tzinfo=LONDON)
    assert NIGHT.contains(moment, LONDON) is quiet


def test_a_night_check_in_waits_for_eight_in_the_morning_local_time():
    evening = datetime(2026, 6, 1, 23, 0, tzinfo=NEW_YORK).astimezone(UTC)
    sent = defer_for_quiet_hours(evening, evening + Duration.parse("12h").approx, NEW_YORK, NIGHT)
    assert sent.astimezone(NEW_YORK) == datetime(2026, 6, 2, 8, 0, tzinfo=NEW_YORK)


def test_quiet_hours_end_at_eight_on_the_day_clocks_change():
    # New York springs forward at 02:00 on 8 March 2026.
    night = datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK).astimezone(UTC)
    sent = defer_for_quiet_hours(night, night + Duration.parse("12h").approx, NEW_YORK, NIGHT)
    assert sent.astimezone(NEW_YORK).timetuple()[:5] == (2026, 3, 8, 8, 0)


def test_a_check_in_is_sent_in_quiet_hours_when_its_window_would_close_first():
    late = datetime(2026, 6, 1, 23, 0, tzinfo=LONDON).astimezone(UTC)
    closes = late + Duration.parse("4h").approx
    assert defer_for_quiet_hours(late, closes, LONDON, NIGHT) == late


def test_plan_step_offsets_from_the_infusion_start_and_defers_the_reminder():
    start = datetime(2026, 6, 1, 15, 0, tzinfo=LONDON).astimezone(UTC)
    planned = plan_step(step("4h", "4h", "2h"), start, LONDON, NIGHT)
    assert planned.due_at.astimezone(LONDON).hour == 19
    assert planned.closes_at.astimezone(LONDON).hour == 23
    assert planned.remind_at.astimezone(LONDON).hour == 21


def test_a_reminder_that_would_fall_in_quiet_hours_is_dropped_when_morning_is_too_late():
    start = datetime(2026, 6, 1, 19, 30, tzinfo=LONDON).astimezone(UTC)
    planned = plan_step(step("4h", "4h", "2h"), start, LONDON, NIGHT)
    # Due 23:30 (the window closes at 03:30, before morning: sent then, silently); its
    # reminder would be 01:30, in quiet hours, and 08:00 is after the close: no reminder.
    assert planned.due_at == start + Duration.parse("4h").approx
    assert planned.remind_at is None


def test_a_reminder_in_quiet_hours_waits_for_the_morning_when_the_window_allows():
    start = datetime(2026, 6, 1, 18, 0, tzinfo=LONDON).astimezone(UTC)
    planned = plan_step(step("3h", "14h", "2h"), start, LONDON, NIGHT)
    assert planned.remind_at == datetime(2026, 6, 2, 8, 0, tzinfo=LONDON).astimezone(UTC)


PROTOCOL = load_protocol()
BASELINE = PROTOCOL.baseline_step


def test_the_baseline_is_due_when_recorded_even_at_night():
    night = datetime(2026, 6, 1, 23, 30, tzinfo=LONDON).astimezone(UTC)
    planned = plan_baseline(PROTOCOL, BASELINE, night, night)
    assert planned.due_at == night
    assert planned.closes_at == night + Duration.parse("30m").approx


@pytest.mark.parametrize("minutes_late", [31, 150, 26 * 60])
def test_no_baseline_check_in_when_the_infusion_is_recorded_over_30_min_after_its_start(
    minutes_late,
):
    start = utc(2026, 6, 1, 9, 0)
    recorded = start + Duration(seconds=60 * minutes_late).approx
    assert plan_baseline(PROTOCOL, BASELINE, start, recorded) is None
    steps = [p.step_id for p in plan_infusion(PROTOCOL, start, recorded, LONDON)]
    assert "baseline" not in steps


def test_a_baseline_booked_ahead_is_sent_up_to_its_window_before_the_start():
    start = utc(2026, 6, 1, 15, 0)
    planned = plan_baseline(PROTOCOL, BASELINE, start, utc(2026, 6, 1, 9, 0))
    assert planned.due_at == utc(2026, 6, 1, 13, 0)
    assert planned.closes_at == utc(2026, 6, 1, 15, 30)


def test_quiet_share_of_a_window():
    evening = datetime(2026, 6, 1, 21, 0, tzinfo=LONDON).astimezone(UTC)
    # 21:00-01:00: three of four hours are quiet.
    assert quiet_share(evening, evening + Duration.parse("4h").approx, LONDON, NIGHT) == 0.75
    day = datetime(2026, 6, 1, 9, 0, tzinfo=LONDON).astimezone(UTC)
    assert quiet_share(day, day + Duration.parse("12h").approx, LONDON, NIGHT) == 0.0
    two_days = quiet_share(day, day + Duration.parse("48h").approx, LONDON, NIGHT)
    assert two_days == pytest.approx(20 / 48)


@given(
    st.integers(min_value=0, max_value=400),
    st.integers(min_value=0, max_value=10**6),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)),
    st.sampled_from(["Europe/London", "America/New_York", "Australia/Sydney", "UTC"]),
)
def test_after_is_never_earlier_and_days_keep_the_local_time(days, seconds, start, zone):
    tz = ZoneInfo(zone)
    begin = start.replace(tzinfo=UTC)
    moved = Duration(days=days).after(begin, tz)
    assert moved >= begin
    later = Duration(days=days, seconds=seconds).after(begin, tz)
    assert later - moved == Duration(seconds=seconds).approx


def test_after_relief_wears_off_every_later_step_keeps_its_safety_questions():
    assert steps_with_safety_part(PROTOCOL) == {s.id for s in PROTOCOL.steps}
    week = safety_part(PROTOCOL, PROTOCOL.step("week_4"))
    assert week.questions[:6] == tuple(f"safety_{n}" for n in range(1, 7))
    assert "urine_liver" in week.questions and "side_effects" in week.questions
    assert not {"pain_avg_7d", "pgic", "interference_week", "mood"} & set(week.questions)
    # Every safety question and red-flag follow-up of a step survives.
    for step in PROTOCOL.steps:
        kept = set(safety_part(PROTOCOL, step).questions)
        assert kept == set(step.questions) & set(PROTOCOL.safety_part), step.id


WEEKDAYS = frozenset(range(5))


def test_next_opening_of_all_day_office_hours_is_midnight_of_the_next_working_day():
    all_day = OfficeHours(WEEKDAYS, time(8), time(8))
    saturday_night = utc(2026, 11, 28, 23, 0)  # London is on UTC in November
    monday_midnight = utc(2026, 11, 30, 0, 0)
    assert not all_day.is_open(saturday_night, LONDON)
    assert all_day.next_opening(saturday_night, LONDON) == monday_midnight
    assert all_day.is_open(monday_midnight, LONDON)


def test_next_opening_of_office_hours_is_their_start_on_the_next_working_day():
    office = OfficeHours(WEEKDAYS, time(8), time(17))
    assert office.next_opening(utc(2026, 11, 28, 23, 0), LONDON) == utc(2026, 11, 30, 8, 0)
    assert office.next_opening(utc(2026, 11, 30, 7, 0), LONDON) == utc(2026, 11, 30, 8, 0)
    assert office.next_opening(utc(2026, 11, 30, 9, 0), LONDON) == utc(2026, 11, 30, 9, 0)
