"""Alert rule evaluation: which rules a check-in's answers (or its absence) set off."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.checkin import (
    Answers,
    AnswerValue,
    baseline_value,
    describe_answer,
    is_asked,
    measure_value,
    numeric,
)
from bot.core.outcomes import percent_improvement, points_worse
from bot.core.protocol import (
    AnswerCondition,
    Missed,
    MissedInARow,
    Protocol,
    Question,
    ReductionBelow,
    ReliefLost,
    Rule,
    WorseThanBaseline,
)


@dataclass(frozen=True)
class Match:
    """A rule that fired, with what the patient answered that set it off."""

    rule: Rule
    summary: str


@dataclass(frozen=True)
class AnswerContext:
    """What the rules look at when an answer is stored.

    `answers` are this check-in's answers so far; `baseline` the answers of the infusion's
    baseline check-in (empty if none); `earlier` the answers of the infusion's earlier
    completed check-ins after the baseline, oldest first.
    """

    step_id: str
    answers: Answers
    baseline: Answers
    earlier: Sequence[Answers] = ()
    is_baseline: bool = False


def evaluate_answers(protocol: Protocol, context: AnswerContext) -> list[Match]:
    """Every answer-driven rule that matches, most severe first."""
    matches = []
    for rule in protocol.rules:
        if not rule.applies_to(context.step_id):
            continue
        summary = _match_rule(protocol, rule, context)
        if summary is not None:
            matches.append(Match(rule, summary))
    return sorted(matches, key=lambda m: m.rule.severity.rank)


def evaluate_missed(protocol: Protocol, step_id: str, missed_in_a_row: int) -> list[Match]:
    """Rules set off by a check-in closing unanswered; `missed_in_a_row` counts this one."""
    matches = []
    for rule in protocol.rules:
        if not rule.applies_to(step_id):
            continue
        condition = rule.condition
        if isinstance(condition, Missed):
            matches.append(Match(rule, f"No answer to the {protocol.step(step_id).title}"))
        elif isinstance(condition, MissedInARow) and missed_in_a_row == condition.count:
            matches.append(Match(rule, f"{missed_in_a_row} check-ins missed in a row"))
    return sorted(matches, key=lambda m: m.rule.severity.rank)


def _match_rule(protocol: Protocol, rule: Rule, context: AnswerContext) -> str | None:
    condition = rule.condition
    if isinstance(condition, AnswerCondition):
        return _match_answer(protocol, condition, context.answers)
    if context.is_baseline or isinstance(condition, Missed | MissedInARow):
        return None
    if isinstance(condition, WorseThanBaseline):
        return _match_worse(protocol, condition, context)
    if isinstance(condition, ReductionBelow):
        return _match_reduction(protocol, condition, context)
    return _match_relief_lost(protocol, condition, context)


def _match_answer(protocol: Protocol, condition: AnswerCondition, answers: Answers) -> str | None:
    hits = []
    for qid in condition.questions:
        question = protocol.questions[qid]
        if qid in answers and is_asked(question, answers):
            hit = _answer_hits(question, condition, answers[qid])
            if hit is not None:
                hits.append(f"{question.label}: {hit}")
    return "; ".join(hits) or None


def _answer_hits(question: Question, condition: AnswerCondition, value: AnswerValue) -> str | None:
    """The part of the answer that meets the condition, in words; None if it does not."""
    if isinstance(value, dict):
        ranks = {s.value: i for i, s in enumerate(question.severities)}
        floor = ranks.get(condition.min_severity, -1) if condition.min_severity else None
        picked = {
            item: severity
            for item, severity in value.items()
            if item in condition.any_of
            and (floor is None or (severity is not None and ranks[severity] >= floor))
        }
        return describe_answer(question, picked) if picked else None
    if condition.equals is not None:
        return describe_answer(question, value) if value == condition.equals else None
    if condition.any_of:
        return describe_answer(question, value) if value in condition.any_of else None
    number = numeric(question, value)
    if number is None:
        return None
    low_ok = condition.at_least is None or number >= condition.at_least
    high_ok = condition.at_most is None or number <= condition.at_most
    return describe_answer(question, value) if low_ok and high_ok else None


def _baseline_and_now(
    protocol: Protocol, measure_id: str, context: AnswerContext
) -> tuple[float, float] | None:
    now = measure_value(protocol, measure_id, context.answers)
    base = baseline_value(protocol, measure_id, context.baseline)
    return None if now is None or base is None else (base, now)


def _earlier_values(protocol: Protocol, measure_id: str, context: AnswerContext) -> list[float]:
    values = (measure_value(protocol, measure_id, answers) for answers in context.earlier)
    return [v for v in values if v is not None]


def _fmt(number: float) -> str:
    return f"{number:g}"


def _match_worse(
    protocol: Protocol, condition: WorseThanBaseline, context: AnswerContext
) -> str | None:
    pair = _baseline_and_now(protocol, condition.measure, context)
    if pair is None:
        return None
    base, now = pair
    worse = protocol.measures[condition.measure].higher_is_worse
    run = [*_earlier_values(protocol, condition.measure, context), now]
    recent = run[-condition.consecutive :]
    if len(recent) < condition.consecutive:
        return None
    if not all(points_worse(base, value, worse) >= condition.points for value in recent):
        return None
    values = ", ".join(_fmt(v) for v in recent)
    return f"{condition.measure.capitalize()} {values} against baseline {_fmt(base)}"


def _match_reduction(
    protocol: Protocol, condition: ReductionBelow, context: AnswerContext
) -> str | None:
    pair = _baseline_and_now(protocol, condition.measure, context)
    if pair is None:
        return None
    base, now = pair
    percent = percent_improvement(base, now, protocol.measures[condition.measure].higher_is_worse)
    if percent is None or percent >= condition.percent:
        return None
    name = condition.measure.capitalize()
    return f"{name} {_fmt(now)} against baseline {_fmt(base)}: {percent:.0f} % better"


def _match_relief_lost(
    protocol: Protocol, condition: ReliefLost, context: AnswerContext
) -> str | None:
    pair = _baseline_and_now(protocol, condition.measure, context)
    earlier = _earlier_values(protocol, condition.measure, context)
    if pair is None or not earlier:
        return None
    base, now = pair
    worse = protocol.measures[condition.measure].higher_is_worse
    before = percent_improvement(base, earlier[-1], worse)
    current = percent_improvement(base, now, worse)
    if before is None or current is None:
        return None
    if before >= condition.percent > current:
        name = condition.measure.capitalize()
        return (
            f"{name} {_fmt(now)} against baseline {_fmt(base)}: {current:.0f} % better, "
            f"down from {before:.0f} %"
        )
    return None
