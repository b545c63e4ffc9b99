"""Who is who: admins from the environment, staff from the database, patients, strangers."""

from __future__ import annotations

from enum import StrEnum

from sqlmodel import Session

from bot.runtime import Runtime
from storage import repository as repo


class Role(StrEnum):
    """Staff roles."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"
    CLINICIAN = "clinician"


COORDINATORS = frozenset({Role.ADMIN, Role.COORDINATOR})
ALL_STAFF = frozenset(Role)


def role_of(rt: Runtime, session: Session, user_id: int) -> Role | None:
    """The user's staff role, checked afresh on every call; None for non-staff."""
    if user_id in rt.settings.admin_ids:
        return Role.ADMIN
    member = repo.staff_member(session, user_id)
    if member is None:
        return None
    try:
        return Role(member.role)
    except ValueError:
        return None
