"""Patients' standing with the bot: stopped and back, blocked and back, paused, resumed,
discharged."""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from bot import keyboards, texts
from bot.runtime import Runtime
from bot.services import alerts, checkins, messages
from bot.services.messages import Purpose
from storage import repository as repo
from storage.models import UNFINISHED_CHECK_IN, CheckIn, CheckInStatus, Patient, PatientStatus

log = logging.getLogger(__name__)


class Change(StrEnum):
    """What a coordinator can do to a patient's follow-up."""

    PAUSE = "pause"
    RESUME = "resume"
    DISCHARGE = "discharge"


# What the patient reads about each change (bot/locales keys).
PATIENT_TOLD = {Change.PAUSE: "paused", Change.RESUME: "resumed", Change.DISCHARGE: "discharged"}
# Which statuses each change applies to, and what it makes the patient.
CHANGED_TO = {
    Change.PAUSE: PatientStatus.PAUSED,
    Change.RESUME: PatientStatus.ACTIVE,
    Change.DISCHARGE: PatientStatus.DISCHARGED,
}
APPLIES_TO = {
    Change.PAUSE: {PatientStatus.ACTIVE},
    Change.RESUME: {PatientStatus.PAUSED},
    Change.DISCHARGE: {PatientStatus.ACTIVE, PatientStatus.PAUSED, PatientStatus.STOPPED},
}


# Who may /stop: a patient whose follow-up is running, or paused by the clinic.
STOPPABLE = frozenset({PatientStatus.ACTIVE, PatientStatus.PAUSED})


def blocked_by(rt: Runtime, session: Session, now: datetime, chat_id: int) -> None:
    """Telegram says the patient blocked the bot: stop sending and tell staff, once."""
    patient = repo.patient_by_chat_id(session, chat_id)
    if patient is not None:
        alerts.mark_unreachable(rt, session, now, patient.id, "bot was blocked by the user")


def unblocked_by(rt: Runtime, session: Session, now: datetime, chat_id: int) -> None:
    """Telegram says the patient unblocked the bot: reachable again; their open check-in,
    if one is still open, is shown again (its question could not be delivered)."""
    patient = repo.patient_by_chat_id(session, chat_id)
    if patient is None or not back_from_block(rt, session, now, patient):
        return
    open_check_in = repo.open_check_in(session, patient.id)
    if patient.status == PatientStatus.ACTIVE and open_check_in is not None:
        prefix = rt.voice(patient.language).say("continue_check_in")
        checkins.present(rt, session, now, open_check_in, prefix=prefix)


def back_from_block(rt: Runtime, session: Session, now: datetime, patient: Patient) -> bool:
    """A blocked patient unblocked the bot or wrote again: they get back the status they had,
    and staff are told, once however many signs of it arrive (compare-and-set)."""
    if patient.status != PatientStatus.BLOCKED:
        return False
    back = repo.unmark_blocked(session, patient.id)
    if back is None:
        return False
    repo.audit(session, actor=None, action="patient_unblocked", now=now, patient_id=patient.id)
    alerts.tell_staff(rt, session, now, texts.patient_reachable_again(back.clinic_ref, back.status))
    log.info("patient %s reachable again", patient.id)
    return True


def greet(rt: Runtime, session: Session, now: datetime, patient: Patient) -> None:
    """/start without a link from a patient: each status gets its own short answer; a
    patient who had stopped is back, and their open check-in is shown again."""
    if patient.status == PatientStatus.STOPPED:
        rejoin(rt, session, now, patient)
        return
    if patient.status == PatientStatus.ACTIVE:
        checkins.resume(rt, session, now, patient)
        return
    paused = patient.status == PatientStatus.PAUSED
    tell(rt, session, now, patient, "paused_by_clinic" if paused else "follow_up_ended")


def ask_stop(rt: Runtime, session: Session, now: datetime, patient: Patient) -> None:
    """/stop: ask first, with "Yes, stop" / "No, keep going"."""
    if patient.status == PatientStatus.STOPPED:
        tell(rt, session, now, patient, "already_stopped")
    elif patient.status not in STOPPABLE:
        tell(rt, session, now, patient, "cannot_stop")
    else:
        voice = rt.voice(patient.language)
        keyboard = keyboards.stop_keyboard(voice, patient.id)
        question = voice.say("stop_question")
        messages.send(session, now, patient.chat_id, question, Purpose.REPLY, keyboard)


