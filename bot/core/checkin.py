"""The flow of one check-in: which question comes next, and what an answer means.

Answers are plain values: an int for a scale, an option code for a choice, "yes"/"no",
the text for free text (None when the patient skipped it), and for a multi question a dict
of ticked option code to severity code (None until the patient gives the severity, or when
the question has no severities); an empty dict is "None of these".
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.protocol import Protocol, Question, QuestionKind, Step

MultiAnswer = dict[str, str | None]
AnswerValue = int | str | MultiAnswer | None
Answers = Mapping[str, AnswerValue]

# The exclusive "None of these" box of a checklist, as it is kept among the ticked codes
# (option codes are letters, digits and "_", so it is never one of them).
NONE_OF_THESE = "-"
# A free-text question the patient skipped: an explicit answer, never mistaken for text.
SKIPPED = None


class InvalidAnswer(ValueError):
    """An answer that does not fit its question."""


class NothingTicked(InvalidAnswer):
    """Done on a checklist with nothing ticked, not even "None of these"."""


def is_asked(question: Question, answers: Answers) -> bool:
    """Whether the question applies, given the answers so far (its ask_if condition)."""
    condition = question.ask_if
    if condition is None:
        return True
    earlier = answers.get(condition.question)
    if condition.includes:
        return isinstance(earlier, dict) and any(code in earlier for code in condition.includes)
    return earlier == condition.equals


def asked_questions(protocol: Protocol, step: Step, answers: Answers) -> list[Question]:
    """The step's questions that apply given the answers so far, in order."""
    questions = [protocol.questions[qid] for qid in step.questions]
    return [q for q in questions if is_asked(q, answers)]


def is_complete(question: Question, value: AnswerValue) -> bool:
    """Whether a given answer needs nothing more (a ticked item may still lack its severity)."""
    if question.kind is QuestionKind.MULTI and question.severities:
        return isinstance(value, dict) and all(s is not None for s in value.values())
    return True


def is_answered(question: Question, answers: Answers) -> bool:
    """Whether the question has a complete answer among `answers` (a skip is one)."""
    return question.id in answers and is_complete(question, answers[question.id])


def next_question(protocol: Protocol, step: Step, answers: Answers) -> Question | None:
    """The first applicable question without a complete answer; None when all are done."""
    for question in asked_questions(protocol, step, answers):
        if not is_answered(question, answers):
            return question
    return None


def no_longer_asked(protocol: Protocol, step: Step, answers: Answers) -> list[str]:
    """Answered follow-up questions that a changed answer made not apply any more."""
    asked = {q.id for q in asked_questions(protocol, step, answers)}
    return [qid for qid in step.questions if qid in answers and qid not in asked]


def summary_questions(protocol: Protocol, step: Step, answers: Answers) -> list[Question]:
    """The questions shown in the end-of-check-in summary: every one asked and answered."""
    return [q for q in asked_questions(protocol, step, answers) if is_answered(q, answers)]


def previous_question(
    protocol: Protocol, step: Step, answers: Answers, current: Question
) -> Question | None:
    """The applicable question answered just before `current`, for "change last answer"."""
    asked = asked_questions(protocol, step, answers)
    ids = [q.id for q in asked]
    if current.id not in ids:
        return None
    earlier = [q for q in asked[: ids.index(current.id)] if q.id in answers]
    return earlier[-1] if earlier else None


def progress(
    protocol: Protocol, step: Step, answers: Answers, current: Question
) -> tuple[int, int]:
    """(position of `current`, number of questions asked) counting only applicable ones."""
    ids = [q.id for q in asked_questions(protocol, step, answers)]
    return (ids.index(current.id) + 1 if current.id in ids else len(ids), len(ids))


def single_answer(question: Question, code: str) -> AnswerValue:
    """Validate a tapped answer code for a scale, choice or yes/no question."""
    if question.kind in (QuestionKind.MULTI, QuestionKind.TEXT):
        raise InvalidAnswer(f"{question.id} is not answered with a single tap")
    if code not in {c.value for c in question.choices}:
        raise InvalidAnswer(f"{code!r} is not an answer to {question.id}")
    return int(code) if question.kind is QuestionKind.SCALE else code


def skip_answer(question: Question) -> None:
    """Validate skipping a question: only free-text questions can be skipped."""
    if question.kind is not QuestionKind.TEXT:
        raise InvalidAnswer(f"{question.id} cannot be skipped")
    return SKIPPED


