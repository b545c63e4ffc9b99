"""Staff views, in private chats only: /alerts, /patients, /patient, /audit, and their pages."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import texts
from bot.handlers.common import (
    answer_query,
    decode_callback,
    reply,
    runtime_of,
    single_ref,
    staff_command,
)
from bot.roles import ALL_STAFF, Role, role_of
from bot.runtime import Runtime
from bot.services import messages, views
from bot.services.messages import Purpose
from storage import repository as repo

ADMINS = frozenset({Role.ADMIN})


def _show(rt: Runtime, update: Update, session, view: views.View) -> None:
    """Send the view, and audit that this person looked (at this patient)."""
    chat_id = update.effective_chat.id
    command = update.effective_message.text.split()[0].lstrip("/").split("@")[0]
    repo.audit(
        session,
        actor=update.effective_user.id,
        action=f"view:{command}",
        now=rt.clock.now(),
        patient_id=view.patient_id,
    )
    text = texts.fit(view.text)
    messages.send(session, rt.clock.now(), chat_id, text, Purpose.REPLY, view.keyboard)


@staff_command(ALL_STAFF)
async def alerts(update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role):
    """/alerts: open alerts, oldest first, with buttons to acknowledge them."""
    with rt.session() as session:
        _show(rt, update, session, views.open_alerts(rt, session, rt.clock.now(), 0))


@staff_command(ALL_STAFF)
async def patients(update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role):
    """/patients [silent|alerts]: every patient's status, last answer and adherence."""
    args = [a.lower() for a in context.args or []]
    show = args[0] if args else "all"
    if len(args) > 1 or show not in views.FILTERS:
        reply(rt, update, texts.PATIENTS_USAGE)
        return
    with rt.session() as session:
        _show(rt, update, session, views.patient_list(rt, session, rt.clock.now(), 0, show))


@staff_command(ALL_STAFF)
async def patient(update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role):
    """/patient <ref>: one patient's infusions, check-ins, pain trend and alerts."""
    ref = single_ref(context)
    if ref is None:
        reply(rt, update, texts.PATIENT_USAGE)
        return
    with rt.session() as session:
        _show(rt, update, session, views.patient_summary(rt, session, rt.clock.now(), ref))


@staff_command(ADMINS)
async def audit(update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role):
    """/audit [ref]: the last 50 audit entries, newest first (admins only)."""
    ref = single_ref(context)
    if context.args and ref is None:
        reply(rt, update, texts.AUDIT_USAGE)
        return
    with rt.session() as session:
        _show(rt, update, session, views.audit(rt, session, ref))


async def on_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Previous / Next under a view: the role is checked again, then the page replaced."""
    rt, query = runtime_of(context), update.callback_query
    callback = await decode_callback(update)
    if callback is None:
        return
    with rt.session() as session:
        if role_of(rt, session, query.from_user.id) is None:
            await answer_query(query, texts.STAFF_ONLY_BUTTON, alert=True)
            return
        now, page = rt.clock.now(), callback.record_id
        if callback.question_id == "alerts":
            view = views.open_alerts(rt, session, now, page)
        else:
            show = views.FILTERS[callback.index] if 0 <= callback.index < 3 else "all"
            view = views.patient_list(rt, session, now, page, show)
        chat_id, message_id = query.message.chat.id, query.message.message_id
        messages.edit(session, now, chat_id, message_id, texts.fit(view.text), view.keyboard)
    await answer_query(query)
