"""Staff handlers: acknowledging alerts, help, unknown commands, the bot's own membership."""

from __future__ import annotations

from telegram import ChatMember, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot import texts
from bot.core import parsing
from bot.handlers import menus
from bot.handlers.common import (
    answer_query,
    answer_stale,
    decode_callback,
    may_press,
    reply,
    reply_by_audience,
    runtime_of,
    staff_command,
)
from bot.roles import ALL_STAFF, Role, role_of
from bot.runtime import Runtime
from bot.services import alerts, messages, patients, staff
from bot.services.messages import Purpose
from storage import repository as repo

ADMINS = frozenset({Role.ADMIN})


async def on_acknowledge(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Acknowledge button: record who and when, and update every copy of the alert."""
    rt, query = runtime_of(context), update.callback_query
    callback = await decode_callback(update)
    if callback is None:
        return
    user_id = query.from_user.id
    with rt.session() as session:
        is_staff = role_of(rt, session, user_id) is not None
        name = query.from_user.first_name
        result = alerts.acknowledge(
            rt, session, rt.clock.now(), user_id, callback.record_id, is_staff, name
        )
    await answer_query(query, result.reply, alert=result.refused)


@staff_command(ALL_STAFF, private_only=False)
async def ack(update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role) -> None:
    """/ack <number>: acknowledge an alert by its number, as its button does (group too)."""
    args = context.args or []
    number = parsing.record_number(args[0].removeprefix("#")) if len(args) == 1 else None
    if number is None:
        reply(rt, update, texts.ACK_USAGE)
        return
    with rt.session() as session:
        user = update.effective_user
        result = alerts.acknowledge(
            rt, session, rt.clock.now(), user.id, number, True, user.first_name
        )
        reply(rt, update, result.reply, session)


async def on_stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button this bot no longer understands."""
    await answer_stale(update.callback_query, runtime_of(context))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: the commands for this person's role."""
    reply_by_audience(update, runtime_of(context), texts.help_for, "help")


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other command: staff are pointed to /help, everyone else refused politely."""
    reply_by_audience(
        update,
        runtime_of(context),
        lambda _: texts.UNKNOWN_COMMAND_STAFF,
        "unknown_command",
    )


LOST = {ChatMember.BANNED: "the bot was removed", ChatMember.LEFT: "the bot was removed"}


async def on_my_membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was blocked or unblocked by a patient, or removed or muted in a group."""
    rt, change = runtime_of(context), update.my_chat_member
    status = change.new_chat_member.status
    with rt.session() as session:
        now = rt.clock.now()
        if change.chat.type == ChatType.PRIVATE:
            if status == ChatMember.BANNED:
                patients.blocked_by(rt, session, now, change.chat.id)
            elif status == ChatMember.MEMBER:
                patients.unblocked_by(rt, session, now, change.chat.id)
            return
        if status in LOST:
            alerts.staff_group_lost(rt, session, now, change.chat.id, LOST[status])
        elif status == ChatMember.RESTRICTED and not change.new_chat_member.can_send_messages:
            alerts.staff_group_lost(rt, session, now, change.chat.id, "the bot may not post")


@staff_command(ADMINS)
async def invite_staff(
    update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role
) -> None:
    """/invite_staff <role>: a single-use link that makes its opener staff (admins only)."""
    args = context.args or []
    try:
        new_role = Role(args[0].lower()) if len(args) == 1 else None
    except ValueError:
        new_role = None
    if new_role is None:
        reply(rt, update, texts.INVITE_STAFF_USAGE)
        return
    with rt.session() as session:
        actor = update.effective_user.id
        answer = staff.invite(rt, session, rt.clock.now(), actor, new_role, context.bot.username)
        reply(rt, update, answer, session)


@staff_command(ADMINS)
async def staff_list(
    update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role
) -> None:
    """/staff: everyone who is staff, with their role (admins only)."""
    with rt.session() as session:
        reply(rt, update, staff.listing(rt, session), session)


@staff_command(ADMINS)
async def remove_staff(
    update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role
) -> None:
    """/remove_staff <id|@name>: asks first, with buttons (admins only)."""
    args = context.args or []
    if len(args) != 1:
        reply(rt, update, texts.REMOVE_STAFF_USAGE)
        return
    with rt.session() as session:
        question, keyboard = staff.ask_removal(rt, session, update.effective_user.id, args[0])
        messages.send(
            session, rt.clock.now(), update.effective_chat.id, question, Purpose.REPLY, keyboard
        )


async def on_remove_staff(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Remove / Keep under a /remove_staff question: the role is checked again here."""
    rt, query = runtime_of(context), update.callback_query
    callback = await decode_callback(update)
    if callback is None:
        return
    with rt.session() as session:
        now, actor = rt.clock.now(), query.from_user.id
        allowed = may_press(rt, session, actor, ADMINS, "remove_staff")
        if allowed:
            answer = staff.remove(rt, session, now, actor, callback.record_id, callback.index == 1)
            messages.edit(session, now, query.message.chat.id, query.message.message_id, answer)
            member = repo.get_staff_member(session, callback.record_id)
    if not allowed:
        await answer_query(query, texts.FOREIGN_BUTTON, alert=True)
        return
    if member is not None:
        await menus.publish_for(context.bot, rt, member.telegram_user_id)
    await answer_query(query)


@staff_command(frozenset({Role.CLINICIAN, Role.ADMIN}))
async def oncall(update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role):
    """/oncall [me|off|<id>]: who gets emergency and urgent alerts out of office hours."""
    args = context.args or []
    if len(args) > 1:
        reply(rt, update, texts.ONCALL_USAGE)
        return
    with rt.session() as session:
        actor, who = update.effective_user.id, args[0].lower() if args else ""
        reply(rt, update, staff.on_call(rt, session, rt.clock.now(), actor, role, who), session)


@staff_command(frozenset({Role.CLINICIAN, Role.ADMIN}))
async def snooze(update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role):
    """/snooze <ref> <rule> <duration>: a rule stops alerting for one patient for a while."""
    args = context.args or []
    if len(args) != 3:
        reply(rt, update, texts.SNOOZE_USAGE)
        return
    ref, rule_id, length = args
    with rt.session() as session:
        actor = update.effective_user.id
        answer = alerts.snooze(rt, session, rt.clock.now(), actor, ref, rule_id, length)
        reply(rt, update, answer, session)
