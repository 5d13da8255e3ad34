"""Tables of the support desk in the relational database.

``support_chats`` is the embedded home of the ``chats`` collection: the whole
document in a JSON column, with copies of the fields that queries and
conditional updates filter on. ``support_operators`` keeps each operator's
chosen availability, so presence can be rebuilt after Redis loses it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from goftogu.storage.models import Base, Entity, utcnow

DOCUMENT = JSON().with_variant(JSONB(), "postgresql")


class SupportChatRow(Entity):
    """One support conversation: ``document`` is the source of truth."""

    __tablename__ = "support_chats"
    __table_args__ = (
        CheckConstraint("status IN ('PENDING', 'OPEN', 'CLOSED')", name="status"),
        CheckConstraint("type IN ('CHAT', 'TICKET')", name="type"),
        CheckConstraint("status <> 'OPEN' OR operator_id IS NOT NULL", name="open_has_operator"),
        Index(None, "status", "operator_id", "id"),
        Index(None, "customer_id", "id"),
        Index(None, "operator_id", "status"),
        Index(None, "closed_at"),
        Index(None, "team_id", "status"),
        Index(None, "sla_state", "id"),
        Index(None, "snoozed", "id"),
        Index(
            "ix_support_chats_route_token",
            "route_token",
            sqlite_where=text("route_token IS NOT NULL"),
            postgresql_where=text("route_token IS NOT NULL"),
        ),
        *(
            Index(
                f"ix_support_chats_{token}",
                token,
                sqlite_where=text(f"{token} IS NOT NULL"),
                postgresql_where=text(f"{token} IS NOT NULL"),
            )
            for token in (
                "ticket_notice_token",
                "assigned_notice_token",
                "reply_notice_token",
                "closed_notice_token",
            )
        ),
    )

    customer_id: Mapped[uuid.UUID]
    operator_id: Mapped[uuid.UUID | None]
    team_id: Mapped[uuid.UUID | None]
    sla_state: Mapped[str | None] = mapped_column(String(8))
    # "held" / "freed": snoozed, keeping or giving back the operator's slot (lifecycle).
    snoozed: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(8))
    intake_key: Mapped[str] = mapped_column(String(200), unique=True)
    route_token: Mapped[str | None] = mapped_column(String(32))
    ticket_notice_token: Mapped[str | None] = mapped_column(String(32))
    assigned_notice_token: Mapped[str | None] = mapped_column(String(32))
    reply_notice_token: Mapped[str | None] = mapped_column(String(32))
    closed_notice_token: Mapped[str | None] = mapped_column(String(32))
    # Copies of the document's times, for estimates and reports.
    assigned_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # A relay's lease on the outbox entries above while it publishes them.
    outbox_claim: Mapped[str | None] = mapped_column(String(32))
    outbox_claimed_until: Mapped[datetime | None]
    document: Mapped[dict[str, Any]] = mapped_column(DOCUMENT)


class SupportChatLabel(Base):
    """A label of a conversation: a copy of the document's ``labels`` that list
    filters use, written in the same transaction as the document."""

    __tablename__ = "support_chat_labels"
    __table_args__ = (Index(None, "label", "chat_id"),)

    chat_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("support_chats.id", ondelete="CASCADE"), primary_key=True
    )
    label: Mapped[str] = mapped_column(String(40), primary_key=True)


class SupportOperator(Base):
    """An operator's chosen availability: ``status`` and whether they take new chats."""

    __tablename__ = "support_operators"
    __table_args__ = (CheckConstraint("status IN ('online', 'away', 'offline')", name="status"),)

    operator_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(8))
    accepting: Mapped[bool]
    # Live chats at once; None: the GOFTOGU_OPERATOR_CAPACITY default.
    capacity: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SupportTeam(Entity):
    """A team (department): its topic, overflow, capacity and policy (business
    hours, SLA targets) as JSON."""

    __tablename__ = "support_teams"

    name: Mapped[str] = mapped_column(String(80))
    topic: Mapped[str] = mapped_column(String(40), unique=True)
    overflow_seconds: Mapped[int | None]
    capacity: Mapped[int | None]
    policy: Mapped[dict[str, Any]] = mapped_column(DOCUMENT)


class SupportTeamMember(Base):
    __tablename__ = "support_team_members"

    team_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("support_teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SupportCannedReply(Entity):
    """A canned reply (``goftogu.support.canned``); ``owner_key`` is the user or team
    it belongs to, "" for a global one."""

    __tablename__ = "support_canned_replies"
    __table_args__ = (
        CheckConstraint("scope IN ('personal', 'team', 'global')", name="scope"),
        UniqueConstraint("scope", "owner_key", "shortcode"),
    )

    scope: Mapped[str] = mapped_column(String(8))
    owner_key: Mapped[str] = mapped_column(String(64))
    shortcode: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[uuid.UUID]
