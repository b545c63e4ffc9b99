"""Check-ins: sending them when due, taking answers, reminding, and closing them.

Every change and the messages it causes are one transaction: the question a patient sees is
recorded on the check-in before the message is even queued, so a tap can never arrive
"too early", and repeated taps find the state already moved on and change nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import keyboards, texts
from bot.core import checkin as flow
from bot.core.protocol import Protocol, Question, QuestionKind, ReliefLost, Severity, Step
from bot.core.rules import (
    AnswerContext,
    Match,
    MissedContext,
    emergency_when_ticked,
    evaluate_answers,
    evaluate_completed,
    evaluate_missed,
    evaluate_words,
)
from bot.core.schedule import (
    quiet_hours,
    quiet_share,
    reminder_time,
    safety_part,
    steps_with_safety_part,
)
from bot.keyboards import Action, Callback, Keyboard
from bot.runtime import Runtime
from bot.services import alerts, messages
from bot.services.messages import Purpose
from bot.voice import Voice
from storage import repository as repo
from storage.models import (
    OPEN_CHECK_IN,
    RELAYED,
    UNFINISHED_CHECK_IN,
    CheckIn,
    CheckInStatus,
    Patient,
    PatientStatus,
)

log = logging.getLogger(__name__)


# -- showing the current question ------------------------------------------------------


def present(
    rt: Runtime,
    session: Session,
    now: datetime,
    check_in: CheckIn,
    *,
    prefix: str | None = None,
    purpose: Purpose = Purpose.REPLY,
    clear_previous: bool = True,
    answers: flow.Answers | None = None,
) -> bool:
    """Queue the message for where the check-in stands now, with its buttons: the current
    question, or the summary to send once every question is answered; in the patient's
    language as it is now (a /language change shows in the next question).

    `answers`, when the caller has them, saves reading them again. Returns False when
    there is nothing to show (finished, or no chat to send to).
    """
    patient = repo.get_patient(session, check_in.patient_id)
    if check_in.status not in UNFINISHED_CHECK_IN or patient.chat_id is None:
        return False
    if answers is None:
        answers = repo.answers_of(session, check_in.id)
    voice = rt.voice(patient.language)
    step = step_of(voice.protocol, check_in)
    question = _current_question(voice.protocol, check_in, step, answers)
    if question is None and not answers:
        return False
    if question is None:
        text, keyboard = _render_summary(voice, check_in, step, answers)
    else:
        check_in.current_question = question.id
        if check_in.status == CheckInStatus.PENDING:
            check_in.status = CheckInStatus.SENT
            check_in.sent_at = now
        text, keyboard = _render(voice, check_in, step, question, answers)
    if prefix:
        text = f"{prefix}\n\n{text}"
    if clear_previous and check_in.message_id is not None:
        messages.clear(session, now, patient.chat_id, check_in.message_id)
    silent = purpose is Purpose.QUESTION and quiet_hours(rt.protocol).contains(
        now, patient_zone(rt, patient)
    )
    row = messages.send(
        session,
        now,
        patient.chat_id,
        voice.with_footer(text),
        purpose,
        keyboard,
        silent=silent,
        check_in_id=check_in.id,
    )
    check_in.message_id = None
    check_in.message_outbox_id = row.id
    return True


def step_of(protocol: Protocol, check_in: CheckIn) -> Step:
    """The check-in's step as asked: only its safety part once relief has worn off."""
    step = protocol.step(check_in.step_id)
    return safety_part(protocol, step) if check_in.safety_only else step


def _current_question(
    protocol: Protocol, check_in: CheckIn, step: Step, answers: flow.Answers
) -> Question | None:
    if check_in.current_question is not None:
        return protocol.questions.get(check_in.current_question)
    return flow.next_question(protocol, step, answers)


def at_summary(check_in: CheckIn) -> bool:
    """Whether every question is answered and the summary waits for Send (or a change)."""
    return check_in.status == CheckInStatus.IN_PROGRESS and check_in.current_question is None


