"""The queries the bot needs, as named functions taking a session.

Callers own the transaction (storage.db.session_scope); functions here flush when they need
an id but never commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    update,
)
from sqlmodel import Session, col, select

from storage.models import (
    ANSWERED_CHECK_IN,
    OPEN_CHECK_IN,
    STILL_TO_COME,
    THROTTLED,
    UNFINISHED_CHECK_IN,
    Alert,
    AlertDelivery,
    Answer,
    AuditEvent,
    BotSetting,
    CheckIn,
    CheckInStatus,
    InboxUpdate,
    Infusion,
    Invite,
    OutboxMessage,
    OutboxStatus,
    Patient,
    PatientStatus,
    Snooze,
    StaffMember,
    UTCDateTime,
)

# The learned setting that says when getUpdates last succeeded (`python -m bot health`).
LAST_POLL_KEY = "last_poll_at"
# How a failure that may pass by itself (a timeout, a 5xx) starts its row's last_error.
NETWORK_ERROR_PREFIX = "network: "
# The chats a session queued messages for, so that the sender is woken after its commit.
OUTBOX_TOUCHED = "outbox_touched"


# -- patients and invites --------------------------------------------------------------


def patient_by_ref(session: Session, clinic_ref: str) -> Patient | None:
    """The patient with this clinic reference (case-sensitive, as the clinic wrote it)."""
    return session.exec(select(Patient).where(Patient.clinic_ref == clinic_ref)).first()


def patient_by_telegram_id(session: Session, user_id: int) -> Patient | None:
    """The patient linked to this Telegram user."""
    return session.exec(select(Patient).where(Patient.telegram_user_id == user_id)).first()


def patient_by_chat_id(session: Session, chat_id: int) -> Patient | None:
    """The patient whose private chat this is."""
    return session.exec(select(Patient).where(Patient.chat_id == chat_id)).first()


def get_patient(session: Session, patient_id: int) -> Patient:
    """The patient with this id (it must exist)."""
    return session.get_one(Patient, patient_id)


def open_invite_of(session: Session, patient_id: int, now: datetime) -> Invite | None:
    """The patient's newest invite that is neither used nor expired."""
    return session.exec(
        select(Invite)
        .where(
            Invite.patient_id == patient_id,
            col(Invite.used_at).is_(None),
            Invite.expires_at > now,
        )
        .order_by(col(Invite.created_at).desc())
    ).first()


def get_invite(session: Session, invite_id: int) -> Invite | None:
    """The invite with this id, if any."""
    return session.get(Invite, invite_id)


def create_patient(
    session: Session,
    *,
    clinic_ref: str,
    display_name: str | None,
    timezone: str,
    enrolled_by: int,
    now: datetime,
    language: str | None = None,
) -> Patient:
    """A new patient waiting for their invite to be used."""
    patient = Patient(
        clinic_ref=clinic_ref,
        display_name=display_name,
        timezone=timezone,
        language=language,
        enrolled_by=enrolled_by,
        created_at=now,
    )
    session.add(patient)
    session.flush()
    return patient


