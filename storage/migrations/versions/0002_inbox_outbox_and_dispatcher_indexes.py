"""Inbox, outbox, learned settings, partial check-ins and the dispatcher's indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 16:28:14.614420
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "botsetting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "inboxupdate",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("update_id"),
    )
    with op.batch_alter_table("inboxupdate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inboxupdate_handled_at"), ["handled_at"], unique=False)

    op.create_table(
        "outboxmessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(), nullable=True),
        sa.Column("markup", sa.String(), nullable=True),
        sa.Column("silent", sa.Boolean(), nullable=False),
        sa.Column("edit_message_id", sa.Integer(), nullable=True),
        sa.Column("check_in_id", sa.Integer(), nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("group_key", sa.String(length=32), nullable=True),
        sa.Column("grouped_alert_ids", sa.String(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("fallback_sent", sa.Boolean(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
        ),
        sa.ForeignKeyConstraint(
            ["check_in_id"],
            ["checkin.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outboxmessage_chat_id"), ["chat_id"], unique=False)
        batch_op.create_index(
            "ix_outboxmessage_status_next", ["status", "next_attempt_at"], unique=False
        )

    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_outbox_id", sa.Integer(), nullable=True))
        batch_op.drop_index(batch_op.f("ix_checkin_closes_at"))
        batch_op.drop_index(batch_op.f("ix_checkin_due_at"))
        batch_op.drop_index(batch_op.f("ix_checkin_status"))
        batch_op.create_index("ix_checkin_status_closes", ["status", "closes_at"], unique=False)
        batch_op.create_index("ix_checkin_status_due", ["status", "due_at"], unique=False)
        batch_op.create_index(
            "ix_checkin_status_remind", ["status", "reminded_at", "remind_at"], unique=False
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.drop_index("ix_checkin_status_remind")
        batch_op.drop_index("ix_checkin_status_due")
        batch_op.drop_index("ix_checkin_status_closes")
        batch_op.create_index(batch_op.f("ix_checkin_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkin_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkin_closes_at"), ["closes_at"], unique=False)
        batch_op.drop_column("message_outbox_id")

    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_index("ix_outboxmessage_status_next")
        batch_op.drop_index(batch_op.f("ix_outboxmessage_chat_id"))

    op.drop_table("outboxmessage")
    with op.batch_alter_table("inboxupdate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inboxupdate_handled_at"))

    op.drop_table("inboxupdate")
    op.drop_table("botsetting")
