"""Alerts: stored when a rule fires, then the patient is told and staff are notified.

An alert row is written in the same transaction as the answer that set it off. Telling the
patient and notifying staff happen after the commit and are marked on the row, so the
dispatcher can finish the job after a crash (see `deliver_pending_alerts`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select
from telegram import Bot

from bot import keyboards, notify, texts
from bot.core.protocol import Missed, MissedInARow, Severity
from bot.core.rules import Match
from bot.runtime import Runtime
from storage import repository as repo
from storage.models import Alert, CheckIn, Patient, PatientStatus

log = logging.getLogger(__name__)

UNREACHABLE_RULE = "patient_unreachable"
PATIENT_TEXT_BY_SEVERITY = {
    Severity.EMERGENCY: "emergency",
    Severity.URGENT: "urgent",
    Severity.REVIEW: "review",
}


def store_alerts(
    rt: Runtime,
    session: Session,
    patient_id: int,
    check_in_id: int | None,
    matches: Iterable[Match],
    now: datetime,
) -> list[int]:
    """Write an alert for each match not yet alerted for this check-in; returns new ids."""
    created = []
    for match in matches:
        severity = match.rule.severity
        escalates = severity in (Severity.EMERGENCY, Severity.URGENT)
        alert = repo.create_alert(
            session,
            patient_id=patient_id,
            check_in_id=check_in_id,
            rule_id=match.rule.id,
            severity=severity.value,
            description=match.rule.description,
            summary=match.summary,
            now=now,
            escalate_at=rt.protocol.escalate_after.after(now, rt.settings.clinic_timezone)
            if escalates
            else None,
        )
        if alert is not None:
            created.append(alert.id)
            log.info("alert %s raised: rule %s, patient %s", alert.id, match.rule.id, patient_id)
    rt.alerts_in_flight.update(created)
    return created


async def deliver_alerts(rt: Runtime, bot: Bot, alert_ids: list[int]) -> None:
    """Tell the patient (each distinct safety text once) and then notify staff."""
    try:
        await _tell_patient(rt, bot, alert_ids)
        for alert_id in alert_ids:
            await _notify_staff(rt, bot, alert_id)
    finally:
        rt.alerts_in_flight.difference_update(alert_ids)


async def deliver_pending_alerts(rt: Runtime, bot: Bot) -> None:
    """Finish alerts whose patient message or staff notification never went out."""
    with rt.session() as session:
        pending = session.exec(
            select(Alert.id).where(
                col(Alert.staff_notified_at).is_(None) | col(Alert.patient_told_at).is_(None)
            )
        ).all()
    fresh = [a for a in pending if a not in rt.alerts_in_flight]
    if fresh:
        rt.alerts_in_flight.update(fresh)
        await deliver_alerts(rt, bot, fresh)


def patient_text_key(rt: Runtime, alert: Alert) -> str | None:
    """Which protocol text the patient gets for this alert, if any."""
    if alert.rule_id == UNREACHABLE_RULE:
        return None
    rule = next((r for r in rt.protocol.rules if r.id == alert.rule_id), None)
    if rule is not None and isinstance(rule.condition, Missed | MissedInARow):
        return None
    if rule is not None and rule.patient_text:
        return rule.patient_text
    return PATIENT_TEXT_BY_SEVERITY.get(Severity(alert.severity))


async def _tell_patient(rt: Runtime, bot: Bot, alert_ids: list[int]) -> None:
    with rt.session() as session:
        alerts = [session.get_one(Alert, a) for a in alert_ids]
        waiting = [a for a in alerts if a.patient_told_at is None]
        keys = {a.id: patient_text_key(rt, a) for a in waiting}
        patient = session.get(Patient, waiting[0].patient_id) if waiting else None
    if patient is None:
        return
    ordered = sorted(waiting, key=lambda a: Severity(a.severity).rank)
    sent: set[str] = set()
    for alert in ordered:
        key = keys[alert.id]
        if key and key not in sent and patient.chat_id is not None:
            sent.add(key)
            text = texts.with_footer(rt.protocol.text(key), rt.protocol.text("footer"))
            try:
                await notify.send(bot, patient.chat_id, text)
            except notify.Undeliverable:
                log.info("patient %s unreachable for alert %s", patient.id, alert.id)
    with rt.session() as session:
        now = rt.clock.now()
        for alert in waiting:
            session.get_one(Alert, alert.id).patient_told_at = now


def staff_chats(rt: Runtime, session: Session) -> list[int]:
    """Where alerts go: the staff group if configured, else every staff member privately."""
    if rt.settings.staff_alert_chat_id is not None:
        return [rt.settings.staff_alert_chat_id]
    members = {m.telegram_user_id for m in repo.active_staff(session)}
    return sorted(set(rt.settings.admin_ids) | members)


def escalation_chats(rt: Runtime, session: Session) -> list[int]:
    """Who gets alerts nobody acknowledged: the admins."""
    admins = {m.telegram_user_id for m in repo.active_staff(session) if m.role == "admin"}
    return sorted(set(rt.settings.admin_ids) | admins)


def alert_text(rt: Runtime, session: Session, alert: Alert) -> str:
    """The staff message for an alert, with its acknowledgement if there is one."""
    patient = session.get_one(Patient, alert.patient_id)
    check_in = session.get(CheckIn, alert.check_in_id) if alert.check_in_id else None
    step_title = (
        rt.protocol.step(check_in.step_id).title
        if check_in and _known(rt, check_in.step_id)
        else None
    )
    tz = rt.settings.clinic_timezone
    text = texts.staff_alert(
        alert.severity,
        patient.clinic_ref,
        patient.display_name,
        alert.description,
        alert.summary,
        step_title,
        alert.created_at,
        tz,
    )
    if alert.acknowledged_at is not None:
        who = staff_name(rt, session, alert.acknowledged_by)
        text += "\n\n" + texts.acknowledged_line(who, alert.acknowledged_at, tz)
    return text


def staff_name(rt: Runtime, session: Session, user_id: int | None) -> str:
    """How staff see a colleague: their recorded name, else their Telegram id."""
    member = repo.staff_member(session, user_id) if user_id is not None else None
    if member is not None and member.display_name:
        return member.display_name
    return f"staff {user_id}"


def _known(rt: Runtime, step_id: str) -> bool:
    return step_id == rt.protocol.report.id or any(s.id == step_id for s in rt.protocol.steps)


async def _notify_staff(rt: Runtime, bot: Bot, alert_id: int) -> None:
    with rt.session() as session:
        alert = session.get_one(Alert, alert_id)
        if alert.staff_notified_at is not None:
            return
        text, chats = alert_text(rt, session, alert), staff_chats(rt, session)
    await send_to_staff(
        rt, bot, alert_id, chats, text, kind="alert", silent=alert.severity == Severity.REVIEW
    )
    with rt.session() as session:
        session.get_one(Alert, alert_id).staff_notified_at = rt.clock.now()


async def send_to_staff(
    rt: Runtime,
    bot: Bot,
    alert_id: int,
    chats: list[int],
    text: str,
    kind: str,
    silent: bool = False,
) -> int:
    """Send an alert to each chat with its Acknowledge button; record each delivery."""
    if not chats:
        log.warning("alert %s has no staff to go to: set STAFF_ALERT_CHAT_ID or admins", alert_id)
    delivered = 0
    markup = keyboards.acknowledge_keyboard(alert_id)
    for chat_id in chats:
        message_id, error = None, None
        try:
            message = await notify.send(bot, chat_id, text, markup, silent=silent)
            message_id, delivered = message.message_id, delivered + 1
        except notify.Undeliverable as exc:
            error = str(exc)[:200]
            log.warning("alert %s could not reach a staff chat", alert_id)
        with rt.session() as session:
            repo.record_delivery(
                session,
                alert_id=alert_id,
                chat_id=chat_id,
                message_id=message_id,
                kind=kind,
                now=rt.clock.now(),
                error=error,
            )
    return delivered


async def mark_unreachable(rt: Runtime, bot: Bot, patient_id: int, check_in_id: int | None) -> None:
    """A patient blocked the bot: stop sending to them and tell staff with a review alert."""
    with rt.session() as session:
        patient = session.get_one(Patient, patient_id)
        if patient.status == PatientStatus.BLOCKED:
            return
        patient.status = PatientStatus.BLOCKED
        now = rt.clock.now()
        alert = repo.create_alert(
            session,
            patient_id=patient_id,
            check_in_id=check_in_id,
            rule_id=UNREACHABLE_RULE,
            severity=Severity.REVIEW.value,
            description="Patient unreachable",
            summary=texts.patient_unreachable(patient.clinic_ref),
            now=now,
            escalate_at=None,
        )
        repo.audit(session, actor=None, action="patient_blocked", now=now, patient_id=patient_id)
        alert_ids = [alert.id] if alert else []
        if alert:
            alert.patient_told_at = now
    rt.alerts_in_flight.update(alert_ids)
    await deliver_alerts(rt, bot, alert_ids)
