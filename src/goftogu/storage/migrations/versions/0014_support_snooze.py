"""support: a conversation's snooze column (lifecycle: loads and the wake sweep)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("support_chats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("snoozed", sa.String(length=8), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_support_chats_snoozed_id"), ["snoozed", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("support_chats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_chats_snoozed_id"))
        batch_op.drop_column("snoozed")
