"""Alerts: raised when a rule fires, with the patient's safety text and the staff messages
queued in the same transaction; acknowledged, escalated, and re-routed when a chat is lost."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import keyboards, texts
from bot.core.durations import Duration, DurationError
from bot.core.protocol import (
    CLOSED_VARIANTS,
    ESCALATING,
    Missed,
    MissedInARow,
    ReliefLost,
    Severity,
    Words,
)
from bot.core.rules import Match
from bot.core.schedule import office_hours
from bot.runtime import Runtime
from bot.services import checkins, messages
from bot.services.messages import Method, Purpose
from bot.voice import Voice
from storage import repository as repo
from storage.models import Alert, AlertDelivery, CheckInStatus, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

UNREACHABLE_RULE = "patient_unreachable"
GROUPED_RULES = frozenset({UNREACHABLE_RULE})
GROUP_WAIT = timedelta(seconds=10)
DIGEST = "out_of_hours_review"
# A message carrying the alerts that queued for one staff chat, each acknowledged on its own.
COMBINED = "combined"
MOST_COMBINED = 20
ACKNOWLEDGED_LINE_ROOM = 120  # characters kept for each alert's "Acknowledged by" line
SNOOZED = "snoozed"  # the name on an alert a snooze acknowledged
LONGEST_SNOOZE = timedelta(days=30)
ON_CALL_SETTING = "on_call"
STAFF_GROUP_SETTING = "staff_alert_chat_id"
PATIENT_TEXT_BY_SEVERITY = {
    Severity.EMERGENCY: "emergency",
    Severity.URGENT: "urgent",
    Severity.REVIEW: "review",
}


def raise_alerts(
    rt: Runtime,
    session: Session,
    now: datetime,
    patient_id: int,
    check_in_id: int | None,
    matches: Iterable[Match],
) -> list[Alert]:
    """Store an alert for each match not yet alerted for this check-in, and queue its messages.

    The patient's scripted texts (each distinct one once, most severe first) go out before
    anything else queued for them; staff get one message per answer in every staff chat. A
    rule a clinician snoozed for this patient is stored, already acknowledged, and not sent.
    """
    matches = list(matches)
    if not matches:  # most answers set nothing off
        return []
    snoozed = {s.rule_id: s for s in repo.active_snoozes(session, patient_id, now)}
    created = []
    for match in matches:
        severity = match.severity
        alert = repo.create_alert(
            session,
            patient_id=patient_id,
            check_in_id=check_in_id,
            rule_id=match.rule.id,
            severity=severity.value,
            description=match.rule.description,
            summary=match.summary,
            now=now,
            escalate_at=rt.protocol.escalate_after[severity].after(now, rt.settings.clinic_timezone)
            if severity in ESCALATING
            else None,
        )
        if alert is not None:
            created.append(alert)
            log.info("alert %s raised: rule %s, patient %s", alert.id, match.rule.id, patient_id)
    _tell_patient(rt, session, now, created)
    for alert in created:
        if alert.rule_id in snoozed:
            snooze = snoozed[alert.rule_id]
            repo.acknowledge_alert(session, alert.id, snooze.snoozed_by, now, SNOOZED)
    notify_staff(rt, session, now, [a for a in created if a.rule_id not in snoozed])
    return created


def notify_staff(rt: Runtime, session: Session, now: datetime, alerts: list[Alert]) -> None:
    """Queue alerts raised together to every staff chat, with an Acknowledge button.

    Notices that can wait (a patient became unreachable) are grouped: those raised within
    GROUP_WAIT of each other share one message, so that forty blocked patients are one
    message in the staff group and not two minutes of its 20-a-minute limit. The rest (the
    rules one answer set off) are one message headed by the most severe; acknowledging it,
    by its button or any of its numbers, acknowledges them all.
    """
    if not alerts:
        return
    chats = staff_chats(rt, session)
    if not chats:
        log.warning("alerts have no staff to go to: set STAFF_ALERT_CHAT_ID or admins")
    render = functools.partial(grouped_notice, rt, session)
    for alert in (a for a in alerts if a.rule_id in GROUPED_RULES):
        for chat_id in chats:
            messages.send_grouped(
                session, now, chat_id, alert.rule_id, alert.id, render, GROUP_WAIT
            )
    together = [a for a in alerts if a.rule_id not in GROUPED_RULES]
    if together:
        _notify_together(rt, session, now, together, chats)


def _notify_together(
    rt: Runtime, session: Session, now: datetime, alerts: list[Alert], chats: list[int]
) -> None:
    alerts = sorted(alerts, key=lambda a: (Severity(a.severity).rank, a.id))
    head = alerts[0]
    tz = rt.settings.clinic_timezone
    hours = office_hours(rt.protocol)
    if not hours.is_open(now, tz) and head.severity == Severity.REVIEW:
        wait = hours.next_opening(now, tz) - now
        render = functools.partial(digest, rt, session)
        for chat_id in chats:
            for alert in alerts:
                messages.send_grouped(session, now, chat_id, DIGEST, alert.id, render, wait)
        return
    text = carried_text(rt, session, alerts)
    on_call = on_call_clinician(session)
    if on_call is not None and on_call not in chats and not hours.is_open(now, tz):
        chats = [*chats, on_call]  # out of hours, the on-call clinician gets it too
    for chat_id in chats:
        messages.send(
            session,
            now,
            chat_id,
            text,
            Purpose.ALERT,
            keyboards.acknowledge_keyboard(head.id),
            silent=all(a.severity == Severity.REVIEW for a in alerts),
            alert_id=head.id,
            carries=[a.id for a in alerts],
        )


def may_carry_backlog(row: OutboxMessage) -> bool:
    """Whether this message is one staff alert, never tried, that could take along the
    alerts queued behind it for the same chat."""
    return (
        row.method == Method.SEND
        and row.purpose == Purpose.ALERT
        and row.attempts == 0
        and row.alert_id is not None
        and row.group_key is None
        and row.grouped_alert_ids is None
    )


def combine_backlog(session: Session, now: datetime, row: OutboxMessage) -> OutboxMessage:
    """The alert about to go to a staff chat takes along the alerts queued behind it there,
    most severe first, as many as one message holds; returns the row to send as it now is.

    A backlog (two hundred answers at once, at one message a second to a private chat) is
    then a few messages instead of one per alert, and nothing in it waits longer than the
    message that goes now. Every alert keeps its own Acknowledge button, its delivery record
    and its escalation; the rows taken along are marked combined, not sent.
    """
    waiting = repo.alerts_waiting_behind(
        session,
        row,
        now,
        purpose=Purpose.ALERT,
        method=Method.SEND,
        severities=[severity.value for severity in Severity],
        limit=MOST_COMBINED - 1,
    )
    if not waiting:
        return row
    head = repo.get_outbox_message(session, row.id)
    first = repo.get_alert(session, head.alert_id)
    # Each alert as it was queued: a copy sent to the admins keeps the reason it came to them.
    carried = {first.id: (first, head.text)}
    room = texts.MESSAGE_LIMIT - len(head.text) - ACKNOWLEDGED_LINE_ROOM
    for other, alert in waiting:
        size = len(texts.ALERT_SEPARATOR) + len(other.text) + ACKNOWLEDGED_LINE_ROOM
        if size > room:
            break
        room -= size
        carried[alert.id] = (alert, other.text)
        other.status = OutboxStatus.COMBINED
    if len(carried) == 1:
        return row
    ordered = sorted(carried.values(), key=lambda pair: _severity_order(pair[0]))
    text, keyboard = _combined(ordered)
    messages.rewrite(head, text, keyboard, [alert.id for alert, _ in ordered])
    head.group_key = COMBINED
    head.silent = all(alert.severity == Severity.REVIEW for alert, _ in ordered)
    log.info("staff message %s carries %d alerts that waited for its chat", head.id, len(ordered))
    return head


def combined_message(
    rt: Runtime, session: Session, alerts: list[Alert]
) -> tuple[str, keyboards.Keyboard]:
    """A message carrying alerts that are each acknowledged on their own: every alert as it
    would read alone, most severe first, and a button for each one not yet acknowledged."""
    ordered = sorted(alerts, key=_severity_order)
    return _combined([(alert, alert_text(rt, session, alert)) for alert in ordered])


def _combined(carried: list[tuple[Alert, str]]) -> tuple[str, keyboards.Keyboard]:
    text = texts.ALERT_SEPARATOR.join(text for _, text in carried)
    waiting = [alert.id for alert, _ in carried if alert.acknowledged_at is None]
    return text, keyboards.acknowledge_each_keyboard(waiting)


def _severity_order(alert: Alert) -> tuple[int, int]:
    return Severity(alert.severity).rank, alert.id


def digest(rt: Runtime, session: Session, alert_ids: list[int]) -> tuple[str, keyboards.Keyboard]:
    """Review alerts raised out of hours, in one message sent when the clinic opens."""
    return carried_text(rt, session, [repo.get_alert(session, i) for i in alert_ids]), (
        keyboards.acknowledge_keyboard(alert_ids[0])
    )


def _digest_text(rt: Runtime, session: Session, alerts: list[Alert]) -> str:
    refs = {a.patient_id: repo.get_patient(session, a.patient_id).clinic_ref for a in alerts}
    lines = [texts.digest_line(a.id, refs[a.patient_id], a.description, a.summary) for a in alerts]
    text = texts.review_digest(lines)
    if all(a.acknowledged_at is not None for a in alerts):
        last = max(alerts, key=lambda a: a.acknowledged_at)
        who = acknowledger(session, last)
        tz = rt.settings.clinic_timezone
        text += "\n\n" + texts.acknowledged_line(who, last.acknowledged_at, tz)
    return text


def on_call_clinician(session: Session) -> int | None:
    """Who is on call (set with /oncall), if anyone."""
    value = repo.setting(session, ON_CALL_SETTING)
    return int(value) if value else None


def carried_text(rt: Runtime, session: Session, alerts: list[Alert]) -> str:
    """The text of a staff message carrying these alerts: one, one answer's, or a digest."""
    if len(alerts) == 1:
        return alert_text(rt, session, alerts[0])
    if all(a.rule_id in GROUPED_RULES for a in alerts):
        text, _ = grouped_notice(rt, session, [a.id for a in alerts])
        return text
    if len({(a.patient_id, a.created_at) for a in alerts}) > 1:
        return _digest_text(rt, session, alerts)
    head, *rest = sorted(alerts, key=lambda a: (Severity(a.severity).rank, a.id))
    also = tuple(texts.also_alert(a.id, a.severity, a.description, a.summary) for a in rest)
    return alert_text(rt, session, head, also)