def stop(
    rt: Runtime,
    session: Session,
    now: datetime,
    *,
    user_id: int,
    message_id: int,
    patient_id: int,
    confirmed: bool,
) -> str | None:
    """The answer to the /stop question; returns the button's answer.

    Yes: no more check-ins (each unfinished one of every infusion becomes "stopped", never
    "missed", so no missed-check-in alert follows), staff told, the patient told how to come
    back. Two presses at once stop once: the status is a compare-and-set.
    """
    patient = repo.patient_by_telegram_id(session, user_id)
    voice = rt.voice(patient.language if patient else None)
    if patient is None or patient.id != patient_id:  # a forged id may name nobody at all
        return voice.say("foreign_button")
    chat_id = patient.chat_id
    if not confirmed:
        messages.edit(session, now, chat_id, message_id, voice.say("stop_kept"))
        return None
    stopped = repo.mark_stopped(session, patient.id, STOPPABLE)
    if stopped is None:
        messages.clear(session, now, chat_id, message_id)
        return voice.say("already_stopped")
    cancelled = withdraw_check_ins(
        session,
        now,
        chat_id,
        repo.unfinished_infusion_check_ins(session, patient.id),
        CheckInStatus.STOPPED,
        "the patient stopped",
    )
    repo.audit(session, actor=user_id, action="patient_stopped", now=now, patient_id=patient.id)
    alerts.tell_staff(rt, session, now, texts.patient_stopped(patient.clinic_ref, cancelled))
    messages.edit(session, now, chat_id, message_id, voice.say("stop_done"))
    tell(rt, session, now, patient, "stopped")
    log.info("patient %s stopped; %d check-ins stopped", patient.id, cancelled)
    return None


def withdraw_check_ins(
    session: Session,
    now: datetime,
    chat_id: int | None,
    check_ins: list[CheckIn],
    status: CheckInStatus,
    reason: str,
    expected: tuple[CheckInStatus, ...] = UNFINISHED_CHECK_IN,
) -> int:
    """Close check-ins still in one of the `expected` statuses (unfinished ones, unless told)
    as `status` without asking them: their questions not yet sent are dropped and the
    buttons of one already shown are taken off. Returns how many this call closed (each is
    a compare-and-set against the dispatcher)."""
    shown = repo.withdraw_check_ins(session, check_ins, status, reason, expected)
    clear_questions(session, now, chat_id, shown)
    return len(shown)


def clear_questions(
    session: Session, now: datetime, chat_id: int | None, shown: list[int | None]
) -> None:
    """Take the buttons off withdrawn questions shown in these messages (None: not shown)."""
    if chat_id is None:
        return
    for message_id in shown:
        if message_id is not None:
            messages.clear(session, now, chat_id, message_id)


def rejoin(rt: Runtime, session: Session, now: datetime, patient: Patient) -> None:
    """A patient who had stopped sends /start: back to the status they had (a clinic pause
    still holds), staff told; the latest infusion's stopped check-ins whose window is still
    open resume (the rest stay stopped, without alerts), and one that was open is shown
    again once their follow-up runs."""
    back = repo.unmark_stopped(session, patient.id)
    if back is None:
        return
    latest = repo.latest_infusion(session, patient.id)
    resumed = repo.stopped_check_ins_still_open(session, latest.id, now) if latest else []
    for check_in in resumed:
        was_open = check_in.sent_at is not None
        repo.claim_check_in(
            session,
            check_in.id,
            (CheckInStatus.STOPPED,),
            CheckInStatus.SENT if was_open else CheckInStatus.PENDING,
        )
    repo.audit(
        session,
        actor=patient.telegram_user_id,
        action="patient_rejoined",
        now=now,
        patient_id=patient.id,
    )
    paused = back.status == PatientStatus.PAUSED
    notice = texts.patient_rejoined(patient.clinic_ref, len(resumed), paused)
    alerts.tell_staff(rt, session, now, notice)
    if paused:
        tell(rt, session, now, back, "paused_by_clinic")
    else:
        _welcome_back(rt, session, now, back)
    log.info("patient %s rejoined as %s; %d check-ins resume", back.id, back.status, len(resumed))


