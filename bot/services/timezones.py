"""A patient's time zone: offering places, setting one, and re-planning what hangs on it.

Times are stored in UTC. What depends on the patient's clock (quiet-hour holds, reminders,
calendar-day offsets; see bot.core.schedule.plan_reminder) is planned again on the new
clock in the same transaction as the change, so the dispatcher never sees a mix.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import keyboards, texts
from bot.core import zones
from bot.core.schedule import QuietHours, plan_reminder, plan_step, quiet_hours
from bot.keyboards import Callback
from bot.runtime import Runtime
from bot.services import messages
from bot.services.checkins import patient_zone
from bot.services.messages import Purpose
from storage import repository as repo
from storage.models import CheckInStatus, Patient, PatientStatus

log = logging.getLogger(__name__)

# Who may set their zone: a paused patient may be travelling, and their check-ins resume.
MAY_SET_ZONE = frozenset({PatientStatus.ACTIVE, PatientStatus.PAUSED})


def offer(rt: Runtime, session: Session, now: datetime, patient: Patient) -> None:
    """/timezone: the patient's zone and the time there, with nearby places to tap."""
    zone = patient_zone(rt, patient)
    offered = zones.nearby_zones(rt.settings.clinic_timezone)
    labels = [
        texts.zone_button(zones.place(key), now, ZoneInfo(key), current=key == zone.key)
        for key in offered
    ]
    quiet = _quiet_span(quiet_hours(rt.protocol))
    text = texts.zone_offer(zones.place(zone.key), zone.key, now, zone, quiet)
    keyboard = keyboards.time_zone_keyboard(patient.id, labels)
    messages.send(session, now, patient.chat_id, _with_footer(rt, text), Purpose.REPLY, keyboard)


def set_typed(rt: Runtime, session: Session, now: datetime, patient: Patient, typed: str) -> None:
    """/timezone <place or IANA name>: set it, or say how to type it (nothing changes)."""
    try:
        zone = zones.find_zone(typed)
    except zones.ZoneNotFound as exc:
        answer = texts.zone_not_found(typed, exc.candidates)
    else:
        answer = change(rt, session, now, patient, zone)
    messages.send(session, now, patient.chat_id, _with_footer(rt, answer), Purpose.REPLY)


def apply_button(
    rt: Runtime,
    session: Session,
    now: datetime,
    user_id: int,
    chat_id: int,
    message_id: int,
    callback: Callback,
) -> str | None:
    """A place tapped under /timezone: the offer becomes the confirmation; returns the
    press's answer when the tap changes nothing."""
    patient = repo.patient_by_telegram_id(session, user_id)
    if patient is None or patient.id != callback.record_id:
        return texts.FOREIGN_BUTTON
    offered = zones.nearby_zones(rt.settings.clinic_timezone)
    if patient.status not in MAY_SET_ZONE or not 0 <= callback.index < len(offered):
        messages.clear(session, now, chat_id, message_id)
        return texts.ZONE_BUTTON_STALE
    answer = change(rt, session, now, patient, ZoneInfo(offered[callback.index]))
    messages.edit(session, now, chat_id, message_id, _with_footer(rt, answer))
    return None


def change(rt: Runtime, session: Session, now: datetime, patient: Patient, zone: ZoneInfo) -> str:
    """Set the patient's zone and re-plan what hangs on their clock; returns what to tell them."""
    if patient.timezone != zone.key:
        patient.timezone = zone.key
        moved = replan(rt, session, patient, zone)
        repo.audit(
            session,
            actor=patient.telegram_user_id,
            action="timezone",
            now=now,
            patient_id=patient.id,
            detail=f"{zone.key}; {moved} check-ins re-planned",
        )
        log.info("patient %s: time zone changed, %d check-ins re-planned", patient.id, moved)
    upcoming = repo.next_pending(session, patient.id, now)
    due = upcoming.due_at if upcoming else None
    return texts.zone_changed(zones.place(zone.key), zone.key, now, zone, due)


def replan(rt: Runtime, session: Session, patient: Patient, zone: ZoneInfo) -> int:
    """Plan the patient's unfinished check-ins again on `zone`'s clock; returns how many moved.

    Not yet sent: due time, window and reminder, from the infusion's start. Already sent:
    only a reminder still to come. The baseline's times do not depend on the clock.
    """
    quiet = quiet_hours(rt.protocol)
    moved = 0
    for check_in, infusion in repo.unfinished_with_infusion(session, patient.id):
        step = rt.protocol.step(check_in.step_id)
        if step.baseline:
            continue
        if check_in.status == CheckInStatus.PENDING:
            planned = plan_step(step, infusion.started_at, infusion.started_at, zone, quiet)
            before = (check_in.due_at, check_in.closes_at, check_in.remind_at)
            if repo.reschedule_pending(
                session, check_in, planned.due_at, planned.closes_at, planned.remind_at
            ):
                moved += before != (check_in.due_at, check_in.closes_at, check_in.remind_at)
        elif check_in.reminded_at is None:
            remind_at = plan_reminder(step, check_in.due_at, check_in.closes_at, zone, quiet)
            moved += remind_at != check_in.remind_at
            check_in.remind_at = remind_at
    return moved


def _quiet_span(quiet: QuietHours) -> str | None:
    if quiet.start == quiet.end:
        return None
    return f"{quiet.start:%H:%M} to {quiet.end:%H:%M}"


def _with_footer(rt: Runtime, text: str) -> str:
    return texts.with_footer(text, rt.protocol.text("footer"))
