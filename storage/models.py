"""Database tables. Every time is stored in UTC; answers are stored as JSON text."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    DateTime,
    Index,
    String,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always read back as an aware UTC datetime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _at(nullable: bool = True, index: bool = False):
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def _required_at(index: bool = False):
    return Field(sa_type=UTCDateTime, nullable=False, index=index)


def _telegram_id(nullable: bool = False, index: bool = False, unique: bool = False):
    """Telegram user and chat ids exceed 32 bits."""
    return Field(
        default=None if nullable else ...,
        sa_type=BigInteger,
        nullable=nullable,
        index=index,
        unique=unique,
    )


def _status(default: StrEnum):
    """Statuses are stored as plain strings so that adding one needs no enum migration."""
    return Field(default=default, sa_type=String(16), index=True)


class PatientStatus(StrEnum):
    """Where a patient is in the follow-up."""

    INVITED = "invited"
    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"
    DISCHARGED = "discharged"
    BLOCKED = "blocked"


class CheckInStatus(StrEnum):
    """Life of a check-in row: the database is the schedule."""

    PENDING = "pending"
    SENT = "sent"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    PARTIAL = "partial"  # answered in part when its window closed: the answers count
    INTERRUPTED = "interrupted"  # an emergency answer ended it: nothing more was asked
    MISSED = "missed"
    CANCELLED = "cancelled"
    STOPPED = "stopped"  # the patient sent /stop: not asked, not missed; /start may bring it back


OPEN_CHECK_IN = (CheckInStatus.SENT, CheckInStatus.IN_PROGRESS)
UNFINISHED_CHECK_IN = (CheckInStatus.PENDING, *OPEN_CHECK_IN)
# Check-ins still to come: unfinished, or set aside by the patient's /stop (/start may bring
# them back), so they move and are cancelled with their infusion.
STILL_TO_COME = (*UNFINISHED_CHECK_IN, CheckInStatus.STOPPED)
ANSWERED_CHECK_IN = (CheckInStatus.ANSWERED, CheckInStatus.PARTIAL, CheckInStatus.INTERRUPTED)


def status_sql(statuses: tuple[CheckInStatus, ...]) -> str:
    """`status = '...'` or `status IN (...)`, as a partial index's WHERE clause says it."""
    if len(statuses) == 1:
        return f"status = '{statuses[0]}'"
    listed = ", ".join(f"'{status}'" for status in statuses)
    return f"status IN ({listed})"


# (name, column, WHERE): a query uses one only when it names the same statuses as literals.
CHECK_IN_DISPATCH_INDEXES = (
    ("ix_checkin_pending_due", "due_at", status_sql((CheckInStatus.PENDING,))),
    ("ix_checkin_unfinished_closes", "closes_at", status_sql(UNFINISHED_CHECK_IN)),
    (
        "ix_checkin_open_remind",
        "remind_at",
        f"{status_sql(OPEN_CHECK_IN)} AND reminded_at IS NULL",
    ),
)


class Patient(SQLModel, table=True):
    """An enrolled patient, known by the clinic's reference, never by a Telegram handle."""

    id: int | None = Field(default=None, primary_key=True)
    clinic_ref: str = Field(index=True, unique=True, max_length=64)
    display_name: str | None = Field(default=None, max_length=64)
    telegram_user_id: int | None = _telegram_id(nullable=True, index=True, unique=True)
    chat_id: int | None = _telegram_id(nullable=True)
    timezone: str = Field(default="UTC", max_length=64)
    # A protocol language code, set by the coordinator, the patient (/language) or guessed
    # from Telegram at consent; None: the protocol's first language.
    language: str | None = Field(default=None, max_length=8)
    status: PatientStatus = _status(PatientStatus.INVITED)
    consent_at: datetime | None = _at()
    consent_version: str | None = None
    paused_until: datetime | None = _at()  # a pause with an end resumes by itself then
    # The status a patient had when they blocked the bot: theirs again when they unblock it.
    blocked_from: str | None = Field(default=None, max_length=16)
    # The status a patient had when they sent /stop (a pause keeps its end): theirs on /start.
    stopped_from: str | None = Field(default=None, max_length=16)
    enrolled_by: int = _telegram_id()
    created_at: datetime = _required_at()


