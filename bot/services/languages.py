"""A patient's language: /language, and its buttons."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot import keyboards, locales
from bot.keyboards import Action
from bot.runtime import Runtime
from bot.services import checkins, messages
from bot.services.messages import Purpose
from storage import repository as repo
from storage.models import Patient, PatientStatus


def choose(
    rt: Runtime, session: Session, now: datetime, patient: Patient, asked: str | None
) -> bool:
    """/language [code]: a code the protocol has is set at once; otherwise (none given, or
    one it does not have) the patient gets a button per language. True when it changed."""
    code = (asked or "").strip().lower()
    if code in rt.protocol.languages:
        _set(rt, session, now, patient, code)
        return True
    voice = rt.voice(patient.language)
    question = voice.say("language_unknown" if asked else "language_question")
    names = {language: locales.say(language, "language_name") for language in rt.protocol.languages}
    keyboard = keyboards.language_keyboard(patient.id, names)
    messages.send(session, now, patient.chat_id, question, Purpose.REPLY, keyboard)
    return False


def apply_button(
    rt: Runtime, session: Session, now: datetime, tap: checkins.Tap
) -> tuple[str | None, bool]:
    """A language button: the press's answer, and whether the language changed."""
    patient = repo.patient_by_telegram_id(session, tap.user_id)
    voice = rt.voice(patient.language if patient else None)
    if patient is None or patient.id != tap.callback.record_id:
        return voice.say("foreign_button"), False
    messages.clear(session, now, tap.chat_id, tap.message_id)
    code = tap.callback.question_id
    if tap.callback.action is not Action.LANGUAGE or code not in rt.protocol.languages:
        return voice.say("stale_button"), False
    _set(rt, session, now, patient, code)
    return None, True


def _set(rt: Runtime, session: Session, now: datetime, patient: Patient, code: str) -> None:
    """Everything sent from now on is in `code`: the open check-in's question is shown again."""
    patient.language = code
    repo.audit(
        session,
        actor=patient.telegram_user_id,
        action="language",
        now=now,
        patient_id=patient.id,
        detail=code,
    )
    voice = rt.voice(code)
    said = voice.say("language_set")
    open_check_in = (
        repo.open_check_in(session, patient.id) if patient.status == PatientStatus.ACTIVE else None
    )
    if open_check_in is None or not checkins.present(rt, session, now, open_check_in, prefix=said):
        messages.send(session, now, patient.chat_id, voice.with_footer(said), Purpose.REPLY)
