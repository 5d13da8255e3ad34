"""support content: canned replies, chat labels

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:19:01.948680
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "support_canned_replies",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("owner_key", sa.String(length=64), nullable=False),
        sa.Column("shortcode", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
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
            "scope IN ('personal', 'team', 'global')", name=op.f("ck_support_canned_replies_scope")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_canned_replies")),
        sa.UniqueConstraint(
            "scope",
            "owner_key",
            "shortcode",
            name=op.f("uq_support_canned_replies_scope_owner_key_shortcode"),
        ),
    )
    op.create_table(
        "support_chat_labels",
        sa.Column("chat_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["support_chats.id"],
            name=op.f("fk_support_chat_labels_chat_id_support_chats"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", "label", name=op.f("pk_support_chat_labels")),
    )
    op.create_index(
        op.f("ix_support_chat_labels_label_chat_id"), "support_chat_labels", ["label", "chat_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_support_chat_labels_label_chat_id"), "support_chat_labels")
    op.drop_table("support_chat_labels")
    op.drop_table("support_canned_replies")