class Invite(SQLModel, table=True):
    """A single-use invite link; only the SHA-256 of its token is stored."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    kind: str = Field(max_length=16)  # "patient" or "staff"
    patient_id: int | None = Field(default=None, foreign_key="patient.id", index=True)
    role: str | None = Field(default=None, max_length=16)
    created_by: int = _telegram_id()
    created_at: datetime = _required_at()
    expires_at: datetime = _required_at()
    opened_by: int | None = _telegram_id(nullable=True)
    used_at: datetime | None = _at()
    declined_at: datetime | None = _at()  # "No thanks"; opening the link again undoes it


class StaffMember(SQLModel, table=True):
    """Clinic staff who may use staff commands; admins also come from the environment."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = _telegram_id(index=True, unique=True)
    role: str = Field(max_length=16)
    display_name: str | None = Field(default=None, max_length=64)
    active: bool = True
    created_at: datetime = _required_at()


class Infusion(SQLModel, table=True):
    """One ketamine infusion of a patient, numbered 1, 2, ... per patient."""

    __table_args__ = (UniqueConstraint("patient_id", "number", name="uq_infusion_patient_number"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    number: int
    started_at: datetime = _required_at()
    recorded_at: datetime = _required_at()
    dose: str | None = Field(default=None, max_length=64)
    recorded_by: int = _telegram_id()
    protocol_version: str = Field(max_length=64)
    cancelled_at: datetime | None = _at()  # /infusion_cancel: its check-ins were cancelled


class CheckIn(SQLModel, table=True):
    """A check-in due at a time; ad-hoc reports are check-ins without an infusion."""

    # The dispatcher's queries: each is a range scan on one of these, whatever the table size.
    # Partial indexes, not (status, ...): without statistics SQLite takes an index that
    # starts with a status for a selective one and scans half the table through it.
    __table_args__ = tuple(
        Index(name, column, sqlite_where=text(where), postgresql_where=text(where))
        for name, column, where in CHECK_IN_DISPATCH_INDEXES
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    infusion_id: int | None = Field(default=None, foreign_key="infusion.id", index=True)
    step_id: str = Field(max_length=32)
    status: CheckInStatus = Field(default=CheckInStatus.PENDING, sa_type=String(16))
    due_at: datetime = _required_at()
    closes_at: datetime = _required_at()
    remind_at: datetime | None = _at()
    sent_at: datetime | None = _at()
    reminded_at: datetime | None = _at()
    completed_at: datetime | None = _at()
    current_question: str | None = Field(default=None, max_length=32)
    message_id: int | None = None
    # The outbox row carrying the newest question message: only its send records message_id.
    message_outbox_id: int | None = None
    draft: str | None = Field(default=None, description="JSON: ticks of an unfinished multi")
    # After relief wore off, only the protocol's safety part of the step is asked.
    safety_only: bool = False


class Answer(SQLModel, table=True):
    """An answer to one question of a check-in; a correction keeps what it replaced."""

    __table_args__ = (UniqueConstraint("check_in_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    check_in_id: int = Field(foreign_key="checkin.id", index=True)
    question_id: str = Field(max_length=32)
    value: str = Field(description="JSON")
    answered_at: datetime = _required_at()
    changed_from: str | None = Field(default=None, description="JSON of the replaced answer")


class Alert(SQLModel, table=True):
    """A rule that fired; one per rule and check-in."""

    __table_args__ = (UniqueConstraint("check_in_id", "rule_id"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    check_in_id: int | None = Field(default=None, foreign_key="checkin.id", index=True)
    rule_id: str = Field(max_length=32)
    severity: str = Field(max_length=16)
    description: str
    summary: str
    created_at: datetime = _required_at()
    escalate_at: datetime | None = _at(index=True)
    escalated_at: datetime | None = _at()
    patient_told_at: datetime | None = _at()
    staff_notified_at: datetime | None = _at(index=True)
    acknowledged_by: int | None = _telegram_id(nullable=True)
    acknowledged_at: datetime | None = _at()
    acknowledged_name: str | None = Field(default=None, max_length=64)  # as Telegram showed them


class Snooze(SQLModel, table=True):
    """A clinician's decision that one rule need not alert for one patient for a while."""

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    rule_id: str = Field(max_length=32)
    until: datetime = _required_at()
    snoozed_by: int = _telegram_id()
    created_at: datetime = _required_at()


class AlertDelivery(SQLModel, table=True):
    """One staff message carrying an alert, so acknowledging can update every copy."""

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    chat_id: int = _telegram_id()
    message_id: int | None = None
    kind: str = Field(default="alert", max_length=16)  # "alert" or "escalation"
    sent_at: datetime | None = _at()
    error: str | None = Field(default=None, max_length=200)


class AuditEvent(SQLModel, table=True):
    """Who did what, when, to which patient: every staff action and every refusal."""

    id: int | None = Field(default=None, primary_key=True)
    actor_telegram_id: int | None = _telegram_id(nullable=True, index=True)
    action: str = Field(max_length=64)
    patient_id: int | None = Field(default=None, foreign_key="patient.id")
    detail: str | None = Field(default=None, max_length=500)
    at: datetime = _required_at()


class InboxUpdate(SQLModel, table=True):
    """A Telegram update, stored before Telegram is told it arrived; handled, then marked."""

    update_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    chat_id: int | None = _telegram_id(nullable=True)
    payload: str = Field(description="the update as JSON; deleted a while after handling")
    received_at: datetime = _required_at()
    handled_at: datetime | None = _at(index=True)
    outcome: str | None = Field(default=None, max_length=16)  # handled, throttled, relayed...


THROTTLED = "throttled"  # held back in a flood: stored, not handled
RELAYED = "relayed"  # held back, then relayed to staff as the patient's words


class OutboxStatus(StrEnum):
    """Life of an outgoing message."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # given up: the chat cannot be reached or the message is refused
    COMBINED = "combined"  # not sent alone: another message to its chat carries its alert


OUTBOX_PENDING_HEAD_INDEX = "ix_outboxmessage_pending_head"
OUTBOX_PENDING = f"status = '{OutboxStatus.PENDING}'"


class OutboxMessage(SQLModel, table=True):
    """One message to send (or edit), written in the transaction whose change caused it."""

    __table_args__ = (
        Index("ix_outboxmessage_status_next", "status", "next_attempt_at"),
        # A chat's next message: only pending rows, in the order they go, so finding it costs
        # the same for a staff group with 50,000 messages behind it as for a new patient.
        Index(
            OUTBOX_PENDING_HEAD_INDEX,
            "chat_id",
            "priority",
            "id",
            sqlite_where=text(OUTBOX_PENDING),
            postgresql_where=text(OUTBOX_PENDING),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = _telegram_id(index=True)
    method: str = Field(max_length=16)  # send, edit, buttons (redraw), clear (take buttons off)
    purpose: str = Field(max_length=16)  # see bot.delivery.outbox.Purpose
    priority: int = 5  # lower goes first
    text: str | None = None
    markup: str | None = Field(default=None, description="JSON: rows of [label, data] pairs")
    silent: bool = False
    edit_message_id: int | None = None
    check_in_id: int | None = Field(default=None, foreign_key="checkin.id")
    alert_id: int | None = Field(default=None, foreign_key="alert.id")
    # Notices of one kind to one chat that are not urgent wait a moment and share a message.
    group_key: str | None = Field(default=None, max_length=32)
    grouped_alert_ids: str | None = Field(default=None, description="JSON list of alert ids")
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=String(16))
    created_at: datetime = _required_at()
    next_attempt_at: datetime = _required_at()
    attempts: int = 0
    first_failed_at: datetime | None = _at()
    last_error: str | None = Field(default=None, max_length=200)
    fallback_sent: bool = False
    sent_at: datetime | None = _at()
    message_id: int | None = None


class BotSetting(SQLModel, table=True):
    """Facts the bot learns while running (a staff group's new id after a migration)."""

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=500)
    updated_at: datetime = _required_at()
