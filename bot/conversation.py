"""A patient's check-in conversation: show the current question, take answers, move on.

Every answer is committed before anything is sent, alert rows in the same transaction;
the current question is kept on the check-in row, so after a restart the conversation
picks up where it was.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session
from telegram import Bot, InlineKeyboardMarkup

from bot import alerting, keyboards, notify, texts
from bot.core import checkin as flow
from bot.core.protocol import Question, QuestionKind, Step
from bot.core.rules import AnswerContext, evaluate_answers
from bot.core.schedule import follow_up_over
from bot.keyboards import Action, Callback
from bot.runtime import Runtime
from storage import repository as repo
from storage.models import OPEN_CHECK_IN, CheckIn, CheckInStatus, Patient, PatientStatus

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What a patient's tap or message did, for the handler to show."""

    reply: str | None = None  # short answer to the button press
    answered_text: str | None = None  # new text of the tapped message (buttons removed)
    new_markup: InlineKeyboardMarkup | None = None  # redrawn buttons (multi ticks)
    clear_buttons: bool = False  # a stale button: take the buttons off its message
    alert_ids: list[int] = field(default_factory=list)
    check_in_id: int | None = None
    show_next: bool = False
    completed: bool = False


# -- showing the current question ------------------------------------------------------


async def show_current(rt: Runtime, bot: Bot, check_in_id: int, prefix: str | None = None) -> None:
    """Send the message for where the check-in stands now, with its buttons, and record it."""
    with rt.session() as session:
        check_in = session.get_one(CheckIn, check_in_id)
        patient = session.get_one(Patient, check_in.patient_id)
        if check_in.status not in (CheckInStatus.PENDING, *OPEN_CHECK_IN):
            return
        answers = repo.answers_of(session, check_in_id)
        step = rt.protocol.step(check_in.step_id)
        question = _current_question(rt, check_in, step, answers)
        if question is None or patient.chat_id is None:
            return
        text, markup = _render(rt, check_in, step, question, answers)
        previous_message, chat_id = check_in.message_id, patient.chat_id
    if prefix:
        text = f"{prefix}\n\n{text}"
    try:
        message = await notify.send(
            bot, chat_id, texts.with_footer(text, rt.protocol.text("footer")), markup
        )
    except notify.Undeliverable:
        await alerting.mark_unreachable(rt, bot, patient.id, check_in_id)
        return
    with rt.session() as session:
        check_in = session.get_one(CheckIn, check_in_id)
        check_in.message_id = message.message_id
        check_in.current_question = question.id
        if check_in.status == CheckInStatus.PENDING:
            check_in.status = CheckInStatus.SENT
            check_in.sent_at = rt.clock.now()
    if previous_message is not None:
        await notify.clear_buttons(bot, chat_id, previous_message)


def _current_question(
    rt: Runtime, check_in: CheckIn, step: Step, answers: flow.Answers
) -> Question | None:
    if check_in.current_question is not None:
        return rt.protocol.questions.get(check_in.current_question)
    return flow.next_question(rt.protocol, step, answers)


def _render(
    rt: Runtime, check_in: CheckIn, step: Step, question: Question, answers: flow.Answers
) -> tuple[str, InlineKeyboardMarkup | None]:
    position, total = flow.progress(rt.protocol, step, answers, question)
    header = texts.question_message(step.title, position, total, question.text)
    back = flow.previous_question(rt.protocol, step, answers, question) is not None
    if question.kind is QuestionKind.MULTI:
        item = flow.item_needing_severity(question, answers.get(question.id))
        if item is not None and check_in.draft is None:
            index = [o.value for o in question.options].index(item)
            label = question.options[index].label
            return texts.severity_message(label), keyboards.severity_keyboard(
                check_in.id, question, index
            )
        ticked = json.loads(check_in.draft) if check_in.draft else []
        return header, keyboards.multi_keyboard(check_in.id, question, ticked, back)
    if question.kind is QuestionKind.TEXT:
        markup = keyboards.back_keyboard(check_in.id, question) if back else None
        return f"{header}\n\n{texts.EXPECTING_TEXT}", markup
    return header, keyboards.single_answer_keyboard(check_in.id, question, back)


# -- taking answers --------------------------------------------------------------------


