"""Infusions: recording one writes all its check-ins; the dispatcher sends them when due."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot import texts
from bot.core import checkin as flow
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
    baseline_step = rt.protocol.baseline_step
    try:
        clinic_baseline = _clinic_baseline(rt, args.readings)
    except ValueError as exc:
        return f"{exc}.\n\n{texts.INFUSION_USAGE}", False
    planned = plan_infusion(rt.protocol, args.started_at, now, patient_zone(rt, patient))
    if clinic_baseline:
        planned = [p for p in planned if p.step_id != baseline_step.id]
    infusion, cancelled = repo.record_infusion(
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
    answer = texts.infusion_recorded(args.ref, args.started_at, tz, schedule, cancelled)
    if args.start_repeated:
        answer += "\n" + texts.start_repeated(args.started_at, tz)
    if clinic_baseline:
        repo.add_clinic_baseline(
            session, infusion=infusion, step_id=baseline_step.id, answers=clinic_baseline, now=now
        )
        answer += "\n" + texts.clinic_baseline_recorded(args.readings)
    elif baseline_step and not any(p.step_id == baseline_step.id for p in planned):
        late = round((now - args.started_at).total_seconds() / 60)
        earlier = repo.previous_baseline_answers(session, patient.id, infusion.id, baseline_step.id)
        answer += "\n\n" + texts.baseline_missing(late, borrowed=bool(earlier))
    return answer, True


def _clinic_baseline(rt: Runtime, readings: dict[str, int]) -> dict[str, int]:
    """Baseline answers from `measure=N` readings; ValueError names what does not fit."""
    if readings and rt.protocol.baseline_step is None:
        raise ValueError("this protocol has no baseline to record readings for")
    answers = {}
    for name, value in readings.items():
        measure = rt.protocol.measures.get(name)
        if measure is None:
            known = ", ".join(rt.protocol.measures)
            raise ValueError(f"{name!r} is not a measure of the protocol ({known})")
        question = rt.protocol.questions[measure.baseline_question]
        if str(value) not in {c.value for c in question.choices}:
            low, high = question.choices[0].value, question.choices[-1].value
            raise ValueError(f"{name} must be from {low} to {high}")
        answers[question.id] = flow.single_answer(question, str(value))
    return answers