def create_invite(
    session: Session,
    *,
    token_hash: str,
    kind: str,
    created_by: int,
    now: datetime,
    expires_at: datetime,
    patient_id: int | None = None,
    role: str | None = None,
) -> Invite:
    """Store a new invite; earlier unused invites for the same patient stop working."""
    if patient_id is not None:
        for old in session.exec(
            select(Invite).where(Invite.patient_id == patient_id, col(Invite.used_at).is_(None))
        ):
            old.expires_at = min(old.expires_at, now)
    invite = Invite(
        token_hash=token_hash,
        kind=kind,
        patient_id=patient_id,
        role=role,
        created_by=created_by,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(invite)
    session.flush()
    return invite


def invite_by_hash(session: Session, token_hash: str) -> Invite | None:
    """The invite whose token hashes to `token_hash`."""
    return session.exec(select(Invite).where(Invite.token_hash == token_hash)).first()


def link_patient(
    session: Session,
    *,
    invite: Invite,
    user_id: int,
    chat_id: int,
    now: datetime,
    consent_version: str,
) -> Patient:
    """Use the invite: the patient is linked to this Telegram user and has consented."""
    patient = session.get_one(Patient, invite.patient_id)
    invite.used_at = now
    invite.opened_by = user_id
    patient.telegram_user_id = user_id
    patient.chat_id = chat_id
    patient.status = PatientStatus.ACTIVE
    patient.consent_at = now
    patient.consent_version = consent_version
    return patient


# -- staff -----------------------------------------------------------------------------


def staff_member(session: Session, user_id: int) -> StaffMember | None:
    """The active staff member with this Telegram id."""
    return session.exec(
        select(StaffMember).where(StaffMember.telegram_user_id == user_id, StaffMember.active)
    ).first()


def get_staff_member(session: Session, member_id: int) -> StaffMember | None:
    """The staff row with this id, active or not."""
    return session.get(StaffMember, member_id)


def add_staff_member(
    session: Session, *, user_id: int, role: str, name: str | None, now: datetime
) -> StaffMember:
    """Make a Telegram user staff with `role` (again, if they were removed before)."""
    member = session.exec(
        select(StaffMember).where(StaffMember.telegram_user_id == user_id)
    ).first()
    if member is None:
        member = StaffMember(telegram_user_id=user_id, role=role, created_at=now)
        session.add(member)
    member.role, member.active = role, True
    member.display_name = name[:64] if name else member.display_name
    session.flush()
    return member


def active_staff(session: Session) -> list[StaffMember]:
    """Every active staff member."""
    return list(session.exec(select(StaffMember).where(StaffMember.active)))


# -- infusions and check-ins -----------------------------------------------------------


def record_infusion(
    session: Session,
    *,
    patient: Patient,
    started_at: datetime,
    recorded_at: datetime,
    dose: str | None,
    recorded_by: int,
    protocol_version: str,
    planned: Iterable[tuple[str, datetime, datetime, datetime | None]],
) -> tuple[Infusion, list[int | None]]:
    """Store an infusion and all its check-ins; earlier infusions' unfinished ones are
    cancelled (withdraw_check_ins).

    Its number is the patient's next (call lock_patient first where two may race; the
    unique (patient, number) constraint refuses a duplicate anyway). `planned` holds
    (step id, due at, closes at, remind at). Returns the infusion and, for each earlier
    check-in cancelled, the message its question was shown in (the caller takes its
    buttons off).
    """
    earlier = unfinished_infusion_check_ins(session, patient.id)
    withdrawn = withdraw_check_ins(session, earlier, CheckInStatus.CANCELLED, "a newer infusion")
    infusion = Infusion(
        patient_id=patient.id,
        number=next_infusion_number(session, patient.id),
        started_at=started_at,
        recorded_at=recorded_at,
        dose=dose,
        recorded_by=recorded_by,
        protocol_version=protocol_version,
    )
    session.add(infusion)
    session.flush()
    add_check_ins(session, infusion, planned)
    return infusion, withdrawn


def next_infusion_number(session: Session, patient_id: int) -> int:
    """The number the patient's next infusion gets: 1, 2, ..."""
    highest = session.exec(
        select(func.max(Infusion.number)).where(Infusion.patient_id == patient_id)
    ).one()
    return (highest or 0) + 1


def lock_patient(session: Session, patient_id: int) -> None:
    """Hold the patient's row until commit, so that two infusions recorded at once are
    checked and numbered one after the other.

    A write that changes nothing: SQLite ignores SELECT ... FOR UPDATE and its driver begins
    a transaction only at the first write, which takes the database's write lock; on
    PostgreSQL it locks the row.
    """
    session.execute(
        update(Patient)
        .where(col(Patient.id) == patient_id)
        .values(id=Patient.id)
        .execution_options(synchronize_session=False)
    )


def claim_infusion_start(
    session: Session, infusion_id: int, expected: datetime, new: datetime
) -> bool:
    """Compare-and-set: move a live infusion's start if it is still `expected`."""
    return (
        session.execute(
            update(Infusion)
            .where(
                col(Infusion.id) == infusion_id,
                col(Infusion.started_at) == expected,
                col(Infusion.cancelled_at).is_(None),
            )
            .values(started_at=new)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def claim_infusion_cancel(session: Session, infusion_id: int, now: datetime) -> bool:
    """Compare-and-set: mark the infusion cancelled unless it already is."""
    return (
        session.execute(
            update(Infusion)
            .where(col(Infusion.id) == infusion_id, col(Infusion.cancelled_at).is_(None))
            .values(cancelled_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def replan_check_in(
    session: Session,
    check_in_id: int,
    due_at: datetime,
    closes_at: datetime,
    remind_at: datetime | None,
) -> tuple[bool, int | None]:
    """Compare-and-set under the row's lock: a check-in still to come gets new times, as if
    never sent. One the patient's /stop set aside stays stopped (/start may bring it back, to
    be asked at them); any other becomes pending again.

    Returns whether it moved, and the message its question was shown in, read under the
    lock (a question delivered since the caller read the row is named too): its buttons
    should come off.
    """
    current = session.get(CheckIn, check_in_id, populate_existing=True, with_for_update=True)
    if current is None or current.status not in STILL_TO_COME:
        return False, None
    shown_in = current.message_id
    if current.status != CheckInStatus.STOPPED:
        current.status = CheckInStatus.PENDING
    for name, value in _never_sent(due_at, closes_at, remind_at).items():
        setattr(current, name, value)
    return True, shown_in


def _never_sent(due_at: datetime, closes_at: datetime, remind_at: datetime | None) -> dict:
    """A re-planned check-in's new times, with every trace of an earlier sending wiped."""
    return {
        "due_at": due_at,
        "closes_at": closes_at,
        "remind_at": remind_at,
        "sent_at": None,
        "reminded_at": None,
        "current_question": None,
        "draft": None,
        "message_id": None,
        "message_outbox_id": None,
    }


def add_check_ins(
    session: Session,
    infusion: Infusion,
    planned: Iterable[tuple[str, datetime, datetime, datetime | None]],
) -> None:
    """Further check-ins of an infusion: (step id, due at, closes at, remind at) each."""
    for step_id, due_at, closes_at, remind_at in planned:
        session.add(
            CheckIn(
                patient_id=infusion.patient_id,
                infusion_id=infusion.id,
                step_id=step_id,
                due_at=due_at,
                closes_at=closes_at,
                remind_at=remind_at,
            )
        )
    session.flush()


def get_infusion(session: Session, infusion_id: int) -> Infusion | None:
    """The infusion with this id, if any."""
    return session.get(Infusion, infusion_id)


def claim_patient_status(
    session: Session,
    patient_id: int,
    expected: Iterable[PatientStatus],
    new: PatientStatus,
    paused_until: datetime | None = None,
) -> Patient | None:
    """Compare-and-set: move the patient to `new` if their status is still one of `expected`
    (what they had before a /stop is forgotten: a staff change overrides it).

    Returns the fresh row when this call made the change, else None (someone else did first).
    """
    return _change_patient(
        session,
        patient_id,
        col(Patient.status).in_(list(expected)),
        status=new,
        paused_until=paused_until,
        stopped_from=None,
    )


def mark_stopped(
    session: Session, patient_id: int, expected: Iterable[PatientStatus]
) -> Patient | None:
    """Compare-and-set: the patient stops if their status is still one of `expected`,
    remembering it (a pause keeps its end) for when they come back.

    Returns the fresh row when this call made the change, else None (someone else did first).
    """
    return _change_patient(
        session,
        patient_id,
        col(Patient.status).in_(list(expected)),
        status=PatientStatus.STOPPED,
        stopped_from=Patient.status,
    )


def unmark_stopped(session: Session, patient_id: int) -> Patient | None:
    """Compare-and-set: a stopped patient gets back the status they had before /stop.

    Returns the fresh row when this call made the change, else None (not stopped).
    """
    before = func.coalesce(Patient.stopped_from, PatientStatus.ACTIVE.value)
    stopped = col(Patient.status) == PatientStatus.STOPPED
    return _change_patient(session, patient_id, stopped, status=before, stopped_from=None)


def mark_blocked(session: Session, patient_id: int) -> Patient | None:
    """Compare-and-set: the patient becomes blocked, remembering the status they had.

    Returns the fresh row when this call made the change, else None (already blocked).
    """
    return _change_patient(
        session,
        patient_id,
        col(Patient.status) != PatientStatus.BLOCKED,
        status=PatientStatus.BLOCKED,
        blocked_from=Patient.status,
    )


def unmark_blocked(session: Session, patient_id: int) -> Patient | None:
    """Compare-and-set: a blocked patient gets back the status they had before the block.

    Returns the fresh row when this call made the change, else None (not blocked).
    """
    before = func.coalesce(Patient.blocked_from, PatientStatus.ACTIVE.value)
    blocked = col(Patient.status) == PatientStatus.BLOCKED
    return _change_patient(session, patient_id, blocked, status=before, blocked_from=None)


def _change_patient(
    session: Session, patient_id: int, condition: ColumnElement[bool], **values: Any
) -> Patient | None:
    """Compare-and-set on the patient's row: `values` if `condition` still holds; the fresh
    row when this call made the change, else None."""
    changed = session.execute(
        update(Patient)
        .where(col(Patient.id) == patient_id, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        return None
    return session.get(Patient, patient_id, populate_existing=True)


def latest_infusion(session: Session, patient_id: int) -> Infusion | None:
    """The patient's most recently recorded infusion."""
    return session.exec(
        select(Infusion)
        .where(Infusion.patient_id == patient_id)
        .order_by(col(Infusion.recorded_at).desc(), col(Infusion.id).desc())
    ).first()


def shrink_to_safety(session: Session, infusion_id: int, steps_with_safety: set[str]) -> int:
    """Reduce an infusion's unsent check-ins to their safety part; returns how many changed.

    A check-in whose step has no safety question left is cancelled instead.
    """
    changed = 0
    rows = session.exec(
        select(CheckIn).where(
            CheckIn.infusion_id == infusion_id,
            CheckIn.status == CheckInStatus.PENDING,
            col(CheckIn.safety_only).is_(False),
        )
    )
    for check_in in rows:
        if check_in.step_id in steps_with_safety:
            check_in.safety_only = True
        else:
            check_in.status = CheckInStatus.CANCELLED
        changed += 1
    return changed


def add_clinic_baseline(
    session: Session, *, infusion: Infusion, step_id: str, answers: dict[str, Any], now: datetime
) -> CheckIn:
    """A baseline taken in the clinic: an answered baseline check-in, never sent."""
    check_in = CheckIn(
        patient_id=infusion.patient_id,
        infusion_id=infusion.id,
        step_id=step_id,
        status=CheckInStatus.ANSWERED,
        due_at=infusion.started_at,
        closes_at=infusion.started_at,
        completed_at=now,
    )
    session.add(check_in)
    session.flush()
    for question_id, value in answers.items():
        save_answer(session, check_in=check_in, question_id=question_id, value=value, now=now)
    return check_in


def unfinished_infusion_check_ins(session: Session, patient_id: int) -> list[CheckIn]:
    """The patient's check-ins of any infusion that are pending, sent or under way."""
    return list(
        session.exec(_unfinished_of(patient_id).where(col(CheckIn.infusion_id).is_not(None)))
    )


def unfinished_check_ins(session: Session, patient_id: int) -> list[CheckIn]:
    """The patient's check-ins, reports included, that are pending, sent or under way."""
    return list(session.exec(_unfinished_of(patient_id)))


def _unfinished_of(patient_id: int):
    return select(CheckIn).where(
        CheckIn.patient_id == patient_id, col(CheckIn.status).in_(UNFINISHED_CHECK_IN)
    )


def withdraw_check_ins(
    session: Session,
    check_ins: Iterable[CheckIn],
    status: CheckInStatus,
    reason: str,
    expected: tuple[CheckInStatus, ...] = UNFINISHED_CHECK_IN,
) -> list[int | None]:
    """Close check-ins still in one of the `expected` statuses as `status` without asking
    them (each a compare-and-set against the dispatcher) and drop their questions not yet
    sent. Returns, for each this call closed, the message its question was shown in (None:
    not shown), whose buttons should come off."""
    shown = []
    for check_in in check_ins:
        withdrawn = claim_check_in(session, check_in.id, expected, status)
        if withdrawn is None:
            continue
        # Read from the row as the claim left it: a question delivered since the caller
        # loaded `check_in` noted its message there, and its buttons must come off too.
        shown.append(withdrawn.message_id)
        withdrawn.message_id = None
        drop_pending_questions(session, check_in.id, reason)
    return shown


def stopped_check_ins_still_open(
    session: Session, infusion_id: int, now: datetime
) -> list[CheckIn]:
    """An infusion's check-ins stopped by the patient whose window has not closed."""
    return list(
        session.exec(
            select(CheckIn)
            .where(
                CheckIn.infusion_id == infusion_id,
                CheckIn.status == CheckInStatus.STOPPED,
                CheckIn.closes_at > now,
            )
            .order_by(CheckIn.due_at)
        )
    )


def pauses_ending(session: Session, now: datetime, limit: int) -> list[Patient]:
    """Paused patients whose pause has an end that has come."""
    return list(
        session.exec(
            select(Patient)
            .where(
                Patient.status == PatientStatus.PAUSED,
                col(Patient.paused_until).is_not(None),
                Patient.paused_until <= now,
            )
            .limit(limit)
        )
    )


def check_ins_of(session: Session, infusion_id: int) -> list[CheckIn]:
    """An infusion's check-ins in due order."""
    return list(
        session.exec(
            select(CheckIn).where(CheckIn.infusion_id == infusion_id).order_by(CheckIn.due_at)
        )
    )


def check_ins_with_answers(session: Session, infusion_id: int) -> set[int]:
    """The ids of an infusion's check-ins that hold at least one answer."""
    return set(
        session.exec(
            select(CheckIn.id)
            .join(Answer, col(Answer.check_in_id) == col(CheckIn.id))
            .where(CheckIn.infusion_id == infusion_id)
            .distinct()
        )
    )


def get_check_in(session: Session, check_in_id: int) -> CheckIn | None:
    """The check-in with this id, if any."""
    return session.get(CheckIn, check_in_id)


def add_report(
    session: Session, *, patient_id: int, step_id: str, now: datetime, closes_at: datetime
) -> CheckIn:
    """An ad-hoc report: a check-in of no infusion, open at once."""
    report = CheckIn(patient_id=patient_id, step_id=step_id, due_at=now, closes_at=closes_at)
    session.add(report)
    session.flush()
    return report


def _status_is(*statuses: CheckInStatus) -> ColumnElement[bool]:
    """The check-in's status is one of these, written into the SQL rather than bound: only
    then can SQLite and PostgreSQL see that a partial index on those statuses applies."""
    values = [literal(str(status), literal_execute=True) for status in statuses]
    return col(CheckIn.status) == values[0] if len(values) == 1 else col(CheckIn.status).in_(values)


def _patient_active() -> ColumnElement[bool]:
    """The check-in's patient is active; as EXISTS, not a join, so that SQLite walks the
    check-in index first (it takes `patient.status = ?` for a selective condition)."""
    return (
        select(Patient.id)
        .where(Patient.id == CheckIn.patient_id, Patient.status == PatientStatus.ACTIVE)
        .exists()
    )


def _due_check_in_ids(now: datetime, limit: int) -> Select:
    """Pending check-ins of active patients that are due and whose window is open."""
    return (
        select(CheckIn.id)
        .where(
            _status_is(CheckInStatus.PENDING),
            CheckIn.due_at <= now,
            CheckIn.closes_at > now,
            _patient_active(),
        )
        .order_by(CheckIn.due_at)
        .limit(limit)
    )


def claim_check_in(
    session: Session, check_in_id: int, expected: Iterable[CheckInStatus], new: CheckInStatus
) -> CheckIn | None:
    """Compare-and-set: move the check-in to `new` if its status is still one of `expected`.

    Returns the fresh row when this call made the change, else None.
    """
    changed = session.execute(
        update(CheckIn)
        .where(col(CheckIn.id) == check_in_id, col(CheckIn.status).in_(list(expected)))
        .values(status=new)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        return None
    return session.get(CheckIn, check_in_id, populate_existing=True)


def claim_due_check_ins(session: Session, now: datetime, limit: int) -> list[CheckIn]:
    """Compare-and-set in one statement: up to `limit` due check-ins still pending become
    sent; returns them, earliest due first."""
    claimed = session.scalars(
        update(CheckIn)
        .where(
            col(CheckIn.id).in_(_due_check_in_ids(now, limit).scalar_subquery()),
            col(CheckIn.status) == CheckInStatus.PENDING,
        )
        .values(status=CheckInStatus.SENT, sent_at=now)
        .returning(CheckIn),
        execution_options={"synchronize_session": False, "populate_existing": True},
    ).all()
    return sorted(claimed, key=lambda check_in: (check_in.due_at, check_in.id))


def expired_check_in_ids(session: Session, now: datetime, limit: int) -> list[int]:
    """Unfinished check-ins whose window has closed, oldest first, at most `limit`."""
    return list(
        session.exec(
            select(CheckIn.id)
            .where(_status_is(*UNFINISHED_CHECK_IN), CheckIn.closes_at <= now)
            .order_by(CheckIn.closes_at)
            .limit(limit)
        )
    )


def record_question_message(
    session: Session, check_in_id: int, outbox_id: int, message_id: int
) -> bool:
    """Note the sent question's message id on its check-in; False, and nothing noted, when
    a newer message has replaced it since or the check-in is no longer open."""
    return (
        session.execute(
            update(CheckIn)
            .where(
                col(CheckIn.id) == check_in_id,
                col(CheckIn.message_outbox_id) == outbox_id,
                col(CheckIn.status).in_(OPEN_CHECK_IN),
            )
            .values(message_id=message_id)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def check_ins_to_remind(session: Session, now: datetime, limit: int) -> list[CheckIn]:
    """Open check-ins whose reminder is due and not yet sent."""
    return list(
        session.exec(
            select(CheckIn)
            .where(
                _status_is(*OPEN_CHECK_IN),
                col(CheckIn.reminded_at).is_(None),
                CheckIn.remind_at <= now,
                CheckIn.closes_at > now,
                _patient_active(),
            )
            .limit(limit)
        )
    )


def open_check_in(session: Session, patient_id: int) -> CheckIn | None:
    """The patient's check-in that is sent or under way, the most recent first."""
    return session.exec(
        select(CheckIn)
        .where(CheckIn.patient_id == patient_id, col(CheckIn.status).in_(OPEN_CHECK_IN))
        .order_by(col(CheckIn.due_at).desc())
    ).first()


def open_report(session: Session, patient_id: int) -> CheckIn | None:
    """The patient's ad-hoc report that is still open, if any."""
    return session.exec(
        select(CheckIn).where(
            CheckIn.patient_id == patient_id,
            col(CheckIn.infusion_id).is_(None),
            col(CheckIn.status).in_(UNFINISHED_CHECK_IN),
        )
    ).first()


def next_pending(session: Session, patient_id: int) -> CheckIn | None:
    """The patient's earliest check-in not yet sent, due or not."""
    return session.exec(
        select(CheckIn)
        .where(CheckIn.patient_id == patient_id, CheckIn.status == CheckInStatus.PENDING)
        .order_by(CheckIn.due_at)
    ).first()


def unfinished_with_infusion(session: Session, patient_id: int) -> list[tuple[CheckIn, Infusion]]:
    """The patient's unfinished check-ins of infusions, each with its infusion."""
    rows = session.exec(
        select(CheckIn, Infusion)
        .join(Infusion, col(Infusion.id) == CheckIn.infusion_id)
        .where(CheckIn.patient_id == patient_id, col(CheckIn.status).in_(UNFINISHED_CHECK_IN))
        .order_by(CheckIn.due_at)
    )
    return list(rows)


def reschedule_pending(
    session: Session,
    check_in: CheckIn,
    due_at: datetime,
    closes_at: datetime,
    remind_at: datetime | None,
) -> bool:
    """Compare-and-set: new times for a check-in if it is still pending (not yet sent)."""
    changed = session.execute(
        update(CheckIn)
        .where(col(CheckIn.id) == check_in.id, col(CheckIn.status) == CheckInStatus.PENDING)
        .values(due_at=due_at, closes_at=closes_at, remind_at=remind_at)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(check_in)
    return changed == 1


def next_wakeup(session: Session) -> datetime | None:
    """The earliest moment at which the dispatcher has something to do."""
    candidates = [
        # Walks the pending index in order and stops at the first active patient's.
        session.exec(
            select(CheckIn.due_at)
            .where(_status_is(CheckInStatus.PENDING), _patient_active())
            .order_by(CheckIn.due_at)
            .limit(1)
        ).first(),
        session.exec(
            select(func.min(CheckIn.closes_at)).where(_status_is(*UNFINISHED_CHECK_IN))
        ).one(),
        session.exec(
            select(func.min(CheckIn.remind_at)).where(
                _status_is(*OPEN_CHECK_IN), col(CheckIn.reminded_at).is_(None)
            )
        ).one(),
        session.exec(
            select(func.min(Alert.escalate_at)).where(
                col(Alert.escalated_at).is_(None), col(Alert.acknowledged_at).is_(None)
            )
        ).one(),
    ]
    moments = [as_utc(c) for c in candidates if c is not None]
    return min(moments) if moments else None


def as_utc(value: Any) -> datetime:
    """An aggregate's datetime as aware UTC.

    Aggregates bypass the column type, so SQLite hands back a naive datetime or a string.
    """
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return UTCDateTime().process_result_value(value, None)


def missed_in_a_row(session: Session, patient_id: int) -> int:
    """How many of the patient's most recently closed check-ins were missed, in a row."""
    closed = session.exec(
        select(CheckIn.status)
        .where(
            CheckIn.patient_id == patient_id,
            col(CheckIn.infusion_id).is_not(None),
            col(CheckIn.status).in_((*ANSWERED_CHECK_IN, CheckInStatus.MISSED)),
        )
        # By due time: a baseline's window can end after the next check-in's.
        .order_by(col(CheckIn.due_at).desc())
    )
    streak = 0
    for status in closed:
        if status != CheckInStatus.MISSED:
            break
        streak += 1
    return streak


# -- answers ---------------------------------------------------------------------------


def answers_of(session: Session, check_in_id: int) -> dict[str, Any]:
    """A check-in's answers by question id, decoded."""
    rows = session.exec(select(Answer).where(Answer.check_in_id == check_in_id))
    return {row.question_id: json.loads(row.value) for row in rows}


def save_answer(
    session: Session,
    *,
    check_in: CheckIn,
    question_id: str,
    value: Any,
    now: datetime,
    replaces_answer: bool = True,
) -> Answer:
    """Store an answer at once. A new value for the same question keeps the one it replaces
    in `changed_from`, unless `replaces_answer` is False (it completes an unfinished one,
    such as a checklist still waiting for its severities)."""
    encoded = json.dumps(value, sort_keys=True)
    answer = session.exec(
        select(Answer).where(Answer.check_in_id == check_in.id, Answer.question_id == question_id)
    ).first()
    if answer is None:
        answer = Answer(
            check_in_id=check_in.id, question_id=question_id, value=encoded, answered_at=now
        )
        session.add(answer)
    elif answer.value != encoded:
        if replaces_answer:
            answer.changed_from = answer.value
        answer.value = encoded
        answer.answered_at = now
    session.flush()
    return answer


def delete_answer(session: Session, check_in_id: int, question_id: str) -> None:
    """Remove the answer to a question that no longer applies (the caller audits it)."""
    session.execute(
        delete(Answer).where(
            col(Answer.check_in_id) == check_in_id, col(Answer.question_id) == question_id
        )
    )


def baseline_answers(session: Session, infusion_id: int | None, baseline_step: str | None) -> dict:
    """The answers of the infusion's baseline check-in (empty when there is none)."""
    if infusion_id is None or baseline_step is None:
        return {}
    found = _answers_per_check_in(
        session, CheckIn.infusion_id == infusion_id, CheckIn.step_id == baseline_step
    )
    return found[0] if found else {}


def previous_baseline_answers(
    session: Session, patient_id: int, infusion_id: int, baseline_step: str
) -> dict:
    """The baseline answers of the patient's latest earlier infusion that has any."""
    rows = session.exec(
        select(CheckIn.id)
        .join(Infusion)
        .where(
            CheckIn.patient_id == patient_id,
            CheckIn.step_id == baseline_step,
            col(CheckIn.infusion_id) < infusion_id,
            col(CheckIn.status).in_(ANSWERED_CHECK_IN),
        )
        .order_by(col(Infusion.started_at).desc())
    )
    for check_in_id in rows:
        answers = answers_of(session, check_in_id)
        if answers:
            return answers
    return {}


def latest_due_step(session: Session, patient_id: int, moment: datetime) -> str | None:
    """The step of the patient's latest infusion check-in due at or before `moment`."""
    return session.exec(
        select(CheckIn.step_id)
        .where(
            CheckIn.patient_id == patient_id,
            col(CheckIn.infusion_id).is_not(None),
            CheckIn.due_at <= moment,
            CheckIn.status != CheckInStatus.CANCELLED,
        )
        .order_by(col(CheckIn.due_at).desc())
    ).first()


def last_answer_at(session: Session, patient_id: int) -> datetime | None:
    """When the patient last answered any question."""
    latest = session.exec(
        select(func.max(Answer.answered_at)).join(CheckIn).where(CheckIn.patient_id == patient_id)
    ).one()
    return as_utc(latest) if latest is not None else None


def earlier_answers(session: Session, check_in: CheckIn, baseline_step: str | None) -> list[dict]:
    """Answers of the infusion's answered check-ins before this one, baseline excluded."""
    if check_in.infusion_id is None:
        return []
    return _answers_per_check_in(
        session,
        CheckIn.infusion_id == check_in.infusion_id,
        col(CheckIn.status).in_(ANSWERED_CHECK_IN),
        CheckIn.due_at < check_in.due_at,
        CheckIn.step_id != (baseline_step or ""),
    )


def _answers_per_check_in(session: Session, *where: ColumnElement[bool]) -> list[dict]:
    """The answers of each check-in matching `where` ({} for one without any), in the order
    they were due; in one query, however many check-ins there are."""
    rows = session.exec(
        select(CheckIn.id, Answer.question_id, Answer.value)
        .outerjoin(Answer, col(Answer.check_in_id) == col(CheckIn.id))
        .where(*where)
        .order_by(CheckIn.due_at, CheckIn.id)
    )
    found: dict[int, dict[str, Any]] = {}
    for check_in_id, question_id, value in rows:
        answers = found.setdefault(check_in_id, {})
        if question_id is not None:
            answers[question_id] = json.loads(value)
    return list(found.values())


# -- alerts ----------------------------------------------------------------------------


def create_alert(
    session: Session,
    *,
    patient_id: int,
    check_in_id: int | None,
    rule_id: str,
    severity: str,
    description: str,
    summary: str,
    now: datetime,
    escalate_at: datetime | None,
) -> Alert | None:
    """Store a new alert; None when this rule already alerted for this check-in."""
    if check_in_id is not None:
        existing = session.exec(
            select(Alert.id).where(Alert.check_in_id == check_in_id, Alert.rule_id == rule_id)
        ).first()
        if existing is not None:
            return None
    alert = Alert(
        patient_id=patient_id,
        check_in_id=check_in_id,
        rule_id=rule_id,
        severity=severity,
        description=description,
        summary=summary,
        created_at=now,
        escalate_at=escalate_at,
    )
    session.add(alert)
    session.flush()
    return alert


def has_alerts(session: Session, check_in_id: int) -> bool:
    """Whether any rule alerted for this check-in."""
    return (
        session.exec(select(Alert.id).where(Alert.check_in_id == check_in_id)).first() is not None
    )


def add_snooze(
    session: Session, *, patient_id: int, rule_id: str, until: datetime, by: int, now: datetime
) -> Snooze:
    """Store a snooze of one rule for one patient."""
    snooze = Snooze(
        patient_id=patient_id, rule_id=rule_id, until=until, snoozed_by=by, created_at=now
    )
    session.add(snooze)
    session.flush()
    return snooze


def active_snoozes(session: Session, patient_id: int, now: datetime) -> list[Snooze]:
    """The patient's snoozes still running, soonest to end first."""
    return list(
        session.exec(
            select(Snooze)
            .where(Snooze.patient_id == patient_id, Snooze.until > now)
            .order_by(Snooze.until)
        )
    )


def record_delivery(
    session: Session,
    *,
    alert_id: int,
    chat_id: int,
    message_id: int,
    kind: str,
    now: datetime,
) -> AlertDelivery:
    """Record one delivered staff message that carries an alert (failures stay on the
    outbox row)."""
    delivery = AlertDelivery(
        alert_id=alert_id, chat_id=chat_id, message_id=message_id, kind=kind, sent_at=now
    )
    session.add(delivery)
    session.flush()
    return delivery


def deliveries_of(session: Session, alert_id: int) -> list[AlertDelivery]:
    """Every message that carried this alert."""
    return list(
        session.exec(
            select(AlertDelivery).where(
                AlertDelivery.alert_id == alert_id, col(AlertDelivery.message_id).is_not(None)
            )
        )
    )


def current_alert(session: Session, alert_id: int) -> Alert | None:
    """The alert as committed now (another transaction may have just acknowledged it)."""
    return session.get(Alert, alert_id, populate_existing=True)


def get_alert(session: Session, alert_id: int) -> Alert | None:
    """The alert with this id, if any."""
    return session.get(Alert, alert_id)


def acknowledge_alert(
    session: Session, alert_id: int, user_id: int, now: datetime, name: str | None = None
) -> bool:
    """Compare-and-set: acknowledge the alert; False when someone already had."""
    changed = session.execute(
        update(Alert)
        .where(col(Alert.id) == alert_id, col(Alert.acknowledged_at).is_(None))
        .values(acknowledged_by=user_id, acknowledged_at=now, acknowledged_name=name)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.expire_all()
    return changed == 1


def mark_staff_notified(session: Session, alert_id: int, now: datetime) -> None:
    """The first staff copy of the alert was delivered (a message id came back)."""
    session.execute(
        update(Alert)
        .where(col(Alert.id) == alert_id, col(Alert.staff_notified_at).is_(None))
        .values(staff_notified_at=now)
        .execution_options(synchronize_session=False)
    )


def alerts_to_escalate(session: Session, now: datetime, limit: int) -> list[Alert]:
    """Unacknowledged alerts whose escalation time has come."""
    return list(
        session.exec(
            select(Alert)
            .where(
                col(Alert.escalate_at).is_not(None),
                Alert.escalate_at <= now,
                col(Alert.escalated_at).is_(None),
                col(Alert.acknowledged_at).is_(None),
            )
            .limit(limit)
        )
    )


# -- audit -----------------------------------------------------------------------------


def audit(
    session: Session,
    *,
    actor: int | None,
    action: str,
    now: datetime,
    patient_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Write one audit event (who, what, when, which patient)."""
    session.add(
        AuditEvent(
            actor_telegram_id=actor, action=action, patient_id=patient_id, detail=detail, at=now
        )
    )


# -- outbox ----------------------------------------------------------------------------


def attach_outbox_row(session: Session, row: OutboxMessage) -> OutboxMessage:
    """Bring a row read in an earlier session into this one, as it is (no read again)."""
    session.add(row)
    return row


def enqueue(session: Session, message: OutboxMessage) -> OutboxMessage:
    """Queue a message in the caller's transaction; the sender delivers it after the commit."""
    session.add(message)
    session.flush()
    session.info.setdefault(OUTBOX_TOUCHED, set()).add(message.chat_id)
    return message


def outbox_due(session: Session, now: datetime, limit: int) -> list[OutboxMessage]:
    """Each chat's next message (most urgent, then oldest) if it is due, most urgent first.

    One row per chat, so that a chat with a long queue (a group at 20 a minute) never
    crowds the others out of the batch; and a chat whose next message waits for a retry
    waits with it, so that nothing queued behind it overtakes it.
    """
    rank = (
        func.row_number()
        .over(
            partition_by=OutboxMessage.chat_id,
            order_by=(col(OutboxMessage.priority), col(OutboxMessage.id)),
        )
        .label("rank")
    )
    heads = (
        select(col(OutboxMessage.id), rank)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
        .subquery()
    )
    return list(
        session.exec(
            select(OutboxMessage)
            .join(heads, col(OutboxMessage.id) == heads.c.id)
            .where(heads.c.rank == 1, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.priority, OutboxMessage.id)
            .limit(limit)
        )
    )


def _outbox_pending() -> ColumnElement[bool]:
    """The message waits to be sent, written as a literal like `_status_is`: looking up a
    chat's pending messages then walks the partial index of pending rows."""
    return col(OutboxMessage.status) == literal(str(OutboxStatus.PENDING), literal_execute=True)


# Built once: the sender asks this after almost every delivery, and building the statement
# cost more than running it (140 against 60 microseconds a call).
_OUTBOX_HEAD = (
    select(OutboxMessage)
    .where(
        OutboxMessage.chat_id == bindparam("chat_id"),
        _outbox_pending(),
    )
    .order_by(OutboxMessage.priority, OutboxMessage.id)
    .limit(1)
)


def outbox_head(session: Session, chat_id: int) -> OutboxMessage | None:
    """The chat's next message to send (most urgent, then oldest), due or not."""
    return session.exec(_OUTBOX_HEAD, params={"chat_id": chat_id}).first()


def next_outbox_attempt(session: Session, after: datetime) -> datetime | None:
    """When the earliest pending message not yet due (a retry, a grouped notice) may go."""
    moment = session.exec(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at > after
        )
    ).one()
    return as_utc(moment) if moment is not None else None


def pending_group_message(session: Session, chat_id: int, group_key: str) -> OutboxMessage | None:
    """The not yet tried message of this kind to this chat, which more notices can join."""
    return session.exec(
        select(OutboxMessage).where(
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.group_key == group_key,
            _outbox_pending(),
            OutboxMessage.attempts == 0,
        )
    ).first()


def alerts_waiting_behind(
    session: Session,
    head: OutboxMessage,
    now: datetime,
    *,
    purpose: str,
    method: str,
    severities: list[str],
    limit: int,
) -> list[tuple[OutboxMessage, Alert]]:
    """Messages of one alert each (never tried, due, not grouped) queued to the head's chat
    behind it, with their alerts: in the order of `severities` (most severe first), then
    oldest first."""
    rank = case(
        {severity: number for number, severity in enumerate(severities)},
        value=Alert.severity,
        else_=len(severities),
    )
    return list(
        session.exec(
            select(OutboxMessage, Alert)
            .join(Alert, col(Alert.id) == col(OutboxMessage.alert_id))
            .where(
                OutboxMessage.chat_id == head.chat_id,
                _outbox_pending(),
                OutboxMessage.purpose == purpose,
                OutboxMessage.method == method,
                OutboxMessage.attempts == 0,
                OutboxMessage.next_attempt_at <= now,
                col(OutboxMessage.id) != head.id,
                col(OutboxMessage.group_key).is_(None),
                col(OutboxMessage.grouped_alert_ids).is_(None),
            )
            .order_by(rank, OutboxMessage.id)
            .limit(limit)
        )
    )


def alerts_sharing_message(session: Session, chat_id: int, message_id: int) -> list[Alert]:
    """Every alert that one staff message carries (several for a grouped notice)."""
    return list(
        session.exec(
            select(Alert)
            .join(AlertDelivery, col(AlertDelivery.alert_id) == col(Alert.id))
            .where(AlertDelivery.chat_id == chat_id, AlertDelivery.message_id == message_id)
            .order_by(Alert.id)
        )
    )


def get_outbox_message(session: Session, message_id: int) -> OutboxMessage:
    """One outbox row."""
    return session.get_one(OutboxMessage, message_id)


def retry_now(session: Session, now: datetime) -> int:
    """Bring forward every message waiting out a backoff after a network failure."""
    return session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.attempts) > 0,
            col(OutboxMessage.next_attempt_at) > now,
            col(OutboxMessage.last_error).like(f"{NETWORK_ERROR_PREFIX}%"),
        )
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


def fail_pending_for_chat(session: Session, chat_id: int, reason: str) -> int:
    """Give up every pending message to a chat that cannot be reached; returns how many."""
    return session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.chat_id) == chat_id,
            col(OutboxMessage.status) == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.FAILED, last_error=reason[:200])
        .execution_options(synchronize_session=False)
    ).rowcount


def drop_pending_replies(session: Session, chat_id: int, purpose: str, reason: str) -> int:
    """Give up a chat's unsent messages of one purpose that belong to no check-in."""
    return session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.chat_id) == chat_id,
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.purpose) == purpose,
            col(OutboxMessage.check_in_id).is_(None),
        )
        .values(status=OutboxStatus.FAILED, last_error=reason)
        .execution_options(synchronize_session=False)
    ).rowcount


def drop_pending_questions(session: Session, check_in_id: int, reason: str) -> int:
    """Give up a check-in's unsent messages (it was stopped, cancelled or moved)."""
    return session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.check_in_id) == check_in_id,
            col(OutboxMessage.status) == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.FAILED, last_error=reason)
        .execution_options(synchronize_session=False)
    ).rowcount


def move_pending_to_chat(session: Session, old_chat_id: int, new_chat_id: int) -> int:
    """Point pending messages at a chat's new id (a group that became a supergroup)."""
    return session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.chat_id) == old_chat_id,
            col(OutboxMessage.status) == OutboxStatus.PENDING,
        )
        .values(chat_id=new_chat_id)
        .execution_options(synchronize_session=False)
    ).rowcount


