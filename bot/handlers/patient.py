"""Patient-facing handlers: joining by invite, consent, answering check-ins, reporting,
stopping and coming back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session
from telegram import Update
from telegram.ext import ContextTypes

from bot import texts
from bot.handlers import menus
from bot.handlers.common import (
    answer_query,
    decode_callback,
    is_private,
    reply,
    runtime_of,
    stranger,
)
from bot.roles import role_of
from bot.runtime import Runtime
from bot.services import checkins, enrolment, languages, mydata, patients, timezones
from storage import repository as repo
from storage.models import Patient, PatientStatus

# Whose messages are relayed to staff: everyone who joined, whatever their follow-up's state.
RELAYED_STATUSES = frozenset(
    {
        PatientStatus.ACTIVE,
        PatientStatus.PAUSED,
        PatientStatus.STOPPED,
        PatientStatus.DISCHARGED,
        PatientStatus.BLOCKED,
    }
)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start with an invite token opens enrolment; without one, it greets whoever it is."""
    if not is_private(update):
        return
    rt, user_id, chat_id = runtime_of(context), update.effective_user.id, update.effective_chat.id
    if context.args:
        with rt.session() as session:
            name = update.effective_user.first_name
            token = context.args[0]
            enrolment.open_invite(rt, session, rt.clock.now(), user_id, chat_id, token, name)
        await menus.publish_for(context.bot, rt, user_id)  # a staff link changes the menu
        return
    with rt.session() as session:
        patient = _sender(rt, session, user_id)
        if patient is not None and patient.status in RELAYED_STATUSES:
            patients.greet(rt, session, rt.clock.now(), patient)
        else:
            role = role_of(rt, session, user_id)
            reply(rt, update, texts.help_for(role) if role else stranger(rt, user_id), session)
    rt.wake_dispatcher()  # a patient back from /stop: what is due now goes out now


async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stop: asks the patient to confirm, with buttons."""
    if not is_private(update):
        return
    rt = runtime_of(context)
    with rt.session() as session:
        patient = _writing_patient(rt, update, session)
        if patient is not None:
            patients.ask_stop(rt, session, rt.clock.now(), patient)


async def on_stop_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Yes, stop / No, keep going under the /stop question."""
    rt, query = runtime_of(context), update.callback_query
    callback = await decode_callback(update, rt)
    if callback is None:
        return
    with rt.session() as session:
        answer = patients.stop(
            rt,
            session,
            rt.clock.now(),
            user_id=query.from_user.id,
            message_id=query.message.message_id,
            patient_id=callback.record_id,
            confirmed=callback.index == 1,
        )
    await answer_query(query, answer)


async def on_consent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """I agree / No thanks under the consent text."""
    rt, query = runtime_of(context), update.callback_query
    callback = await decode_callback(update, rt)
    if callback is None:
        return
    with rt.session() as session:
        answer = enrolment.consent(
            rt,
            session,
            rt.clock.now(),
            user_id=query.from_user.id,
            chat_id=query.message.chat.id,
            message_id=query.message.message_id,
            invite_id=callback.record_id,
            agreed=callback.index == 1,
            telegram_language=query.from_user.language_code,
        )
    await answer_query(query, answer)
    await menus.publish_for(context.bot, rt, query.from_user.id)  # in the patient's language


async def on_check_in_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A tap on a check-in question's button: stored, then answered, then the rest is sent."""
    rt = runtime_of(context)
    tap = await _tap(update, rt)
    if tap is None:
        return
    with rt.session() as session:
        answer = checkins.apply_button(rt, session, rt.clock.now(), tap)
    await answer_query(update.callback_query, answer)


async def _tap(update: Update, rt: Runtime) -> checkins.Tap | None:
    """The pressed button as a check-in service reads it; None (the press answered) when
    its data is not ours."""
    query = update.callback_query
    callback = await decode_callback(update, rt)
    if callback is None:
        return None
    return checkins.Tap(
        query.from_user.id, query.message.chat.id, query.message.message_id, callback
    )


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Typed text in private: a free-text answer, or words relayed to staff."""
    rt = runtime_of(context)
    with rt.session() as session:
        patient = _writing_patient(rt, update, session)
        if patient is None:
            return
        now, text = rt.clock.now(), update.message.text
        if patient.status == PatientStatus.ACTIVE:
            checkins.apply_text(rt, session, now, patient, text)
        else:
            checkins.relay_message(rt, session, now, patient, text)


async def on_other_content(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, files, voice: not read, but a caption reaches staff like any words."""
    rt = runtime_of(context)
    with rt.session() as session:
        patient = _writing_patient(rt, update, session)
        if patient is None:
            return
        caption = update.message.caption
        if caption and caption.strip():
            checkins.relay_message(rt, session, rt.clock.now(), patient, caption)
            return
        voice = rt.voice(patient.language)
        reply(rt, update, voice.with_footer(voice.say("not_understood")), session)


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited message is never taken as an answer; a patient's edited words reach staff;
    a stranger gets the stranger's answer, as for anything else they send."""
    if not is_private(update):
        return
    rt, edited = runtime_of(context), update.edited_message
    words = (edited.text or edited.caption or "").strip() if edited else ""
    user_id = update.effective_user.id
    with rt.session() as session:
        patient = _sender(rt, session, user_id)
        if words and patient is not None and patient.status in RELAYED_STATUSES:
            checkins.relay_message(rt, session, rt.clock.now(), patient, words)
            return
        if patient is None and role_of(rt, session, user_id) is None:
            reply(rt, update, stranger(rt, user_id), session)
        else:
            reply(rt, update, rt.voice(patient and patient.language).say("edits_ignored"), session)


