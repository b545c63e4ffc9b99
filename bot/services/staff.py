"""Staff: invite links for new staff, joining by them, the staff list, and removal."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session

from bot import invites, keyboards, texts
from bot.roles import Role, role_of
from bot.runtime import Runtime
from bot.services import alerts, messages
from bot.services.messages import Purpose
from storage import repository as repo
from storage.models import Invite, StaffMember

log = logging.getLogger(__name__)

STAFF_INVITE = "staff"


def invite(
    rt: Runtime, session: Session, now: datetime, actor: int, role: Role, bot_username: str
) -> str:
    """A single-use, expiring link that makes whoever opens it staff with `role`."""
    token = invites.new_token()
    expires = now + timedelta(days=rt.settings.invite_valid_days)
    repo.create_invite(
        session,
        token_hash=invites.token_hash(token),
        kind=STAFF_INVITE,
        created_by=actor,
        now=now,
        expires_at=expires,
        role=role.value,
    )
    repo.audit(session, actor=actor, action="invite_staff", now=now, detail=role.value)
    link = invites.invite_link(bot_username, token)
    return texts.staff_invited(role.value, link, expires, rt.settings.clinic_timezone)


def accept(
    rt: Runtime,
    session: Session,
    now: datetime,
    invite: Invite,
    *,
    user_id: int,
    chat_id: int,
    name: str | None,
) -> None:
    """/start with a staff link: make the sender staff (once), or say why not."""
    problem = _problem(rt, session, now, invite, user_id)
    if problem is not None:
        messages.send(session, now, chat_id, problem, Purpose.REPLY)
        return
    role = Role(invite.role)
    invite.used_at, invite.opened_by = now, user_id
    repo.add_staff_member(session, user_id=user_id, role=role.value, name=name, now=now)
    repo.audit(session, actor=user_id, action="staff_joined", now=now, detail=role.value)
    messages.send(session, now, chat_id, texts.staff_welcome(role.value), Purpose.REPLY)
    note = texts.staff_joined(name or f"id {user_id}", role.value)
    messages.send(session, now, invite.created_by, note, Purpose.NOTICE)
    log.info("staff invite %s used: a new %s", invite.id, role.value)


def _problem(
    rt: Runtime, session: Session, now: datetime, invite: Invite, user_id: int
) -> str | None:
    if invite.used_at is not None:
        return rt.voice(None).say("invite_used")
    if invite.expires_at <= now:
        return rt.voice(None).say("invite_expired")
    if repo.patient_by_telegram_id(session, user_id) is not None:
        return texts.PATIENT_CANNOT_BE_STAFF
    return None


def listing(rt: Runtime, session: Session) -> str:
    """/staff: everyone who can act as staff, with their role."""
    rows = [(None, admin_id, Role.ADMIN.value, True) for admin_id in sorted(rt.settings.admin_ids)]
    rows += [
        (m.display_name, m.telegram_user_id, m.role, False)
        for m in repo.active_staff(session)
        if m.telegram_user_id not in rt.settings.admin_ids
    ]
    on_call = alerts.on_call_clinician(session)
    return texts.staff_list(rows, _name(session, on_call) if on_call else None)


def ask_removal(
    rt: Runtime, session: Session, actor: int, who: str
) -> tuple[str, keyboards.Keyboard | None]:
    """/remove_staff <id|@name>: whom it means, with buttons to confirm, or why not."""
    member, problem = _find(rt, session, actor, who)
    if member is None:
        return problem, None
    name = member.display_name or f"id {member.telegram_user_id}"
    question = texts.confirm_removal(name, member.telegram_user_id, member.role)
    return question, keyboards.remove_staff_keyboard(member.id)


def _find(rt: Runtime, session: Session, actor: int, who: str) -> tuple[StaffMember | None, str]:
    wanted = who.removeprefix("@").strip()
    if wanted.isdigit() and int(wanted) in rt.settings.admin_ids:
        return None, texts.ADMIN_FROM_ENVIRONMENT
    matches = [
        m
        for m in repo.active_staff(session)
        if str(m.telegram_user_id) == wanted
        or (m.display_name and m.display_name.casefold() == wanted.casefold())
    ]
    if not matches:
        return None, texts.no_such_staff(who)
    if len(matches) > 1:
        return None, texts.staff_name_ambiguous(who)
    if matches[0].telegram_user_id == actor:
        return None, texts.CANNOT_REMOVE_SELF
    return matches[0], ""


def remove(
    rt: Runtime, session: Session, now: datetime, actor: int, member_id: int, confirmed: bool
) -> str:
    """The confirmation buttons, pressed by an admin: remove the member (their role goes at
    once), or not."""
    member = repo.get_staff_member(session, member_id)
    if member is None or not member.active:
        return texts.STALE_BUTTON
    if not confirmed:
        return texts.REMOVAL_CANCELLED
    member.active = False
    repo.audit(
        session,
        actor=actor,
        action="remove_staff",
        now=now,
        detail=f"{member.telegram_user_id} ({member.role})",
    )
    messages.send(session, now, member.telegram_user_id, texts.YOU_WERE_REMOVED, Purpose.NOTICE)
    return texts.staff_removed(member.display_name or f"id {member.telegram_user_id}")


def on_call(rt: Runtime, session: Session, now: datetime, actor: int, role: Role, who: str) -> str:
    """/oncall [me|off|<id>]: show, take, clear or (admins) hand over the on-call duty."""
    current = alerts.on_call_clinician(session)
    if not who:
        return texts.on_call_now(_name(session, current) if current else None)
    if who == "off":
        repo.set_setting(session, alerts.ON_CALL_SETTING, "", now)
        repo.audit(session, actor=actor, action="on_call", now=now, detail="nobody")
        return texts.on_call_now(None)
    target = actor if who == "me" else int(who) if who.isdigit() else None
    if target is None:
        return texts.ONCALL_USAGE
    if target != actor and role is not Role.ADMIN:
        return texts.ONCALL_ONLY_SELF
    if role_of(rt, session, target) not in (Role.CLINICIAN, Role.ADMIN):
        return texts.ONCALL_NOT_CLINICIAN
    repo.set_setting(session, alerts.ON_CALL_SETTING, str(target), now)
    repo.audit(session, actor=actor, action="on_call", now=now, detail=str(target))
    return texts.on_call_now(_name(session, target))


def _name(session: Session, user_id: int) -> str:
    member = repo.staff_member(session, user_id)
    return member.display_name if member and member.display_name else f"id {user_id}"
