"""Patient-facing handlers: joining by invite, consent, answering check-ins, reporting."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot import conversation, invites, keyboards, notify, texts
from bot.conversation import patient_zone
from bot.handlers.common import decode_callback, is_private, patient_of, reply
from bot.roles import role_of
from bot.runtime import Runtime, runtime_of
from storage import repository as repo
from storage.models import CheckIn, Invite, Patient, PatientStatus

log = logging.getLogger(__name__)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start with an invite token opens enrolment; without one, it greets whoever it is."""
    if not is_private(update):
        return
    rt = runtime_of(context)
    if context.args:
        await _open_invite(update, rt, context.args[0])
        return
    patient = patient_of(rt, update.effective_user.id)
    if patient is not None and patient.status == PatientStatus.ACTIVE:
        await _resume_or_greet(update, context, rt, patient)
        return
    with rt.session() as session:
        role = role_of(rt, session, update.effective_user.id)
    await reply(update, texts.help_for(role) if role else texts.STRANGER)


async def _resume_or_greet(
    update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, patient: Patient
) -> None:
    with rt.session() as session:
        open_check_in = repo.open_check_in(session, patient.id)
    if open_check_in is not None:
        await conversation.show_current(rt, context.bot, open_check_in.id)
    else:
        await reply(update, _with_footer(rt, texts.NOTHING_OPEN_PATIENT))


def _with_footer(rt: Runtime, text: str) -> str:
    return texts.with_footer(text, rt.protocol.text("footer"))


def _invite_problem(rt: Runtime, invite: Invite | None) -> str | None:
    if invite is None or invite.kind != "patient":
        return texts.INVITE_UNKNOWN
    if invite.used_at is not None:
        return texts.INVITE_USED
    if invite.expires_at <= rt.clock.now():
        return texts.INVITE_EXPIRED
    return None


async def _open_invite(update: Update, rt: Runtime, token: str) -> None:
    user_id = update.effective_user.id
    with rt.session() as session:
        if role_of(rt, session, user_id) is not None:
            problem = texts.STAFF_CANNOT_ENROL
        elif repo.patient_by_telegram_id(session, user_id) is not None:
            problem = texts.ALREADY_LINKED
        else:
            invite = (
                repo.invite_by_hash(session, invites.token_hash(token))
                if invites.looks_like_token(token)
                else None
            )
            problem = _invite_problem(rt, invite)
            if problem is None:
                invite.opened_by = user_id
                invite_id = invite.id
    if problem is not None:
        log.info("invite refused for a user: %s", problem.split(".")[0])
        await reply(update, problem)
        return
    welcome = f"{rt.protocol.text('welcome')}\n\n{rt.protocol.text('consent')}"
    await notify.send(
        update.get_bot(),
        update.effective_chat.id,
        _with_footer(rt, welcome),
        keyboards.consent_keyboard(invite_id),
    )


async def on_consent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """I agree / No thanks under the consent text."""
    rt, query = runtime_of(context), update.callback_query
    callback = await decode_callback(update)
    if callback is None:
        return
    agreed = callback.index == 1
    with rt.session() as session:
        invite = session.get(Invite, callback.record_id)
        valid = (
            invite is not None
            and invite.opened_by == query.from_user.id
            and _invite_problem(rt, invite) is None
            and repo.patient_by_telegram_id(session, query.from_user.id) is None
        )
        if valid and agreed:
            patient = repo.link_patient(
                session,
                invite=invite,
                user_id=query.from_user.id,
                chat_id=query.message.chat.id,
                now=rt.clock.now(),
                consent_version=rt.protocol.version,
            )
            repo.audit(
                session,
                actor=query.from_user.id,
                action="consent_given",
                now=rt.clock.now(),
                patient_id=patient.id,
            )
        if valid:
            ref = session.get_one(Patient, invite.patient_id).clinic_ref
            coordinator = invite.created_by
    await notify.answer_query(query, None if valid else texts.CONSENT_BUTTON_STALE)
    await notify.clear_buttons(context.bot, query.message.chat.id, query.message.message_id)
    if not valid:
        return
    answer = texts.consent_given(texts.CONSENT_NEXT) if agreed else texts.CONSENT_DECLINED
    await reply(update, _with_footer(rt, answer))
    note = texts.patient_joined(ref) if agreed else texts.patient_declined(ref)
    try:
        await notify.send(context.bot, coordinator, note)
    except notify.Undeliverable:
        log.info("coordinator could not be told about an enrolment")


async def on_check_in_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A tap on a check-in question's button."""
    rt, query = runtime_of(context), update.callback_query
    callback = await decode_callback(update)
    if callback is None:
        return
    outcome = await conversation.handle_button(rt, context.bot, query.from_user.id, callback)
    await notify.answer_query(query, outcome.reply)
    chat_id, message_id = query.message.chat.id, query.message.message_id
    if outcome.new_markup is not None:
        await notify.edit_buttons(context.bot, chat_id, message_id, outcome.new_markup)
    elif outcome.answered_text:
        await notify.edit(context.bot, chat_id, message_id, outcome.answered_text)
    elif outcome.clear_buttons:
        await notify.clear_buttons(context.bot, chat_id, message_id)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Typed text in private: a free-text answer, or a nudge to the buttons."""
    rt = runtime_of(context)
    patient = patient_of(rt, update.effective_user.id)
    if patient is None or patient.status != PatientStatus.ACTIVE:
        await _not_a_patient(update, rt)
        return
    answer = await conversation.handle_text(rt, context.bot, patient.id, update.message.text)
    if answer:
        await reply(update, _with_footer(rt, answer))


async def on_other_content(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, files, voice: not read; the patient is told how to answer."""
    rt = runtime_of(context)
    patient = patient_of(rt, update.effective_user.id)
    if patient is None or patient.status != PatientStatus.ACTIVE:
        await _not_a_patient(update, rt)
        return
    await reply(update, _with_footer(rt, texts.NOT_UNDERSTOOD_PATIENT))


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited message changes nothing: answers are given anew."""
    if is_private(update):
        await reply(update, texts.EDITS_IGNORED)


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/report: ask the protocol's problem questions now, with the same alert rules."""
    rt = runtime_of(context)
    patient = patient_of(rt, update.effective_user.id)
    if patient is None or patient.status != PatientStatus.ACTIVE:
        await _not_a_patient(update, rt)
        return
    now = rt.clock.now()
    with rt.session() as session:
        check_in = repo.open_report(session, patient.id)
        if check_in is None:
            check_in = CheckIn(
                patient_id=patient.id,
                step_id=rt.protocol.report.id,
                due_at=now,
                closes_at=rt.protocol.report.window.after(now, patient_zone(rt, patient)),
            )
            session.add(check_in)
            session.flush()
        check_in_id = check_in.id
    await conversation.show_current(rt, context.bot, check_in_id)


async def _not_a_patient(update: Update, rt: Runtime) -> None:
    user_id = update.effective_user.id
    with rt.session() as session:
        role = role_of(rt, session, user_id)
        known = repo.patient_by_telegram_id(session, user_id) is not None
    if role is not None:
        await reply(update, texts.help_for(role))
    else:
        await reply(update, texts.NOT_ACTIVE_PATIENT if known else texts.STRANGER)
