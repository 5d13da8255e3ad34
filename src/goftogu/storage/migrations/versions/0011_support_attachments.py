"""attachments held by support conversations

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 07:31:00.713618
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("support_chat_id", sa.Uuid(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_attachments_support_chat_id"), ["support_chat_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_support_chat_id"))
        batch_op.drop_column("support_chat_id")
