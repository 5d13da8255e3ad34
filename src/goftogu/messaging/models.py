"""Tables of direct and group messaging (document 004), with its rules in the database.

The "red lines" are constraints, not just service checks, on SQLite and
PostgreSQL alike (the service checks them first to answer with a clear code):

- a message belongs to exactly one single chat or group (M2, CHECK);
- one single chat per pair of users, stored ordered (M4, CHECK + UNIQUE);
- one active membership per (group, user) and one active owner per group
  (M5, partial UNIQUE indexes); roles from a fixed set (CHECK);
- a reply's parent and a pinned message belong to the same conversation
  (composite foreign keys on ``(message id, conversation id)``);
- one reaction per (message, user, emoji), one receipt per (message, user);
- a retried send is stored once: UNIQUE(sender, client_id);
- every change of a conversation has its own ``seq``: UNIQUE(conversation, seq).

Every table has ``id``, ``created_at`` and ``updated_at`` from ``Entity`` (M12).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from goftogu.storage.models import Entity, utcnow

EXACTLY_ONE_CONVERSATION = "(single_chat_id IS NULL) <> (group_id IS NULL)"


class GroupRole(StrEnum):
    owner = "owner"
    admin = "admin"
    member = "member"

    @property
    def rank(self) -> int:
        return {"owner": 3, "admin": 2, "member": 1}[self.value]


class MessageType(StrEnum):
    text = "text"
    image = "image"
    file = "file"


class Conversation(Entity):
    """What single chats and groups share (concrete table inheritance, M12):
    the counters that give every change its ``seq`` and drive unread counts."""

    __abstract__ = True

    # The seq of the latest change (message, edit, delete, reaction, read, ...).
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # Messages ever sent here (deleted ones included): unread = this - read_count.
    message_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # When the latest message arrived (creation time before any): orders the chat list.
    last_activity_at: Mapped[datetime] = mapped_column(
        default=utcnow, server_default=func.current_timestamp()
    )


class SingleChat(Conversation):
    """The one direct conversation of two users, stored with ``user1_id < user2_id`` (M4)."""

    __tablename__ = "single_chats"
    __table_args__ = (
        CheckConstraint("user1_id < user2_id", name="ordered_pair"),
        CheckConstraint("message_count <= last_seq", name="counters"),
        UniqueConstraint("user1_id", "user2_id"),
        Index(None, "user2_id"),
    )

    user1_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    user2_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))


class Group(Conversation):
    """A group chat; its owner is also an active member with role ``owner`` (M5)."""

    __tablename__ = "groups"
    __table_args__ = (CheckConstraint("message_count <= last_seq", name="counters"),)

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(String(2048))
    avatar_url: Mapped[str | None] = mapped_column(String(2048))


class GroupMember(Entity):
    """One membership period. Leaving sets ``left_at`` (and ``left_seq``, the last
    change the former member may still read); rejoining adds a new row."""

    __tablename__ = "group_members"
    __table_args__ = (
        CheckConstraint("role IN ('owner', 'admin', 'member')", name="role"),
        CheckConstraint("(left_at IS NULL) = (left_seq IS NULL)", name="left_together"),
        Index(
            "uq_group_members_active",
            "group_id",
            "user_id",
            unique=True,
            sqlite_where=text("left_at IS NULL"),
            postgresql_where=text("left_at IS NULL"),
        ),
        Index(
            "uq_group_members_one_owner",
            "group_id",
            unique=True,
            sqlite_where=text("role = 'owner' AND left_at IS NULL"),
            postgresql_where=text("role = 'owner' AND left_at IS NULL"),
        ),
        Index(None, "user_id", "left_at"),
    )

    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("groups.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(8), default=GroupRole.member)
    joined_at: Mapped[datetime] = mapped_column(
        default=utcnow, server_default=func.current_timestamp()
    )
    added_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    left_at: Mapped[datetime | None]
    left_seq: Mapped[int | None] = mapped_column(BigInteger)
    removed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class Message(Entity):
    """A message of exactly one single chat or group (M2, M3)."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(EXACTLY_ONE_CONVERSATION, name="exactly_one_conversation"),
        CheckConstraint("message_type IN ('text', 'image', 'file')", name="message_type"),
        CheckConstraint("deleted_at IS NULL OR content IS NULL", name="deleted_has_no_content"),
        CheckConstraint("seq > 0 AND ordinal > 0", name="positive_seq"),
        UniqueConstraint("single_chat_id", "seq"),
        UniqueConstraint("group_id", "seq"),
        UniqueConstraint("sender_id", "client_id"),
        # Targets of the composite keys below: (message, its conversation).
        UniqueConstraint("id", "single_chat_id"),
        UniqueConstraint("id", "group_id"),
        # A reply's parent is in the same conversation: whichever of the two
        # conversation columns is set must match the parent's.
        ForeignKeyConstraint(
            ["parent_message_id", "single_chat_id"],
            ["messages.id", "messages.single_chat_id"],
            name="fk_messages_parent_same_single_chat",
        ),
        ForeignKeyConstraint(
            ["parent_message_id", "group_id"],
            ["messages.id", "messages.group_id"],
            name="fk_messages_parent_same_group",
        ),
    )

    single_chat_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("single_chats.id"))
    group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("groups.id"))
    sender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[str] = mapped_column(String(64))
    # The seq of its `message:new` event, and its place among the conversation's messages.
    seq: Mapped[int] = mapped_column(BigInteger)
    ordinal: Mapped[int] = mapped_column(BigInteger)
    message_type: Mapped[str] = mapped_column(String(8), default=MessageType.text)
    content: Mapped[str | None] = mapped_column(Text)
    parent_message_id: Mapped[uuid.UUID | None]
    forwarded_from_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("messages.id"))
    forwarded_from_sender_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class MessageEdit(Entity):
    """A previous version of an edited message (``created_at``: when it was replaced)."""

    __tablename__ = "message_edits"
    __table_args__ = (UniqueConstraint("message_id", "version"),)

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"))
    version: Mapped[int]
    content: Mapped[str | None] = mapped_column(Text)


