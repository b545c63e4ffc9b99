"""Infusions: recording one writes all its check-ins; the dispatcher sends them when due."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot import texts
from bot.core.parsing import InfusionArgs
from bot.core.schedule import plan_infusion
from bot.runtime import Runtime
from bot.services.checkins import patient_zone
from storage import repository as repo
from storage.models import PatientStatus

# A second /infusion for the same start within this long is the same infusion sent twice.
REPEAT_GUARD = timedelta(minutes=10)


def record(
    rt: Runtime, session: Session, now: datetime, actor: int, args: InfusionArgs
) -> tuple[str, bool]:
    """Record an infusion and plan its check-ins; returns the answer and whether it was new."""
    tz = rt.settings.clinic_timezone
    patient = repo.patient_by_ref(session, args.ref)
    if patient is None:
        return texts.UNKNOWN_PATIENT.format(ref=args.ref), False
    if patient.status != PatientStatus.ACTIVE:
        return texts.PATIENT_NOT_ACTIVE.format(ref=args.ref), False
    latest = repo.latest_infusion(session, patient.id)
    if (
        latest is not None
        and now - latest.recorded_at < REPEAT_GUARD
        and abs(latest.started_at - args.started_at) < REPEAT_GUARD
    ):
        return texts.infusion_already_recorded(args.ref, latest.started_at, tz), False
    planned = plan_infusion(rt.protocol, args.started_at, now, patient_zone(rt, patient))
    _, cancelled = repo.record_infusion(
        session,
        patient=patient,
        started_at=args.started_at,
        recorded_at=now,
        dose=args.dose,
        recorded_by=actor,
        protocol_version=rt.protocol.version,
        planned=[(p.step_id, p.due_at, p.closes_at, p.remind_at) for p in planned],
    )
    repo.audit(session, actor=actor, action="record_infusion", now=now, patient_id=patient.id)
    schedule = [(rt.protocol.step(p.step_id).title, p.due_at) for p in planned]
    return texts.infusion_recorded(args.ref, args.started_at, tz, schedule, cancelled), True