def purge_old_outbox(session: Session, before: datetime, limit: int) -> int:
    """Delete finished messages older than `before` (they hold patient texts)."""
    ids = select(OutboxMessage.id).where(
        col(OutboxMessage.status) != OutboxStatus.PENDING, OutboxMessage.created_at < before
    )
    return session.execute(
        delete(OutboxMessage).where(col(OutboxMessage.id).in_(ids.limit(limit)))
    ).rowcount


# -- inbox -----------------------------------------------------------------------------


def store_updates(
    session: Session,
    updates: Iterable[tuple[int, int | None, str, str | None]],
    now: datetime,
) -> list[int]:
    """Store (update id, chat id, JSON, outcome) rows not seen before; returns the new ids.

    A row with an outcome (an update deliberately not handled) is stored as handled.
    """
    rows = list(updates)
    ids = [row[0] for row in rows]
    newest = last_update_id(session)
    # Telegram numbers updates in order: only a batch sent again can hold known ones.
    known = set()
    if ids and newest is not None and min(ids) <= newest:
        known = set(
            session.exec(select(InboxUpdate.update_id).where(col(InboxUpdate.update_id).in_(ids)))
        )
    fresh = []
    for update_id, chat_id, payload, outcome in rows:
        if update_id in known:
            continue
        known.add(update_id)
        fresh.append(
            {
                "update_id": update_id,
                "chat_id": chat_id,
                "payload": payload,
                "received_at": now,
                "handled_at": now if outcome else None,
                "outcome": outcome,
            }
        )
    if fresh:  # one Core statement for the batch (a flood is a hundred at a time)
        session.execute(insert(InboxUpdate.__table__), fresh)
    return [row["update_id"] for row in fresh]


