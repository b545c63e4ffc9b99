"""Infusions numbered per patient and cancellable; the status before a block; declined invites

Existing infusions are numbered 1, 2, ... per patient in the order they were stored.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("infusion", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE infusion SET number = (SELECT COUNT(*) FROM infusion AS earlier"
        " WHERE earlier.patient_id = infusion.patient_id AND earlier.id <= infusion.id)"
    )
    with op.batch_alter_table("infusion", schema=None) as batch_op:
        batch_op.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint("uq_infusion_patient_number", ["patient_id", "number"])
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.add_column(sa.Column("blocked_from", sa.String(length=16), nullable=True))
    with op.batch_alter_table("invite", schema=None) as batch_op:
        batch_op.add_column(sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("invite", schema=None) as batch_op:
        batch_op.drop_column("declined_at")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_column("blocked_from")
    with op.batch_alter_table("infusion", schema=None) as batch_op:
        batch_op.drop_constraint("uq_infusion_patient_number", type_="unique")
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("number")
