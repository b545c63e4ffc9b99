"""Read-only queries behind the staff views (/alerts, /patients, /patient, /audit)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlmodel import Session, col, func, select

from storage.models import (
    Alert,
    Answer,
    AuditEvent,
    CheckIn,
    CheckInStatus,
    Infusion,
    Patient,
    PatientStatus,
)
from storage.repository import as_utc


def open_alerts(session: Session, offset: int, limit: int) -> tuple[list[Alert], int]:
    """Unacknowledged alerts, oldest first: one page of them and how many there are."""
    where = col(Alert.acknowledged_at).is_(None)
    total = session.exec(select(func.count()).select_from(Alert).where(where)).one()
    page = session.exec(
        select(Alert).where(where).order_by(Alert.created_at, Alert.id).offset(offset).limit(limit)
    )
    return list(page), total


def patients_by_ref(session: Session, ids: set[int]) -> dict[int, Patient]:
    """The patients with these ids."""
    if not ids:
        return {}
    rows = session.exec(select(Patient).where(col(Patient.id).in_(ids)))
    return {p.id: p for p in rows}


def enrolled_patients(session: Session) -> list[Patient]:
    """Every patient who joined (not merely invited), by clinic reference."""
    return list(
        session.exec(
            select(Patient)
            .where(Patient.status != PatientStatus.INVITED)
            .order_by(Patient.clinic_ref)
        )
    )


def last_answers(session: Session) -> dict[int, datetime]:
    """When each patient last answered anything."""
    rows = session.exec(
        select(CheckIn.patient_id, func.max(Answer.answered_at))
        .join(CheckIn, col(CheckIn.id) == col(Answer.check_in_id))
        .group_by(CheckIn.patient_id)
    )
    return {patient_id: as_utc(at) for patient_id, at in rows}


def check_in_counts(session: Session) -> dict[int, Counter]:
    """Each patient's scheduled check-ins counted by status (reports left out)."""
    rows = session.exec(
        select(CheckIn.patient_id, CheckIn.status, func.count())
        .where(col(CheckIn.infusion_id).is_not(None))
        .group_by(CheckIn.patient_id, CheckIn.status)
    )
    counts: dict[int, Counter] = {}
    for patient_id, status, number in rows:
        counts.setdefault(patient_id, Counter())[CheckInStatus(status)] = number
    return counts


def open_alert_counts(session: Session) -> dict[int, int]:
    """How many unacknowledged alerts each patient has."""
    rows = session.exec(
        select(Alert.patient_id, func.count())
        .where(col(Alert.acknowledged_at).is_(None))
        .group_by(Alert.patient_id)
    )
    return dict(rows.all())


def infusions_of(session: Session, patient_id: int) -> list[Infusion]:
    """The patient's infusions, by number."""
    return list(
        session.exec(
            select(Infusion).where(Infusion.patient_id == patient_id).order_by(Infusion.number)
        )
    )


def answers_by_check_in(session: Session, check_in_ids: list[int]) -> dict[int, dict[str, str]]:
    """The stored answers (JSON text) of these check-ins, by check-in and question."""
    if not check_in_ids:
        return {}
    rows = session.exec(select(Answer).where(col(Answer.check_in_id).in_(check_in_ids)))
    found: dict[int, dict[str, str]] = {}
    for row in rows:
        found.setdefault(row.check_in_id, {})[row.question_id] = row.value
    return found


def alerts_of(session: Session, patient_id: int, since: datetime) -> list[Alert]:
    """The patient's open alerts, and those raised since `since`, newest first."""
    return list(
        session.exec(
            select(Alert)
            .where(
                Alert.patient_id == patient_id,
                (col(Alert.acknowledged_at).is_(None)) | (Alert.created_at >= since),
            )
            .order_by(col(Alert.created_at).desc(), col(Alert.id).desc())
        )
    )


def audit_trail(session: Session, patient_id: int | None, limit: int) -> list[AuditEvent]:
    """The latest audit events (of one patient, if given), newest first."""
    query = select(AuditEvent)
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    return list(
        session.exec(
            query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit)
        )
    )


def check_ins_of_patient(session: Session, patient_id: int) -> list[CheckIn]:
    """Every check-in of the patient (reports included), in due order."""
    return list(
        session.exec(
            select(CheckIn)
            .where(CheckIn.patient_id == patient_id)
            .order_by(CheckIn.due_at, CheckIn.id)
        )
    )


def alerts_raised_about(session: Session, patient_id: int) -> list[Alert]:
    """Every alert raised about the patient, oldest first."""
    return list(
        session.exec(
            select(Alert).where(Alert.patient_id == patient_id).order_by(Alert.created_at, Alert.id)
        )
    )