def held_back_patient_updates(
    session: Session, received_before: datetime, limit: int
) -> list[tuple[InboxUpdate, Patient]]:
    """Updates from active patients held back in a flood and not relayed yet, oldest first."""
    return list(
        session.exec(
            select(InboxUpdate, Patient)
            .join(Patient, col(Patient.chat_id) == col(InboxUpdate.chat_id))
            .where(
                InboxUpdate.outcome == THROTTLED,
                InboxUpdate.received_at <= received_before,
                Patient.status == PatientStatus.ACTIVE,
            )
            .order_by(InboxUpdate.update_id)
            .limit(limit)
        )
    )


def set_update_outcome(session: Session, update_ids: list[int], outcome: str) -> None:
    """Record what became of stored updates."""
    session.execute(
        update(InboxUpdate)
        .where(col(InboxUpdate.update_id).in_(update_ids))
        .values(outcome=outcome)
    )


def unhandled_updates(session: Session) -> list[InboxUpdate]:
    """Updates stored but not handled (the bot stopped first), oldest first."""
    return list(
        session.exec(
            select(InboxUpdate)
            .where(col(InboxUpdate.handled_at).is_(None))
            .order_by(InboxUpdate.update_id)
        )
    )


def last_update_id(session: Session) -> int | None:
    """The newest update id stored."""
    return session.exec(select(func.max(InboxUpdate.update_id))).one()


