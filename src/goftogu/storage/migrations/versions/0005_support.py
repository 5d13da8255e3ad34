"""support: chat documents, operator availability

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 15:16:03.413963
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "support_chats",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("intake_key", sa.String(length=200), nullable=False),
        sa.Column("route_token", sa.String(length=32), nullable=True),
        sa.Column("ticket_notice_token", sa.String(length=32), nullable=True),
        sa.Column("assigned_notice_token", sa.String(length=32), nullable=True),
        sa.Column("reply_notice_token", sa.String(length=32), nullable=True),
        sa.Column("outbox_claim", sa.String(length=32), nullable=True),
        sa.Column("outbox_claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status <> 'OPEN' OR operator_id IS NOT NULL",
            name=op.f("ck_support_chats_open_has_operator"),
        ),
        sa.CheckConstraint(
            "status IN ('PENDING', 'OPEN', 'CLOSED')", name=op.f("ck_support_chats_status")
        ),
        sa.CheckConstraint("type IN ('CHAT', 'TICKET')", name=op.f("ck_support_chats_type")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_chats")),
        sa.UniqueConstraint("intake_key", name=op.f("uq_support_chats_intake_key")),
    )
    with op.batch_alter_table("support_chats", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_support_chats_customer_id_id"), ["customer_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_support_chats_operator_id_status"),
            ["operator_id", "status"],
            unique=False,
        )
        batch_op.create_index(
            "ix_support_chats_route_token",
            ["route_token"],
            unique=False,
            sqlite_where=sa.text("route_token IS NOT NULL"),
            postgresql_where=sa.text("route_token IS NOT NULL"),
        )
        batch_op.create_index(
            batch_op.f("ix_support_chats_status_operator_id_id"),
            ["status", "operator_id", "id"],
            unique=False,
        )
        for token in ("ticket_notice_token", "assigned_notice_token", "reply_notice_token"):
            batch_op.create_index(
                f"ix_support_chats_{token}",
                [token],
                unique=False,
                sqlite_where=sa.text(f"{token} IS NOT NULL"),
                postgresql_where=sa.text(f"{token} IS NOT NULL"),
            )

    op.create_table(
        "support_operators",
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("accepting", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('online', 'away', 'offline')", name=op.f("ck_support_operators_status")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["users.id"],
            name=op.f("fk_support_operators_operator_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("operator_id", name=op.f("pk_support_operators")),
    )


def downgrade() -> None:
    op.drop_table("support_operators")
    with op.batch_alter_table("support_chats", schema=None) as batch_op:
        for token in ("ticket_notice_token", "assigned_notice_token", "reply_notice_token"):
            batch_op.drop_index(f"ix_support_chats_{token}")
        batch_op.drop_index(batch_op.f("ix_support_chats_status_operator_id_id"))
        batch_op.drop_index(
            "ix_support_chats_route_token",
            sqlite_where=sa.text("route_token IS NOT NULL"),
            postgresql_where=sa.text("route_token IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_support_chats_operator_id_status"))
        batch_op.drop_index(batch_op.f("ix_support_chats_customer_id_id"))

    op.drop_table("support_chats")
