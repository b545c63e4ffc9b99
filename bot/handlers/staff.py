"""Staff handlers: acknowledging alerts, help, unknown commands."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import alerting, notify, texts
from bot.handlers.common import decode_callback, reply_by_audience
from bot.roles import role_of
from bot.runtime import runtime_of
from storage import repository as repo
from storage.models import Alert


async def on_acknowledge(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Acknowledge button: record who and when, and update every copy of the alert."""
    rt, query = runtime_of(context), update.callback_query
    callback = await decode_callback(update)
    if callback is None:
        return
    user_id = query.from_user.id
    with rt.session() as session:
        role = role_of(rt, session, user_id)
        alert = session.get(Alert, callback.record_id) if role else None
        if role is None or alert is None:
            repo.audit(session, actor=user_id, action="refused:acknowledge", now=rt.clock.now())
            newly = None
        else:
            newly = repo.acknowledge(session, alert, user_id, rt.clock.now())
            if newly:
                repo.audit(
                    session,
                    actor=user_id,
                    action="acknowledge",
                    now=rt.clock.now(),
                    patient_id=alert.patient_id,
                    detail=f"alert {alert.id}",
                )
            text = alerting.alert_text(rt, session, alert)
            copies = [(d.chat_id, d.message_id) for d in repo.deliveries_of(session, alert.id)]
    if newly is None:
        await notify.answer_query(query, texts.STAFF_ONLY_BUTTON, alert=True)
        return
    await notify.answer_query(query, texts.ACKNOWLEDGED if newly else texts.ALREADY_ACKNOWLEDGED)
    for chat_id, message_id in copies:
        await notify.edit(context.bot, chat_id, message_id, text)


async def on_stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button this bot no longer understands."""
    await notify.answer_query(update.callback_query, texts.STALE_BUTTON)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: the commands for this person's role."""
    await reply_by_audience(update, runtime_of(context), texts.help_for, texts.HELP_PATIENT)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other command: staff are pointed to /help, everyone else refused politely."""
    await reply_by_audience(
        update,
        runtime_of(context),
        lambda _: texts.UNKNOWN_COMMAND_STAFF,
        texts.UNKNOWN_COMMAND_PATIENT,
    )