# Built once, as it runs for every update.
_MARK_HANDLED = (
    update(InboxUpdate)
    .where(col(InboxUpdate.update_id) == bindparam("update"))
    .values(handled_at=bindparam("at"), outcome=bindparam("outcome"))
    .execution_options(synchronize_session=False)
)


def mark_handled(session: Session, update_id: int, now: datetime, outcome: str) -> None:
    """The update was handled (or deliberately not, as `outcome` says)."""
    session.execute(_MARK_HANDLED, {"update": update_id, "at": now, "outcome": outcome})


def purge_handled_updates(session: Session, before: datetime, limit: int) -> int:
    """Delete handled updates older than `before` (they hold names and patients' words)."""
    ids = select(InboxUpdate.update_id).where(
        col(InboxUpdate.handled_at).is_not(None), InboxUpdate.handled_at < before
    )
    return session.execute(
        delete(InboxUpdate).where(col(InboxUpdate.update_id).in_(ids.limit(limit)))
    ).rowcount


# -- learned settings ------------------------------------------------------------------


def setting(session: Session, key: str) -> str | None:
    """A value the bot learned while running."""
    row = session.get(BotSetting, key)
    return row.value if row else None


def set_setting(session: Session, key: str, value: str, now: datetime) -> None:
    """Remember a value across restarts."""
    row = session.get(BotSetting, key)
    if row is None:
        session.add(BotSetting(key=key, value=value, updated_at=now))
    else:
        row.value, row.updated_at = value, now


def record_last_poll(session: Session, now: datetime) -> None:
    """Remember that getUpdates succeeded at `now` (the container's health check reads it)."""
    set_setting(session, LAST_POLL_KEY, now.isoformat(), now)


def last_poll(session: Session) -> datetime | None:
    """When getUpdates last succeeded, if the bot ever recorded it."""
    value = setting(session, LAST_POLL_KEY)
    return datetime.fromisoformat(value) if value else None
