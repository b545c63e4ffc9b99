"""Patients' standing with the bot: blocked, paused, resumed, discharged."""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session

from bot import keyboards, texts
from bot.runtime import Runtime
from bot.services import alerts, messages
from bot.services.messages import Purpose
from storage import repository as repo
from storage.models import Patient, PatientStatus

log = logging.getLogger(__name__)


class Change(StrEnum):
    """What a coordinator can do to a patient's follow-up."""

    PAUSE = "pause"
    RESUME = "resume"
    DISCHARGE = "discharge"


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


def blocked_by(rt: Runtime, session: Session, now: datetime, chat_id: int) -> None:
    """Telegram says the patient blocked the bot: stop sending and tell staff, once."""
    patient = repo.patient_by_chat_id(session, chat_id)
    if patient is not None:
        alerts.mark_unreachable(rt, session, now, patient.id, "bot was blocked by the user")


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
        repo.cancel_unfinished(session, patient.id)
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
    if patient.chat_id is None:
        return
    tz = rt.settings.clinic_timezone
    text = texts.patient_told_of_change(change.value, until, tz, rt.protocol.text("clinic_name"))
    text = texts.with_footer(text, rt.protocol.text("footer"))
    messages.send(session, now, patient.chat_id, text, Purpose.REPLY)


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
