"""What every audience's handlers share: knowing the sender, refusing politely, replying.

Handlers never send on their own: replies are queued in the outbox (bot.services.messages)
inside the transaction of the change they report. Only button answers go straight out,
first, because Telegram shows a spinner until they arrive.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from sqlmodel import Session
from telegram import CallbackQuery, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, NetworkError
from telegram.ext import CallbackContext, ContextTypes

from bot import texts
from bot.core import parsing
from bot.keyboards import BadCallback, Callback
from bot.roles import ALL_STAFF, Role, role_of
from bot.runtime import RUNTIME_KEY, Runtime
from bot.services import messages
from bot.services.messages import Purpose
from storage import repository as repo

log = logging.getLogger(__name__)

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]
StaffHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, Runtime, Role], Awaitable[None]]


def runtime_of(context: CallbackContext) -> Runtime:
    """The Runtime of the application running this callback."""
    return context.application.bot_data[RUNTIME_KEY]


def reply(rt: Runtime, update: Update, text: str, session: Session | None = None) -> None:
    """Queue an answer to the sender in the chat they wrote in (in `session`, if given)."""
    if update.effective_chat is None:
        return
    if session is None:
        with rt.session() as own:
            reply(rt, update, text, own)
        return
    messages.send(session, rt.clock.now(), update.effective_chat.id, text, Purpose.REPLY)


async def answer_query(query: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
    """Answer a button press; one too old to answer (pressed while we were down) is fine."""
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest as exc:
        log.debug("callback query not answered: %s", exc.message)
    except NetworkError as exc:
        log.info("callback query not answered: %s", type(exc).__name__)


async def decode_callback(update: Update, rt: Runtime | None = None) -> Callback | None:
    """The pressed button's data, or None (and the press answered) when it is not ours.

    With `rt`, a patient is answered in their language (staff buttons pass none).
    """
    query = update.callback_query
    try:
        return Callback.decode(query.data)
    except BadCallback:
        await answer_stale(query, rt)
        return None


async def answer_stale(query: CallbackQuery, rt: Runtime | None) -> None:
    """A button that is no longer (or never was) ours, in a patient's language if they are one."""
    if rt is None:
        await answer_query(query, texts.STALE_BUTTON)
        return
    with rt.session() as session:
        voice = rt.voice_of_user(session, query.from_user.id)
    await answer_query(query, voice.say("stale_button"))


def stranger(rt: Runtime, user_id: int) -> str:
    """The answer to anyone the bot does not know, with their id for the clinic's operator."""
    return rt.voice(None).say("stranger", user_id=user_id)


def reply_by_audience(
    update: Update, rt: Runtime, staff_text: Callable[[Role], str], patient_key: str
) -> None:
    """Answer staff, patients (bot/locales `patient_key`) and strangers each with their own text
    (private chats only)."""
    if not is_private(update):
        return
    user_id = update.effective_user.id
    with rt.session() as session:
        role = role_of(rt, session, user_id)
        patient = repo.patient_by_telegram_id(session, user_id)
    if role is not None:
        reply(rt, update, staff_text(role))
    elif patient is not None:
        reply(rt, update, rt.voice(patient.language).say(patient_key))
    else:
        reply(rt, update, stranger(rt, user_id))


def single_ref(context: CallbackContext) -> str | None:
    """The command's one argument as a clinic reference; None when it is not exactly that."""
    args = context.args or []
    try:
        return parsing.clinic_ref(args[0]) if len(args) == 1 else None
    except parsing.ParseError:
        return None


def is_private(update: Update) -> bool:
    """Whether the update comes from a private chat with the bot."""
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


def refuse(update: Update, rt: Runtime, action: str) -> None:
    """Refuse a staff action to a non-staff sender: one polite line, one audit row."""
    user = update.effective_user
    with rt.session() as session:
        patient = repo.patient_by_telegram_id(session, user.id) if user else None
        repo.audit(
            session,
            actor=user.id if user else None,
            action=f"refused:{action}",
            now=rt.clock.now(),
            patient_id=patient.id if patient else None,
        )
        if is_private(update):
            text = (
                rt.voice(patient.language).say("staff_only") if patient else stranger(rt, user.id)
            )
            messages.send(session, rt.clock.now(), update.effective_chat.id, text, Purpose.REPLY)


def may_press(
    rt: Runtime, session: Session, actor: int, allowed: frozenset[Role], action: str
) -> bool:
    """Whether the presser's role allows this staff button; a refusal is audited (and the
    message pressed on is left as it is: it may be anyone's, with a forged button)."""
    if role_of(rt, session, actor) in allowed:
        return True
    repo.audit(session, actor=actor, action=f"refused:{action}", now=rt.clock.now())
    return False


def staff_command(
    allowed: frozenset[Role] = ALL_STAFF, private_only: bool = True
) -> Callable[[StaffHandler], Handler]:
    """Guard a staff command: role checked on every call; private chat only unless said."""

    def wrap(handler: StaffHandler) -> Handler:
        @functools.wraps(handler)
        async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            rt = runtime_of(context)
            user = update.effective_user
            if user is None:
                return
            with rt.session() as session:
                role = role_of(rt, session, user.id)
            if role is None:
                refuse(update, rt, handler.__name__)
            elif role not in allowed:
                reply(rt, update, texts.NOT_YOUR_ROLE)
            elif private_only and not is_private(update):
                reply(rt, update, texts.PRIVATE_ONLY)
            else:
                await handler(update, context, rt, role)

        return guarded

    return wrap