def _render_summary(
    voice: Voice, check_in: CheckIn, step: Step, answers: flow.Answers
) -> tuple[str, Keyboard]:
    """`step` from `voice.protocol`: labels and title in the patient's language."""
    shown = flow.summary_questions(voice.protocol, step, answers)
    lines = [
        f"• {q.label}: {texts.summary_answer(answer_in_words(voice, q, answers[q.id]))}"
        for q in shown
    ]
    text = voice.say("summary", title=step.title, answers="\n".join(lines))
    return text, keyboards.summary_keyboard(voice, check_in.id, shown)


def answer_in_words(voice: Voice, question: Question, value: flow.AnswerValue) -> str:
    """An answer as the patient reads it (`question` in `voice`'s language), wherever they
    read it: the echo, the summary, /mydata."""
    if value is flow.SKIPPED or value == "":
        return voice.say("skipped" if question.optional else "skipped_answer")
    if value == {}:
        return voice.say("none_of_these")
    return flow.describe_answer(question, value)


def _render(
    voice: Voice, check_in: CheckIn, step: Step, question: Question, answers: flow.Answers
) -> tuple[str, Keyboard | None]:
    position, total = flow.progress(voice.protocol, step, answers, question)
    header = voice.say(
        "question",
        title=step.title,
        position=position,
        total=total,
        question=step.question_text(question),
    )
    back = flow.previous_question(voice.protocol, step, answers, question) is not None
    if question.kind is QuestionKind.MULTI:
        item = flow.item_needing_severity(question, answers.get(question.id))
        if item is not None and check_in.draft is None:
            index = [o.value for o in question.options].index(item)
            label = question.options[index].label
            return voice.say("severity_question", item=label), keyboards.severity_keyboard(
                check_in.id, question, index
            )
        keyboard = keyboards.multi_keyboard(voice, check_in.id, question, _draft(check_in), back)
        return header, keyboard
    if question.kind is QuestionKind.TEXT:
        keyboard = keyboards.text_keyboard(voice, check_in.id, question, back)
        return f"{header}\n\n{voice.say('expecting_text')}", keyboard
    return header, keyboards.single_answer_keyboard(voice, check_in.id, question, back)


# -- taking answers --------------------------------------------------------------------


@dataclass(frozen=True)
class Tap:
    """A button press on a check-in message, as the handler read it."""

    user_id: int
    chat_id: int
    message_id: int
    callback: Callback


class _Stale(Exception):
    """The press does not fit the check-in's state any more: nothing changes."""


def apply_button(rt: Runtime, session: Session, now: datetime, tap: Tap) -> str | None:
    """Apply a patient's button press and queue what follows; returns the press's answer."""
    check_in = repo.get_check_in(session, tap.callback.record_id)
    patient = repo.get_patient(session, check_in.patient_id) if check_in else None
    if patient is None or patient.telegram_user_id != tap.user_id:
        return rt.voice_of_user(session, tap.user_id).say("foreign_button")
    voice = rt.voice(patient.language)
    on_summary = tap.callback.action in (Action.SEND, Action.REVISE)
    try:
        if on_summary:
            return _apply_summary_action(rt, session, now, check_in, patient, tap, voice)
        question = _open_question(voice.protocol, check_in, patient, tap.callback)
        return _apply_action(rt, session, now, check_in, question, tap, voice)
    except (_Stale, flow.InvalidAnswer, IndexError):
        messages.clear(session, now, tap.chat_id, tap.message_id)
        if not on_summary:
            return voice.say("stale_button")
        still_open = check_in.status in OPEN_CHECK_IN
        return voice.say("summary_out_of_date" if still_open else "summary_closed")


def _open_question(
    protocol: Protocol, check_in: CheckIn, patient: Patient, callback: Callback
) -> Question:
    """The question the tap is for, from `protocol` (the patient's language)."""
    if (
        patient.status != PatientStatus.ACTIVE
        or check_in.status not in OPEN_CHECK_IN
        or check_in.current_question != callback.question_id
    ):
        raise _Stale
    question = protocol.questions.get(callback.question_id)
    if question is None:
        raise _Stale
    return question


