"""Coordinator commands: enrol patients, record, move and cancel infusions, and change a
patient's follow-up."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Update
from telegram.ext import ContextTypes

from bot import texts
from bot.core import parsing
from bot.handlers.common import (
    answer_query,
    decode_callback,
    may_press,
    reply,
    runtime_of,
    single_ref,
    staff_command,
)
from bot.roles import COORDINATORS, Role
from bot.runtime import Runtime
from bot.services import enrolment, infusions, messages, patients
from bot.services.messages import Purpose


@staff_command(COORDINATORS)
async def enroll(
    update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role
) -> None:
    """/enroll <ref> [display name] [tz=...]: create the patient and a single-use invite link."""
    _invite(update, context, rt, replace_link=False)


@staff_command(COORDINATORS)
async def reinvite(
    update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role
) -> None:
    """/reinvite <ref>: a new link for a patient who has not joined; the old one stops."""
    _invite(update, context, rt, replace_link=True)


def _invite(
    update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, replace_link: bool
) -> None:
    try:
        args = parsing.enroll_args(context.args or [])
        if args is not None and args.lang is not None:
            parsing.language(args.lang, rt.protocol.languages)
    except parsing.ParseError as exc:
        reply(rt, update, f"{exc}.\n\n{texts.ENROLL_USAGE}")
        return
    if args is None:
        reply(rt, update, texts.ENROLL_USAGE)
        return
    with rt.session() as session:
        answer = enrolment.enroll(
            rt,
            session,
            rt.clock.now(),
            actor=update.effective_user.id,
            args=args,
            bot_username=context.bot.username,
            replace_link=replace_link,
        )
        reply(rt, update, answer, session)


@staff_command(COORDINATORS)
async def infusion(
    update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role
) -> None:
    """/infusion <ref> [start time] [dose]: record it and write its check-ins."""
    now = rt.clock.now()
    try:
        args = parsing.infusion_args(context.args or [], now, rt.settings.clinic_timezone)
    except parsing.ParseError as exc:
        reply(rt, update, f"{exc}.\n\n{texts.INFUSION_USAGE}")
        return
    with rt.session() as session:
        answer, recorded = infusions.record(rt, session, now, update.effective_user.id, args)
        reply(rt, update, answer, session)
    if recorded:
        rt.wake_dispatcher()


@staff_command(COORDINATORS)
async def infusion_edit(
    update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role
) -> None:
    """/infusion_edit <ref> <start time>: move the latest infusion and its check-ins; asks first."""
    args = context.args or []
    try:
        ref = parsing.clinic_ref(args[0]) if args else None
        new_start = parsing.new_start(args[1:], rt.clock.now(), rt.settings.clinic_timezone)
    except parsing.ParseError as exc:
        reply(rt, update, f"{exc}.\n\n{texts.INFUSION_EDIT_USAGE}")
        return
    if ref is None:
        reply(rt, update, texts.INFUSION_EDIT_USAGE)
        return
    with rt.session() as session:
        _ask_about_infusion(update, rt, session, infusions.ask_move(rt, session, ref, new_start))


@staff_command(COORDINATORS)
async def infusion_cancel(
    update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role
) -> None:
    """/infusion_cancel <ref>: cancel the latest infusion's check-ins still to come; asks first."""
    ref = single_ref(context)
    if ref is None:
        reply(rt, update, texts.INFUSION_CANCEL_USAGE)
        return
    with rt.session() as session:
        _ask_about_infusion(update, rt, session, infusions.ask_cancel(rt, session, ref))


def _ask_about_infusion(update: Update, rt: Runtime, session, question) -> None:
    chat_id = update.effective_chat.id
    now = rt.clock.now()
    messages.send(session, now, chat_id, question.text, Purpose.REPLY, question.keyboard)