def _welcome_back(rt: Runtime, session: Session, now: datetime, patient: Patient) -> None:
    """Tell an active patient who came back when their next check-in is; show an open one."""
    due = checkins.next_due(session, patient.id, now)
    voice = rt.voice(patient.language)
    next_one = checkins.next_check_in(voice, due, checkins.patient_zone(rt, patient))
    tell(rt, session, now, patient, "rejoined", next=next_one)
    open_check_in = repo.open_check_in(session, patient.id)
    if open_check_in is not None:
        checkins.present(rt, session, now, open_check_in)


def tell(
    rt: Runtime, session: Session, now: datetime, patient: Patient, key: str, **values: object
) -> None:
    """The bot/locales sentence `key` to the patient (if they have a chat), in their language,
    with the protocol's safety footer."""
    if patient.chat_id is None:
        return
    voice = rt.voice(patient.language)
    messages.send(
        session, now, patient.chat_id, voice.with_footer(voice.say(key, **values)), Purpose.REPLY
    )


def ask(
    rt: Runtime, session: Session, change: Change, ref: str, until: datetime | None
) -> tuple[str, keyboards.Keyboard | None]:
    """The question before a change, with Yes / No buttons; or why it cannot be done."""
    patient = repo.patient_by_ref(session, ref)
    if patient is None:
        return texts.UNKNOWN_PATIENT.format(ref=ref), None
    if patient.status not in APPLIES_TO[change]:
        return texts.cannot_change(change.value, ref, patient.status), None
    tz = rt.settings.clinic_timezone
    question = texts.confirm_change(change.value, ref, until, tz)
    return question, keyboards.confirm_change_keyboard(patient.id, change.value, until)


def apply(
    rt: Runtime,
    session: Session,
    now: datetime,
    actor: int,
    patient_id: int,
    change: Change,
    until: datetime | None,
) -> str:
    """Yes under the question: change the follow-up, tell the patient; returns the answer."""
    status, until = CHANGED_TO[change], until if change is Change.PAUSE else None
    patient = repo.claim_patient_status(session, patient_id, APPLIES_TO[change], status, until)
    if patient is None:  # gone, or another press changed it first
        return texts.STALE_BUTTON
    if change is Change.DISCHARGE:
        unfinished = repo.unfinished_check_ins(session, patient.id)
        withdraw_check_ins(
            session, now, patient.chat_id, unfinished, CheckInStatus.CANCELLED, "discharged"
        )
    detail = f"until {until.isoformat()}" if until else None
    repo.audit(
        session, actor=actor, action=change.value, now=now, patient_id=patient.id, detail=detail
    )
    _tell_patient(rt, session, now, patient, change, until)
    return texts.changed(change.value, patient.clinic_ref)


def _tell_patient(
    rt: Runtime,
    session: Session,
    now: datetime,
    patient: Patient,
    change: Change,
    until: datetime | None,
) -> None:
    voice = rt.voice(patient.language)
    end = voice.say("until", when=voice.time(until, rt.settings.clinic_timezone)) if until else ""
    tell(
        rt, session, now, patient, PATIENT_TOLD[change], until=end, clinic=voice.text("clinic_name")
    )


def resume_due(rt: Runtime, session: Session, now: datetime, limit: int) -> int:
    """Pauses that had an end: the patients are active again (and told)."""
    ending = repo.pauses_ending(session, now, limit)
    for paused in ending:
        # A coordinator's /resume may have come first: then there is nothing to do.
        patient = repo.claim_patient_status(
            session, paused.id, APPLIES_TO[Change.RESUME], PatientStatus.ACTIVE
        )
        if patient is None:
            continue
        repo.audit(session, actor=None, action="resume", now=now, patient_id=patient.id)
        _tell_patient(rt, session, now, patient, Change.RESUME, None)
        log.info("patient %s: pause ended", patient.id)
    return len(ending)
