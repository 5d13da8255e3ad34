"""Access tokens (JWT, HS256 only) and refresh tokens (random, stored hashed).

``AccessTokens.verify`` is the one function that authenticates both REST
requests and Socket.IO connections.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from goftogu.errors import TokenExpired, TokenInvalid, Unauthenticated
from goftogu.identity.models import Role

ALGORITHM = "HS256"  # fixed: the token header's `alg` is never trusted
ISSUER = "goftogu"
ACCESS_TYPE = "access"


@dataclass(frozen=True)
class Principal:
    """Who is calling, as proven by a verified access token."""

    user_id: uuid.UUID
    role: Role
    session_id: uuid.UUID
    is_visitor: bool = False
    expires_at: datetime | None = None  # of the access token it came from

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.operator, Role.admin)


class AccessTokens:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._secret = secret
        self.ttl_seconds = ttl_seconds

    def issue(self, principal: Principal, *, now: datetime | None = None) -> str:
        issued = now or datetime.now(UTC)
        claims = {
            "iss": ISSUER,
            "typ": ACCESS_TYPE,
            "sub": str(principal.user_id),
            "sid": str(principal.session_id),
            "role": principal.role.value,
            "vis": principal.is_visitor,
            "iat": issued,
            "exp": issued + timedelta(seconds=self.ttl_seconds),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str | None) -> Principal:
        """The principal of a valid access token; ``unauthenticated`` when absent,
        ``token_expired`` or ``token_invalid`` otherwise."""
        if not token:
            raise Unauthenticated()
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "sid", "role", "typ"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired() from exc
        except jwt.PyJWTError as exc:
            raise TokenInvalid() from exc
        try:
            if claims["typ"] != ACCESS_TYPE:
                raise ValueError("not an access token")
            return Principal(
                user_id=uuid.UUID(claims["sub"]),
                role=Role(claims["role"]),
                session_id=uuid.UUID(claims["sid"]),
                is_visitor=bool(claims.get("vis", False)),
                expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise TokenInvalid() from exc


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    """SHA-256 is enough: the token is 256 random bits, not a guessable password."""
    return hashlib.sha256(token.encode()).hexdigest()