class MessageRead(Entity):
    """A read receipt (M7): who read a message, and when."""

    __tablename__ = "message_reads"
    __table_args__ = (UniqueConstraint("message_id", "user_id"),)

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    read_at: Mapped[datetime] = mapped_column(
        default=utcnow, server_default=func.current_timestamp()
    )


class Reaction(Entity):
    """An emoji a user put on a message (M8); at most one of each per user."""

    __tablename__ = "reactions"
    __table_args__ = (UniqueConstraint("message_id", "user_id", "emoji"),)

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    emoji: Mapped[str] = mapped_column(String(64))


class Attachment(Entity):
    """A file uploaded before its message; ``message_id`` is set when it is sent.

    The bytes live on disk under ``storage_name`` (random); a forwarded copy is a
    new row sharing the stored file.
    """

    __tablename__ = "attachments"

    uploader_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    message_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("messages.id"), index=True)
    # Sent in a support conversation instead (its document may live in MongoDB, so
    # no foreign key): kept, and served to whoever may read that conversation.
    support_chat_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    position: Mapped[int] = mapped_column(default=0)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_name: Mapped[str] = mapped_column(String(64))


class Pin(Entity):
    """A message pinned in its own conversation (composite keys keep it there)."""

    __tablename__ = "pins"
    __table_args__ = (
        CheckConstraint(EXACTLY_ONE_CONVERSATION, name="exactly_one_conversation"),
        UniqueConstraint("message_id"),
        ForeignKeyConstraint(
            ["message_id", "single_chat_id"],
            ["messages.id", "messages.single_chat_id"],
            name="fk_pins_message_same_single_chat",
        ),
        ForeignKeyConstraint(
            ["message_id", "group_id"],
            ["messages.id", "messages.group_id"],
            name="fk_pins_message_same_group",
        ),
    )

    single_chat_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("single_chats.id"))
    group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("groups.id"))
    message_id: Mapped[uuid.UUID]
    pinned_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))


class ConversationSettings(Entity):
    """One user's state of one conversation: archive, mute, and the read watermark.

    ``last_read_seq`` only grows; ``read_count`` is how many of the conversation's
    messages lie at or below it, so ``unread = message_count - read_count``.
    """

    __tablename__ = "conversation_settings"
    __table_args__ = (
        CheckConstraint(EXACTLY_ONE_CONVERSATION, name="exactly_one_conversation"),
        CheckConstraint("last_read_seq >= 0 AND read_count >= 0", name="watermark"),
        UniqueConstraint("user_id", "single_chat_id"),
        UniqueConstraint("user_id", "group_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    single_chat_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("single_chats.id"))
    group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("groups.id"))
    archived: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    muted_until: Mapped[datetime | None]
    last_read_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    read_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))


class ConversationEvent(Entity):
    """One change of a conversation, in order: what replay serves after a cursor.

    ``payload`` is the body of the Socket.IO server event ``type`` (always with
    ``conversation`` and ``seq``). Deleting a message rewrites the payloads of
    its earlier events (``message_id``) so its content is never served again.
    """

    __tablename__ = "conversation_events"
    __table_args__ = (UniqueConstraint("conversation", "seq"), CheckConstraint("seq > 0", "seq"))

    conversation: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"))
    message_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("messages.id"), index=True)
