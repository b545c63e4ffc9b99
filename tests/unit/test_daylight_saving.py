"""Quiet hours, check-ins, reminders and typed times across daylight-saving changes.

Two zones, both changes of 2027: Europe/London (28 March, 31 October, at 01:00 UTC) and
America/New_York (14 March, 7 November, at 02:00 local). Expected instants are written in
UTC, so a test cannot pass by making the same mistake on both sides.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import locales, texts
from bot.core.durations import Duration
from bot.core.parsing import ParseError, infusion_args, pause_end
from bot.core.protocol import Step
from bot.core.schedule import (
    MissingTime,
    QuietHours,
    plan_reminder,
    plan_step,
    reminder_time,
    wall_clock_instant,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
ATHENS = ZoneInfo("Europe/Athens")
NIGHT = QuietHours(time(22), time(8))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def step(offset: str, window: str, reminder: str | None = None) -> Step:
    return Step(
        id="s",
        title="S",
        questions=("q",),
        window=Duration.parse(window),
        offset=Duration.parse(offset),
        reminder=Duration.parse(reminder) if reminder else None,
    )


# (zone, the evening before the change, 22:00 that evening in UTC, 08:00 next morning in UTC)
CHANGE_NIGHTS = [
    pytest.param(
        LONDON, (2027, 3, 27), utc(2027, 3, 27, 22), utc(2027, 3, 28, 7), id="London-spring"
    ),
    pytest.param(
        LONDON, (2027, 10, 30), utc(2027, 10, 30, 21), utc(2027, 10, 31, 8), id="London-fall"
    ),
    pytest.param(
        NEW_YORK, (2027, 3, 13), utc(2027, 3, 14, 3), utc(2027, 3, 14, 12), id="NY-spring"
    ),
    pytest.param(NEW_YORK, (2027, 11, 6), utc(2027, 11, 7, 2), utc(2027, 11, 7, 13), id="NY-fall"),
]


@pytest.mark.parametrize(("zone", "eve", "night_starts", "morning"), CHANGE_NIGHTS)
def test_quiet_hours_start_at_ten_and_end_at_eight_local_on_change_nights(
    zone, eve, night_starts, morning
):
    second = timedelta(seconds=1)
    assert not NIGHT.contains(night_starts - second, zone)
    assert NIGHT.contains(night_starts, zone)
    assert NIGHT.contains(morning - second, zone)
    assert not NIGHT.contains(morning, zone)
    # The night is an hour shorter in spring and an hour longer in autumn.
    spring = eve[1] == 3
    assert morning - night_starts == timedelta(hours=9 if spring else 11)


@pytest.mark.parametrize(("zone", "eve", "night_starts", "morning"), CHANGE_NIGHTS)
def test_a_night_check_in_is_released_at_eight_local_after_the_change(
    zone, eve, night_starts, morning
):
    for late in (night_starts, night_starts + timedelta(hours=3), morning - timedelta(minutes=1)):
        assert NIGHT.end_after(late, zone) == morning
        assert reminder_time(late, morning + timedelta(hours=1), zone, NIGHT) == morning
        # A window that closes before eight: the check-in goes at once (silently), and
        # its reminder is dropped.
        assert reminder_time(late, morning, zone, NIGHT) is None


# A check-in one calendar day after an infusion that started at the wall-clock time that
# the next day is skipped (spring) or repeated (autumn).
DAY_AFTER = [
    # zone, start (UTC), nominal due (UTC), local reading of the due time
    pytest.param(
        LONDON, utc(2027, 3, 27, 1, 30), utc(2027, 3, 28, 1, 30), "02:30 BST", id="London-missing"
    ),
    pytest.param(
        NEW_YORK, utc(2027, 3, 13, 7, 30), utc(2027, 3, 14, 7, 30), "03:30 EDT", id="NY-missing"
    ),
    pytest.param(
        LONDON,
        utc(2027, 10, 30, 0, 30),
        utc(2027, 10, 31, 0, 30),
        "01:30 BST",
        id="London-repeated",
    ),
    pytest.param(
        NEW_YORK, utc(2027, 11, 6, 5, 30), utc(2027, 11, 7, 5, 30), "01:30 EDT", id="NY-repeated"
    ),
]


@pytest.mark.parametrize(("zone", "start", "nominal", "local"), DAY_AFTER)
def test_a_check_in_due_in_the_missing_or_repeated_hour_is_exactly_a_day_later(
    zone, start, nominal, local
):
    # The skipped 01:30 (London) or 02:30 (New York) is read on the clock before the change:
    # an hour later on the new clock. The repeated 01:30 is its first (summer-time) reading.
    # Either way it is 24 real hours after the start, neither lost nor sent twice.
    due = Duration.parse("1d").after(start, zone)
    assert due == nominal == start + timedelta(hours=24)
    assert due.astimezone(zone).strftime("%H:%M %Z") == local


@pytest.mark.parametrize(("zone", "start", "nominal", "local"), DAY_AFTER)
def test_a_check_in_due_in_the_missing_or_repeated_hour_waits_for_eight_or_goes_silently(
    zone, start, nominal, local
):
    morning = NIGHT.end_after(nominal, zone)
    assert morning.astimezone(zone).strftime("%H:%M") == "08:00"
    waits = plan_step(step("1d", "12h", "2h"), start, zone, NIGHT)
    assert (waits.due_at, waits.remind_at) == (morning, morning + timedelta(hours=2))
    closes_first = plan_step(step("1d", "4h", "2h"), start, zone, NIGHT)
    assert (closes_first.due_at, closes_first.remind_at) == (nominal, None)


def test_days_keep_the_wall_clock_in_each_zone_while_only_one_has_changed():
    # Between 14 March (US) and 28 March (UK) New York is 4 h behind London, not 5.
    start = utc(2027, 3, 10, 15, 0)  # 10:00 in New York, 15:00 in London
    in_new_york = plan_step(step("7d", "48h"), start, NEW_YORK, NIGHT)
    in_london = plan_step(step("7d", "48h"), start, LONDON, NIGHT)
    assert in_new_york.due_at == utc(2027, 3, 17, 14, 0)  # 10:00 EDT
    assert in_london.due_at == utc(2027, 3, 17, 15, 0)  # 15:00 GMT


# -- a change of zone re-plans what hangs on the patient's clock ----------------------------


def test_a_check_in_due_at_eleven_at_night_in_the_new_zone_waits_for_its_morning():
    start = utc(2026, 11, 24, 21, 0)
    planned = plan_step(step("24h", "12h", "6h"), start, LONDON, NIGHT)
    assert planned.due_at == utc(2026, 11, 25, 21, 0)  # 21:00 in London: not quiet
    again = plan_step(step("24h", "12h", "6h"), start, ATHENS, NIGHT)
    assert again.due_at == utc(2026, 11, 26, 6, 0)  # 23:00 in Athens waits for 08:00 there
    assert again.closes_at == planned.closes_at  # hours from an instant: the window stays


def test_a_hold_for_the_old_zones_morning_is_released_for_the_new_one():
    start = utc(2026, 11, 23, 6, 30)
    held = plan_step(step("24h", "12h"), start, LONDON, NIGHT)
    assert held.due_at == utc(2026, 11, 24, 8, 0)  # 06:30 in London waits for 08:00
    released = plan_step(step("24h", "12h"), start, ATHENS, NIGHT)
    assert released.due_at == utc(2026, 11, 24, 6, 30)  # 08:30 in Athens: no hold


def test_a_sent_check_ins_reminder_moves_to_the_new_zones_morning():
    due, closes = utc(2026, 11, 24, 17, 0), utc(2026, 11, 25, 17, 0)
    reminder = step("1d", "24h", "4h")
    assert plan_reminder(reminder, due, closes, LONDON, NIGHT) == utc(2026, 11, 24, 21, 0)
    assert plan_reminder(reminder, due, closes, ATHENS, NIGHT) == utc(2026, 11, 25, 6, 0)
    assert plan_reminder(step("1d", "24h"), due, closes, ATHENS, NIGHT) is None


# -- local times typed by staff ------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "wall"),
    [(LONDON, datetime(2027, 3, 28, 1, 30)), (NEW_YORK, datetime(2027, 3, 14, 2, 30))],
)
def test_a_typed_time_the_clocks_skip_is_refused(zone, wall):
    with pytest.raises(MissingTime):
        wall_clock_instant(wall, zone)


@pytest.mark.parametrize(
    ("zone", "wall", "first"),
    [
        (LONDON, datetime(2027, 10, 31, 1, 30), utc(2027, 10, 31, 0, 30)),
        (NEW_YORK, datetime(2027, 11, 7, 1, 30), utc(2027, 11, 7, 5, 30)),
    ],
)
def test_a_typed_time_that_comes_twice_is_its_first_and_says_so(zone, wall, first):
    found = wall_clock_instant(wall, zone)
    assert (found.at, found.repeated) == (first, True)
    assert wall_clock_instant(wall + timedelta(hours=1), zone).repeated is False


@pytest.mark.parametrize(
    ("zone", "now", "day", "clock"),
    [
        (LONDON, utc(2027, 3, 28, 12), "2027-03-28", "01:30"),
        (NEW_YORK, utc(2027, 3, 14, 16), "2027-03-14", "02:30"),
    ],
)
def test_an_infusion_started_in_the_missing_hour_is_refused_saying_why(zone, now, day, clock):
    with pytest.raises(ParseError, match="does not exist in .*clocks went forward"):
        infusion_args(["MRN1", day, clock], now, zone)
    with pytest.raises(ParseError, match="does not exist"):
        infusion_args(["MRN1", clock], now, zone)  # today's date, typed as a time only
    with pytest.raises(ParseError, match="does not exist"):
        pause_end([day, clock], now - timedelta(days=1), zone)


@pytest.mark.parametrize(
    ("zone", "now", "day", "first", "said"),
    [
        (LONDON, utc(2027, 10, 31, 12), "2027-10-31", utc(2027, 10, 31, 0, 30), "01:30 BST"),
        (NEW_YORK, utc(2027, 11, 7, 16), "2027-11-07", utc(2027, 11, 7, 5, 30), "01:30 EDT"),
    ],
)
def test_an_infusion_started_in_the_repeated_hour_takes_the_first_and_says_so(
    zone, now, day, first, said
):
    args = infusion_args(["MRN1", day, "01:30"], now, zone)
    assert (args.started_at, args.start_repeated) == (first, True)
    note = texts.start_repeated(args.started_at, zone)
    assert "came twice" in note and f"I took the first, {said}" in note
    assert infusion_args(["MRN1", day, "03:30"], now, zone).start_repeated is False


def test_the_patient_reads_which_of_two_equal_times_is_meant():
    assert (
        locales.format_time("en", utc(2027, 10, 31, 0, 30), LONDON) == "Sunday 31 Oct at 01:30 BST"
    )
    assert (
        locales.format_time("en", utc(2027, 10, 31, 1, 30), LONDON) == "Sunday 31 Oct at 01:30 GMT"
    )
    assert locales.format_time("en", utc(2027, 10, 31, 9, 0), LONDON) == "Sunday 31 Oct at 09:00"
