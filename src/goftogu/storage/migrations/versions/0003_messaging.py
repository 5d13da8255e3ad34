"""messaging: chats, groups, messages, receipts, reactions, attachments, pins, settings, events

The document's rules as constraints on both engines: CHECKs (exactly one
conversation per message, ordered single-chat pairs, roles), partial unique
indexes with both sqlite_where and postgresql_where (one active membership, one
active owner), composite foreign keys keeping replies and pins in their own
conversation, and the unique (conversation, seq) of every change.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:14:20.913045
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "groups",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("description", sa.String(length=2048), nullable=True),
        sa.Column("avatar_url", sa.String(length=2048), nullable=True),
        sa.Column("last_seq", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("message_count", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "last_activity_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
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
        sa.CheckConstraint("message_count <= last_seq", name=op.f("ck_groups_counters")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_groups_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
    )
    op.create_table(
        "single_chats",
        sa.Column("user1_id", sa.Uuid(), nullable=False),
        sa.Column("user2_id", sa.Uuid(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("message_count", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "last_activity_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
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
        sa.CheckConstraint("message_count <= last_seq", name=op.f("ck_single_chats_counters")),
        sa.CheckConstraint("user1_id < user2_id", name=op.f("ck_single_chats_ordered_pair")),
        sa.ForeignKeyConstraint(
            ["user1_id"], ["users.id"], name=op.f("fk_single_chats_user1_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["user2_id"], ["users.id"], name=op.f("fk_single_chats_user2_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_single_chats")),
        sa.UniqueConstraint("user1_id", "user2_id", name=op.f("uq_single_chats_user1_id_user2_id")),
    )
    with op.batch_alter_table("single_chats", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_single_chats_user2_id"), ["user2_id"], unique=False)

    op.create_table(
        "conversation_settings",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("single_chat_id", sa.Uuid(), nullable=True),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("archived", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column("muted_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_read_seq", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("read_count", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
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
            "(single_chat_id IS NULL) <> (group_id IS NULL)",
            name=op.f("ck_conversation_settings_exactly_one_conversation"),
        ),
        sa.CheckConstraint(
            "last_read_seq >= 0 AND read_count >= 0",
            name=op.f("ck_conversation_settings_watermark"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_conversation_settings_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["single_chat_id"],
            ["single_chats.id"],
            name=op.f("fk_conversation_settings_single_chat_id_single_chats"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_conversation_settings_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_settings")),
        sa.UniqueConstraint(
            "user_id", "group_id", name=op.f("uq_conversation_settings_user_id_group_id")
        ),
        sa.UniqueConstraint(
            "user_id",
            "single_chat_id",
            name=op.f("uq_conversation_settings_user_id_single_chat_id"),
        ),
    )
    op.create_table(
        "group_members",
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column(
            "joined_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("added_by_id", sa.Uuid(), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("left_seq", sa.BigInteger(), nullable=True),
        sa.Column("removed_by_id", sa.Uuid(), nullable=True),
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
            "role IN ('owner', 'admin', 'member')", name=op.f("ck_group_members_role")
        ),
        sa.CheckConstraint(
            "(left_at IS NULL) = (left_seq IS NULL)", name=op.f("ck_group_members_left_together")
        ),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["users.id"], name=op.f("fk_group_members_added_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_group_members_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["removed_by_id"], ["users.id"], name=op.f("fk_group_members_removed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_group_members_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_members")),
    )
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_group_members_user_id_left_at"), ["user_id", "left_at"], unique=False
        )
        batch_op.create_index(
            "uq_group_members_active",
            ["group_id", "user_id"],
            unique=True,
            sqlite_where=sa.text("left_at IS NULL"),
            postgresql_where=sa.text("left_at IS NULL"),
        )
        batch_op.create_index(
            "uq_group_members_one_owner",
            ["group_id"],
            unique=True,
            sqlite_where=sa.text("role = 'owner' AND left_at IS NULL"),
            postgresql_where=sa.text("role = 'owner' AND left_at IS NULL"),
        )

    op.create_table(
        "messages",
        sa.Column("single_chat_id", sa.Uuid(), nullable=True),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("sender_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("ordinal", sa.BigInteger(), nullable=False),
        sa.Column("message_type", sa.String(length=8), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("parent_message_id", sa.Uuid(), nullable=True),
        sa.Column("forwarded_from_id", sa.Uuid(), nullable=True),
        sa.Column("forwarded_from_sender_id", sa.Uuid(), nullable=True),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by_id", sa.Uuid(), nullable=True),
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
            "message_type IN ('text', 'image', 'file')", name=op.f("ck_messages_message_type")
        ),
        sa.CheckConstraint(
            "(single_chat_id IS NULL) <> (group_id IS NULL)",
            name=op.f("ck_messages_exactly_one_conversation"),
        ),
        sa.CheckConstraint(
            "deleted_at IS NULL OR content IS NULL", name=op.f("ck_messages_deleted_has_no_content")
        ),
        sa.CheckConstraint("seq > 0 AND ordinal > 0", name=op.f("ck_messages_positive_seq")),
        sa.ForeignKeyConstraint(
            ["deleted_by_id"], ["users.id"], name=op.f("fk_messages_deleted_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["forwarded_from_id"],
            ["messages.id"],
            name=op.f("fk_messages_forwarded_from_id_messages"),
        ),
        sa.ForeignKeyConstraint(
            ["forwarded_from_sender_id"],
            ["users.id"],
            name=op.f("fk_messages_forwarded_from_sender_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_messages_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["parent_message_id", "group_id"],
            ["messages.id", "messages.group_id"],
            name="fk_messages_parent_same_group",
        ),
        sa.ForeignKeyConstraint(
            ["parent_message_id", "single_chat_id"],
            ["messages.id", "messages.single_chat_id"],
            name="fk_messages_parent_same_single_chat",
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["users.id"], name=op.f("fk_messages_sender_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["single_chat_id"],
            ["single_chats.id"],
            name=op.f("fk_messages_single_chat_id_single_chats"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("group_id", "seq", name=op.f("uq_messages_group_id_seq")),
        sa.UniqueConstraint("id", "group_id", name=op.f("uq_messages_id_group_id")),
        sa.UniqueConstraint("id", "single_chat_id", name=op.f("uq_messages_id_single_chat_id")),
        sa.UniqueConstraint("sender_id", "client_id", name=op.f("uq_messages_sender_id_client_id")),
        sa.UniqueConstraint("single_chat_id", "seq", name=op.f("uq_messages_single_chat_id_seq")),
    )
    op.create_table(
        "attachments",
        sa.Column("uploader_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_name", sa.String(length=64), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_attachments_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["uploader_id"], ["users.id"], name=op.f("fk_attachments_uploader_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachments_message_id"), ["message_id"], unique=False)

    op.create_table(
        "conversation_events",
        sa.Column("conversation", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("message_id", sa.Uuid(), nullable=True),
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
        sa.CheckConstraint("seq > 0", name=op.f("ck_conversation_events_seq")),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_conversation_events_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_events")),
        sa.UniqueConstraint(
            "conversation", "seq", name=op.f("uq_conversation_events_conversation_seq")
        ),
    )
    with op.batch_alter_table("conversation_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_events_message_id"), ["message_id"], unique=False
        )

    op.create_table(
        "message_edits",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_message_edits_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_edits")),
        sa.UniqueConstraint(
            "message_id", "version", name=op.f("uq_message_edits_message_id_version")
        ),
    )
    op.create_table(
        "message_reads",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "read_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
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
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_message_reads_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_message_reads_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_reads")),
        sa.UniqueConstraint(
            "message_id", "user_id", name=op.f("uq_message_reads_message_id_user_id")
        ),
    )
    op.create_table(
        "pins",
        sa.Column("single_chat_id", sa.Uuid(), nullable=True),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("pinned_by_id", sa.Uuid(), nullable=False),
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
            "(single_chat_id IS NULL) <> (group_id IS NULL)",
            name=op.f("ck_pins_exactly_one_conversation"),
        ),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name=op.f("fk_pins_group_id_groups")),
        sa.ForeignKeyConstraint(
            ["message_id", "group_id"],
            ["messages.id", "messages.group_id"],
            name="fk_pins_message_same_group",
        ),
        sa.ForeignKeyConstraint(
            ["message_id", "single_chat_id"],
            ["messages.id", "messages.single_chat_id"],
            name="fk_pins_message_same_single_chat",
        ),
        sa.ForeignKeyConstraint(
            ["pinned_by_id"], ["users.id"], name=op.f("fk_pins_pinned_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["single_chat_id"],
            ["single_chats.id"],
            name=op.f("fk_pins_single_chat_id_single_chats"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pins")),
        sa.UniqueConstraint("message_id", name=op.f("uq_pins_message_id")),
    )
    op.create_table(
        "reactions",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("emoji", sa.String(length=64), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_reactions_message_id_messages")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_reactions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reactions")),
        sa.UniqueConstraint(
            "message_id", "user_id", "emoji", name=op.f("uq_reactions_message_id_user_id_emoji")
        ),
    )


def downgrade() -> None:
    op.drop_table("reactions")
    op.drop_table("pins")
    op.drop_table("message_reads")
    op.drop_table("message_edits")
    with op.batch_alter_table("conversation_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_events_message_id"))

    op.drop_table("conversation_events")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_message_id"))

    op.drop_table("attachments")
    op.drop_table("messages")
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_group_members_one_owner",
            sqlite_where=sa.text("role = 'owner' AND left_at IS NULL"),
            postgresql_where=sa.text("role = 'owner' AND left_at IS NULL"),
        )
        batch_op.drop_index(
            "uq_group_members_active",
            sqlite_where=sa.text("left_at IS NULL"),
            postgresql_where=sa.text("left_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_group_members_user_id_left_at"))

    op.drop_table("group_members")
    op.drop_table("conversation_settings")
    with op.batch_alter_table("single_chats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_single_chats_user2_id"))

    op.drop_table("single_chats")
    op.drop_table("groups")
