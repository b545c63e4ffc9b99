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
from bot.services.checkins import next_check_in, next_due, patient_zone
from bot.services.messages import Purpose
from bot.voice import Voice
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
    voice = rt.voice(patient.language)
    text = voice.say(
        "zone_offer",
        place=zones.place(zone.key),
        zone=zone.key,
        now=voice.time(now, zone),
        keep_quiet=_keep_quiet(voice, quiet_hours(rt.protocol)),
    )
    keyboard = keyboards.time_zone_keyboard(patient.id, labels)
    messages.send(session, now, patient.chat_id, voice.with_footer(text), Purpose.REPLY, keyboard)


def set_typed(rt: Runtime, session: Session, now: datetime, patient: Patient, typed: str) -> None:
    """/timezone <place or IANA name>: set it, or say how to type it (nothing changes)."""
    voice = rt.voice(patient.language)
    try:
        zone = zones.find_zone(typed)
    except zones.ZoneNotFound as exc:
        listed = "\n".join(f"/timezone {zone}" for zone in exc.candidates)
        key = "zone_ambiguous" if exc.candidates else "zone_not_found"
        answer = voice.say(key, typed=typed[:40], listed=listed)
    else:
        answer = change(rt, session, now, patient, zone)
    messages.send(session, now, patient.chat_id, voice.with_footer(answer), Purpose.REPLY)


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
    voice = rt.voice(patient.language if patient else None)
    if patient is None or patient.id != callback.record_id:
        return voice.say("foreign_button")
    offered = zones.nearby_zones(rt.settings.clinic_timezone)
    if patient.status not in MAY_SET_ZONE or not 0 <= callback.index < len(offered):
        messages.clear(session, now, chat_id, message_id)
        return voice.say("zone_stale")
    answer = change(rt, session, now, patient, ZoneInfo(offered[callback.index]))
    messages.edit(session, now, chat_id, message_id, voice.with_footer(answer))
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
    due = next_due(session, patient.id, now)
    voice = rt.voice(patient.language)
    return voice.say(
        "zone_changed",
        place=zones.place(zone.key),
        zone=zone.key,
        now=voice.time(now, zone),
        next=next_check_in(voice, due, zone),
    )


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
            planned = plan_step(step, infusion.started_at, zone, quiet)
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


def _keep_quiet(voice: Voice, quiet: QuietHours) -> str:
    """ ", and I keep quiet from 22:00 to 08:00", or nothing without quiet hours."""
    if quiet.start == quiet.end:
        return ""
    return voice.say("keep_quiet", start=f"{quiet.start:%H:%M}", end=f"{quiet.end:%H:%M}")
