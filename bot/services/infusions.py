"""Infusions: recording one writes all its check-ins; the dispatcher sends them when due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session

from bot import keyboards, locales, texts
from bot.core import checkin as flow
from bot.core.parsing import InfusionArgs
from bot.core.schedule import plan_infusion
from bot.runtime import Runtime
from bot.services import checkins, messages, patients
from bot.services.checkins import patient_zone
from storage import repository as repo
from storage.models import (
    ANSWERED_CHECK_IN,
    STILL_TO_COME,
    CheckInStatus,
    Infusion,
    Patient,
    PatientStatus,
)

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
    repo.lock_patient(session, patient.id)
    latest = repo.latest_infusion(session, patient.id)
    if (
        latest is not None
        and latest.cancelled_at is None
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
    infusion, withdrawn = repo.record_infusion(
        session,
        patient=patient,
        started_at=args.started_at,
        recorded_at=now,
        dose=args.dose,
        recorded_by=actor,
        protocol_version=rt.protocol.version,
        planned=[(p.step_id, p.due_at, p.closes_at, p.remind_at) for p in planned],
    )
    patients.clear_questions(session, now, patient.chat_id, withdrawn)
    repo.audit(
        session,
        actor=actor,
        action="record_infusion",
        now=now,
        patient_id=patient.id,
        detail=f"infusion #{infusion.number}",
    )
    schedule = [(rt.protocol.step(p.step_id).title, p.due_at) for p in planned]
    answer = texts.infusion_recorded(
        args.ref, infusion.number, args.started_at, tz, schedule, len(withdrawn)
    )
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


# -- moving and cancelling an infusion -------------------------------------------------


class InfusionChange(StrEnum):
    """What a coordinator can do to a recorded infusion (the letter rides on its buttons)."""

    MOVE = "m"
    CANCEL = "c"


@dataclass(frozen=True)
class Outcome:
    """What a confirmed change did: the answer, and whether the infusion changed."""

    text: str
    changed: bool = False


@dataclass(frozen=True)
class Question:
    """The question before a change, with its Yes / No buttons; no buttons when refused."""

    text: str
    keyboard: keyboards.Keyboard | None = None


def ask_move(rt: Runtime, session: Session, ref: str, new_start: datetime) -> Question:
    """/infusion_edit: the question before the patient's latest infusion moves, or why not."""
    found = _latest_live(session, ref)
    if isinstance(found, str):
        return Question(found)
    patient, infusion = found
    problem = _move_problem(rt, session, patient, infusion, new_start)
    if problem is not None:
        return Question(problem)
    tz = rt.settings.clinic_timezone
    moving = sum(c.status in STILL_TO_COME for c in repo.check_ins_of(session, infusion.id))
    text = texts.confirm_infusion_move(
        ref, infusion.number, infusion.started_at, new_start, tz, moving
    )
    change = InfusionChange.MOVE
    return Question(
        text,
        keyboards.infusion_change_keyboard(infusion.id, change, infusion.started_at, new_start),
    )


def ask_cancel(rt: Runtime, session: Session, ref: str) -> Question:
    """/infusion_cancel: the question before the latest infusion is cancelled, or why not."""
    found = _latest_live(session, ref)
    if isinstance(found, str):
        return Question(found)
    _, infusion = found
    left = sum(c.status in STILL_TO_COME for c in repo.check_ins_of(session, infusion.id))
    tz = rt.settings.clinic_timezone
    text = texts.confirm_infusion_cancel(ref, infusion.number, infusion.started_at, tz, left)
    change = InfusionChange.CANCEL
    return Question(
        text, keyboards.infusion_change_keyboard(infusion.id, change, infusion.started_at, None)
    )


def apply_change(
    rt: Runtime,
    session: Session,
    now: datetime,
    actor: int,
    infusion_id: int,
    change: InfusionChange,
    asked_start: int,
    new_start: datetime | None,
) -> Outcome:
    """Yes under the question: the infusion moves or is cancelled, once.

    Everything is checked again, since the infusion may have changed since the question
    (another coordinator's change, a newer infusion): then nothing changes.
    """
    infusion = repo.get_infusion(session, infusion_id)
    patient = repo.get_patient(session, infusion.patient_id) if infusion else None
    if patient is None:
        return Outcome(texts.INFUSION_CHANGED_MEANWHILE)
    found = _latest_live(session, patient.clinic_ref)
    if (
        isinstance(found, str)
        or found[1].id != infusion.id
        or int(infusion.started_at.timestamp()) != asked_start
    ):
        return Outcome(texts.INFUSION_CHANGED_MEANWHILE)
    if change is InfusionChange.CANCEL:
        return _cancel(rt, session, now, actor, patient, infusion)
    problem = _move_problem(rt, session, patient, infusion, new_start)
    if problem is not None:
        return Outcome(problem)
    return _move(rt, session, now, actor, patient, infusion, new_start)


def _latest_live(session: Session, ref: str) -> tuple[Patient, Infusion] | str:
    """The patient's latest infusion if it can still change; else why not."""
    patient = repo.patient_by_ref(session, ref)
    if patient is None:
        return texts.UNKNOWN_PATIENT.format(ref=ref)
    infusion = repo.latest_infusion(session, patient.id)
    if infusion is None:
        return texts.no_infusion(ref)
    if infusion.cancelled_at is not None:
        return texts.infusion_is_cancelled(ref, infusion.number)
    return patient, infusion


