"""What staff see when they ask: open alerts, the patient list, one patient's summary, audit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot import keyboards, texts
from bot.core import checkin as flow
from bot.core.outcomes import percent_improvement, response_band, trend
from bot.runtime import Runtime
from storage import repository as repo
from storage import views
from storage.models import ANSWERED_CHECK_IN, CheckIn, CheckInStatus, Patient

ALERTS_PAGE, PATIENTS_PAGE, AUDIT_ENTRIES = 10, 20, 50
RECENT = timedelta(days=14)
SENT = (*ANSWERED_CHECK_IN, CheckInStatus.MISSED)
FILTERS = ("all", "silent", "alerts")


@dataclass(frozen=True)
class View:
    """A staff view: its text and buttons (paging, acknowledging)."""

    text: str
    keyboard: keyboards.Keyboard | None = None
    patient_id: int | None = None  # the patient it shows, for the audit


def open_alerts(rt: Runtime, session: Session, now: datetime, page: int) -> View:
    """/alerts: open alerts, oldest first, ten a page, each with its Acknowledge button."""
    alerts, total = views.open_alerts(session, page * ALERTS_PAGE, ALERTS_PAGE)
    pages = max(1, -(-total // ALERTS_PAGE))
    patients = views.patients_by_ref(session, {a.patient_id for a in alerts})
    lines = [
        texts.open_alert_line(
            a.id, a.severity, _who(patients[a.patient_id]), a.description, now - a.created_at
        )
        for a in alerts
    ]
    text = texts.open_alerts(total, page, pages, lines)
    buttons = keyboards.acknowledge_buttons([a.id for a in alerts])
    return View(text, buttons + keyboards.pager("alerts", page, pages, 0))


def patient_list(rt: Runtime, session: Session, now: datetime, page: int, show: str) -> View:
    """/patients [silent|alerts]: status, last answer, adherence and open alerts, 20 a page."""
    last = views.last_answers(session)
    counts = views.check_in_counts(session)
    open_counts = views.open_alert_counts(session)
    rows = []
    for patient in views.enrolled_patients(session):
        tally = counts.get(patient.id)
        sent = sum(tally[s] for s in SENT) if tally else 0
        answered = sum(tally[s] for s in ANSWERED_CHECK_IN) if tally else 0
        silent = repo.missed_in_a_row(session, patient.id) > 0
        alerts = open_counts.get(patient.id, 0)
        if (show == "silent" and not silent) or (show == "alerts" and not alerts):
            continue
        since = now - last[patient.id] if patient.id in last else None
        rows.append(
            texts.patient_line(_who(patient), patient.status, since, answered, sent, alerts)
        )
    pages = max(1, -(-len(rows) // PATIENTS_PAGE))
    shown = rows[page * PATIENTS_PAGE : (page + 1) * PATIENTS_PAGE]
    text = texts.patient_list(len(rows), show, page, pages, shown)
    return View(text, keyboards.pager("patients", page, pages, FILTERS.index(show)) or None)


def patient_summary(rt: Runtime, session: Session, now: datetime, ref: str) -> View:
    """/patient <ref>: infusions with their check-ins, pain against baseline, alerts."""
    patient = repo.patient_by_ref(session, ref)
    if patient is None:
        return View(texts.UNKNOWN_PATIENT.format(ref=ref))
    tz = rt.settings.clinic_timezone
    lines = [texts.patient_heading(_who(patient), patient.status, patient.consent_at, tz)]
    infusions = views.infusions_of(session, patient.id)
    for infusion in infusions:
        check_ins = repo.check_ins_of(session, infusion.id)
        answers = _decoded(views.answers_by_check_in(session, [c.id for c in check_ins]))
        lines += _infusion_lines(rt, len(infusions), infusion, check_ins, answers, tz)
    if not infusions:
        lines.append(texts.NO_INFUSION_YET)
    for snooze in repo.active_snoozes(session, patient.id, now):
        lines.append(texts.snooze_line(snooze.rule_id, snooze.until, tz))
    for alert in views.alerts_of(session, patient.id, now - RECENT):
        lines.append(
            texts.summary_alert_line(
                alert.id,
                alert.severity,
                alert.description,
                now - alert.created_at,
                alert.acknowledged_at is not None,
            )
        )
    return View("\n".join(lines), patient_id=patient.id)


def _infusion_lines(
    rt: Runtime,
    count: int,
    infusion,
    check_ins: list[CheckIn],
    answers: dict[int, flow.Answers],
    tz,
) -> list[str]:
    protocol = rt.protocol
    baseline_step = protocol.baseline_step
    baseline = next(
        (
            answers.get(c.id, {})
            for c in check_ins
            if baseline_step and c.step_id == baseline_step.id
        ),
        {},
    )
    base = flow.baseline_value(protocol, "pain", baseline) if "pain" in protocol.measures else None
    later = [c for c in check_ins if not (baseline_step and c.step_id == baseline_step.id)]
    pains = [value for c in later if (value := _pain(rt, answers.get(c.id, {}))) is not None]
    sent = [c for c in later if c.status in SENT]
    missed = [c for c in sent if c.status == CheckInStatus.MISSED]
    lines = [
        texts.infusion_heading(
            infusion.number, count, infusion.started_at, infusion.dose, tz, infusion.cancelled_at
        ),
        texts.pain_trend(trend(base, pains), _response(base, pains)),
        texts.check_in_states(
            [(protocol.step(c.step_id).title, c.status, c.due_at) for c in check_ins], tz
        ),
        texts.follow_up_state(any(c.safety_only for c in check_ins), len(missed), len(sent)),
    ]
    return lines


def _pain(rt: Runtime, answers: flow.Answers) -> float | None:
    if "pain" not in rt.protocol.measures:
        return None
    return flow.measure_value(rt.protocol, "pain", answers)


def _response(base: float | None, pains: list[float]) -> str | None:
    if base is None or not pains:
        return None
    best = max(percent_improvement(base, p) or 0.0 for p in pains)
    return response_band(best) if best > 0 else None


def _decoded(raw: dict[int, dict[str, str]]) -> dict[int, flow.Answers]:
    return {cid: {q: json.loads(v) for q, v in found.items()} for cid, found in raw.items()}


def _who(patient: Patient) -> str:
    return (
        f"{patient.clinic_ref} ({patient.display_name})"
        if patient.display_name
        else (patient.clinic_ref)
    )


def audit(rt: Runtime, session: Session, ref: str | None) -> View:
    """/audit [ref]: the last 50 audit entries (of one patient), newest first."""
    patient = repo.patient_by_ref(session, ref) if ref else None
    if ref and patient is None:
        return View(texts.UNKNOWN_PATIENT.format(ref=ref))
    events = views.audit_trail(session, patient.id if patient else None, AUDIT_ENTRIES)
    refs = views.patients_by_ref(session, {e.patient_id for e in events if e.patient_id})
    tz = rt.settings.clinic_timezone
    lines = [
        texts.audit_line(
            e.at,
            e.actor_telegram_id,
            e.action,
            refs[e.patient_id].clinic_ref if e.patient_id in refs else None,
            e.detail,
            tz,
        )
        for e in events
    ]
    return View(texts.audit_trail(ref, lines))
