"""Every red flag of the clinical basis, its alert rule, and a case on each side of it.

RED_FLAGS has one row per red flag of CLINICAL.md's "Alert rules" section (EMERGENCY,
URGENT, REVIEW; each bullet split into its separate flags), plus the few SPEC.md adds. Each
row names the bundled protocol's rule and severity, a case that must set the rule off and a
near miss that must not. docs/clinical-safety.md lists the same rows; a test keeps it so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.core.protocol import load_protocol
from bot.core.rules import (
    AnswerContext,
    MissedContext,
    evaluate_answers,
    evaluate_completed,
    evaluate_missed,
    evaluate_words,
)

PROTOCOL = load_protocol()
BASELINE = {"pain_now": 6, "pain_avg_24h": 6, "sleep": "3", "mood": 6, "urine_liver": {}}
SAFETY_DOC = Path(__file__).resolve().parents[2] / "docs" / "clinical-safety.md"
TEST_FILE = "tests/unit/test_red_flags.py"


@dataclass(frozen=True)
class Answered:
    """A check-in's answers (with the infusion's baseline and earlier check-ins)."""

    what: str
    step: str
    answers: dict[str, Any]
    earlier: tuple[dict[str, Any], ...] = ()
    baseline: dict[str, Any] = field(default_factory=lambda: BASELINE)


@dataclass(frozen=True)
class Missed:
    """A check-in that closed unanswered (`in_a_row` counts it), or a report left unfinished."""

    what: str
    step: str
    in_a_row: int
    answered: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finished:
    """A check-in answered to the end that raised no other alert."""

    what: str
    step: str
    answers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Wrote:
    """Something the patient wrote in their own words."""

    what: str
    text: str


Case = Answered | Missed | Finished | Wrote


@dataclass(frozen=True)
class RedFlag:
    flag: str  # the red flag, in the words of CLINICAL.md (or SPEC.md where it says so)
    rule: str  # the bundled protocol's rule id
    severity: str
    fires: Case
    near_miss: Case


def fired_by_answers(case: Answered) -> set[tuple[str, str]]:
    context = AnswerContext(case.step, case.answers, case.baseline, case.earlier)
    return {(m.rule.id, m.severity.value) for m in evaluate_answers(PROTOCOL, context)}


def fired_by_missed(case: Missed) -> set[tuple[str, str]]:
    context = MissedContext(case.step, case.in_a_row, answered=case.answered)
    return {(m.rule.id, m.severity.value) for m in evaluate_missed(PROTOCOL, context)}


def fired_by_finishing(case: Finished) -> set[tuple[str, str]]:
    matches = evaluate_completed(PROTOCOL, case.step, case.answers)
    return {(m.rule.id, m.severity.value) for m in matches}


def fired_by_words(case: Wrote) -> set[tuple[str, str]]:
    return {(m.rule.id, m.severity.value) for m in evaluate_words(PROTOCOL, None, case.text)}


def fired(case: Case) -> set[tuple[str, str]]:
    """(rule id, severity) of every rule the case sets off."""
    if isinstance(case, Answered):
        return fired_by_answers(case)
    if isinstance(case, Missed):
        return fired_by_missed(case)
    if isinstance(case, Finished):
        return fired_by_finishing(case)
    return fired_by_words(case)


def ticked(**items: str | None) -> dict[str, Any]:
    """A side-effect checklist answer: item -> severity."""
    return {"side_effects": items}


def urine(**items: str | None) -> dict[str, Any]:
    """A urine and liver checklist answer: item -> severity."""
    return {"urine_liver": items}


SAFETY_ALL_NO = {"safety_1": "no", "safety_2": "no", "safety_6": "no"}
SAFETY_THOUGHTS = {"safety_1": "yes", "safety_2": "yes", "safety_3": "yes"}
HIGH_RISK_NO = {"safety_4": "no", "safety_5": "no", "safety_6": "no"}


RED_FLAGS = [
    # ---- EMERGENCY ------------------------------------------------------------------------
    RedFlag(
        "Chest pain",
        "chest_pain",
        "emergency",
        Answered("evening: chest pain ticked, mild", "evening", ticked(chest_pain="mild")),
        Answered(
            "evening: racing heart ticked, severe, no chest pain",
            "evening",
            ticked(racing_heart="severe"),
        ),
    ),
    RedFlag(
        "Breathlessness",
        "breathlessness",
        "emergency",
        Answered("evening: breathlessness ticked, mild", "evening", ticked(breathless="mild")),
        Answered(
            "evening: dizziness ticked, severe, no breathlessness",
            "evening",
            ticked(dizziness="severe"),
        ),
    ),
    RedFlag(
        "Face or throat swelling",
        "face_throat_swelling",
        "emergency",
        Answered("next day: swelling ticked, mild", "next_day", ticked(swelling="mild")),
        Answered(
            "next day: rash, itch or fever ticked, severe, no swelling",
            "next_day",
            ticked(rash="severe"),
        ),
    ),
    RedFlag(
        "Fainting or can't stay awake",
        "fainting_or_unrousable",
        "emergency",
        Answered("evening: fainting ticked, mild", "evening", ticked(fainting="mild")),
        Answered(
            "evening: drowsiness ticked, severe, not confused and hard to wake",
            "evening",
            {**ticked(drowsiness="severe"), "confused_hard_to_wake": "no"},
        ),
    ),
    RedFlag(
        "Seizure",
        "seizure",
        "emergency",
        Answered("evening: seizure ticked, mild", "evening", ticked(seizure="mild")),
        Answered(
            "evening: dizziness ticked, very severe, no seizure",
            "evening",
            ticked(dizziness="very_severe"),
        ),
    ),
    RedFlag(
        "New confusion with reduced responsiveness (confused and hard to wake)",
        "confused_hard_to_wake",
        "emergency",
        Answered(
            "evening: drowsiness ticked, then confused and hard to wake: yes",
            "evening",
            {**ticked(drowsiness="moderate"), "confused_hard_to_wake": "yes"},
        ),
        Answered(
            "evening: confusion ticked, severe, then confused and hard to wake: no",
            "evening",
            {**ticked(confusion="severe"), "confused_hard_to_wake": "no"},
        ),
    ),
    RedFlag(
        "Sudden severe headache with weakness, vision loss or speech problems:"
        " sudden, very severe headache",
        "headache_sudden_severe",
        "emergency",
        Answered(
            "evening: headache ticked, then sudden and very severe: yes",
            "evening",
            {**ticked(headache="severe"), "headache_sudden": "yes", "headache_neuro": "no"},
        ),
        Answered(
            "evening: headache ticked, severe, but not sudden and no weakness, vision or speech"
            " problem",
            "evening",
            {**ticked(headache="severe"), "headache_sudden": "no", "headache_neuro": "no"},
        ),
    ),
    RedFlag(
        "Sudden severe headache with weakness, vision loss or speech problems:"
        " headache with weakness, vision loss or speech problems",
        "headache_neuro_signs",
        "emergency",
        Answered(
            "evening: headache ticked, then weakness, vision or speech: yes",
            "evening",
            {**ticked(headache="mild"), "headache_sudden": "no", "headache_neuro": "yes"},
        ),
        Answered(
            "evening: headache ticked, very severe, weakness, vision or speech: no",
            "evening",
            {**ticked(headache="very_severe"), "headache_sudden": "no", "headache_neuro": "no"},
        ),
    ),
    RedFlag(
        "F-S 4, 5 or 6 answered yes",
        "safety_high_risk",
        "emergency",
        Answered(
            "week 1: F-S 1 and 2 no (3-5 not asked), F-S 6 (prepared or acted) yes",
            "week_1",
            {"safety_1": "no", "safety_2": "no", "safety_6": "yes"},
        ),
        Answered(
            "week 1: F-S 1-3 yes, F-S 4-6 no",
            "week_1",
            {**SAFETY_THOUGHTS, **HIGH_RISK_NO},
        ),
    ),
    # ---- URGENT ---------------------------------------------------------------------------
    RedFlag(
        "F-S 1-3 answered yes",
        "safety_ideation",
        "urgent",
        Answered(
            "week 1: F-S 1 (wished dead) yes, F-S 2 and 6 no",
            "week_1",
            {**SAFETY_ALL_NO, "safety_1": "yes"},
        ),
        Answered("week 1: F-S 1, 2 and 6 no", "week_1", SAFETY_ALL_NO),
    ),
    RedFlag(
        "Hallucinations, dissociation or confusion: severe at any time",
        "psychotomimetic_severe",
        "urgent",
        Answered("evening: confusion ticked, severe", "evening", ticked(confusion="severe")),
        Answered("evening: confusion ticked, moderate", "evening", ticked(confusion="moderate")),
    ),
    RedFlag(
        "Hallucinations, dissociation or confusion: present at T+24 h to day 3",
        "psychotomimetic_persisting",
        "urgent",
        Answered("day 3: unreal or detached ticked, mild", "day_3", ticked(detached="mild")),
        Answered("week 1: unreal or detached ticked, mild", "week_1", ticked(detached="mild")),
    ),
    RedFlag(
        "Hallucinations, dissociation or confusion: from week 1 on, mild or moderate ones are"
        " REVIEW",
        "psychotomimetic_late",
        "review",
        Answered("week 1: unreal or detached ticked, mild", "week_1", ticked(detached="mild")),
        Answered(
            "day 3: unreal or detached ticked, mild (urgent, not review)",
            "day_3",
            ticked(detached="mild"),
        ),
    ),
    RedFlag(
        "Can't keep fluids down",
        "cannot_keep_fluids",
        "urgent",
        Answered(
            "evening: nausea ticked, then cannot keep fluids down: yes",
            "evening",
            {**ticked(nausea="moderate"), "fluids_not_kept_down": "yes"},
        ),
        Answered(
            "evening: nausea ticked, severe, keeps fluids down",
            "evening",
            {**ticked(nausea="severe"), "fluids_not_kept_down": "no"},
        ),
    ),
    RedFlag(
        "Blood in urine",
        "blood_in_urine",
        "urgent",
        Answered("next day: blood in urine ticked, mild", "next_day", urine(blood_in_urine="mild")),
        Answered(
            "next day: pain passing urine ticked, mild, no blood",
            "next_day",
            urine(painful_urination="mild"),
        ),
    ),
    RedFlag(
        "Moderate or worse pain on urination",
        "painful_urination",
        "urgent",
        Answered(
            "next day: pain passing urine ticked, moderate",
            "next_day",
            urine(painful_urination="moderate"),
        ),
        Answered(
            "next day: pain passing urine ticked, mild",
            "next_day",
            urine(painful_urination="mild"),
        ),
    ),
    RedFlag(
        "Jaundice, dark urine or pale stools",
        "jaundice",
        "urgent",
        Answered(
            "week 2: yellow skin or eyes, dark urine ticked, mild",
            "week_2",
            urine(jaundice="mild"),
        ),
        Answered(
            "week 2: urinary frequency ticked, moderate, no jaundice",
            "week_2",
            urine(frequency="moderate"),
        ),
    ),
    RedFlag(
        "Rash with fever",
        "rash_with_fever",
        "urgent",
        Answered(
            "next day: rash ticked, then rash with fever: yes",
            "next_day",
            {**ticked(rash="mild"), "rash_with_fever": "yes"},
        ),
        Answered(
            "next day: rash ticked, severe, no fever",
            "next_day",
            {**ticked(rash="severe"), "rash_with_fever": "no"},
        ),
    ),
    RedFlag(
        "Racing heart lasting more than 6 h",
        "racing_heart_persisting",
        "urgent",
        Answered(
            "evening: racing heart ticked, then lasted over 6 h: yes",
            "evening",
            {**ticked(racing_heart="moderate"), "racing_heart_over_6h": "yes"},
        ),
        Answered(
            "evening: racing heart ticked, severe, not over 6 h",
            "evening",
            {**ticked(racing_heart="severe"), "racing_heart_over_6h": "no"},
        ),
    ),
    RedFlag(
        "No answer at T+4-6 h or T+24 h",
        "missed_early_check_in",
        "urgent",
        Missed("next-day check-in closed unanswered", "next_day", 1),
        Missed("day 3 check-in closed unanswered (the first missed)", "day_3", 1),
    ),
    RedFlag(
        "SPEC.md: pain 9-10",
        "pain_severe",
        "urgent",
        Answered("evening: pain now 9", "evening", {"pain_now": 9}),
        Answered("evening: pain now 8", "evening", {"pain_now": 8}),
    ),
    RedFlag(
        "SPEC.md: pain 3+ points above baseline",
        "pain_much_worse",
        "urgent",
        Answered("next day: average pain 9 against baseline 6", "next_day", {"pain_avg_24h": 9}),
        Answered("next day: average pain 8 against baseline 6", "next_day", {"pain_avg_24h": 8}),
    ),
    RedFlag(
        "SPEC.md: /report asks whether it feels urgent",
        "report_feels_urgent",
        "urgent",
        Answered(
            "report: nausea ticked, feels urgent: yes",
            "report",
            {**ticked(nausea="mild"), "fluids_not_kept_down": "no", "feels_urgent": "yes"},
        ),
        Answered(
            "report: nausea ticked, severe, feels urgent: no",
            "report",
            {**ticked(nausea="severe"), "fluids_not_kept_down": "no", "feels_urgent": "no"},
        ),
    ),
    # ---- REVIEW ---------------------------------------------------------------------------
    RedFlag(
        "A moderate side effect still present on day 3",
        "side_effect_day_3",
        "review",
        Answered("day 3: dizziness ticked, moderate", "day_3", ticked(dizziness="moderate")),
        Answered("day 3: dizziness ticked, mild", "day_3", ticked(dizziness="mild")),
    ),
    RedFlag(
        "Mild new urinary frequency",
        "urinary_frequency",
        "review",
        Answered(
            "next day: frequency ticked, mild; not at baseline",
            "next_day",
            urine(frequency="mild"),
        ),
        Answered(
            "next day: frequency ticked, mild; already ticked at baseline",
            "next_day",
            urine(frequency="mild"),
            baseline={**BASELINE, **urine(frequency="mild")},
        ),
    ),
    RedFlag(
        "Mood 3 or more points below baseline",
        "mood_much_worse",
        "review",
        Answered("next day: mood 3 against baseline 6", "next_day", {"mood": 3}),
        Answered("next day: mood 4 against baseline 6", "next_day", {"mood": 4}),
    ),
    RedFlag(
        "Mood worse 2 check-ins running",
        "mood_worse_twice",
        "review",
        Answered(
            "week 1: mood 5, next day mood 5, against baseline 6",
            "week_1",
            {"mood": 5},
            earlier=({"mood": 5},),
        ),
        Answered(
            "week 1: mood 5, next day mood 6, against baseline 6",
            "week_1",
            {"mood": 5},
            earlier=({"mood": 6},),
        ),
    ),
    RedFlag(
        "Pain 2 or more points worse than baseline, 2 check-ins running",
        "pain_worse_twice",
        "review",
        Answered(
            "next day: average pain 8, evening pain 8, against baseline 6",
            "next_day",
            {"pain_avg_24h": 8},
            earlier=({"pain_now": 8},),
        ),
        Answered(
            "next day: average pain 8, evening pain 7, against baseline 6",
            "next_day",
            {"pain_avg_24h": 8},
            earlier=({"pain_now": 7},),
        ),
    ),
    RedFlag(
        "Sleep 2 or more points worse than baseline, 2 check-ins running",
        "sleep_worse_twice",
        "review",
        Answered(
            "week 1: sleep very poor, next day very poor, against baseline fair",
            "week_1",
            {"sleep_7d": "1"},
            earlier=({"sleep": "1"},),
        ),
        Answered(
            "week 1: sleep very poor, next day poor, against baseline fair",
            "week_1",
            {"sleep_7d": "1"},
            earlier=({"sleep": "2"},),
        ),
    ),
    RedFlag(
        "No 30 % or more pain reduction by day 7 (non-responder)",
        "no_response_day_7",
        "review",
        Answered(
            "week 1: pain 5 against baseline 7 (29 % reduction)",
            "week_1",
            {"pain_avg_7d": 5},
            baseline={**BASELINE, "pain_avg_24h": 7},
        ),
        Answered(
            "week 1: pain 7 against baseline 10 (30 % reduction)",
            "week_1",
            {"pain_avg_7d": 7},
            baseline={**BASELINE, "pain_avg_24h": 10},
        ),
    ),
    RedFlag(
        "Two later check-ins missed, and each one missed after that",
        "two_missed",
        "review",
        Missed("week 2 closed unanswered, the second missed in a row", "week_2", 2),
        Missed("week 2 closed unanswered, the first missed", "week_2", 1),
    ),
    RedFlag(
        "Relief wearing off: pain back within 30 % of baseline on 2 check-ins in a row after a"
        " response",
        "relief_wearing_off",
        "review",
        Answered(
            "week 2: pain 5 after 3 then 5, against baseline 6 (50 %, then 17 % twice)",
            "week_2",
            {"pain_avg_7d": 5},
            earlier=({"pain_now": 3}, {"pain_avg_24h": 5}),
        ),
        Answered(
            "week 2: pain 4 after 3 then 5, against baseline 6 (the last still 33 %)",
            "week_2",
            {"pain_avg_7d": 4},
            earlier=({"pain_now": 3}, {"pain_avg_24h": 5}),
        ),
    ),
    RedFlag(
        "Side effects that are severe (CLINICAL.md, side-effect timing: report them)",
        "side_effect_severe",
        "review",
        Answered("evening: dizziness ticked, severe", "evening", ticked(dizziness="severe")),
        Answered("evening: dizziness ticked, moderate", "evening", ticked(dizziness="moderate")),
    ),
    RedFlag(
        "SPEC.md: a problem report reaches staff even when nothing in it alerted",
        "report_filed",
        "review",
        Finished("report answered to the end, nothing ticked", "report", ticked()),
        Finished("week 2 check-in answered to the end, nothing ticked", "week_2", ticked()),
    ),
    RedFlag(
        "SPEC.md: an abandoned report still counts for what was answered",
        "report_unfinished",
        "review",
        Missed("report left after the side effects", "report", 0, ticked(nausea="mild")),
        Missed(
            "week 2 check-in left unfinished after the side effects",
            "week_2",
            0,
            ticked(nausea="mild"),
        ),
    ),
    RedFlag(
        "Anything the patient writes in their own words (relayed to staff as written)",
        "patient_words",
        "review",
        Wrote("“I feel a bit tired today”", "I feel a bit tired today"),
        Wrote("“I want to kill myself” (raised to an emergency instead)", "I want to kill myself"),
    ),
    # ---- Risk phrases in the patient's own words -----------------------------------------
    RedFlag(
        "Risk phrases: suicide or self-harm (as F-S 4-6)",
        "words_suicide_self_harm",
        "emergency",
        Wrote("“I want to kill myself”", "I want to kill myself"),
        Wrote("“This pain is killing me”", "This pain is killing me"),
    ),
    RedFlag(
        "SPEC.md: risk phrases: overdose",
        "words_overdose",
        "emergency",
        Wrote("“I took all my tablets”", "I took all my tablets"),
        Wrote("“I took my tablets as prescribed”", "I took my tablets as prescribed"),
    ),
    RedFlag(
        "Risk phrases: chest pain",
        "words_chest_pain",
        "emergency",
        Wrote("“I have chest pain since lunch”", "I have chest pain since lunch"),
        Wrote(
            "“My chest is fine, the pain is in my legs”", "My chest is fine, the pain is in my legs"
        ),
    ),
    RedFlag(
        "Risk phrases: cannot breathe",
        "words_breathing",
        "emergency",
        Wrote("“I can't breathe properly”", "I can't breathe properly"),
        Wrote("“I can breathe fine now”", "I can breathe fine now"),
    ),
    RedFlag(
        "SPEC.md: risk phrases “and the like”: fainting, unconsciousness or a seizure",
        "words_collapse_seizure",
        "emergency",
        Wrote("“My husband says I passed out”", "My husband says I passed out"),
        Wrote("“I can't wait for the next infusion”", "I can't wait for the next infusion"),
    ),
]


def fires_id(rule: str) -> str:
    return f"{TEST_FILE}::test_red_flag_fires[{rule}]"


def near_miss_id(rule: str) -> str:
    return f"{TEST_FILE}::test_red_flag_near_miss[{rule}]"


@pytest.mark.parametrize("flag", RED_FLAGS, ids=lambda flag: flag.rule)
def test_red_flag_fires(flag: RedFlag) -> None:
    assert (flag.rule, flag.severity) in fired(flag.fires)


@pytest.mark.parametrize("flag", RED_FLAGS, ids=lambda flag: flag.rule)
def test_red_flag_near_miss(flag: RedFlag) -> None:
    assert flag.rule not in {rule for rule, _ in fired(flag.near_miss)}


def test_every_red_flag_has_a_rule_with_its_severity() -> None:
    rules = {rule.id: rule.severity.value for rule in PROTOCOL.rules}
    assert {flag.rule: rules.get(flag.rule) for flag in RED_FLAGS} == {
        flag.rule: flag.severity for flag in RED_FLAGS
    }


def test_every_rule_of_the_protocol_is_a_documented_red_flag() -> None:
    documented = {flag.rule for flag in RED_FLAGS}
    assert [rule.id for rule in PROTOCOL.rules if rule.id not in documented] == []
    assert len(documented) == len(RED_FLAGS), "a rule appears in two rows"


def safety_doc_rows() -> list[list[str]]:
    """The cells of each row of docs/clinical-safety.md's table, below its header."""
    lines = SAFETY_DOC.read_text(encoding="utf-8").splitlines()
    table = [line.strip() for line in lines if line.lstrip().startswith("|")]
    return [[text.strip() for text in line.strip("|").split("|")] for line in table[2:]]


def cell(test_id: str, case: Case) -> str:
    return f"`{test_id}`: {case.what}"


def test_the_clinical_safety_document_matches_the_table() -> None:
    documented = [
        (flag, rule.strip("`"), severity, fires, near_miss)
        for flag, rule, severity, fires, near_miss in safety_doc_rows()
    ]
    expected = [
        (
            flag.flag,
            flag.rule,
            flag.severity,
            cell(fires_id(flag.rule), flag.fires),
            cell(near_miss_id(flag.rule), flag.near_miss),
        )
        for flag in RED_FLAGS
    ]
    assert documented == expected