def _apply_action(
    rt: Runtime,
    session: Session,
    now: datetime,
    check_in: CheckIn,
    question: Question,
    tap: Tap,
    voice: Voice,
) -> str | None:
    callback = tap.callback
    answers = repo.answers_of(session, check_in.id)
    if callback.action is Action.ANSWER:
        value = flow.single_answer(question, question.choices[callback.index].value)
        return _store(rt, session, now, check_in, question, value, tap, voice, before=answers)
    if callback.action in (Action.TOGGLE, Action.DONE) and (
        check_in.draft is None and question.id in answers
    ):
        raise _Stale  # the checklist was already sent with Done: that answer stands
    if callback.action is Action.TOGGLE:
        _tick(rt, session, now, check_in, question, answers, tap, voice)
        return None
    if callback.action is Action.DONE:
        try:
            value = flow.multi_answer(question, _draft(check_in), answers.get(question.id))
        except flow.NothingTicked:
            return voice.say("tick_something")  # the checklist stays as it is
        check_in.draft = None
        return _store(rt, session, now, check_in, question, value, tap, voice, before=answers)
    if callback.action is Action.SEVERITY:
        item = question.options[callback.index].value
        if flow.item_needing_severity(question, answers.get(question.id)) != item:
            raise _Stale
        severity = question.severities[callback.sub_index].value
        value = flow.with_severity(question, answers[question.id], item, severity)
        return _store(
            rt, session, now, check_in, question, value, tap, voice, before=answers, item=item
        )
    if callback.action is Action.BACK:
        return _go_back(rt, session, now, check_in, question, answers, tap, voice)
    if callback.action is Action.SKIP:
        skipped = flow.skip_answer(question)
        return _store(rt, session, now, check_in, question, skipped, tap, voice, before=answers)
    raise _Stale


def _apply_summary_action(
    rt: Runtime,
    session: Session,
    now: datetime,
    check_in: CheckIn,
    patient: Patient,
    tap: Tap,
    voice: Voice,
) -> str | None:
    """Send or change an answer from the summary; only while the summary is the newest."""
    if patient.status != PatientStatus.ACTIVE or not at_summary(check_in):
        raise _Stale
    if tap.callback.action is Action.SEND:
        return _send_answers(rt, session, now, check_in, tap, voice)
    answers = repo.answers_of(session, check_in.id)
    shown = flow.summary_questions(voice.protocol, step_of(voice.protocol, check_in), answers)
    question = next((q for q in shown if q.id == tap.callback.question_id), None)
    if question is None:
        raise _Stale
    notice = voice.say("changing", label=question.label)
    _ask_again(rt, session, now, check_in, question, answers, tap, notice)
    return None


def _ask_again(
    rt: Runtime,
    session: Session,
    now: datetime,
    check_in: CheckIn,
    question: Question,
    answers: flow.Answers,
    tap: Tap,
    notice: str,
) -> None:
    """Ask an answered question again (its boxes ticked as answered); the tapped message
    becomes `notice`. The new answer replaces the old one when it is given."""
    check_in.current_question = question.id
    earlier = answers.get(question.id)
    check_in.draft = json.dumps(flow.ticks_of(earlier)) if isinstance(earlier, dict) else None
    messages.edit(session, now, tap.chat_id, tap.message_id, notice)
    present(rt, session, now, check_in, clear_previous=False, answers=answers)


def _send_answers(
    rt: Runtime, session: Session, now: datetime, check_in: CheckIn, tap: Tap, voice: Voice
) -> str:
    """Send: the check-in is answered (once, whoever else taps), the patient thanked."""
    answers = repo.answers_of(session, check_in.id)
    summary, _ = _render_summary(voice, check_in, step_of(voice.protocol, check_in), answers)
    sent = repo.claim_check_in(
        session, check_in.id, (CheckInStatus.IN_PROGRESS,), CheckInStatus.ANSWERED
    )
    if sent is None:
        raise _Stale
    sent.completed_at = now
    sent.message_id = None
    messages.edit(session, now, tap.chat_id, tap.message_id, voice.say("sent", summary=summary))
    patient = repo.get_patient(session, sent.patient_id)
    due = next_due(session, patient.id, now)
    thanks = voice.say("thanks", next=next_check_in(voice, due, patient_zone(rt, patient)))
    messages.send(session, now, patient.chat_id, voice.with_footer(thanks), Purpose.REPLY)
    log.info("check-in %s sent from its summary", sent.id)
    return voice.say("answer_saved")