def _move_problem(
    rt: Runtime, session: Session, patient: Patient, infusion: Infusion, new_start: datetime
) -> str | None:
    """Why the infusion may not move to `new_start`, or None.

    It moves only while nothing after its start has a record at the old time: a check-in
    answered (even in part) or missed belongs to the time it was asked at, and the alerts
    it raised were about that time. The baseline, taken before the start, stays as it is.
    A check-in sent and not yet answered is withdrawn and asked again at its new time.
    """
    ref, number = patient.clinic_ref, infusion.number
    if int(new_start.timestamp()) == int(infusion.started_at.timestamp()):
        return texts.same_start(ref, number)
    baseline = rt.protocol.baseline_step
    answered = repo.check_ins_with_answers(session, infusion.id)
    for check_in in repo.check_ins_of(session, infusion.id):
        is_baseline = baseline is not None and check_in.step_id == baseline.id
        recorded = check_in.status in (*ANSWERED_CHECK_IN, CheckInStatus.MISSED)
        started = check_in.status in STILL_TO_COME and check_in.id in answered
        if started or (recorded and not is_baseline):
            return texts.infusion_not_movable(ref, number)
    return None


def _move(
    rt: Runtime,
    session: Session,
    now: datetime,
    actor: int,
    patient: Patient,
    infusion: Infusion,
    new_start: datetime,
) -> Outcome:
    """Move the start (compare-and-set) and re-plan every check-in still to come; one the
    patient's /stop set aside stays stopped, at its new time."""
    old_start = infusion.started_at
    if not repo.claim_infusion_start(session, infusion.id, old_start, new_start):
        return Outcome(texts.INFUSION_CHANGED_MEANWHILE)
    zone = patient_zone(rt, patient)
    planned = {p.step_id: p for p in plan_infusion(rt.protocol, new_start, now, zone)}
    existing = repo.check_ins_of(session, infusion.id)
    unfinished = [c for c in existing if c.status in STILL_TO_COME]
    # A step whose new window has already closed is closed quietly: never "missed".
    closing = [c for c in unfinished if c.step_id not in planned]
    patients.withdraw_check_ins(
        session,
        now,
        patient.chat_id,
        closing,
        CheckInStatus.CANCELLED,
        "infusion moved",
        expected=STILL_TO_COME,
    )
    moved = []
    for check_in in (c for c in unfinished if c.step_id in planned):
        step = planned[check_in.step_id]
        replanned, shown_in = repo.replan_check_in(
            session, check_in.id, step.due_at, step.closes_at, step.remind_at
        )
        if not replanned:
            continue
        moved.append(step)
        repo.drop_pending_questions(session, check_in.id, "infusion moved")
        if shown_in is not None and patient.chat_id is not None:
            messages.clear(session, now, patient.chat_id, shown_in)
    known = {c.step_id for c in existing}
    new_steps = [p for p in planned.values() if p.step_id not in known]
    repo.add_check_ins(
        session, infusion, [(p.step_id, p.due_at, p.closes_at, p.remind_at) for p in new_steps]
    )
    detail = f"infusion #{infusion.number}: {old_start.isoformat()} -> {new_start.isoformat()}"
    repo.audit(
        session, actor=actor, action="infusion_moved", now=now, patient_id=patient.id, detail=detail
    )
    if unfinished or new_steps:
        due = checkins.next_due(session, patient.id, now)
        voice = rt.voice(patient.language)
        _tell_patient(
            rt,
            session,
            now,
            patient,
            "infusion_moved",
            ordinal=locales.ordinal(voice.language, infusion.number),
            next=checkins.next_check_in(voice, due, zone),
        )
    tz = rt.settings.clinic_timezone
    to_come = sorted(moved + new_steps, key=lambda p: p.due_at)
    schedule = [(rt.protocol.step(p.step_id).title, p.due_at) for p in to_come]
    return Outcome(
        texts.infusion_moved(patient.clinic_ref, infusion.number, new_start, tz, schedule), True
    )


def _cancel(
    rt: Runtime, session: Session, now: datetime, actor: int, patient: Patient, infusion: Infusion
) -> Outcome:
    """Cancel the infusion (compare-and-set) and every check-in of it not yet finished."""
    if not repo.claim_infusion_cancel(session, infusion.id, now):
        return Outcome(texts.INFUSION_CHANGED_MEANWHILE)
    left = [c for c in repo.check_ins_of(session, infusion.id) if c.status in STILL_TO_COME]
    cancelled = patients.withdraw_check_ins(
        session,
        now,
        patient.chat_id,
        left,
        CheckInStatus.CANCELLED,
        "infusion cancelled",
        expected=STILL_TO_COME,
    )
    repo.audit(
        session,
        actor=actor,
        action="infusion_cancelled",
        now=now,
        patient_id=patient.id,
        detail=f"infusion #{infusion.number}: {cancelled} check-ins",
    )
    if cancelled:
        ordinal = locales.ordinal(rt.voice(patient.language).language, infusion.number)
        _tell_patient(rt, session, now, patient, "infusion_cancelled", ordinal=ordinal)
    return Outcome(texts.infusion_cancelled(patient.clinic_ref, infusion.number, cancelled), True)


def _tell_patient(
    rt: Runtime, session: Session, now: datetime, patient: Patient, key: str, **values: object
) -> None:
    """Only a patient whose follow-up is running hears of a change to their check-ins."""
    if patient.status == PatientStatus.ACTIVE:
        patients.tell(rt, session, now, patient, key, **values)
