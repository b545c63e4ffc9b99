"""A partial index for a chat's next outbox message

The sender looks up a chat's next pending message before every delivery. Through the plain
chat_id index that read every message the chat ever had: a staff group with 50,000 delivered
alerts took 4.7 ms a look. The partial index holds pending rows only, in sending order.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out, not imported from storage.models: a migration stays as it was released.
INDEX = "ix_outboxmessage_pending_head"
PENDING = "status = 'pending'"


def upgrade() -> None:
    """Apply this revision."""
    op.create_index(
        INDEX,
        "outboxmessage",
        ["chat_id", "priority", "id"],
        sqlite_where=sa.text(PENDING),
        postgresql_where=sa.text(PENDING),
    )


def downgrade() -> None:
    """Undo this revision."""
    op.drop_index(INDEX, table_name="outboxmessage")
