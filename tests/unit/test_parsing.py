"""What coordinators type after /enroll and /infusion."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.parsing import ParseError, clinic_ref, display_name, enroll_args, infusion_args

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # 13:00 in London (summer time)


@pytest.mark.parametrize("ref", ["MRN123", "a", "chart-7.2_b", "9" * 32])
def test_good_clinic_refs(ref):
    assert clinic_ref(ref) == ref


@pytest.mark.parametrize("ref", ["", "-x", "has space", "x" * 33, "naïve", "<b>", "@user"])
def test_bad_clinic_refs(ref):
    with pytest.raises(ParseError):
        clinic_ref(ref)


def test_display_name_is_optional_and_bounded():
    assert display_name([]) is None
    assert display_name(["Ann", "Lee"]) == "Ann Lee"
    with pytest.raises(ParseError):
        display_name(["x" * 65])


def test_infusion_defaults_to_now_without_dose():
    args = infusion_args(["MRN1"], NOW, LONDON)
    assert (args.ref, args.started_at, args.dose) == ("MRN1", NOW, None)


def test_infusion_time_today_is_read_on_the_clinic_clock():
    args = infusion_args(["MRN1", "09:30", "0.5", "mg/kg"], NOW, LONDON)
    assert args.started_at == datetime(2026, 7, 1, 8, 30, tzinfo=UTC)
    assert args.dose == "0.5 mg/kg"


def test_infusion_date_and_time():
    args = infusion_args(["MRN1", "2026-06-30", "14:00"], NOW, LONDON)
    assert args.started_at == datetime(2026, 6, 30, 13, 0, tzinfo=UTC)


def test_now_keyword_then_dose():
    assert infusion_args(["MRN1", "now", "35mg"], NOW, LONDON).dose == "35mg"


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["bad ref!"],
        ["MRN1", "2026-06-30"],
        ["MRN1", "25:00"],
        ["MRN1", "2026-02-30", "10:00"],
        ["MRN1", "2026-07-03", "10:00"],
        ["MRN1", "2026-06-01", "10:00"],
        ["MRN1", "now", "x" * 65],
    ],
)
def test_bad_infusion_arguments_are_refused(args):
    with pytest.raises(ParseError):
        infusion_args(args, NOW, LONDON)


def test_enroll_takes_a_name_and_a_time_zone_anywhere_after_the_reference():
    args = enroll_args(["MRN1", "Ann", "tz=Europe/Madrid", "Lee"])
    assert (args.ref, args.name, args.tz) == ("MRN1", "Ann Lee", ZoneInfo("Europe/Madrid"))
    assert enroll_args(["MRN1", "tz=new_york"]).tz == ZoneInfo("America/New_York")
    assert enroll_args(["MRN1"]).tz is None
    assert enroll_args([]) is None
    assert enroll_args(["tz=Europe/Madrid"]) is None  # no reference


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["MRN1", "tz=Mars/Olympus"], "is not one time zone I know"),
        (["MRN1", "tz=sao"], "it could be America/Sao_Paulo, Africa/Sao_Tome"),
        (["MRN1", "tz="], "is not one time zone I know"),
        (["MRN1", "tz=Europe/Madrid", "tz=UTC"], "tz= is given twice"),
        (["MRN1", "colour=blue"], "colour= is not an option here"),
    ],
)
def test_bad_enroll_options_are_refused_saying_why(args, why):
    with pytest.raises(ParseError, match=why):
        enroll_args(args)


def test_option_keys_are_read_in_any_case():
    args = enroll_args(["MRN1", "Ana", "TZ=Madrid", "Lang=es"])
    assert (args.name, args.tz, args.lang) == ("Ana", ZoneInfo("Europe/Madrid"), "es")
    readings = infusion_args(["MRN1", "10:30", "Pain=6"], NOW, LONDON).readings
    assert readings == {"pain": 6}


def test_a_reading_out_of_range_is_a_reading_not_the_dose():
    """The service refuses 100 for pain; the parser must not turn it into the dose."""
    args = infusion_args(["MRN1", "10:30", "pain=100"], NOW, LONDON)
    assert (args.dose, args.readings) == (None, {"pain": 100})


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["MRN1", "10:30", "pain=six"], "pain= needs a whole number"),
        (["MRN1", "10:30", "pain=-1"], "pain= needs a whole number"),
        (["MRN1", "10:30", "pain=6", "PAIN=7"], "pain= is given twice"),
        (["MRN1", "10:30", "=6"], "is not a measure name"),
    ],
)
def test_mistyped_readings_are_refused_not_taken_for_the_dose(args, why):
    with pytest.raises(ParseError, match=why):
        infusion_args(args, NOW, LONDON)


@pytest.mark.parametrize("word", ["Name=Ana", "lang:es=x", "=es"])
def test_a_mistyped_enroll_option_is_refused_not_taken_for_the_name(word):
    with pytest.raises(ParseError, match="is not an option here"):
        enroll_args(["MRN1", "Ana", word])