def _tick(
    rt: Runtime,
    session: Session,
    now: datetime,
    check_in: CheckIn,
    question: Question,
    answers: flow.Answers,
    tap: Tap,
    voice: Voice,
) -> None:
    """Tick or untick a checklist box (kept as a draft until Done) and redraw the buttons."""
    index = tap.callback.index
    code = flow.NONE_OF_THESE if index == len(question.options) else question.options[index].value
    tick = tap.callback.sub_index != 0
    ticked = flow.set_tick(question, _draft(check_in), code, ticked=tick)
    check_in.draft = json.dumps(ticked)
    # Only an item that can be an emergency by itself is worth the rules' database reads.
    could_be = tick and emergency_when_ticked(rt.protocol, question.id, code)
    if could_be and _emergency_ticked(rt, session, check_in, question, answers, ticked):
        # An emergency counts the moment it is ticked: no waiting for "Done".
        value = flow.multi_answer(question, ticked, answers.get(question.id))
        _store(rt, session, now, check_in, question, value, tap, voice, before=answers)
        return
    step = step_of(voice.protocol, check_in)
    _, keyboard = _render(voice, check_in, step, question, answers)
    messages.redraw(session, now, tap.chat_id, tap.message_id, keyboard)


def _emergency_ticked(
    rt: Runtime,
    session: Session,
    check_in: CheckIn,
    question: Question,
    answers: flow.Answers,
    ticked: list[str],
) -> bool:
    trial = {**answers, question.id: flow.multi_answer(question, ticked, answers.get(question.id))}
    matches = evaluate_answers(rt.protocol, _rule_context(rt, session, check_in, trial))
    return _is_emergency(matches)


def _is_emergency(matches: list[Match]) -> bool:
    return any(m.severity is Severity.EMERGENCY for m in matches)


def _draft(check_in: CheckIn) -> list[str]:
    return json.loads(check_in.draft) if check_in.draft else []


def _go_back(
    rt: Runtime,
    session: Session,
    now: datetime,
    check_in: CheckIn,
    question: Question,
    answers: flow.Answers,
    tap: Tap,
    voice: Voice,
) -> None:
    step = step_of(rt.protocol, check_in)
    previous = flow.previous_question(rt.protocol, step, answers, question)
    if previous is None:
        raise _Stale
    _ask_again(rt, session, now, check_in, previous, answers, tap, voice.say("going_back"))


def apply_text(rt: Runtime, session: Session, now: datetime, patient: Patient, text: str) -> None:
    """A patient's typed message: the answer to a free-text question, or words for staff."""
    check_in = repo.open_check_in(session, patient.id)
    question = rt.protocol.questions.get(check_in.current_question or "") if check_in else None
    if question is None or question.kind is not QuestionKind.TEXT:
        relay_words(rt, session, now, patient, text, check_in)
        return
    voice = rt.voice(patient.language)
    try:
        value = flow.text_answer(question, text)
    except flow.InvalidAnswer:
        reply = voice.say("text_too_long", limit=question.max_length)
        messages.send(session, now, patient.chat_id, voice.with_footer(reply), Purpose.REPLY)
        return
    if check_in.message_id is not None:
        messages.clear(session, now, patient.chat_id, check_in.message_id)
    before = repo.answers_of(session, check_in.id)
    _store(rt, session, now, check_in, question, value, None, voice, before=before)


def relay_message(
    rt: Runtime, session: Session, now: datetime, patient: Patient, text: str
) -> None:
    """Words that are no answer (an edit, a caption, a paused patient's message): relayed."""
    open_check_in = (
        repo.open_check_in(session, patient.id) if patient.status == PatientStatus.ACTIVE else None
    )
    relay_words(rt, session, now, patient, text, open_check_in)


