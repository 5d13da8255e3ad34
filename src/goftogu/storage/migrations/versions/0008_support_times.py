"""support: assigned_at and closed_at columns (queue estimates, reports)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 07:30:00.000000
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from goftogu.storage.models import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("support_chats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_support_chats_closed_at"), ["closed_at"], unique=False)
    # Copy the times of the conversations already stored from their documents.
    chats = sa.table(
        "support_chats",
        sa.column("id", sa.Uuid()),
        sa.column("document", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
        sa.column("assigned_at", UTCDateTime()),
        sa.column("closed_at", UTCDateTime()),
    )
    bind = op.get_bind()
    for chat_id, document in bind.execute(sa.select(chats.c.id, chats.c.document)).all():
        values = {
            key: datetime.fromisoformat(document[key]) if document.get(key) else None
            for key in ("assigned_at", "closed_at")
        }
        if any(values.values()):
            bind.execute(sa.update(chats).where(chats.c.id == chat_id).values(**values))


def downgrade() -> None:
    with op.batch_alter_table("support_chats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_chats_closed_at"))
        batch_op.drop_column("closed_at")
        batch_op.drop_column("assigned_at")