async def report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/report: ask the protocol's problem questions now, with the same alert rules."""
    _for_active_patient(update, context, checkins.open_report)


async def next_check_in(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/next: what is open now (shown where the patient left off) and when the next one is."""
    _for_active_patient(update, context, checkins.show_next)


def _for_active_patient(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    service: Callable[[Runtime, Session, datetime, Patient], None],
) -> None:
    """Run a patient's command for an active patient; anyone else is answered here."""
    rt = runtime_of(context)
    with rt.session() as session:
        patient = _active_patient(rt, update, session)
        if patient is not None:
            service(rt, session, rt.clock.now(), patient)


async def timezone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/timezone [place]: places to tap, or the typed place or IANA name set at once."""
    rt = runtime_of(context)
    with rt.session() as session:
        patient = _patient_in(rt, update, session, timezones.MAY_SET_ZONE)
        if patient is None:
            return
        typed = " ".join(context.args or [])
        if typed:
            timezones.set_typed(rt, session, rt.clock.now(), patient, typed)
        else:
            timezones.offer(rt, session, rt.clock.now(), patient)
    rt.wake_dispatcher()  # a check-in no longer held for the old zone's morning goes now


async def on_time_zone_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A place tapped under /timezone."""
    rt, query = runtime_of(context), update.callback_query
    callback = await decode_callback(update, rt)
    if callback is None:
        return
    with rt.session() as session:
        answer = timezones.apply_button(
            rt,
            session,
            rt.clock.now(),
            query.from_user.id,
            query.message.chat.id,
            query.message.message_id,
            callback,
        )
    rt.wake_dispatcher()
    await answer_query(query, answer)


async def my_data(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mydata: what the clinic holds about the patient, for that patient only."""
    rt = runtime_of(context)
    if not is_private(update):
        reply(rt, update, texts.PRIVATE_ONLY)
        return
    with rt.session() as session:
        patient = _joined_patient(rt, update, session)
        if patient is not None:
            mydata.send_first_page(rt, session, rt.clock.now(), patient)


async def on_my_data_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """◀ / ▶ under /mydata: only the patient whose data it is can turn its pages."""
    rt, query = runtime_of(context), update.callback_query
    callback = await decode_callback(update, rt)
    if callback is None:
        return
    with rt.session() as session:
        tapper = repo.patient_by_telegram_id(session, query.from_user.id)
        joined = tapper if tapper is not None and tapper.status in RELAYED_STATUSES else None
        message = (query.message.chat.id, query.message.message_id)
        answer = mydata.turn_page(rt, session, rt.clock.now(), joined, message, callback)
    await answer_query(query, answer)


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language [code]: the patient's language; without a known code, buttons to choose."""
    if not is_private(update):
        return
    rt = runtime_of(context)
    with rt.session() as session:
        patient = _joined_patient(rt, update, session)
        if patient is None:
            return
        asked = " ".join(context.args or []) or None
        changed = languages.choose(rt, session, rt.clock.now(), patient, asked)
    if changed:
        await menus.publish_for(context.bot, rt, update.effective_user.id)


async def on_language_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """English / Español under the /language question."""
    rt = runtime_of(context)
    tap = await _tap(update, rt)
    if tap is None:
        return
    with rt.session() as session:
        answer, changed = languages.apply_button(rt, session, rt.clock.now(), tap)
    await answer_query(update.callback_query, answer)
    if changed:
        await menus.publish_for(context.bot, rt, tap.user_id)


def _joined_patient(rt: Runtime, update: Update, session) -> Patient | None:
    """The sender as a patient who joined (whatever their follow-up's state); anyone else is
    refused here: staff by role, strangers with the stranger's answer."""
    return _patient_in(rt, update, session, RELAYED_STATUSES, texts.NOT_YOUR_ROLE)


def _sender(rt: Runtime, session, user_id: int) -> Patient | None:
    """The sender as a patient, if they are one; one who had blocked the bot and writes
    again is reachable again from now on (and staff are told, once)."""
    patient = repo.patient_by_telegram_id(session, user_id)
    if patient is not None:
        patients.back_from_block(rt, session, rt.clock.now(), patient)
    return patient


def _writing_patient(rt: Runtime, update: Update, session) -> Patient | None:
    """The sender as a patient whose words reach staff; anyone else is answered here."""
    return _patient_in(rt, update, session, RELAYED_STATUSES)


def _active_patient(rt: Runtime, update: Update, session) -> Patient | None:
    """The sender as an active patient; anyone else is answered here and gets None."""
    return _patient_in(rt, update, session, frozenset({PatientStatus.ACTIVE}))


def _patient_in(
    rt: Runtime,
    update: Update,
    session,
    statuses: frozenset[PatientStatus],
    staff_text: str | None = None,
) -> Patient | None:
    """The sender as a patient in one of `statuses`; anyone else is answered here: staff
    with `staff_text` (default: their help), others as patients or strangers."""
    user_id = update.effective_user.id
    patient = _sender(rt, session, user_id)
    if patient is not None and patient.status in statuses:
        return patient
    role = role_of(rt, session, user_id)
    if role is not None:
        reply(rt, update, staff_text or texts.help_for(role), session)
    else:
        text = rt.voice(patient.language).say("not_active") if patient else stranger(rt, user_id)
        reply(rt, update, text, session)
    return None