def relay_words(
    rt: Runtime,
    session: Session,
    now: datetime,
    patient: Patient,
    text: str,
    open_check_in: CheckIn | None,
) -> None:
    """Store what the patient wrote and relay it to staff, at the severity its words call for.

    Risk phrases (the protocol's, per language) raise it at once, with the crisis or
    emergency text to the patient; an emergency also ends the open check-in. Otherwise the
    patient is told who reads it and when, and the open check-in's question is shown again.
    """
    matches = evaluate_words(rt.protocol, None, text)
    emergency = _is_emergency(matches)
    if open_check_in is not None and emergency:
        if open_check_in.message_id is not None:
            messages.clear(session, now, patient.chat_id, open_check_in.message_id)
        _interrupt(open_check_in, now)
    alerts.raise_alerts(rt, session, now, patient.id, None, matches)
    if open_check_in is not None and not emergency:
        voice = rt.voice(patient.language)
        waiting = "continue_summary" if at_summary(open_check_in) else "continue_check_in"
        present(rt, session, now, open_check_in, prefix=voice.say(waiting))


HELD_BACK_WAIT = timedelta(seconds=10)  # a flood's messages are relayed together


def relay_held_back(rt: Runtime, session: Session, now: datetime, limit: int) -> int:
    """Relay what patients wrote during a flood (stored, not answered), one relay each.

    Nothing a patient writes is ignored: a risk phrase among those messages still raises
    its alert, only a few seconds later than it would have.
    """
    held = repo.held_back_patient_updates(session, now - HELD_BACK_WAIT, limit)
    if not held:
        return 0
    by_patient: dict[int, tuple[Patient, list[str]]] = {}
    for update, patient in held:
        words = _typed_text(update.payload)
        _, texts_of = by_patient.setdefault(patient.id, (patient, []))
        if words:
            texts_of.append(words)
    repo.set_update_outcome(session, [update.update_id for update, _ in held], RELAYED)
    for patient, written in by_patient.values():
        if written:
            open_check_in = repo.open_check_in(session, patient.id)
            relay_words(rt, session, now, patient, "\n".join(written), open_check_in)
    return len(held)


def _typed_text(payload: str) -> str | None:
    """The text of a stored update that is a typed message, if it is one."""
    message = json.loads(payload).get("message") or {}
    text = message.get("text")
    return text if isinstance(text, str) and text.strip() else None


def _interrupt(check_in: CheckIn, now: datetime) -> None:
    """An emergency answer ends the check-in: its answers count, nothing more is asked."""
    check_in.status = CheckInStatus.INTERRUPTED
    check_in.completed_at = now
    check_in.current_question = None
    check_in.draft = None
    check_in.message_id = None


def _store(
    rt: Runtime,
    session: Session,
    now: datetime,
    check_in: CheckIn,
    question: Question,
    value: flow.AnswerValue,
    tap: Tap | None,
    voice: Voice,
    *,
    before: flow.Answers,
    item: str | None = None,
) -> str:
    """Store an answer, raise the alerts it sets off and move the check-in on; `voice` words
    the echo of the tapped message (and the press's answer) in the patient's language.

    A changed answer keeps the one it replaces in the record and the audit, and drops the
    answers of follow-up questions it made not apply. After an emergency answer nothing more
    is asked: the emergency text is the last message. After the last question comes the
    summary, to send or change. `before` are the check-in's answers as they were.
    """
    answers = {**before, question.id: value}
    replaces = question.id in before and flow.is_complete(question, before[question.id])
    repo.save_answer(
        session,
        check_in=check_in,
        question_id=question.id,
        value=value,
        now=now,
        replaces_answer=replaces,
    )
    if replaces and before[question.id] != value:
        _audit_answer(session, now, check_in, "answer_changed", question.id, before[question.id])
    for dropped in flow.no_longer_asked(rt.protocol, step_of(rt.protocol, check_in), answers):
        repo.delete_answer(session, check_in.id, dropped)
        _audit_answer(session, now, check_in, "answer_dropped", dropped, answers.pop(dropped))
    check_in.status = CheckInStatus.IN_PROGRESS
    check_in.draft = None
    if tap is not None:
        echo = _echo(voice, question, value, item)
        messages.edit(session, now, tap.chat_id, tap.message_id, echo)
    matches = evaluate_answers(rt.protocol, _rule_context(rt, session, check_in, answers))
    if question.kind is QuestionKind.TEXT and value:
        matches += evaluate_words(rt.protocol, check_in.step_id, value)
    emergency = _is_emergency(matches)
    if emergency:
        _interrupt(check_in, now)
    alerts.raise_alerts(rt, session, now, check_in.patient_id, check_in.id, matches)
    _reduce_follow_up_if_relief_lost(rt, session, now, check_in, matches)
    log.info("check-in %s: answer stored for %s", check_in.id, question.id)
    if emergency:
        return voice.say("answer_saved")
    upcoming = flow.next_question(rt.protocol, step_of(rt.protocol, check_in), answers)
    check_in.current_question = upcoming.id if upcoming else None
    if upcoming is None:
        _run_completion_rules(rt, session, now, check_in, answers)
    present(rt, session, now, check_in, clear_previous=False, answers=answers)
    return voice.say("answer_saved")


