"""support: a conversation's SLA state column (list filter)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 08:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("support_chats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla_state", sa.String(length=8), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_support_chats_sla_state_id"), ["sla_state", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("support_chats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_chats_sla_state_id"))
        batch_op.drop_column("sla_state")
