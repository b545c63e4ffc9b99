"""The bundled protocol's alert rules, evaluated on answers as the bot stores them."""

from datetime import timedelta

import pytest

from bot.core.protocol import load_protocol
from bot.core.rules import (
    AnswerContext,
    MissedContext,
    emergency_when_ticked,
    evaluate_answers,
    evaluate_missed,
    evaluate_words,
)

PROTOCOL = load_protocol()
BASELINE = {"pain_now": 6, "pain_avg_24h": 6, "sleep": "3", "mood": 6}


def fired(step_id, answers, baseline=BASELINE, earlier=()):
    context = AnswerContext(step_id, answers, baseline, earlier, is_baseline=step_id == "baseline")
    return {(m.rule.id, m.severity.value) for m in evaluate_answers(PROTOCOL, context)}


@pytest.mark.parametrize(
    ("item", "rule"),
    [
        ("chest_pain", "chest_pain"),
        ("breathless", "breathlessness"),
        ("swelling", "face_throat_swelling"),
        ("fainting", "fainting_or_unrousable"),
        ("seizure", "seizure"),
    ],
)
def test_emergency_symptoms_fire_at_once_before_any_severity(item, rule):
    assert (rule, "emergency") in fired("evening", {"side_effects": {item: None}})


@pytest.mark.parametrize("item", ["safety_4", "safety_5", "safety_6"])
def test_high_risk_safety_answers_are_emergencies(item):
    answers = {"safety_1": "no", "safety_2": "yes", item: "yes"}
    assert ("safety_high_risk", "emergency") in fired("week_1", answers)


def test_ideation_is_urgent_with_the_crisis_text():
    matches = evaluate_answers(PROTOCOL, AnswerContext("week_1", {"safety_1": "yes"}, BASELINE))
    assert [(m.rule.id, m.rule.patient_text) for m in matches] == [("safety_ideation", "crisis")]


def test_a_follow_up_answer_only_counts_when_it_was_asked():
    assert fired("evening", {"headache_neuro": "yes"}) == set()
    answers = {"side_effects": {"headache": "mild"}, "headache_neuro": "yes"}
    assert ("headache_neuro_signs", "emergency") in fired("evening", answers)


@pytest.mark.parametrize("item", ["confusion", "drowsiness"])
def test_confused_and_hard_to_wake_is_asked_after_either_and_is_an_emergency(item):
    answers = {"side_effects": {item: "mild"}, "confused_hard_to_wake": "yes"}
    assert ("confused_hard_to_wake", "emergency") in fired("evening", answers)
    other = {"side_effects": {"nausea": "mild"}, "confused_hard_to_wake": "yes"}
    assert ("confused_hard_to_wake", "emergency") not in fired("evening", other)


@pytest.mark.parametrize("step", ["week_1", "week_8", "report"])
def test_dissociation_from_week_one_is_reviewed_unless_severe(step):
    mild = fired(step, {"side_effects": {"hallucinations": "moderate"}})
    assert mild == {("psychotomimetic_late", "review")}
    severe = fired(step, {"side_effects": {"confusion": "severe"}})
    assert ("psychotomimetic_severe", "urgent") in severe


def test_dissociation_severe_at_any_time_and_present_from_the_next_day():
    assert fired("evening", {"side_effects": {"detached": "moderate"}}) == set()
    assert ("psychotomimetic_severe", "urgent") in fired(
        "evening", {"side_effects": {"detached": "severe"}}
    )
    assert ("psychotomimetic_persisting", "urgent") in fired(
        "next_day", {"side_effects": {"hallucinations": "mild"}}
    )


@pytest.mark.parametrize(
    ("answers", "rule"),
    [
        ({"side_effects": {"nausea": "mild"}, "fluids_not_kept_down": "yes"}, "cannot_keep_fluids"),
        ({"urine_liver": {"blood_in_urine": "mild"}}, "blood_in_urine"),
        ({"urine_liver": {"painful_urination": "moderate"}}, "painful_urination"),
        ({"urine_liver": {"jaundice": None}}, "jaundice"),
        ({"side_effects": {"rash": "mild"}, "rash_with_fever": "yes"}, "rash_with_fever"),
        (
            {"side_effects": {"racing_heart": "mild"}, "racing_heart_over_6h": "yes"},
            "racing_heart_persisting",
        ),
    ],
)
def test_urgent_answers(answers, rule):
    assert (rule, "urgent") in fired("next_day", answers)


