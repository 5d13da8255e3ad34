"""closing email owed by support chats

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 08:21:16.406726
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("support_chats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_notice_token", sa.String(length=32), nullable=True))
        batch_op.create_index(
            "ix_support_chats_closed_notice_token",
            ["closed_notice_token"],
            unique=False,
            sqlite_where=sa.text("closed_notice_token IS NOT NULL"),
            postgresql_where=sa.text("closed_notice_token IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("support_chats", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_support_chats_closed_notice_token",
            sqlite_where=sa.text("closed_notice_token IS NOT NULL"),
            postgresql_where=sa.text("closed_notice_token IS NOT NULL"),
        )
        batch_op.drop_column("closed_notice_token")