def _audit_answer(
    session: Session,
    now: datetime,
    check_in: CheckIn,
    action: str,
    question_id: str,
    old: flow.AnswerValue,
) -> None:
    """Record a replaced or dropped answer, so that staff can see what it was."""
    old_json = json.dumps(old, sort_keys=True)
    repo.audit(
        session,
        actor=None,
        action=action,
        now=now,
        patient_id=check_in.patient_id,
        detail=f"check-in {check_in.id}: {question_id} was {old_json}",
    )


def _echo(voice: Voice, question: Question, value: flow.AnswerValue, item: str | None) -> str:
    """The tapped message, rewritten to show the answer given (`question` in `voice`'s
    language)."""
    shown = {item: value[item]} if item and isinstance(value, dict) else value
    asked = (
        question.text
        if item is None
        else voice.say("severity_question", item=question.option(item).label)
    )
    return voice.say("answered", question=asked, answer=answer_in_words(voice, question, shown))


def _reduce_follow_up_if_relief_lost(
    rt: Runtime,
    session: Session,
    now: datetime,
    check_in: CheckIn,
    matches: list[Match],
) -> None:
    """Relief wore off: the rest of the infusion's check-ins keep only their safety part."""
    if check_in.infusion_id is None or not any(
        isinstance(m.rule.condition, ReliefLost) for m in matches
    ):
        return
    changed = repo.shrink_to_safety(
        session, check_in.infusion_id, steps_with_safety_part(rt.protocol)
    )
    if changed:
        repo.audit(
            session,
            actor=None,
            action="follow_up_reduced",
            now=now,
            patient_id=check_in.patient_id,
            detail=f"infusion {check_in.infusion_id}: {changed} check-ins",
        )
        log.info("infusion %s: %d check-ins reduced to safety", check_in.infusion_id, changed)


def _rule_context(
    rt: Runtime, session: Session, check_in: CheckIn, answers: flow.Answers
) -> AnswerContext:
    baseline_step = rt.protocol.baseline_step
    baseline_id = baseline_step.id if baseline_step else None
    baseline = repo.baseline_answers(session, check_in.infusion_id, baseline_id)
    borrowed = False
    if not baseline and baseline_id and check_in.infusion_id is not None:
        baseline = repo.previous_baseline_answers(
            session, check_in.patient_id, check_in.infusion_id, baseline_id
        )
        borrowed = bool(baseline)
    falls_in = None
    if check_in.infusion_id is None:  # a report: in which step of the follow-up it comes
        falls_in = repo.latest_due_step(session, check_in.patient_id, check_in.due_at)
    infusion = (
        repo.get_infusion(session, check_in.infusion_id)
        if check_in.infusion_id is not None
        else repo.latest_infusion(session, check_in.patient_id)
    )
    since_start = check_in.due_at - infusion.started_at if infusion else None
    return AnswerContext(
        step_id=check_in.step_id,
        answers=answers,
        baseline=baseline,
        earlier=repo.earlier_answers(session, check_in, baseline_id),
        is_baseline=check_in.step_id == baseline_id,
        baseline_borrowed=borrowed,
        falls_in=falls_in,
        since_start=since_start,
    )


