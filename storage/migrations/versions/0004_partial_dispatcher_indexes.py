"""Partial indexes for the dispatcher instead of indexes that start with a status

Without statistics, SQLite takes `status = ?` on an index for a selective condition: it then
read every pending row (half a million at 100,000 patients) to claim ten check-ins by id, and
the same for the next check-in of a patient. Partial indexes hold only the rows the
dispatcher looks for, and no index leads with a status any more.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported from storage.models: a migration stays as it was released.
PARTIAL_INDEXES = (
    ("ix_checkin_pending_due", "due_at", "status = 'pending'"),
    ("ix_checkin_unfinished_closes", "closes_at", "status IN ('pending', 'sent', 'in_progress')"),
    (
        "ix_checkin_open_remind",
        "remind_at",
        "status IN ('sent', 'in_progress') AND reminded_at IS NULL",
    ),
)
STATUS_INDEXES = (
    ("ix_checkin_status_due", ["status", "due_at"]),
    ("ix_checkin_status_closes", ["status", "closes_at"]),
    ("ix_checkin_status_remind", ["status", "reminded_at", "remind_at"]),
)


def upgrade() -> None:
    """Apply this revision."""
    for name, _columns in STATUS_INDEXES:
        op.drop_index(name, table_name="checkin")
    for name, column, where in PARTIAL_INDEXES:
        op.create_index(
            name,
            "checkin",
            [column],
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def downgrade() -> None:
    """Undo this revision."""
    for name, _column, _where in PARTIAL_INDEXES:
        op.drop_index(name, table_name="checkin")
    for name, columns in STATUS_INDEXES:
        op.create_index(name, "checkin", columns)