def test_mild_painful_urination_is_not_urgent_but_frequency_is_reviewed():
    result = fired("next_day", {"urine_liver": {"painful_urination": "mild", "frequency": "mild"}})
    assert result == {("urinary_frequency", "review")}


def test_urinary_frequency_already_there_at_baseline_is_not_new():
    at_baseline = {**BASELINE, "urine_liver": {"frequency": "mild"}}
    answers = {"urine_liver": {"frequency": "mild"}}
    assert fired("next_day", answers, baseline=at_baseline) == set()
    assert fired("next_day", answers, baseline={**BASELINE, "urine_liver": {}}) == {
        ("urinary_frequency", "review")
    }


def test_pain_nine_is_urgent_after_the_infusion_but_not_at_baseline():
    assert ("pain_severe", "urgent") in fired("evening", {"pain_now": 9})
    assert fired("baseline", {"pain_now": 9, "pain_avg_24h": 9}) == set()


def test_pain_three_points_above_baseline_is_urgent_and_two_twice_is_review():
    assert fired("evening", {"pain_now": 9}) >= {("pain_much_worse", "urgent")}
    assert ("pain_worse_twice", "review") not in fired("next_day", {"pain_avg_24h": 8})
    twice = fired("next_day", {"pain_avg_24h": 8}, earlier=[{"pain_now": 8}])
    assert ("pain_worse_twice", "review") in twice


def test_mood_and_sleep_worse_than_baseline():
    assert ("mood_much_worse", "review") in fired("next_day", {"mood": 3})
    assert ("mood_worse_twice", "review") in fired("next_day", {"mood": 5}, earlier=[{"mood": 5}])
    assert ("sleep_worse_twice", "review") in fired(
        "week_1", {"sleep": "1"}, earlier=[{"sleep": "1"}]
    )


def test_no_response_by_week_one():
    assert ("no_response_day_7", "review") in fired("week_1", {"pain_avg_7d": 5})
    assert ("no_response_day_7", "review") not in fired("week_1", {"pain_avg_7d": 4})


RELIEF = ("relief_wearing_off", "review")


def test_relief_wearing_off_needs_a_response_then_two_check_ins_back_near_baseline():
    # Baseline 6: 3 is a 50 % response; 5 is 17 % better, back within 30 % of baseline.
    responded = [{"pain_now": 3}, {"pain_avg_24h": 5}]
    assert RELIEF in fired("week_2", {"pain_avg_7d": 5}, earlier=responded)
    assert RELIEF not in fired("week_1", {"pain_avg_7d": 5}, earlier=[{"pain_now": 3}])
    no_response = [{"pain_now": 5}, {"pain_avg_24h": 5}]
    assert RELIEF not in fired("week_2", {"pain_avg_7d": 5}, earlier=no_response)


def test_relief_wearing_off_fires_once_per_loss():
    earlier = [{"pain_now": 3}, {"pain_avg_24h": 5}, {"pain_avg_7d": 5}]
    assert RELIEF not in fired("week_3", {"pain_avg_7d": 5}, earlier=earlier)


def test_worse_pain_is_never_relief_wearing_off():
    # Pain 8 against 6: urgent and review alerts, never "relief lost" (which would reduce the
    # follow-up to its safety part).
    answers = {"pain_avg_24h": 8, "pgic": "6", "mood": 1}
    result = fired("next_day", answers, earlier=[{"pain_now": 8}])
    assert RELIEF not in result
    assert {("pain_worse_twice", "review"), ("mood_much_worse", "review")} <= result


