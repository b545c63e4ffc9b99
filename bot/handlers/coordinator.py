"""Coordinator commands: enrol patients and record infusions."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Update
from telegram.ext import ContextTypes

from bot import dispatcher, invites, texts
from bot.conversation import patient_zone
from bot.core import parsing
from bot.core.schedule import plan_infusion
from bot.handlers.common import reply, staff_command
from bot.roles import COORDINATORS, Role
from bot.runtime import Runtime
from storage import repository as repo
from storage.models import PatientStatus

log = logging.getLogger(__name__)


@staff_command(COORDINATORS)
async def enroll(
    update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role
) -> None:
    """/enroll <ref> [display name]: create the patient and a single-use invite link."""
    args = context.args or []
    try:
        ref = parsing.clinic_ref(args[0]) if args else None
        name = parsing.display_name(args[1:])
    except parsing.ParseError as exc:
        await reply(update, f"{exc}.\n\n{texts.ENROLL_USAGE}")
        return
    if ref is None:
        await reply(update, texts.ENROLL_USAGE)
        return
    actor, now = update.effective_user.id, rt.clock.now()
    token = invites.new_token()
    expires = now + timedelta(days=rt.settings.invite_valid_days)
    with rt.session() as session:
        patient = repo.patient_by_ref(session, ref)
        if patient is not None and patient.status != PatientStatus.INVITED:
            answer = texts.ALREADY_ENROLLED.format(ref=ref)
        else:
            reissued = patient is not None
            if patient is None:
                patient = repo.create_patient(
                    session,
                    clinic_ref=ref,
                    display_name=name,
                    timezone=rt.settings.clinic_timezone.key,
                    enrolled_by=actor,
                    now=now,
                )
            elif name:
                patient.display_name = name
            repo.create_invite(
                session,
                token_hash=invites.token_hash(token),
                kind="patient",
                created_by=actor,
                now=now,
                expires_at=expires,
                patient_id=patient.id,
            )
            repo.audit(
                session,
                actor=actor,
                action="enroll",
                now=now,
                patient_id=patient.id,
                detail="reissued" if reissued else None,
            )
            link = invites.invite_link(context.bot.username, token)
            answer = texts.enrolled(ref, link, expires, rt.settings.clinic_timezone, reissued)
    await reply(update, answer)


@staff_command(COORDINATORS)
async def infusion(
    update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime, role: Role
) -> None:
    """/infusion <ref> [start time] [dose]: record it and write its check-ins."""
    now, tz = rt.clock.now(), rt.settings.clinic_timezone
    try:
        args = parsing.infusion_args(context.args or [], now, tz)
    except parsing.ParseError as exc:
        await reply(update, f"{exc}.\n\n{texts.INFUSION_USAGE}")
        return
    with rt.session() as session:
        patient = repo.patient_by_ref(session, args.ref)
        if patient is None:
            await reply(update, texts.UNKNOWN_PATIENT.format(ref=args.ref))
            return
        if patient.status != PatientStatus.ACTIVE:
            await reply(update, texts.PATIENT_NOT_ACTIVE.format(ref=args.ref))
            return
        planned = plan_infusion(rt.protocol, args.started_at, now, patient_zone(rt, patient))
        _, cancelled = repo.record_infusion(
            session,
            patient=patient,
            started_at=args.started_at,
            recorded_at=now,
            dose=args.dose,
            recorded_by=update.effective_user.id,
            protocol_version=rt.protocol.version,
            planned=[(p.step_id, p.due_at, p.closes_at, p.remind_at) for p in planned],
        )
        repo.audit(
            session,
            actor=update.effective_user.id,
            action="record_infusion",
            now=now,
            patient_id=patient.id,
        )
    schedule = [(rt.protocol.step(p.step_id).title, p.due_at) for p in planned]
    await reply(update, texts.infusion_recorded(args.ref, args.started_at, tz, schedule, cancelled))
    dispatcher.wake_now(context.application)