def _tell_patient(rt: Runtime, session: Session, now: datetime, alerts: list[Alert]) -> None:
    if not alerts:
        return
    patient = repo.get_patient(session, alerts[0].patient_id)
    voice = rt.voice(patient.language)
    zone = checkins.patient_zone(rt, patient)
    worst = min(Severity(a.severity).rank for a in alerts)
    told: set[str] = set()
    for alert in sorted(alerts, key=lambda a: Severity(a.severity).rank):
        key = patient_text_key(rt, alert)
        # Only the most severe level's texts: after "call 112" nothing milder follows.
        if Severity(alert.severity).rank > worst:
            key = None
        if key and key not in told and patient.chat_id is not None:
            told.add(key)
            text = voice.with_footer(_patient_text(rt, voice, key, now, zone))
            messages.send(session, now, patient.chat_id, text, Purpose.SAFETY, alert_id=alert.id)
        alert.patient_told_at = now


def _patient_text(rt: Runtime, voice: Voice, key: str, now: datetime, zone: ZoneInfo) -> str:
    """The protocol's text; out of office hours its "closed" variant, saying when it opens
    on the patient's clock (`zone`)."""
    tz = rt.settings.clinic_timezone
    hours = office_hours(rt.protocol)
    closed = CLOSED_VARIANTS.get(key)
    if closed in rt.protocol.texts and not hours.is_open(now, tz):
        return voice.text(closed, opens=voice.time(hours.next_opening(now, tz), zone))
    return voice.text(key)


