"""Staff handlers: acknowledging alerts, help, unknown commands."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import alerting, notify, texts
from bot.handlers.common import is_private, patient_of, reply
from bot.keyboards import BadCallback, Callback
from bot.roles import role_of
from bot.runtime import runtime_of
from storage import repository as repo
from storage.models import Alert


async def on_acknowledge(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Acknowledge button: record who and when, and update every copy of the alert."""
    rt, query = runtime_of(context), update.callback_query
    try:
        callback = Callback.decode(query.data)
    except BadCallback:
        await notify.answer_query(query, texts.STALE_BUTTON)
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
    if not is_private(update):
        return
    rt = runtime_of(context)
    with rt.session() as session:
        role = role_of(rt, session, update.effective_user.id)
    if role is not None:
        await reply(update, texts.help_for(role))
    elif patient_of(rt, update.effective_user.id) is not None:
        await reply(update, texts.HELP_PATIENT)
    else:
        await reply(update, texts.STRANGER)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other command: staff are pointed to /help, everyone else refused politely."""
    if not is_private(update):
        return
    rt = runtime_of(context)
    with rt.session() as session:
        role = role_of(rt, session, update.effective_user.id)
    if role is not None:
        await reply(update, texts.UNKNOWN_COMMAND_STAFF)
    elif patient_of(rt, update.effective_user.id) is not None:
        await reply(update, texts.UNKNOWN_COMMAND_PATIENT)
    else:
        await reply(update, texts.STRANGER)