def text_answer(question: Question, text: str) -> str:
    """Validate a free-text answer."""
    if question.kind is not QuestionKind.TEXT:
        raise InvalidAnswer(f"{question.id} is answered with the buttons")
    cleaned = text.strip()
    if not cleaned:
        raise InvalidAnswer("empty answer")
    if len(cleaned) > question.max_length:
        raise InvalidAnswer(f"longer than {question.max_length} characters")
    return cleaned


def set_tick(question: Question, selected: list[str], code: str, ticked: bool) -> list[str]:
    """Tick (or untick) one box of a multi question; returns the new selection in order.

    "None of these" (NONE_OF_THESE) is exclusive: ticking it unticks every item, and
    ticking an item unticks it. Setting rather than flipping makes a repeated tap (or a
    replayed update) harmless.
    """
    if question.kind is not QuestionKind.MULTI or (
        code != NONE_OF_THESE and question.option(code) is None
    ):
        raise InvalidAnswer(f"{code!r} is not an option of {question.id}")
    if code == NONE_OF_THESE:
        return [NONE_OF_THESE] if ticked else []
    chosen = set(selected) | {code} if ticked else set(selected) - {code}
    return [o.value for o in question.options if o.value in chosen]  # drops NONE_OF_THESE


def multi_answer(
    question: Question, selected: list[str], earlier: AnswerValue = None
) -> MultiAnswer:
    """The stored answer when the patient taps Done: every ticked item, severities to come.

    An item still ticked from the `earlier` answer (the checklist asked again) keeps the
    severity given then. "None of these" is the empty answer; nothing ticked at all is no
    answer (NothingTicked).
    """
    if not selected:
        raise NothingTicked(f"nothing ticked for {question.id}")
    for code in selected:
        if code != NONE_OF_THESE and question.option(code) is None:
            raise InvalidAnswer(f"{code!r} is not an option of {question.id}")
    kept = earlier if isinstance(earlier, dict) else {}
    return {o.value: kept.get(o.value) for o in question.options if o.value in selected}


def ticks_of(value: AnswerValue) -> list[str]:
    """The boxes to show ticked when a stored checklist answer is asked again."""
    if not isinstance(value, dict):
        return []
    return list(value) or [NONE_OF_THESE]


def item_needing_severity(question: Question, value: AnswerValue | None) -> str | None:
    """The first ticked item of a multi answer still without a severity."""
    if not isinstance(value, dict) or not question.severities:
        return None
    return next((item for item, severity in value.items() if severity is None), None)


def with_severity(question: Question, value: MultiAnswer, item: str, code: str) -> MultiAnswer:
    """The multi answer with `item`'s severity set."""
    if item not in value or question.severity(code) is None:
        raise InvalidAnswer(f"cannot set severity {code!r} of {item!r}")
    return {**value, item: code}


def describe_answer(question: Question, value: AnswerValue) -> str:
    """The answer in words, as staff and the patient read it."""
    if value is SKIPPED or value == "":  # "" is how a skip was stored before
        return "skipped"
    if isinstance(value, dict):
        if not value:
            return question.nothing_ticked
        parts = []
        for item, severity in value.items():
            option = question.option(item)
            label = option.label if option else item
            level = question.severity(severity) if severity else None
            parts.append(f"{label} ({level.label.lower()})" if level else label)
        return "; ".join(parts)
    if question.kind is QuestionKind.SCALE:
        return f"{value}/{question.max}"
    match = next((c for c in question.choices if c.value == value), None)
    return match.label if match else str(value)


def measure_value(protocol: Protocol, measure_id: str, answers: Answers) -> float | None:
    """The measure's value in a set of answers: the first of its questions answered."""
    measure = protocol.measures[measure_id]
    for qid in measure.questions:
        if qid in answers:
            return numeric(protocol.questions[qid], answers[qid])
    return None


def baseline_value(protocol: Protocol, measure_id: str, baseline: Answers) -> float | None:
    """The measure's baseline: the answer to its baseline question in the baseline check-in."""
    question_id = protocol.measures[measure_id].baseline_question
    if question_id not in baseline:
        return None
    return numeric(protocol.questions[question_id], baseline[question_id])


def numeric(question: Question, value: AnswerValue) -> float | None:
    """A scale or scored choice answer as a number."""
    if isinstance(value, bool | dict):
        return None
    if isinstance(value, int):
        return float(value)
    option = question.option(value)
    return option.number if option else None
