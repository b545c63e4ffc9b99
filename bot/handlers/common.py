"""What every audience's handlers share: knowing the sender, refusing politely, replying."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot import notify, texts
from bot.keyboards import BadCallback, Callback
from bot.roles import ALL_STAFF, Role, role_of
from bot.runtime import Runtime, runtime_of
from storage import repository as repo
from storage.models import Patient

log = logging.getLogger(__name__)

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]
StaffHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, Runtime, Role], Awaitable[None]]


async def reply(update: Update, text: str) -> None:
    """Answer the sender in the chat they wrote in."""
    if update.effective_chat is None:
        return
    try:
        await notify.send(update.get_bot(), update.effective_chat.id, text)
    except notify.Undeliverable:
        log.info("reply not delivered: chat unreachable")


async def decode_callback(update: Update) -> Callback | None:
    """The pressed button's data, or None (and the press answered) when it is not ours."""
    query = update.callback_query
    try:
        return Callback.decode(query.data)
    except BadCallback:
        await notify.answer_query(query, texts.STALE_BUTTON)
        return None


async def reply_by_audience(
    update: Update, rt: Runtime, staff_text: Callable[[Role], str], patient_text: str
) -> None:
    """Answer staff, patients and strangers each with their own text (private chats only)."""
    if not is_private(update):
        return
    user_id = update.effective_user.id
    with rt.session() as session:
        role = role_of(rt, session, user_id)
    if role is not None:
        await reply(update, staff_text(role))
    elif patient_of(rt, user_id) is not None:
        await reply(update, patient_text)
    else:
        await reply(update, texts.STRANGER)


def is_private(update: Update) -> bool:
    """Whether the update comes from a private chat with the bot."""
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


def patient_of(rt: Runtime, user_id: int) -> Patient | None:
    """The patient linked to this Telegram user, if any."""
    with rt.session() as session:
        return repo.patient_by_telegram_id(session, user_id)


async def refuse(update: Update, rt: Runtime, action: str) -> None:
    """Refuse a staff action to a non-staff sender: one polite line, one audit row."""
    user = update.effective_user
    patient = patient_of(rt, user.id) if user else None
    with rt.session() as session:
        repo.audit(
            session,
            actor=user.id if user else None,
            action=f"refused:{action}",
            now=rt.clock.now(),
            patient_id=patient.id if patient else None,
        )
    if is_private(update):
        await reply(update, texts.STAFF_ONLY if patient else texts.STRANGER)


def staff_command(allowed: frozenset[Role] = ALL_STAFF) -> Callable[[StaffHandler], Handler]:
    """Guard a staff command: private chat only, role checked on every call."""

    def wrap(handler: StaffHandler) -> Handler:
        @functools.wraps(handler)
        async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            rt = runtime_of(context)
            user = update.effective_user
            if user is None:
                return
            with rt.session() as session:
                role = role_of(rt, session, user.id)
            if role is None or role not in allowed:
                name = handler.__name__
                await (
                    refuse(update, rt, name) if role is None else reply(update, texts.NOT_YOUR_ROLE)
                )
                return
            if not is_private(update):
                await reply(update, texts.PRIVATE_ONLY)
                return
            await handler(update, context, rt, role)

        return guarded

    return wrap
