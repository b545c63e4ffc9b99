"""Coordinator commands: enrol patients and record infusions."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import texts
from bot.core import parsing
from bot.handlers.common import reply, staff_command
from bot.roles import COORDINATORS, Role
from bot.runtime import Runtime
from bot.services import enrolment, infusions


@staff_command(COORDINATORS)
async def enroll(
    update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role
) -> None:
    """/enroll <ref> [display name]: create the patient and a single-use invite link."""
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
    args = context.args or []
    try:
        ref = parsing.clinic_ref(args[0]) if args else None
        name = parsing.display_name(args[1:])
    except parsing.ParseError as exc:
        reply(rt, update, f"{exc}.\n\n{texts.ENROLL_USAGE}")
        return
    if ref is None:
        reply(rt, update, texts.ENROLL_USAGE)
        return
    with rt.session() as session:
        answer = enrolment.enroll(
            rt,
            session,
            rt.clock.now(),
            actor=update.effective_user.id,
            ref=ref,
            name=name,
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