def patient_text_key(rt: Runtime, alert: Alert) -> str | None:
    """Which protocol text the patient gets for this alert, if any."""
    if alert.rule_id == UNREACHABLE_RULE:
        return None
    rule = rt.protocol.rule(alert.rule_id)
    if rule is not None and isinstance(rule.condition, Missed | MissedInARow):
        return None
    if rule is not None and rule.patient_text:
        return rule.patient_text
    return PATIENT_TEXT_BY_SEVERITY.get(Severity(alert.severity))


def grouped_notice(
    rt: Runtime, session: Session, alert_ids: list[int]
) -> tuple[str, keyboards.Keyboard]:
    """The text and button of one message carrying several alerts of one rule."""
    alerts = [repo.get_alert(session, alert_id) for alert_id in alert_ids]
    if len(alerts) == 1:
        text = alert_text(rt, session, alerts[0])
    else:
        refs = [repo.get_patient(session, a.patient_id).clinic_ref for a in alerts]
        text = texts.unreachable_patients(alerts[0].description, refs)
        acknowledged = [a for a in alerts if a.acknowledged_at is not None]
        if len(acknowledged) == len(alerts):
            last = acknowledged[-1]
            who = acknowledger(session, last)
            tz = rt.settings.clinic_timezone
            text += "\n\n" + texts.acknowledged_line(who, last.acknowledged_at, tz)
    return text, keyboards.acknowledge_keyboard(alert_ids[0])