def _run_completion_rules(
    rt: Runtime, session: Session, now: datetime, check_in: CheckIn, answers: flow.Answers
) -> None:
    """Every question is answered: the rules for a finished check-in run now, not at Send
    (a check-in left at its summary is complete all the same)."""
    matches = evaluate_completed(rt.protocol, check_in.step_id, answers)
    if matches and not repo.has_alerts(session, check_in.id):
        alerts.raise_alerts(rt, session, now, check_in.patient_id, check_in.id, matches)


# -- reports ---------------------------------------------------------------------------


def open_report(rt: Runtime, session: Session, now: datetime, patient: Patient) -> None:
    """/report: open (or resume) an ad-hoc report and show its current question."""
    report = repo.open_report(session, patient.id)
    if report is None:
        step = rt.protocol.report
        report = repo.add_report(
            session,
            patient_id=patient.id,
            step_id=step.id,
            now=now,
            closes_at=step.window.after(now, patient_zone(rt, patient)),
        )
    present(rt, session, now, report)


def resume(rt: Runtime, session: Session, now: datetime, patient: Patient) -> None:
    """Show the patient's open check-in again, or say that nothing is waiting."""
    check_in = repo.open_check_in(session, patient.id)
    if check_in is None or not _present_where_left_off(rt, session, now, check_in):
        voice = rt.voice(patient.language)
        reply = voice.with_footer(voice.say("nothing_open"))
        messages.send(session, now, patient.chat_id, reply, Purpose.REPLY)


def show_next(rt: Runtime, session: Session, now: datetime, patient: Patient) -> None:
    """/next: the open check-in at its first unanswered question, and when the next one is."""
    zone, voice = patient_zone(rt, patient), rt.voice(patient.language)
    due = next_due(session, patient.id, now)
    check_in = repo.open_check_in(session, patient.id)
    if check_in is not None:
        after = voice.say("after_it", when=voice.time(due, zone)) if due else ""
        title = step_of(voice.protocol, check_in).title
        prefix = voice.say("still_open", title=title, after=after)
        if _present_where_left_off(rt, session, now, check_in, prefix):
            return
    if due is None:
        text = voice.say("nothing_open_none_planned")
    else:
        text = voice.say("nothing_open_next", next=next_check_in(voice, due, zone))
    messages.send(session, now, patient.chat_id, voice.with_footer(text), Purpose.REPLY)


def next_due(session: Session, patient_id: int, now: datetime) -> datetime | None:
    """When the patient's next check-in comes: a pending one already due (held back for
    quiet hours, or re-planned into the past) comes now; None when none is planned."""
    upcoming = repo.next_pending(session, patient_id)
    return max(upcoming.due_at, now) if upcoming else None


def next_check_in(voice: Voice, due: datetime | None, zone: ZoneInfo) -> str:
    """When the patient's next check-in comes, on their clock, or that none is planned."""
    if due is None:
        return voice.say("none_planned")
    return voice.say("next_planned", when=voice.time(due, zone))


def _present_where_left_off(
    rt: Runtime, session: Session, now: datetime, check_in: CheckIn, prefix: str | None = None
) -> bool:
    """Show an open check-in again from its first unanswered question; every answer stays.

    A patient who went back to change an answer and then left picks up where the
    unanswered questions start (the answer they were changing is kept as it was).
    """
    answers = repo.answers_of(session, check_in.id)
    first_unanswered = flow.next_question(rt.protocol, step_of(rt.protocol, check_in), answers)
    current = rt.protocol.questions.get(check_in.current_question or "")
    if first_unanswered is not None and current is not None and current.id in answers:
        check_in.current_question = first_unanswered.id
        check_in.draft = None
    return present(rt, session, now, check_in, prefix=prefix, answers=answers)


# -- the dispatcher's work ---------------------------------------------------------------


