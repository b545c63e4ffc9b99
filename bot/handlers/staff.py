"""Staff handlers: acknowledging alerts, help, unknown commands, the bot's own membership."""

from __future__ import annotations

from telegram import ChatMember, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot import texts
from bot.handlers.common import answer_query, decode_callback, reply_by_audience, runtime_of
from bot.roles import role_of
from bot.services import alerts, patients


async def on_acknowledge(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Acknowledge button: record who and when, and update every copy of the alert."""
    rt, query = runtime_of(context), update.callback_query
    callback = await decode_callback(update)
    if callback is None:
        return
    user_id = query.from_user.id
    with rt.session() as session:
        is_staff = role_of(rt, session, user_id) is not None
        result = alerts.acknowledge(
            rt, session, rt.clock.now(), user_id, callback.record_id, is_staff
        )
    await answer_query(query, result.reply, alert=result.refused)


async def on_stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button this bot no longer understands."""
    await answer_query(update.callback_query, texts.STALE_BUTTON)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: the commands for this person's role."""
    reply_by_audience(update, runtime_of(context), texts.help_for, texts.HELP_PATIENT)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other command: staff are pointed to /help, everyone else refused politely."""
    reply_by_audience(
        update,
        runtime_of(context),
        lambda _: texts.UNKNOWN_COMMAND_STAFF,
        texts.UNKNOWN_COMMAND_PATIENT,
    )


LOST = {ChatMember.BANNED: "the bot was removed", ChatMember.LEFT: "the bot was removed"}


async def on_my_membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was blocked by a patient, or removed or muted in a group."""
    rt, change = runtime_of(context), update.my_chat_member
    status = change.new_chat_member.status
    with rt.session() as session:
        now = rt.clock.now()
        if change.chat.type == ChatType.PRIVATE:
            if status == ChatMember.BANNED:
                patients.blocked_by(rt, session, now, change.chat.id)
            return
        if status in LOST:
            alerts.staff_group_lost(rt, session, now, change.chat.id, LOST[status])
        elif status == ChatMember.RESTRICTED and not change.new_chat_member.can_send_messages:
            alerts.staff_group_lost(rt, session, now, change.chat.id, "the bot may not post")
