"""Tables of the notification service.

- ``notification_settings``: one row per user who changed a default (email and
  push on unless a row says otherwise).
- ``push_subscriptions``: a browser's Web Push endpoint and keys; an endpoint
  belongs to one user at a time.
- ``notification_deliveries``: one row per (notification, channel, recipient),
  its idempotency key UNIQUE. It is written when the notification is planned
  and marked ``sent`` in the transaction that records the send, so a job
  redelivered after a crash finds it and does not send twice.
- ``notification_digests`` and their items: messages for an offline user,
  gathered per conversation over a short window and sent as one email.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from goftogu.storage.models import Entity


class Channel(StrEnum):
    email = "email"
    push = "push"


class DeliveryStatus(StrEnum):
    queued = "queued"  # planned; a job on the `notify` queue will send it
    sending = "sending"  # an attempt holds it until lease_until
    sent = "sent"  # the recipient's server accepted it
    failed = "failed"  # refused for good; the job went to the dead-letter queue
    skipped = "skipped"  # nothing to send any more (preference off, subscription gone)


class NotificationKind(StrEnum):
    """What a notification is about; names the templates that render it."""

    message = "message"  # push: a message for an offline user
    messages = "messages"  # email: digest of messages in one conversation
    support_reply = "support_reply"  # push: an operator answered the customer
    support_replies = "support_replies"  # email: digest of operator replies
    ticket_created = "ticket_created"  # email + push to staff
    chat_assigned = "chat_assigned"  # push to the operator
    support_transcript = "support_transcript"  # email: a conversation's transcript


class NotificationSettings(Entity):
    """A user's choices; no row means the defaults (email on, push on)."""

    __tablename__ = "notification_settings"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    email_enabled: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    push_enabled: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    language: Mapped[str | None] = mapped_column(String(8))


class PushSubscription(Entity):
    """A browser's push endpoint (from ``PushManager.subscribe``) with its keys.

    The endpoint is unique: a browser that subscribes again for another user
    (a shared computer) moves to that user, so one person's notifications
    never land on a device now signed in as someone else.
    """

    __tablename__ = "push_subscriptions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    endpoint: Mapped[str] = mapped_column(String(2048), unique=True)
    p256dh: Mapped[str] = mapped_column(String(128))
    auth: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    last_success_at: Mapped[datetime | None]


class NotificationDelivery(Entity):
    """One notification to one recipient over one channel, from plan to outcome."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'push')", name="channel"),
        CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'failed', 'skipped')", name="status"
        ),
        CheckConstraint("channel = 'email' OR subscription_id IS NOT NULL", name="push_target"),
        Index(None, "user_id", "created_at"),
    )

    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Not a foreign key: the row outlives a subscription that the push service expired.
    subscription_id: Mapped[uuid.UUID | None]
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default=DeliveryStatus.queued)
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


class NotificationDigest(Entity):
    """Messages for one offline user in one conversation, gathered until ``due_at``.

    At most one digest per (user, conversation) is open (``closed_at IS NULL``):
    a partial unique index in the database.
    """

    __tablename__ = "notification_digests"
    __table_args__ = (
        CheckConstraint("kind IN ('messages', 'support_replies')", name="kind"),
        Index(
            "uq_notification_digests_open",
            "user_id",
            "conversation",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index(
            "ix_notification_digests_due",
            "due_at",
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    conversation: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))


class NotificationDigestItem(Entity):
    """One message in a digest; a message is in at most one digest per user."""

    __tablename__ = "notification_digest_items"
    __table_args__ = (UniqueConstraint("user_id", "message_id"),)

    digest_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("notification_digests.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(64))
    sender_id: Mapped[uuid.UUID | None]
    message_type: Mapped[str] = mapped_column(
        String(8), default="text", server_default=text("'text'")
    )
    preview: Mapped[str] = mapped_column(String(1000))
    sent_at: Mapped[datetime]