def staff_group(rt: Runtime, session: Session) -> int | None:
    """The staff group's chat id: as configured, or its new id after Telegram migrated it."""
    learned = repo.setting(session, STAFF_GROUP_SETTING)
    if learned is not None:
        return int(learned)
    return rt.settings.staff_alert_chat_id


def staff_chats(rt: Runtime, session: Session) -> list[int]:
    """Where alerts go: the staff group if configured, else every staff member privately."""
    group = staff_group(rt, session)
    if group is not None:
        return [group]
    members = {m.telegram_user_id for m in repo.active_staff(session)}
    return sorted(set(rt.settings.admin_ids) | members)


def escalation_chats(rt: Runtime, session: Session) -> list[int]:
    """Who gets alerts nobody acknowledged, and what the staff group could not take: admins."""
    admins = {m.telegram_user_id for m in repo.active_staff(session) if m.role == "admin"}
    return sorted(set(rt.settings.admin_ids) | admins)


def alert_text(rt: Runtime, session: Session, alert: Alert, also: tuple[str, ...] = ()) -> str:
    """The staff message for an alert (with `also` lines for further rules the same answer
    set off), and its acknowledgement if there is one."""
    patient = repo.get_patient(session, alert.patient_id)
    check_in = repo.get_check_in(session, alert.check_in_id) if alert.check_in_id else None
    step_title = (
        rt.protocol.step(check_in.step_id).title
        if check_in and _known_step(rt, check_in.step_id)
        else None
    )
    infusion = (
        repo.get_infusion(session, check_in.infusion_id)
        if check_in and check_in.infusion_id is not None
        else None
    )
    if step_title and infusion is not None:
        step_title = texts.step_in_infusion(step_title, infusion.number)
    tz = rt.settings.clinic_timezone
    rule = rt.protocol.rule(alert.rule_id)
    text = texts.staff_alert(
        alert.id,
        alert.severity,
        patient.clinic_ref,
        patient.display_name,
        alert.description,
        alert.summary,
        step_title,
        alert.created_at,
        tz,
        interrupted=check_in is not None and check_in.status == CheckInStatus.INTERRUPTED,
        label=_summary_label(rule),
    )
    if rule is not None and isinstance(rule.condition, ReliefLost):
        text += "\n" + texts.FOLLOW_UP_REDUCED
    text = "\n".join([text, *also])
    if alert.acknowledged_at is not None:
        who = acknowledger(session, alert)
        text += "\n\n" + texts.acknowledged_line(who, alert.acknowledged_at, tz)
    return text


def _summary_label(rule) -> str:
    """What the summary line of an alert is: an answer, the patient's words, or a miss."""
    if rule is not None and isinstance(rule.condition, Words):
        return "Wrote"
    if rule is not None and isinstance(rule.condition, Missed | MissedInARow):
        return "Details"
    return "Answered"


def acknowledger(session: Session, alert: Alert) -> str:
    """Who acknowledged: their staff name, else the name Telegram showed, else their id."""
    user_id = alert.acknowledged_by
    member = repo.staff_member(session, user_id) if user_id is not None else None
    if member is not None and member.display_name:
        return member.display_name
    return alert.acknowledged_name or f"staff {user_id}"


def _known_step(rt: Runtime, step_id: str) -> bool:
    return step_id == rt.protocol.report.id or any(s.id == step_id for s in rt.protocol.steps)