async def handle_button(rt: Runtime, bot: Bot, user_id: int, callback: Callback) -> Outcome:
    """Apply a patient's button press on a check-in, then show what follows."""
    with rt.session() as session:
        outcome = _apply_button(rt, session, user_id, callback)
    await _follow_through(rt, bot, outcome)
    return outcome


async def handle_text(rt: Runtime, bot: Bot, patient_id: int, text: str) -> str | None:
    """A patient's typed message: the answer to a free-text question, or a nudge back.

    Returns a reply to send, or None when the conversation itself answered.
    """
    with rt.session() as session:
        check_in = repo.open_check_in(session, patient_id)
        if check_in is None:
            return texts.NOTHING_OPEN_PATIENT
        question = rt.protocol.questions.get(check_in.current_question or "")
        if question is None or question.kind is not QuestionKind.TEXT:
            check_in_id = check_in.id
            outcome = None
        else:
            try:
                value = flow.text_answer(question, text)
            except flow.InvalidAnswer:
                return texts.TEXT_TOO_LONG.format(limit=question.max_length)
            outcome = _store(rt, session, check_in, question, value)
    if outcome is None:
        await show_current(rt, bot, check_in_id, prefix=texts.USE_BUTTONS)
        return None
    await _follow_through(rt, bot, outcome)
    return None


def _apply_button(rt: Runtime, session: Session, user_id: int, callback: Callback) -> Outcome:
    check_in = session.get(CheckIn, callback.record_id)
    patient = session.get(Patient, check_in.patient_id) if check_in else None
    if patient is None or patient.telegram_user_id != user_id:
        return Outcome(reply=texts.FOREIGN_BUTTON)
    if (
        patient.status != PatientStatus.ACTIVE
        or check_in.status not in OPEN_CHECK_IN
        or check_in.current_question != callback.question_id
    ):
        return Outcome(reply=texts.STALE_BUTTON, clear_buttons=True)
    question = rt.protocol.questions.get(callback.question_id)
    if question is None:
        return Outcome(reply=texts.STALE_BUTTON, clear_buttons=True)
    try:
        return _apply_action(rt, session, check_in, question, callback)
    except (flow.InvalidAnswer, IndexError):
        return Outcome(reply=texts.STALE_BUTTON, clear_buttons=True)


def _apply_action(
    rt: Runtime, session: Session, check_in: CheckIn, question: Question, callback: Callback
) -> Outcome:
    answers = repo.answers_of(session, check_in.id)
    if callback.action is Action.ANSWER:
        value = flow.single_answer(question, question.choices[callback.index].value)
        return _store(rt, session, check_in, question, value)
    if callback.action is Action.TOGGLE:
        ticked = flow.toggle(question, _draft(check_in), question.options[callback.index].value)
        check_in.draft = json.dumps(ticked)
        step = rt.protocol.step(check_in.step_id)
        back = flow.previous_question(rt.protocol, step, answers, question) is not None
        markup = keyboards.multi_keyboard(check_in.id, question, ticked, back)
        return Outcome(new_markup=markup)
    if callback.action is Action.DONE:
        value = flow.multi_answer(question, _draft(check_in))
        check_in.draft = None
        return _store(rt, session, check_in, question, value)
    if callback.action is Action.SEVERITY:
        item = question.options[callback.index].value
        if flow.item_needing_severity(question, answers.get(question.id)) != item:
            raise flow.InvalidAnswer("severity already given")
        severity = question.severities[callback.sub_index].value
        value = flow.with_severity(question, answers[question.id], item, severity)
        return _store(rt, session, check_in, question, value, item=item)
    if callback.action is Action.BACK:
        return _go_back(rt, check_in, question, answers)
    raise flow.InvalidAnswer(f"action {callback.action} is not a check-in action")


def _draft(check_in: CheckIn) -> list[str]:
    return json.loads(check_in.draft) if check_in.draft else []


def _go_back(rt: Runtime, check_in: CheckIn, question: Question, answers: flow.Answers) -> Outcome:
    step = rt.protocol.step(check_in.step_id)
    previous = flow.previous_question(rt.protocol, step, answers, question)
    if previous is None:
        raise flow.InvalidAnswer("nothing to go back to")
    check_in.current_question = previous.id
    earlier = answers.get(previous.id)
    check_in.draft = json.dumps(list(earlier)) if isinstance(earlier, dict) else None
    return Outcome(answered_text=texts.GOING_BACK, check_in_id=check_in.id, show_next=True)