def test_a_borrowed_baseline_is_marked_in_what_staff_read():
    context = AnswerContext("next_day", {"pain_avg_24h": 9}, BASELINE, baseline_borrowed=True)
    summaries = {m.rule.id: m.summary for m in evaluate_answers(PROTOCOL, context)}
    assert "previous infusion's" in summaries["pain_much_worse"]


def test_moderate_side_effect_on_day_three_is_reviewed():
    assert ("side_effect_day_3", "review") in fired(
        "day_3", {"side_effects": {"dizziness": "moderate"}}
    )
    assert fired("day_3", {"side_effects": {"dizziness": "mild"}}) == set()


def test_baseline_zero_skips_percent_rules():
    assert fired("week_1", {"pain_avg_7d": 0}, baseline={"pain_avg_24h": 0}) == set()


def missed(step_id, in_a_row, night=False):
    context = MissedContext(step_id, in_a_row, mostly_at_night=night, last_answer="Mon 09:00")
    return {(m.rule.id, m.severity.value) for m in evaluate_missed(PROTOCOL, context)}


def test_missed_check_ins_alert_from_the_second_in_a_row_and_for_every_one_after():
    assert missed("evening", 1) == {("missed_early_check_in", "urgent")}
    assert missed("week_2", 2) == {("two_missed", "review")}
    assert missed("week_3", 3) == {("two_missed", "review")}
    assert missed("week_8", 7) == {("two_missed", "review")}
    assert missed("day_3", 1) == set()


def test_a_check_in_missed_mostly_at_night_is_reviewed_not_urgent():
    assert missed("evening", 1, night=True) == {("missed_early_check_in", "review")}


def test_an_unfinished_report_is_reviewed_with_what_it_got():
    context = MissedContext("report", 0, answered={"side_effects": {"nausea": "mild"}})
    matches = evaluate_missed(PROTOCOL, context)
    assert [(m.rule.id, m.severity.value) for m in matches] == [("report_unfinished", "review")]
    assert "Nausea or vomiting (mild)" in matches[0].summary


def words(text):
    return [(m.rule.id, m.severity.value) for m in evaluate_words(PROTOCOL, None, text)]


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("I want to kill myself tonight", "words_suicide_self_harm"),
        ("I TOOK ALL MY TABLETS", "words_overdose"),
        ("Tengo dolor en el pecho", "words_chest_pain"),
        ("I can’t breathe properly", "words_breathing"),
        ("quiero suicidarme", "words_suicide_self_harm"),
        ("No puedo respirar", "words_breathing"),
    ],
)
def test_risk_phrases_raise_the_words_to_an_emergency(text, rule):
    assert words(text) == [(rule, "emergency")]


@pytest.mark.parametrize(
    "text", ["My chest is fine, thanks", "skill myselfie", "I feel a bit tired", "fitness"]
)
def test_other_words_are_relayed_for_review(text):
    assert words(text) == [("patient_words", "review")]


def test_effects_expected_in_the_first_hours_do_not_alert_unless_severe():
    def report(severity, hours):
        context = AnswerContext(
            "report",
            {"side_effects": {"hallucinations": severity}},
            BASELINE,
            since_start=timedelta(hours=hours),
        )
        return {m.rule.id for m in evaluate_answers(PROTOCOL, context)}

    assert report("moderate", 2) == set()
    assert report(None, 2) == set()  # ticked, severity not yet given
    assert report("severe", 2) == {
        "psychotomimetic_severe",
        "psychotomimetic_late",
        "side_effect_severe",
    }
    assert report("mild", 7) == {"psychotomimetic_late"}


def test_which_ticks_can_be_an_emergency_at_once():
    assert emergency_when_ticked(PROTOCOL, "side_effects", "chest_pain")
    assert emergency_when_ticked(PROTOCOL, "side_effects", "seizure")
    assert not emergency_when_ticked(PROTOCOL, "side_effects", "nausea")
    assert not emergency_when_ticked(PROTOCOL, "side_effects", "hallucinations")  # if severe
    assert not emergency_when_ticked(PROTOCOL, "urine_liver", "blood_in_urine")  # urgent
