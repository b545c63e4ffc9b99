"""Patients' standing with the bot (more comes with pause, resume and discharge)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.runtime import Runtime
from bot.services import alerts
from storage import repository as repo


def blocked_by(rt: Runtime, session: Session, now: datetime, chat_id: int) -> None:
    """Telegram says the patient blocked the bot: stop sending and tell staff, once."""
    patient = repo.patient_by_chat_id(session, chat_id)
    if patient is not None:
        alerts.mark_unreachable(rt, session, now, patient.id, "bot was blocked by the user")
