"""Check-ins reduced to their safety part; who acknowledged, by name; pauses; snoozes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 19:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("safety_only", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledged_name", sa.String(length=64), nullable=True))
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "snooze",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=32), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snoozed_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["patient_id"], ["patient.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("snooze", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_snooze_patient_id"), ["patient_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("snooze")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_column("paused_until")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_column("acknowledged_name")
    with op.batch_alter_table("checkin", schema=None) as batch_op:
        batch_op.drop_column("safety_only")
