"""The one job that does everything due: close, send, remind, deliver alerts, escalate.

The database is the schedule. The job runs on a safety interval and is also woken for the
next due moment; on start it runs at once and so catches up on whatever fell due while the
bot was down (sending what is still in its window, closing what is not).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Bot
from telegram.ext import Application, ContextTypes

from bot import alerting, conversation, notify, texts
from bot.core.rules import evaluate_missed
from bot.runtime import Runtime, runtime_of
from storage import repository as repo
from storage.models import OPEN_CHECK_IN, Alert, CheckIn, CheckInStatus, Patient

log = logging.getLogger(__name__)

WAKE_JOB = "dispatch-wake"
INTERVAL_JOB = "dispatch-interval"


async def dispatch(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job callback: do all due work, then set the wake-up for the next due moment."""
    rt = runtime_of(context)
    await run_due_work(rt, context.bot)
    schedule_wakeup(context.application, rt)


async def run_due_work(rt: Runtime, bot: Bot) -> None:
    """Close expired check-ins, send due ones and reminders, deliver and escalate alerts."""
    async with rt.dispatch_lock:
        await close_expired(rt, bot)
        await send_due(rt, bot)
        await send_reminders(rt, bot)
        await alerting.deliver_pending_alerts(rt, bot)
        await escalate(rt, bot)


def schedule_wakeup(application: Application, rt: Runtime) -> None:
    """Run the dispatcher again at the next due moment (and never later than the interval)."""
    with rt.session() as session:
        moment = repo.next_wakeup(session)
    if moment is None or application.job_queue is None:
        return
    for job in application.job_queue.get_jobs_by_name(WAKE_JOB):
        job.schedule_removal()
    delay = max((moment - rt.clock.now()).total_seconds(), 0.0) + 0.05
    if delay < rt.settings.dispatch_interval_seconds:
        application.job_queue.run_once(dispatch, when=timedelta(seconds=delay), name=WAKE_JOB)


def start_dispatcher(application: Application, rt: Runtime) -> None:
    """Start the safety-interval job; its first run (right away) is the catch-up."""
    application.job_queue.run_repeating(
        dispatch,
        interval=rt.settings.dispatch_interval_seconds,
        first=0,
        name=INTERVAL_JOB,
        job_kwargs={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )


def wake_now(application: Application) -> None:
    """Run the dispatcher as soon as possible (after an infusion is recorded)."""
    if application.job_queue is not None:
        application.job_queue.run_once(dispatch, when=0, name=WAKE_JOB)


async def close_expired(rt: Runtime, bot: Bot) -> None:
    """Mark check-ins whose window closed as missed, and raise the missed-check-in alerts."""
    now = rt.clock.now()
    closed_messages, alert_ids = [], []
    with rt.session() as session:
        for check_in in repo.check_ins_to_close(session, now):
            was_open = check_in.status in OPEN_CHECK_IN
            if check_in.infusion_id is None:
                check_in.status = CheckInStatus.CANCELLED
            else:
                check_in.status = CheckInStatus.MISSED
                session.flush()
                streak = repo.missed_in_a_row(session, check_in.patient_id)
                matches = evaluate_missed(rt.protocol, check_in.step_id, streak)
                alert_ids += alerting.store_alerts(
                    rt, session, check_in.patient_id, check_in.id, matches, now
                )
            if was_open and check_in.message_id is not None:
                patient = session.get_one(Patient, check_in.patient_id)
                closed_messages.append((patient.chat_id, check_in.message_id))
            log.info("check-in %s closed as %s", check_in.id, check_in.status)
    await alerting.deliver_alerts(rt, bot, alert_ids)
    for chat_id, message_id in closed_messages:
        await notify.clear_buttons(bot, chat_id, message_id)


async def send_due(rt: Runtime, bot: Bot) -> None:
    """Send every pending check-in that is due and still in its window."""
    with rt.session() as session:
        due = [c.id for c in repo.check_ins_to_send(session, rt.clock.now())]
    for check_in_id in due:
        await conversation.show_current(rt, bot, check_in_id)


async def send_reminders(rt: Runtime, bot: Bot) -> None:
    """Send the reminder of each open check-in whose reminder time has come, once."""
    with rt.session() as session:
        due = repo.check_ins_to_remind(session, rt.clock.now())
        reminders = [(c.id, rt.protocol.step(c.step_id).title) for c in due]
    for check_in_id, title in reminders:
        await conversation.show_current(rt, bot, check_in_id, prefix=texts.reminder(title))
        with rt.session() as session:
            session.get_one(CheckIn, check_in_id).reminded_at = rt.clock.now()


async def escalate(rt: Runtime, bot: Bot) -> None:
    """Re-send unacknowledged emergency and urgent alerts to the escalation list."""
    with rt.session() as session:
        due = repo.alerts_to_escalate(session, rt.clock.now())
        work = []
        for alert in due:
            minutes = round((alert.escalate_at - alert.created_at).total_seconds() / 60)
            text = texts.escalation(minutes, alerting.alert_text(rt, session, alert))
            work.append((alert.id, text, alerting.escalation_chats(rt, session)))
    for alert_id, text, chats in work:
        await alerting.send_to_staff(rt, bot, alert_id, chats, text, kind="escalation")
        with rt.session() as session:
            session.get_one(Alert, alert_id).escalated_at = rt.clock.now()
        log.info("alert %s escalated to %d chats", alert_id, len(chats))