@dataclass(frozen=True)
class AckResult:
    """What acknowledging did, for the button's answer."""

    reply: str
    refused: bool = False


def acknowledge(
    rt: Runtime,
    session: Session,
    now: datetime,
    user_id: int,
    alert_id: int,
    is_staff: bool,
    name: str | None = None,
) -> AckResult:
    """Record who acknowledged and when (once), and queue the update of every copy."""
    alert = repo.get_alert(session, alert_id) if is_staff else None
    if alert is None and is_staff:
        return AckResult(texts.no_such_alert(alert_id), refused=True)
    if alert is None:
        repo.audit(session, actor=user_id, action="refused:acknowledge", now=now)
        return AckResult(texts.STAFF_ONLY_BUTTON, refused=True)
    if not repo.acknowledge_alert(session, alert_id, user_id, now, name):
        alert = repo.current_alert(session, alert_id)  # whoever was first committed just now
        who = acknowledger(session, alert)
        tz = rt.settings.clinic_timezone
        return AckResult(texts.already_acknowledged(who, alert.acknowledged_at, tz))
    alert = repo.get_alert(session, alert_id)
    repo.audit(
        session,
        actor=user_id,
        action="acknowledge",
        now=now,
        patient_id=alert.patient_id,
        detail=f"alert {alert_id}",
    )
    for copy in repo.deliveries_of(session, alert_id):
        _show_acknowledgement(rt, session, now, copy, alert)
    return AckResult(texts.ACKNOWLEDGED)


def show_late_acknowledgement(
    rt: Runtime, session: Session, now: datetime, copies: list[AlertDelivery]
) -> None:
    """A staff message just delivered, whose alerts are `copies`: if one was acknowledged
    while it was on its way (acknowledge() edits only the copies already delivered), it
    gets the same edit, so that no Acknowledge button stays live for an acknowledged alert."""
    for copy in copies:
        alert = repo.current_alert(session, copy.alert_id)
        if alert.acknowledged_at is not None:
            _show_acknowledgement(rt, session, now, copy, alert)
            return


def _show_acknowledgement(
    rt: Runtime, session: Session, now: datetime, copy: AlertDelivery, alert: Alert
) -> None:
    """Queue the edit of one delivered copy that shows `alert` acknowledged."""
    carried = repo.alerts_sharing_message(session, copy.chat_id, copy.message_id)
    if copy.kind == COMBINED:  # each alert has its own button: only this one is done
        body, keyboard = combined_message(rt, session, carried)
        messages.edit(session, now, copy.chat_id, copy.message_id, body, keyboard)
        return
    if len(carried) > 1:
        # One message for several alerts: acknowledging it acknowledges them all.
        who, name = alert.acknowledged_by, alert.acknowledged_name
        for other in carried:
            repo.acknowledge_alert(session, other.id, who, now, name)
        body = carried_text(rt, session, carried)  # each expired above: read as committed
    elif copy.kind == Purpose.ESCALATION:
        body = _escalation_text(alert, alert_text(rt, session, alert))
    else:
        body = alert_text(rt, session, alert)
    messages.edit(session, now, copy.chat_id, copy.message_id, body)


def _escalation_text(alert: Alert, text: str) -> str:
    minutes = round((alert.escalate_at - alert.created_at).total_seconds() / 60)
    return texts.escalation(minutes, text)


def escalate_due(rt: Runtime, session: Session, now: datetime, limit: int) -> int:
    """Queue unacknowledged emergency and urgent alerts to the escalation list; returns how many."""
    due = repo.alerts_to_escalate(session, now, limit)
    if not due:
        return 0
    chats = escalation_chats(rt, session)
    for alert in due:
        text = _escalation_text(alert, alert_text(rt, session, alert))
        keyboard = keyboards.acknowledge_keyboard(alert.id)
        for chat_id in chats:
            messages.send(
                session, now, chat_id, text, Purpose.ESCALATION, keyboard, alert_id=alert.id
            )
        alert.escalated_at = now
        log.info("alert %s escalated to %d chats", alert.id, len(chats))
    return len(due)