def _store(
    rt: Runtime,
    session: Session,
    check_in: CheckIn,
    question: Question,
    value: flow.AnswerValue,
    item: str | None = None,
) -> Outcome:
    """Store an answer, raise the alerts it sets off and move the check-in on."""
    now = rt.clock.now()
    repo.save_answer(session, check_in=check_in, question_id=question.id, value=value, now=now)
    check_in.status = CheckInStatus.IN_PROGRESS
    answers = repo.answers_of(session, check_in.id)
    matches = evaluate_answers(rt.protocol, _rule_context(rt, session, check_in, answers))
    alert_ids = alerting.store_alerts(rt, session, check_in.patient_id, check_in.id, matches, now)
    shown = {item: value[item]} if item and isinstance(value, dict) else value
    answered_text = texts.answered(
        question.text if item is None else texts.severity_message(question.option(item).label),
        flow.describe_answer(question, shown),
    )
    step = rt.protocol.step(check_in.step_id)
    upcoming = flow.next_question(rt.protocol, step, answers)
    check_in.current_question = upcoming.id if upcoming else None
    completed = upcoming is None
    if completed:
        _complete(rt, session, check_in, answers, now)
    log.info("check-in %s: answer stored for %s", check_in.id, question.id)
    return Outcome(
        reply=texts.ANSWER_SAVED,
        answered_text=answered_text,
        alert_ids=alert_ids,
        check_in_id=check_in.id,
        show_next=not completed,
        completed=completed,
    )


def _rule_context(
    rt: Runtime, session: Session, check_in: CheckIn, answers: flow.Answers
) -> AnswerContext:
    baseline_step = rt.protocol.baseline_step
    baseline_id = baseline_step.id if baseline_step else None
    return AnswerContext(
        step_id=check_in.step_id,
        answers=answers,
        baseline=repo.baseline_answers(session, check_in.infusion_id, baseline_id),
        earlier=repo.earlier_answers(session, check_in, baseline_id),
        is_baseline=check_in.step_id == baseline_id,
    )


def _complete(
    rt: Runtime, session: Session, check_in: CheckIn, answers: flow.Answers, now: datetime
) -> None:
    check_in.status = CheckInStatus.ANSWERED
    check_in.completed_at = now
    context = _rule_context(rt, session, check_in, answers)
    if check_in.infusion_id is not None and follow_up_over(
        rt.protocol, context.baseline, [*context.earlier, answers]
    ):
        ended = repo.cancel_pending(session, check_in.infusion_id)
        log.info("infusion %s follow-up ended early: %d cancelled", check_in.infusion_id, ended)


async def _follow_through(rt: Runtime, bot: Bot, outcome: Outcome) -> None:
    """After the commit: deliver alerts (patient first), then the next question or thanks."""
    if outcome.alert_ids:
        await alerting.deliver_alerts(rt, bot, outcome.alert_ids)
    if outcome.show_next and outcome.check_in_id is not None:
        await show_current(rt, bot, outcome.check_in_id)
    elif outcome.completed and outcome.check_in_id is not None:
        await _thank(rt, bot, outcome.check_in_id)


async def _thank(rt: Runtime, bot: Bot, check_in_id: int) -> None:
    with rt.session() as session:
        check_in = session.get_one(CheckIn, check_in_id)
        patient = session.get_one(Patient, check_in.patient_id)
        upcoming = repo.next_pending(session, patient.id, rt.clock.now())
        next_due = upcoming.due_at if upcoming else None
    tz = patient_zone(rt, patient)
    text = texts.with_footer(texts.check_in_done(next_due, tz), rt.protocol.text("footer"))
    try:
        await notify.send(bot, patient.chat_id, text)
    except notify.Undeliverable:
        await alerting.mark_unreachable(rt, bot, patient.id, check_in_id)


def patient_zone(rt: Runtime, patient: Patient) -> ZoneInfo:
    """The patient's time zone (the clinic's when theirs is unknown)."""
    try:
        return ZoneInfo(patient.timezone)
    except (ValueError, KeyError):
        return rt.settings.clinic_timezone
