"""support: teams and members, per-operator capacity, a conversation's team

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "support_teams",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("overflow_seconds", sa.Integer(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("policy", DOCUMENT, nullable=False),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_teams")),
        sa.UniqueConstraint("topic", name=op.f("uq_support_teams_topic")),
    )
    op.create_table(
        "support_team_members",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["support_teams.id"],
            name=op.f("fk_support_team_members_team_id_support_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_support_team_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_support_team_members")),
    )
    with op.batch_alter_table("support_team_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_support_team_members_user_id"), ["user_id"], unique=False
        )
    with op.batch_alter_table("support_operators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("capacity", sa.Integer(), nullable=True))
    with op.batch_alter_table("support_chats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Uuid(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_support_chats_team_id_status"), ["team_id", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("support_chats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_chats_team_id_status"))
        batch_op.drop_column("team_id")
    with op.batch_alter_table("support_operators", schema=None) as batch_op:
        batch_op.drop_column("capacity")
    with op.batch_alter_table("support_team_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_team_members_user_id"))
    op.drop_table("support_team_members")
    op.drop_table("support_teams")
