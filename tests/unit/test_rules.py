"""The bundled protocol's alert rules, evaluated on answers as the bot stores them."""

import pytest

from bot.core.protocol import load_protocol
from bot.core.rules import AnswerContext, evaluate_answers, evaluate_missed
from bot.core.schedule import follow_up_over

PROTOCOL = load_protocol()
BASELINE = {"pain_now": 6, "pain_avg_24h": 6, "sleep": "3", "mood": 6}


def fired(step_id, answers, baseline=BASELINE, earlier=()):
    context = AnswerContext(step_id, answers, baseline, earlier, is_baseline=step_id == "baseline")
    return {(m.rule.id, m.rule.severity.value) for m in evaluate_answers(PROTOCOL, context)}


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
    assert fired("evening", {"headache_red_flags": "yes"}) == set()
    answers = {"side_effects": {"headache": "mild"}, "headache_red_flags": "yes"}
    assert ("headache_red_flags", "emergency") in fired("evening", answers)


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
        ({"side_effects": {"nausea": "mild"}, "fluids_kept_down": "no"}, "cannot_keep_fluids"),
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


def test_no_response_by_week_one_and_relief_wearing_off():
    assert ("no_response_day_7", "review") in fired("week_1", {"pain_avg_7d": 5})
    assert ("no_response_day_7", "review") not in fired("week_1", {"pain_avg_7d": 4})
    lost = fired("week_2", {"pain_avg_7d": 5}, earlier=[{"pain_avg_7d": 3}])
    assert ("relief_wearing_off", "review") in lost
    assert ("relief_wearing_off", "review") not in fired(
        "week_2", {"pain_avg_7d": 5}, earlier=[{"pain_avg_7d": 5}]
    )


def test_moderate_side_effect_on_day_three_is_reviewed():
    assert ("side_effect_day_3", "review") in fired(
        "day_3", {"side_effects": {"dizziness": "moderate"}}
    )
    assert fired("day_3", {"side_effects": {"dizziness": "mild"}}) == set()


def test_baseline_zero_skips_percent_rules():
    assert fired("week_1", {"pain_avg_7d": 0}, baseline={"pain_avg_24h": 0}) == set()


def test_missed_check_ins():
    evening = {(m.rule.id, m.rule.severity.value) for m in evaluate_missed(PROTOCOL, "evening", 1)}
    assert evening == {("missed_early_check_in", "urgent")}
    later = {m.rule.id for m in evaluate_missed(PROTOCOL, "week_2", 2)}
    assert later == {"two_missed"}
    assert evaluate_missed(PROTOCOL, "week_3", 3) == []


def test_follow_up_ends_when_pain_is_back_twice_without_side_effects():
    back = {"pain_avg_7d": 6, "side_effects": {}}
    assert follow_up_over(PROTOCOL, BASELINE, [back, back])
    assert not follow_up_over(PROTOCOL, BASELINE, [back])
    assert not follow_up_over(PROTOCOL, BASELINE, [{"pain_avg_7d": 4}, back])
    assert not follow_up_over(
        PROTOCOL, BASELINE, [back, {"pain_avg_7d": 7, "side_effects": {"headache": "mild"}}]
    )