def send_due(rt: Runtime, session: Session, now: datetime, limit: int) -> int:
    """Claim up to `limit` due check-ins and queue their first question; returns how many."""
    claimed = repo.claim_due_check_ins(session, now, limit)
    for check_in in claimed:
        present(rt, session, now, check_in, purpose=Purpose.QUESTION, answers={})
    return len(claimed)


def remind_due(rt: Runtime, session: Session, now: datetime, limit: int) -> int:
    """Queue the reminder of each open check-in whose reminder time has come, once."""
    due = repo.check_ins_to_remind(session, now, limit)
    quiet = quiet_hours(rt.protocol)
    for check_in in due:
        zone = patient_zone(rt, repo.get_patient(session, check_in.patient_id))
        allowed = reminder_time(now, check_in.closes_at, zone, quiet)
        if allowed != now:  # quiet hours: wait for the morning, or drop it if that is too late
            check_in.remind_at = allowed
            continue
        if at_summary(check_in):  # every answer is in and counts: no nudge to tap Send
            check_in.reminded_at = now
            continue
        voice = rt.voice(repo.get_patient(session, check_in.patient_id).language)
        prefix = voice.say("reminder", title=voice.protocol.step(check_in.step_id).title)
        present(rt, session, now, check_in, prefix=prefix, purpose=Purpose.QUESTION)
        check_in.reminded_at = now
    return len(due)


def close_expired(rt: Runtime, session: Session, now: datetime, limit: int) -> int:
    """Close up to `limit` check-ins whose window ended: answered (every question answered,
    Send not tapped), partial, missed or cancelled."""
    closed = 0
    for check_in_id in repo.expired_check_in_ids(session, now, limit):
        check_in = repo.get_check_in(session, check_in_id)
        answers = repo.answers_of(session, check_in_id)
        patient = repo.get_patient(session, check_in.patient_id)
        if (
            answers
            and flow.next_question(rt.protocol, step_of(rt.protocol, check_in), answers) is None
        ):
            status = CheckInStatus.ANSWERED
        elif answers:
            status = CheckInStatus.PARTIAL
        elif check_in.infusion_id is None or patient.status != PatientStatus.ACTIVE:
            status = CheckInStatus.CANCELLED  # a report, or skipped while paused or stopped
        else:
            status = CheckInStatus.MISSED
        message_id = check_in.message_id
        check_in = repo.claim_check_in(session, check_in_id, UNFINISHED_CHECK_IN, status)
        if check_in is None:
            continue
        closed += 1
        if status is CheckInStatus.ANSWERED:
            check_in.completed_at = now
        if message_id is not None and patient.status == PatientStatus.ACTIVE:
            messages.clear(session, now, patient.chat_id, message_id)
        unanswered = status is not CheckInStatus.ANSWERED
        if status is CheckInStatus.MISSED or (unanswered and check_in.infusion_id is None):
            context = _missed_context(rt, session, check_in, patient, answers)
            matches = evaluate_missed(rt.protocol, context)
            alerts.raise_alerts(rt, session, now, check_in.patient_id, check_in.id, matches)
        log.info("check-in %s closed as %s", check_in_id, status)
    return closed


def _missed_context(
    rt: Runtime, session: Session, check_in: CheckIn, patient: Patient, answers: flow.Answers
) -> MissedContext:
    """What the missed-check-in rules look at: the streak, the night, the last answer."""
    zone = patient_zone(rt, patient)
    opened = check_in.sent_at or check_in.due_at
    night = quiet_share(opened, check_in.closes_at, zone, quiet_hours(rt.protocol))
    last = repo.last_answer_at(session, patient.id)
    return MissedContext(
        step_id=check_in.step_id,
        missed_in_a_row=0 if answers else repo.missed_in_a_row(session, patient.id),
        mostly_at_night=night > 0.5,
        last_answer=texts.format_time(last, zone) if last else None,
        answered=answers,
    )


def patient_zone(rt: Runtime, patient: Patient) -> ZoneInfo:
    """The patient's time zone (the clinic's when theirs is unknown)."""
    try:
        return ZoneInfo(patient.timezone)
    except (ValueError, KeyError):
        return rt.settings.clinic_timezone
