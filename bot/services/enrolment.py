"""Enrolment: invite links for patients, opening them, and consent."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session

from bot import invites, keyboards, texts
from bot.core.parsing import EnrollArgs
from bot.roles import role_of
from bot.runtime import Runtime
from bot.services import messages, staff
from bot.services.messages import Purpose
from bot.voice import Voice
from storage import repository as repo
from storage.models import Invite, Patient, PatientStatus

log = logging.getLogger(__name__)


def enroll(
    rt: Runtime,
    session: Session,
    now: datetime,
    *,
    actor: int,
    args: EnrollArgs,
    bot_username: str,
    replace_link: bool,
) -> str:
    """Create the patient (or re-invite one not yet joined); returns the coordinator's answer.

    `lang=`, when the coordinator gives it, is the patient's language from the invite on.
    An open link is never replaced silently: only `replace_link` (/reinvite) does that, so
    two coordinators enrolling one patient at once cannot kill each other's link. The
    patient's time zone is the clinic's unless `tz=` gives theirs.
    """
    ref, name = args.ref, args.name
    patient = repo.patient_by_ref(session, ref)
    if patient is not None and patient.status != PatientStatus.INVITED:
        return texts.ALREADY_ENROLLED.format(ref=ref)
    if patient is None and replace_link:
        return texts.UNKNOWN_PATIENT.format(ref=ref)
    if patient is not None and not replace_link:
        open_invite = repo.open_invite_of(session, patient.id, now)
        if open_invite is not None:
            return texts.invite_still_open(ref, open_invite.expires_at, rt.settings.clinic_timezone)
    reissued = patient is not None
    if patient is None:
        patient = repo.create_patient(
            session,
            clinic_ref=ref,
            display_name=name,
            timezone=(args.tz or rt.settings.clinic_timezone).key,
            enrolled_by=actor,
            now=now,
            language=args.lang,
        )
    else:
        patient.display_name = name or patient.display_name
        patient.timezone = args.tz.key if args.tz else patient.timezone
        patient.language = args.lang or patient.language
    token = invites.new_token()
    expires = now + timedelta(days=rt.settings.invite_valid_days)
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
    link = invites.invite_link(bot_username, token)
    answer = texts.enrolled(ref, link, expires, rt.settings.clinic_timezone, reissued)
    return f"{answer}\n{texts.patient_zone_set(patient.timezone)}" if args.tz else answer


def _invite_problem(now: datetime, invite: Invite | None) -> str | None:
    """The catalog key saying why this patient invite cannot be used, if it cannot."""
    if invite is None or invite.kind != "patient":
        return "invite_unknown"
    if invite.used_at is not None:
        return "invite_used"
    if invite.expires_at <= now:
        return "invite_expired"
    return None


def open_invite(
    rt: Runtime,
    session: Session,
    now: datetime,
    user_id: int,
    chat_id: int,
    token: str,
    name: str | None = None,
) -> None:
    """/start <token>: show the welcome and consent, or say why the link does not work.

    Before consent the patient is spoken to in the language the coordinator set, if any.
    A staff link makes the sender staff instead (bot.services.staff).
    """
    invite = (
        repo.invite_by_hash(session, invites.token_hash(token))
        if invites.looks_like_token(token)
        else None
    )
    if invite is not None and invite.kind == staff.STAFF_INVITE:
        staff.accept(rt, session, now, invite, user_id=user_id, chat_id=chat_id, name=name)
        return
    enrolled = repo.patient_by_telegram_id(session, user_id)
    voice = _voice_for(rt, session, enrolled, invite)
    if role_of(rt, session, user_id) is not None:
        problem = texts.STAFF_CANNOT_ENROL
    elif enrolled is not None:
        problem = voice.say("already_linked")
        _tell_of_enrolled_opener(session, now, invite, enrolled)
    else:
        key = _invite_problem(now, invite)
        problem = voice.say(key) if key else None
    if problem is not None:
        log.info("invite refused for a user: %s", problem.split(".")[0])
        messages.send(session, now, chat_id, problem, Purpose.REPLY)
        return
    invite.opened_by = user_id
    if invite.declined_at is not None:  # "No thanks" is undone by opening the link again
        ref = repo.get_patient(session, invite.patient_id).clinic_ref
        note = texts.patient_came_back_to_consent(ref)
        messages.send(session, now, invite.created_by, note, Purpose.NOTICE)
    welcome = f"{voice.text('welcome')}\n\n{voice.text('consent')}"
    messages.send(
        session,
        now,
        chat_id,
        voice.with_footer(welcome),
        Purpose.REPLY,
        keyboards.consent_keyboard(voice, invite.id),
    )


def _tell_of_enrolled_opener(
    session: Session, now: datetime, invite: Invite | None, enrolled: Patient
) -> None:
    """Someone already enrolled opened another patient's open invite: its coordinator hears
    of it (the link may have gone to the wrong person); nothing else changes."""
    if _invite_problem(now, invite) is not None or invite.patient_id == enrolled.id:
        return
    invite_ref = repo.get_patient(session, invite.patient_id).clinic_ref
    note = texts.invite_opened_by_enrolled(invite_ref, enrolled.clinic_ref)
    messages.send(session, now, invite.created_by, note, Purpose.NOTICE)


def consent(
    rt: Runtime,
    session: Session,
    now: datetime,
    *,
    user_id: int,
    chat_id: int,
    message_id: int,
    invite_id: int,
    agreed: bool,
    telegram_language: str | None = None,
) -> str | None:
    """I agree / No thanks: link and record consent, tell the coordinator; returns the answer.

    A patient whose coordinator set no language gets their Telegram app's, when the
    protocol has it (the default language otherwise); /language changes it later.
    """
    invite = repo.get_invite(session, invite_id)
    opened_by_them = invite is not None and invite.opened_by == user_id
    enrolled = repo.patient_by_telegram_id(session, user_id)
    valid = opened_by_them and _invite_problem(now, invite) is None and enrolled is None
    if opened_by_them:  # their consent message; a forged press leaves others' messages alone
        messages.clear(session, now, chat_id, message_id)
    if not valid:
        return _voice_for(rt, session, enrolled, invite).say("consent_stale")
    patient = repo.get_patient(session, invite.patient_id)
    if agreed:
        repo.link_patient(
            session,
            invite=invite,
            user_id=user_id,
            chat_id=chat_id,
            now=now,
            consent_version=rt.protocol.version,
        )
        note = (
            texts.patient_joined_after_declining(patient.clinic_ref)
            if invite.declined_at is not None
            else texts.patient_joined(patient.clinic_ref)
        )
        patient.language = patient.language or _guessed_language(rt, telegram_language)
    else:
        invite.declined_at = now
        note = texts.patient_declined(patient.clinic_ref)
    action = "consent_given" if agreed else "consent_declined"
    repo.audit(session, actor=user_id, action=action, now=now, patient_id=patient.id)
    voice = rt.voice(patient.language)
    answer = voice.say("consent_given" if agreed else "consent_declined")
    messages.send(session, now, chat_id, voice.with_footer(answer), Purpose.REPLY)
    messages.send(session, now, invite.created_by, note, Purpose.NOTICE)
    return None


def _voice_for(
    rt: Runtime, session: Session, patient: Patient | None, invite: Invite | None
) -> Voice:
    """The sender's language if they are a patient, else the invite's, else the default."""
    if patient is None and invite is not None and invite.patient_id is not None:
        patient = repo.get_patient(session, invite.patient_id)
    return rt.voice(patient.language if patient else None)


def _guessed_language(rt: Runtime, telegram_language: str | None) -> str:
    """The protocol language matching a Telegram language code ("es-419" is "es")."""
    code = (telegram_language or "").split("-")[0].lower()
    return code if code in rt.protocol.languages else rt.protocol.languages[0]
