"""Alert rule evaluation: which rules a check-in's answers (or its absence) set off."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

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
    Completed,
    Missed,
    MissedInARow,
    Protocol,
    Question,
    ReductionBelow,
    ReliefLost,
    Rule,
    Severity,
    Words,
    WorseThanBaseline,
)

SUMMARY_LIMIT = 3000  # characters of a patient's words quoted to staff (Telegram: 4096)


@dataclass(frozen=True)
class Match:
    """A rule that fired, with what the patient answered that set it off.

    `downgraded_to`, when set, is the severity to alert at instead of the rule's own.
    """

    rule: Rule
    summary: str
    downgraded_to: Severity | None = None

    @property
    def severity(self) -> Severity:
        """The severity to alert at."""
        return self.downgraded_to or self.rule.severity


@dataclass(frozen=True)
class AnswerContext:
    """What the rules look at when an answer is stored.

    `answers` are this check-in's answers so far; `baseline` the answers of the infusion's
    baseline check-in (empty if none), or of the previous infusion's when this one has none
    (`baseline_borrowed`); `earlier` the answers of the infusion's earlier completed
    check-ins after the baseline, oldest first.
    """

    step_id: str
    answers: Answers
    baseline: Answers
    earlier: Sequence[Answers] = ()
    is_baseline: bool = False
    baseline_borrowed: bool = False
    # For a report: the step of the latest infusion it falls in, so that rules kept to
    # certain steps (still present at +24 h, moderate on day 3) apply to it as well.
    falls_in: str | None = None
    # How long after the infusion's start the answer came: effects the protocol expects
    # that early do not alert.
    since_start: timedelta | None = None


def evaluate_answers(protocol: Protocol, context: AnswerContext) -> list[Match]:
    """Every answer-driven rule that matches, most severe first."""
    matches = []
    for rule in protocol.rules:
        if not _applies(rule, context):
            continue
        summary = _match_rule(protocol, rule, context)
        if summary is not None:
            matches.append(Match(rule, summary))
    return sorted(matches, key=lambda m: m.rule.severity.rank)


@dataclass(frozen=True)
class MissedContext:
    """A check-in that closed unfinished.

    `missed_in_a_row` counts this one (0 when it was answered in part); `mostly_at_night`
    says most of its window lay in the patient's quiet hours (such a miss is reviewed, not
    urgent); `last_answer` is when the patient last answered anything, in words;
    `answered` holds what an unfinished report did get.
    """

    step_id: str
    missed_in_a_row: int
    mostly_at_night: bool = False
    last_answer: str | None = None
    answered: Answers = field(default_factory=dict)


def emergency_when_ticked(protocol: Protocol, question_id: str, item: str) -> bool:
    """Whether ticking this checklist item, before any severity, can set off an emergency."""
    return any(
        rule.severity is Severity.EMERGENCY
        and isinstance(rule.condition, AnswerCondition)
        and question_id in rule.condition.questions
        and item in rule.condition.any_of
        and rule.condition.min_severity is None
        for rule in protocol.rules
    )


def evaluate_missed(protocol: Protocol, context: MissedContext) -> list[Match]:
    """Rules set off by a check-in closing unanswered (or a report left unfinished).

    A run of missed check-ins alerts once it reaches the rule's count and again for every
    further one, so a silent patient never stays silent to staff.
    """
    since = (
        f"; last answer {context.last_answer}" if context.last_answer else " (nothing answered yet)"
    )
    night = Severity.REVIEW if context.mostly_at_night else None
    matches = []
    for rule in protocol.rules:
        if not rule.applies_to(context.step_id):
            continue
        condition = rule.condition
        unanswered = context.missed_in_a_row or context.step_id == protocol.report.id
        if isinstance(condition, Missed) and unanswered:
            title = protocol.step(context.step_id).title
            given = _describe_all(protocol, context.answered)
            what = f"Answered only: {given}" if given else f"No answer{since}"
            summary = f"{title}: {what}" + (" (window mostly at night)" if night else "")
            matches.append(Match(rule, summary, _milder(rule, night)))
        elif isinstance(condition, MissedInARow) and context.missed_in_a_row >= condition.count:
            summary = f"{context.missed_in_a_row} check-ins missed in a row{since}"
            matches.append(Match(rule, summary))
    return sorted(matches, key=lambda m: m.severity.rank)


def evaluate_completed(protocol: Protocol, step_id: str, answers: Answers) -> list[Match]:
    """Rules for a check-in answered to the end that raised no other alert (a report)."""
    summary = f"Answered: {_describe_all(protocol, answers) or 'nothing'}"
    return [
        Match(rule, summary)
        for rule in protocol.rules
        if isinstance(rule.condition, Completed) and rule.applies_to(step_id)
    ]


def _describe_all(protocol: Protocol, answers: Answers) -> str:
    parts = []
    for qid, value in answers.items():
        question = protocol.questions.get(qid)
        if question is not None:
            parts.append(f"{question.label}: {describe_answer(question, value) or '—'}")
    return "; ".join(parts)


def _milder(rule: Rule, severity: Severity | None) -> Severity | None:
    """`severity` when it is milder than the rule's own, else None (keep the rule's)."""
    if severity is None or severity.rank <= rule.severity.rank:
        return None
    return severity


def evaluate_words(protocol: Protocol, step_id: str | None, text: str) -> list[Match]:
    """Rules set off by something the patient wrote in their own words.

    The risk-phrase rules that match, most severe first; when none does, the plain relay
    rule (a `words` rule without phrases). Every match quotes the words to staff as written.
    """
    normal = normalise(text)
    quoted = text if len(text) <= SUMMARY_LIMIT else text[:SUMMARY_LIMIT] + " […]"
    risky, relay = [], []
    for rule in protocol.rules:
        condition = rule.condition
        if not isinstance(condition, Words) or (step_id and not rule.applies_to(step_id)):
            continue
        if not condition.phrases:
            relay.append(Match(rule, f"“{quoted}”"))
            continue
        hit = _phrase_in(condition, normal)
        if hit is not None:
            risky.append(Match(rule, f"“{quoted}” (risk phrase: {hit})"))
    return sorted(risky, key=lambda m: m.severity.rank) or relay


def normalise(text: str) -> str:
    """Text as risk phrases are compared: lower case, no accents, straight quotes, one space."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.replace("’", "'").replace("‘", "'").replace("`", "'")
    return " ".join(plain.split())


def _phrase_in(condition: Words, normal_text: str) -> str | None:
    for phrases in condition.phrases.values():
        for phrase in phrases:
            if _phrase_pattern(phrase).search(normal_text):
                return phrase
    return None


@functools.cache
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """A risk phrase as a whole-word pattern over normalised text (built once per phrase)."""
    return re.compile(rf"(?<!\w){re.escape(normalise(phrase))}(?!\w)")


def _applies(rule: Rule, context: AnswerContext) -> bool:
    if rule.applies_to(context.step_id):
        return True
    return context.falls_in is not None and rule.applies_to(context.falls_in)


def _match_rule(protocol: Protocol, rule: Rule, context: AnswerContext) -> str | None:
    condition = rule.condition
    if isinstance(condition, AnswerCondition):
        return _match_answer(protocol, condition, context)
    if context.is_baseline or isinstance(condition, Missed | MissedInARow | Completed | Words):
        return None
    if isinstance(condition, WorseThanBaseline):
        return _match_worse(protocol, condition, context)
    if isinstance(condition, ReductionBelow):
        return _match_reduction(protocol, condition, context)
    return _match_relief_lost(protocol, condition, context)


def _match_answer(
    protocol: Protocol, condition: AnswerCondition, context: AnswerContext
) -> str | None:
    answers = context.answers
    hits = []
    for qid in condition.questions:
        question = protocol.questions[qid]
        if qid in answers and is_asked(question, answers):
            before = context.baseline.get(qid) if condition.new_only else None
            value = _unexpected(protocol, question, answers[qid], context.since_start)
            hit = _answer_hits(question, condition, value, before)
            if hit is not None:
                hits.append(f"{question.label}: {hit}")
    return "; ".join(hits) or None


def _unexpected(
    protocol: Protocol, question: Question, value: AnswerValue, since_start: timedelta | None
) -> AnswerValue:
    """A checklist answer without the items the protocol expects this soon after the start."""
    if not isinstance(value, dict) or since_start is None:
        return value
    ranks = {s.value: i for i, s in enumerate(question.severities)}
    kept = dict(value)
    for expected in protocol.expected:
        if expected.question != question.id or since_start > expected.within.approx:
            continue
        for item in expected.items:
            severity = kept.get(item, "absent")
            mild_enough = severity is None or (
                severity in ranks and ranks[severity] <= ranks[expected.max_severity]
            )
            if item in kept and mild_enough:
                del kept[item]
    return kept


def _answer_hits(
    question: Question,
    condition: AnswerCondition,
    value: AnswerValue,
    at_baseline: AnswerValue | None = None,
) -> str | None:
    """The part of the answer that meets the condition, in words; None if it does not.

    Checklist items in `at_baseline` (for `new_only` rules) are not new, so they do not count.
    """
    if isinstance(value, dict):
        ranks = {s.value: i for i, s in enumerate(question.severities)}
        floor = ranks.get(condition.min_severity, -1) if condition.min_severity else None
        known = at_baseline if isinstance(at_baseline, dict) else {}
        picked = {
            item: severity
            for item, severity in value.items()
            if item in condition.any_of
            and item not in known
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


def _baseline_words(base: float, context: AnswerContext) -> str:
    borrowed = " (previous infusion's: this one has none)" if context.baseline_borrowed else ""
    return f"baseline {_fmt(base)}{borrowed}"


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
    return f"{condition.measure.capitalize()} {values} against {_baseline_words(base, context)}"


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
    return f"{name} {_fmt(now)} against {_baseline_words(base, context)}: {percent:.0f} % better"


def _match_relief_lost(
    protocol: Protocol, condition: ReliefLost, context: AnswerContext
) -> str | None:
    """A response (improvement >= percent) followed by `consecutive` check-ins below it.

    It fires once per loss of relief: on the check-in that completes the run.
    """
    pair = _baseline_and_now(protocol, condition.measure, context)
    if pair is None:
        return None
    base, now = pair
    worse = protocol.measures[condition.measure].higher_is_worse
    values = [*_earlier_values(protocol, condition.measure, context), now]
    window = values[-(condition.consecutive + 1) :]
    if len(window) < condition.consecutive + 1:
        return None
    improvements = [percent_improvement(base, value, worse) for value in window]
    if any(p is None for p in improvements):
        return None
    response, *after = improvements
    if response < condition.percent or not all(p < condition.percent for p in after):
        return None
    name = condition.measure.capitalize()
    run = ", ".join(_fmt(v) for v in window[1:])
    return (
        f"{name} {run} against {_baseline_words(base, context)}: {after[-1]:.0f} % better,"
        f" down from {response:.0f} %"
    )