def mark_unreachable(
    rt: Runtime, session: Session, now: datetime, patient_id: int, reason: str
) -> None:
    """A patient blocked the bot or left Telegram: stop sending and tell staff, once."""
    patient = repo.mark_blocked(session, patient_id)
    if patient is None:  # already blocked: staff were told then
        return
    if patient.chat_id is not None:
        repo.fail_pending_for_chat(session, patient.chat_id, reason)
    alert = repo.create_alert(
        session,
        patient_id=patient_id,
        check_in_id=None,
        rule_id=UNREACHABLE_RULE,
        severity=Severity.REVIEW.value,
        description="Patient unreachable",
        summary=texts.patient_unreachable(patient.clinic_ref),
        now=now,
        escalate_at=None,
    )
    alert.patient_told_at = now
    repo.audit(session, actor=None, action="patient_blocked", now=now, patient_id=patient_id)
    notify_staff(rt, session, now, [alert])
    log.info("patient %s unreachable; staff told by alert %s", patient_id, alert.id)


def tell_staff(rt: Runtime, session: Session, now: datetime, text: str) -> None:
    """Queue a notice (no alert, nothing to acknowledge) to every staff chat alerts go to."""
    for chat_id in staff_chats(rt, session):
        messages.send(session, now, chat_id, text, Purpose.NOTICE)


def reroute_to_admins(
    rt: Runtime, session: Session, now: datetime, row: OutboxMessage, why: str
) -> None:
    """A staff group cannot take a message: each admin gets it privately, with the reason."""
    body = f"{texts.group_unreachable(why)}\n\n{row.text}"
    keyboard = keyboards.acknowledge_keyboard(row.alert_id) if row.alert_id is not None else None
    for chat_id in escalation_chats(rt, session):
        copy = messages.send(
            session, now, chat_id, body, Purpose.ALERT, keyboard, alert_id=row.alert_id
        )
        copy.grouped_alert_ids = row.grouped_alert_ids
        if row.group_key == COMBINED:  # each alert keeps its own button
            copy.group_key, copy.markup = row.group_key, row.markup


def staff_group_migrated(
    rt: Runtime, session: Session, now: datetime, old_chat_id: int, new_chat_id: int
) -> None:
    """Telegram turned the staff group into a supergroup: remember and use its new id."""
    if staff_group(rt, session) == old_chat_id:
        repo.set_setting(session, STAFF_GROUP_SETTING, str(new_chat_id), now)
    moved = repo.move_pending_to_chat(session, old_chat_id, new_chat_id)
    repo.audit(session, actor=None, action="staff_group_migrated", now=now, detail=str(new_chat_id))
    log.info("staff group migrated; %d pending messages follow it", moved)


def staff_group_lost(rt: Runtime, session: Session, now: datetime, chat_id: int, why: str) -> None:
    """The bot was removed from or muted in the staff group: record it and tell the admins."""
    if chat_id != staff_group(rt, session):
        return
    repo.audit(session, actor=None, action="staff_group_lost", now=now, detail=why[:200])
    for admin in escalation_chats(rt, session):
        messages.send(session, now, admin, texts.group_lost(why), Purpose.NOTICE)


def snooze(
    rt: Runtime, session: Session, now: datetime, actor: int, ref: str, rule_id: str, length: str
) -> str:
    """/snooze <ref> <rule> <duration>: that rule does not alert for that patient meanwhile.

    Never an emergency rule; at most LONGEST_SNOOZE; audited and shown in /patient.
    """
    patient = repo.patient_by_ref(session, ref)
    rule = rt.protocol.rule(rule_id)
    if patient is None:
        return texts.UNKNOWN_PATIENT.format(ref=ref)
    if rule is None:
        return texts.unknown_rule(rule_id)
    if rule.severity is Severity.EMERGENCY:
        return texts.NO_EMERGENCY_SNOOZE
    try:
        duration = Duration.parse(length)
    except DurationError:
        return texts.SNOOZE_USAGE
    until = duration.after(now, rt.settings.clinic_timezone)
    if not now < until <= now + LONGEST_SNOOZE:
        return texts.SNOOZE_USAGE
    repo.add_snooze(session, patient_id=patient.id, rule_id=rule.id, until=until, by=actor, now=now)
    detail = f"{rule.id} until {until.isoformat()}"
    repo.audit(session, actor=actor, action="snooze", now=now, patient_id=patient.id, detail=detail)
    return texts.snoozed(ref, rule.description, until, rt.settings.clinic_timezone)
