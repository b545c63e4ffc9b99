"""What a delivery attempt means for the rest of the bot: recorded on the outbox row, and
on the check-in, alert or patient it concerns. The sender calls these after each attempt."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.core.durations import backoff_seconds
from bot.runtime import Runtime
from bot.services import alerts, messages
from bot.services.messages import STAFF_PURPOSES, Method, Purpose
from storage import repository as repo
from storage.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

# A staff group that has failed this long is routed around: the admins get the alert.
REROUTE_AFTER = timedelta(minutes=1)
GIVE_UP_AFTER = timedelta(hours=24)


def delivered(
    rt: Runtime, session: Session, now: datetime, row_id: int, message_id: int | None
) -> None:
    """The message went out (an edit: applied, or nothing left to change)."""
    row = repo.get_outbox_message(session, row_id)
    row.status, row.sent_at, row.message_id = OutboxStatus.SENT, now, message_id
    row.attempts += 1
    if row.method != Method.SEND or message_id is None:
        return
    if (
        row.check_in_id is not None
        and row.markup
        and not repo.record_question_message(session, row.check_in_id, row.id, message_id)
    ):
        # A newer message of the same check-in was queued meanwhile, or the check-in closed
        # while this one was on its way: retire its buttons.
        messages.clear(session, now, row.chat_id, message_id)
    if row.purpose not in (Purpose.ALERT, Purpose.ESCALATION):
        return
    kind = alerts.COMBINED if row.group_key == alerts.COMBINED else row.purpose
    copies = []
    for alert_id in messages.grouped_alert_ids(row):
        copies.append(
            repo.record_delivery(
                session,
                alert_id=alert_id,
                chat_id=row.chat_id,
                message_id=message_id,
                kind=kind,
                now=now,
            )
        )
        if row.purpose == Purpose.ALERT:
            repo.mark_staff_notified(session, alert_id, now)
    alerts.show_late_acknowledgement(rt, session, now, copies)


def delivered_after_trouble(
    rt: Runtime, session: Session, now: datetime, row_id: int, message_id: int | None
) -> None:
    """The first message through after network failures: the others waiting go at once."""
    delivered(rt, session, now, row_id, message_id)
    brought_forward = repo.retry_now(session, now)
    log.info("telegram answers again; %d waiting messages retried now", brought_forward)


def retry_later(
    rt: Runtime,
    session: Session,
    now: datetime,
    row_id: int,
    error: str,
    wait: timedelta | None = None,
) -> None:
    """A passing failure: try again after `wait` (or a growing backoff); give up after a day."""
    row = repo.get_outbox_message(session, row_id)
    row.attempts += 1
    row.last_error = error[:200]
    row.first_failed_at = row.first_failed_at or now
    if now - row.created_at > GIVE_UP_AFTER:
        row.status = OutboxStatus.FAILED
        log.warning("outbox %s given up after %d attempts", row.id, row.attempts)
        return
    if wait is None:
        wait = timedelta(seconds=backoff_seconds(row.attempts))
        wait *= random.uniform(0.8, 1.2)
    row.next_attempt_at = now + wait
    if _is_staff_group_message(rt, session, row) and now - row.first_failed_at >= REROUTE_AFTER:
        _reroute_once(rt, session, now, row, error)


def refused(rt: Runtime, session: Session, now: datetime, row_id: int, error: str) -> None:
    """Telegram refused the message for good: record it, and route around what it affects."""
    row = repo.get_outbox_message(session, row_id)
    row.attempts += 1
    row.status, row.last_error = OutboxStatus.FAILED, error[:200]
    log.warning("outbox %s refused: %s", row.id, error[:80])
    if _is_staff_group_message(rt, session, row):
        _reroute_once(rt, session, now, row, error)


def unreachable(rt: Runtime, session: Session, now: datetime, row_id: int, error: str) -> None:
    """The chat cannot receive anything (blocked, deleted, kicked, never started)."""
    row = repo.get_outbox_message(session, row_id)
    patient = repo.patient_by_chat_id(session, row.chat_id)
    if patient is not None:
        row.attempts += 1
        row.status, row.last_error = OutboxStatus.FAILED, error[:200]
        alerts.mark_unreachable(rt, session, now, patient.id, error)
        return
    refused(rt, session, now, row_id, error)


def migrated(rt: Runtime, session: Session, now: datetime, row_id: int, new_chat_id: int) -> None:
    """The group became a supergroup: follow it to its new id and send there at once."""
    row = repo.get_outbox_message(session, row_id)
    alerts.staff_group_migrated(rt, session, now, row.chat_id, new_chat_id)
    row.chat_id = new_chat_id
    row.next_attempt_at = now


def still_wanted(session: Session, row: OutboxMessage) -> bool:
    """Whether a retried question is still the check-in's newest; if not, it is retired.

    A patient who answered the copy Telegram did deliver (while its confirmation was lost)
    has moved on, and must not get the old question again.
    """
    if row.check_in_id is None or row.method != Method.SEND:
        return True
    check_in = repo.get_check_in(session, row.check_in_id)
    if check_in is None or check_in.message_outbox_id == row.id:
        return True
    row.status, row.last_error = OutboxStatus.FAILED, "superseded by a newer question"
    return False


def _is_staff_group_message(rt: Runtime, session: Session, row: OutboxMessage) -> bool:
    return (
        row.chat_id < 0
        and row.purpose in STAFF_PURPOSES
        and row.chat_id == alerts.staff_group(rt, session)
    )


def _reroute_once(
    rt: Runtime, session: Session, now: datetime, row: OutboxMessage, error: str
) -> None:
    if row.fallback_sent or row.method != Method.SEND or not row.text:
        return
    row.fallback_sent = True
    alerts.reroute_to_admins(rt, session, now, row, _plain_reason(error))
    log.warning("outbox %s rerouted to admins: staff group failing", row.id)


def _plain_reason(error: str) -> str:
    lowered = error.lower()
    if "kicked" in lowered or "not a member" in lowered:
        return "the bot was removed from the group"
    if "rights" in lowered or "restricted" in lowered:
        return "the bot may not post there"
    if "not found" in lowered:
        return "the group was not found; check STAFF_ALERT_CHAT_ID"
    return f"Telegram kept failing: {error[:60]}"