async def on_infusion_change(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Yes / No under an /infusion_edit or /infusion_cancel question; the role is checked
    again, and the infusion must still be as it was when asked."""
    rt, query = runtime_of(context), update.callback_query
    callback = await decode_callback(update)
    if callback is None:
        return
    tag = callback.question_id
    try:
        change, asked_start = infusions.InfusionChange(tag[:1]), int(tag[1:])
        new_start = (
            datetime.fromtimestamp(callback.sub_index, UTC) if callback.sub_index >= 0 else None
        )
    except (ValueError, OverflowError, OSError):  # not a change, or a time beyond the calendar
        await answer_query(query, texts.STALE_BUTTON)
        return
    with rt.session() as session:
        now, actor = rt.clock.now(), query.from_user.id
        chat_id, message_id = query.message.chat.id, query.message.message_id
        allowed = may_press(rt, session, actor, COORDINATORS, "infusion_change")
        if not allowed:
            outcome = None
        elif callback.index != 1:
            outcome = infusions.Outcome(texts.REMOVAL_CANCELLED, changed=True)
        elif change is infusions.InfusionChange.MOVE and new_start is None:
            outcome = infusions.Outcome(texts.STALE_BUTTON)
        else:
            outcome = infusions.apply_change(
                rt, session, now, actor, callback.record_id, change, asked_start, new_start
            )
        # A refusal leaves the question's text (an earlier press's answer may be there).
        if outcome is not None and outcome.changed:
            messages.edit(session, now, chat_id, message_id, outcome.text)
        elif outcome is not None:
            messages.clear(session, now, chat_id, message_id)
    if outcome is None:
        await answer_query(query, texts.FOREIGN_BUTTON, alert=True)
        return
    rt.wake_dispatcher()  # a moved check-in due now goes out now
    await answer_query(query, None if outcome.changed else outcome.text, alert=not outcome.changed)


@staff_command(COORDINATORS)
async def pause(update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role):
    """/pause <ref> [date [time]]: no check-ins until then (or /resume); asks first."""
    args = context.args or []
    try:
        ref = parsing.clinic_ref(args[0]) if args else None
        until = parsing.pause_end(args[1:], rt.clock.now(), rt.settings.clinic_timezone)
    except parsing.ParseError as exc:
        reply(rt, update, f"{exc}.\n\n{texts.PAUSE_USAGE}")
        return
    _ask(update, rt, patients.Change.PAUSE, ref, until, texts.PAUSE_USAGE)


@staff_command(COORDINATORS)
async def resume(update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role):
    """/resume <ref>: check-ins again; asks first."""
    _ask(update, rt, patients.Change.RESUME, single_ref(context), None, texts.RESUME_USAGE)


@staff_command(COORDINATORS)
async def discharge(
    update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role
) -> None:
    """/discharge <ref>: the follow-up ends, the patient is told; asks first."""
    _ask(update, rt, patients.Change.DISCHARGE, single_ref(context), None, texts.DISCHARGE_USAGE)


def _ask(update: Update, rt: Runtime, change, ref: str | None, until, usage: str) -> None:
    if ref is None:
        reply(rt, update, usage)
        return
    with rt.session() as session:
        question, keyboard = patients.ask(rt, session, change, ref, until)
        chat_id = update.effective_chat.id
        messages.send(session, rt.clock.now(), chat_id, question, Purpose.REPLY, keyboard)


async def on_change(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Yes / No under a pause, resume or discharge question; the role is checked again."""
    rt, query = runtime_of(context), update.callback_query
    callback = await decode_callback(update)
    if callback is None:
        return
    try:
        change = patients.Change(callback.question_id)
        until = datetime.fromtimestamp(callback.sub_index, UTC) if callback.sub_index >= 0 else None
    except (ValueError, OverflowError, OSError):  # not a change, or a time beyond the calendar
        await answer_query(query, texts.STALE_BUTTON)
        return
    with rt.session() as session:
        now, actor = rt.clock.now(), query.from_user.id
        allowed = may_press(rt, session, actor, COORDINATORS, change.value)
        if allowed:
            answer = (
                patients.apply(rt, session, now, actor, callback.record_id, change, until)
                if callback.index == 1
                else texts.REMOVAL_CANCELLED
            )
            messages.edit(session, now, query.message.chat.id, query.message.message_id, answer)
    if not allowed:
        await answer_query(query, texts.FOREIGN_BUTTON, alert=True)
        return
    rt.wake_dispatcher()  # a resumed patient's open check-ins go out now
    await answer_query(query)
