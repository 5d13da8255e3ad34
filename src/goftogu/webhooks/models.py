"""Tables of the webhooks domain.

- ``webhook_subscriptions``: an endpoint, its signing secret, the event types it
  wants, and whether it is active (``consecutive_failures`` counts failed
  attempts since the last success; past the setting it is disabled).
- ``webhook_deliveries``: one row per (subscription, event), UNIQUE, with the
  exact body sent on every attempt, its status, attempts and last response:
  the delivery log, and the ledger that keeps a redelivered job from sending
  twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from goftogu.storage.models import Entity


class WebhookStatus(StrEnum):
    queued = "queued"  # waiting for (another) attempt
    sending = "sending"  # an attempt holds it until lease_until
    delivered = "delivered"  # the endpoint answered 2xx
    failed = "failed"  # every attempt failed
    skipped = "skipped"  # the subscription was disabled before it could be sent


class WebhookSubscription(Entity):
    __tablename__ = "webhook_subscriptions"

    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(128))
    events: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    consecutive_failures: Mapped[int] = mapped_column(default=0, server_default=sql_text("0"))
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[uuid.UUID | None]


class WebhookDelivery(Entity):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        CheckConstraint(
            "status IN ('queued', 'sending', 'delivered', 'failed', 'skipped')", name="status"
        ),
        Index(None, "subscription_id", "id"),
    )

    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=WebhookStatus.queued.value)
    attempts: Mapped[int] = mapped_column(default=0, server_default=sql_text("0"))
    lease_until: Mapped[datetime | None]
    response_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None]
