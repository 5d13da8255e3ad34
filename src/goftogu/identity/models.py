"""Tables of the identity domain: users, their sessions and refresh tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from goftogu.storage.models import Entity


class Role(StrEnum):
    customer = "customer"
    operator = "operator"
    admin = "admin"


class UserStatus(StrEnum):
    online = "online"
    offline = "offline"
    away = "away"


class User(Entity):
    """A person: a registered customer, an operator, an admin, or an anonymous
    visitor of the support widget (``is_visitor``, no password, optional name/email)."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('customer', 'operator', 'admin')", name="role"),
        CheckConstraint("status IN ('online', 'offline', 'away')", name="status"),
        CheckConstraint("is_visitor OR password_hash IS NOT NULL", name="password_unless_visitor"),
    )

    username: Mapped[str] = mapped_column(String(32))
    # Case-folded copies carry the uniqueness, the same on SQLite and PostgreSQL
    # (SQLite's lower() folds ASCII only).
    username_key: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    email_key: Mapped[str | None] = mapped_column(String(254), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.customer)
    is_visitor: Mapped[bool] = mapped_column(default=False)
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(8), default=UserStatus.offline)
    last_seen: Mapped[datetime | None]
    # Set by an admin: login is refused (``account_disabled``), sessions are revoked.
    disabled_at: Mapped[datetime | None]

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


class AuthSession(Entity):
    """One signed-in device: a family of refresh tokens rotated on every use."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index(None, "user_id", "revoked_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    last_used_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(Entity):
    """A refresh token, stored as its SHA-256 (the token itself has 256 random bits).

    ``used_at`` is set when it is exchanged; presenting it again is re-use, the
    sign of a stolen token, and revokes the whole session.
    """

    __tablename__ = "refresh_tokens"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None]
