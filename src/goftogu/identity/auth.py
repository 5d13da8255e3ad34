"""Signing in and staying signed in: login, refresh rotation, logout, sessions,
and changing the password."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from goftogu.admission import Gate
from goftogu.bus import Transaction
from goftogu.errors import (
    AccountDisabled,
    InvalidCredentials,
    NotAllowed,
    NotFound,
    TokenExpired,
    TokenInvalid,
)
from goftogu.identity.accounts import identifier_key
from goftogu.identity.events import SessionsRevoked
from goftogu.identity.models import AuthSession, RefreshToken, Role, User
from goftogu.identity.passwords import PasswordHashes, check_strength
from goftogu.identity.revocations import SessionRevocations, ensure_live
from goftogu.identity.tokens import AccessTokens, Principal, hash_refresh_token, new_refresh_token
from goftogu.ids import parse_id
from goftogu.ratelimit import RateLimiter, RateRule, enforce
from goftogu.storage.models import utcnow
from goftogu.storage.work import UnitsOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuthRules:
    login_per_ip: RateRule
    login_per_account: RateRule
    register_per_ip: RateRule
    visitor_per_ip: RateRule


@dataclass(frozen=True)
class ClientInfo:
    ip_address: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


class _RefreshOutcome(Enum):
    rotated = "rotated"
    unknown = "unknown"
    reused = "reused"
    revoked = "revoked"
    expired = "expired"


class Authentication:
    """Sessions are families of refresh tokens; access tokens are short-lived JWTs."""

    def __init__(
        self,
        work: UnitsOfWork,
        hashes: PasswordHashes,
        tokens: AccessTokens,
        limiter: RateLimiter,
        rules: AuthRules,
        refresh_ttl_seconds: int,
        revocations: SessionRevocations,
        *,
        gate: Gate | None = None,
    ) -> None:
        self._work = work
        self._db = work.database
        self._revocations = revocations
        # Logins hashing at once, waiting, and for how long (``goftogu.admission``).
        self._gate = gate
        self._hashes = hashes
        self.tokens = tokens
        self._limiter = limiter
        self._rules = rules
        self._refresh_ttl = timedelta(seconds=refresh_ttl_seconds)

    async def authenticate(self, token: str | None) -> Principal:
        """The principal of a valid access token whose session is live: REST requests
        and socket connects both come through here. ``unauthenticated``,
        ``token_expired``, ``token_invalid`` or ``session_revoked`` otherwise."""
        return await ensure_live(self._revocations, self.tokens.verify(token))

    async def revoked_sessions(self, session_ids: Collection[str]) -> dict[str, str]:
        """The revoked ones among ``session_ids``, with their reasons."""
        return await self._revocations.revoked(session_ids)

    async def check_register_allowed(self, client: ClientInfo) -> None:
        await enforce(self._limiter, self._rules.register_per_ip, client.ip_address or "unknown")

    async def check_visitor_allowed(self, client: ClientInfo) -> None:
        """Widget sessions have a limit of their own (``GOFTOGU_RATE_VISITOR_PER_IP``):
        many visitors come from one office's address, more than ever register."""
        await enforce(self._limiter, self._rules.visitor_per_ip, client.ip_address or "unknown")

    async def login(self, login: str, password: str, client: ClientInfo) -> IssuedTokens:
        """Tokens for a username or email and its password. An unknown user and a wrong
        password get the same ``invalid_credentials``, after the same amount of work."""
        key = identifier_key(login)
        await enforce(self._limiter, self._rules.login_per_ip, client.ip_address or "unknown")
        # The gate admits the login's whole work (the lookup and the hash), so a burst
        # past it is refused before it reaches the database.
        async with self._gate.admit() if self._gate else nullcontext():
            async with self._db.sessions() as session:
                user = await session.scalar(
                    select(User).where(
                        or_(User.username_key == key, User.email_key == key),
                        User.is_visitor.is_(False),
                    )
                )
            # One bucket per account, whichever of its names is typed (and the password
            # change's bucket too); a name that is no account has a bucket of its own.
            account = str(user.id) if user is not None else f"unknown:{key}"
            await enforce(self._limiter, self._rules.login_per_account, account)
            verified = await self._hashes.verify(user.password_hash if user else None, password)
        if not verified:
            log.info("login refused", extra={"login_key_length": len(key)})
            raise InvalidCredentials()
        assert user is not None
        assert user.password_hash is not None
        if user.disabled:
            # Said only to whoever knows the password: the account's existence stays hidden.
            raise AccountDisabled()
        if self._hashes.needs_rehash(user.password_hash):
            await self._rehash(user.id, password)
        return await self.start_session(user, client)

    async def start_session(self, user: User, client: ClientInfo) -> IssuedTokens:
        """A new session for ``user`` and its first token pair."""
        now = utcnow()
        auth_session = AuthSession(
            user_id=user.id,
            user_agent=(client.user_agent or "")[:512] or None,
            ip_address=client.ip_address,
            last_used_at=now,
            expires_at=now + self._refresh_ttl,
        )
        refresh_token = new_refresh_token()
        async with self._db.transaction() as session:
            session.add(auth_session)
            await session.flush()
            session.add(
                RefreshToken(
                    session_id=auth_session.id, token_hash=hash_refresh_token(refresh_token)
                )
            )
        return self._issue(user, auth_session.id, refresh_token)

    async def refresh(self, refresh_token: str) -> IssuedTokens:
        """Exchange a refresh token for a new pair; the old one stops working.
        Presenting an already-used token revokes its whole session (theft detection)."""
        token_hash = hash_refresh_token(refresh_token)
        new_token = new_refresh_token()
        async with self._work.transaction() as work:
            session = work.session
            outcome, auth_session = await self._rotate(session, token_hash, new_token)
            user = await session.get(User, auth_session.user_id) if auth_session else None
            if outcome is _RefreshOutcome.reused and auth_session is not None:
                work.announce(_revoked(auth_session, "refresh_token_reuse"))
            if outcome is _RefreshOutcome.rotated and user is not None and user.disabled:
                assert auth_session is not None
                _revoke(auth_session, "account_disabled")
                work.announce(_revoked(auth_session, "account_disabled"))
                outcome = _RefreshOutcome.revoked
        if outcome is _RefreshOutcome.revoked and user is not None and user.disabled:
            raise AccountDisabled()
        if outcome is _RefreshOutcome.reused:
            log.warning(
                "refresh token re-used: session revoked",
                extra={"session_id": str(auth_session.id) if auth_session else None},
            )
        if outcome is _RefreshOutcome.expired:
            raise TokenExpired("The session has expired; sign in again.")
        if outcome is not _RefreshOutcome.rotated or auth_session is None or user is None:
            raise TokenInvalid("The refresh token is not valid; sign in again.")
        return self._issue(user, auth_session.id, new_token)

    async def logout(self, principal: Principal, refresh_token: str) -> None:
        """End the session the refresh token belongs to (it must be the caller's)."""
        token_hash = hash_refresh_token(refresh_token)
        async with self._work.transaction() as work:
            auth_session = await work.session.scalar(
                select(AuthSession)
                .join(RefreshToken, RefreshToken.session_id == AuthSession.id)
                .where(RefreshToken.token_hash == token_hash)
            )
            if auth_session is None or auth_session.user_id != principal.user_id:
                raise TokenInvalid("The refresh token is not valid.")
            _revoke(auth_session, "logout")
            work.announce(_revoked(auth_session, "logout"))

    async def sessions_of(self, principal: Principal) -> list[AuthSession]:
        """The caller's live sessions, most recently used first."""
        async with self._db.sessions() as session:
            rows = await session.scalars(
                select(AuthSession)
                .where(
                    AuthSession.user_id == principal.user_id,
                    AuthSession.revoked_at.is_(None),
                    AuthSession.expires_at > utcnow(),
                )
                .order_by(AuthSession.last_used_at.desc())
            )
            return list(rows.all())

    async def revoke_session_for(self, principal: Principal, session_id: str) -> None:
        parsed = parse_id(session_id)
        async with self._work.transaction() as work:
            auth_session = await work.session.get(AuthSession, parsed) if parsed else None
            if auth_session is None or auth_session.user_id != principal.user_id:
                raise NotFound("No such session.")
            if auth_session.revoked_at is None:
                _revoke(auth_session, "revoked_by_user")
                work.announce(_revoked(auth_session, "revoked_by_user"))

    async def revoke_all_sessions(
        self, user_id: uuid.UUID, *, reason: str, keep: uuid.UUID | None = None
    ) -> int:
        """End every live session of ``user_id`` (but ``keep``) at once: refresh and
        access tokens stop working and their sockets are ended with ``reason``
        (``account_disabled``, ``password_changed`` ...). Returns how many ended."""
        async with self._work.transaction() as work:
            return await _revoke_all(work, user_id, reason, keep=keep)

    async def change_password(self, principal: Principal, current: str, new: str) -> int:
        """Replace the caller's password after checking the current one, and sign every
        other device out (their refresh tokens stop working at once; their access
        tokens and sockets end at once too). Returns how many sessions were revoked.

        ``invalid_credentials`` for a wrong current password (rate-limited like a
        login, so a stolen access token cannot guess it), ``weak_password``,
        ``not_allowed`` for visitors (they have no password)."""
        if principal.is_visitor:
            raise NotAllowed("Visitors of the support widget have no password.")
        await enforce(self._limiter, self._rules.login_per_account, str(principal.user_id))
        async with self._db.sessions() as session:
            user = await session.get(User, principal.user_id)
        if user is None or not await self._hashes.verify(user.password_hash, current):
            raise InvalidCredentials("The current password is not right.")
        check_strength(new, username=user.username, email=user.email)
        new_hash = await self._hashes.hash(new)
        async with self._work.transaction() as work:
            await work.session.execute(
                update(User).where(User.id == user.id).values(password_hash=new_hash)
            )
            count = await _revoke_all(work, user.id, "password_changed", keep=principal.session_id)
        log.info("password changed", extra={"sessions_revoked": count})
        return count

    async def _rotate(
        self, session: AsyncSession, token_hash: str, new_token: str
    ) -> tuple[_RefreshOutcome, AuthSession | None]:
        row = (
            await session.execute(
                select(RefreshToken, AuthSession)
                .join(AuthSession, RefreshToken.session_id == AuthSession.id)
                .where(RefreshToken.token_hash == token_hash)
            )
        ).first()
        if row is None:
            return _RefreshOutcome.unknown, None
        token, auth_session = row
        now = utcnow()
        if auth_session.revoked_at is not None:
            return _RefreshOutcome.revoked, auth_session
        if token.used_at is not None:
            _revoke(auth_session, "refresh_token_reuse")
            return _RefreshOutcome.reused, auth_session
        if auth_session.expires_at <= now:
            return _RefreshOutcome.expired, auth_session
        # Conditional: of two requests racing with the same token, one wins.
        claimed = await session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            _revoke(auth_session, "refresh_token_reuse")
            return _RefreshOutcome.reused, auth_session
        session.add(
            RefreshToken(session_id=auth_session.id, token_hash=hash_refresh_token(new_token))
        )
        auth_session.last_used_at = now
        auth_session.expires_at = now + self._refresh_ttl
        return _RefreshOutcome.rotated, auth_session

    async def _rehash(self, user_id: uuid.UUID, password: str) -> None:
        new_hash = await self._hashes.hash(password)
        async with self._db.transaction() as session:
            await session.execute(
                update(User).where(User.id == user_id).values(password_hash=new_hash)
            )

    def _issue(self, user: User, session_id: uuid.UUID, refresh_token: str) -> IssuedTokens:
        principal = Principal(
            user_id=user.id, role=Role(user.role), session_id=session_id, is_visitor=user.is_visitor
        )
        return IssuedTokens(
            access_token=self.tokens.issue(principal),
            refresh_token=refresh_token,
            expires_in=self.tokens.ttl_seconds,
            user=user,
        )


def _revoke(auth_session: AuthSession, reason: str) -> None:
    auth_session.revoked_at = utcnow()
    auth_session.revoke_reason = reason


def _revoked(auth_session: AuthSession, reason: str) -> SessionsRevoked:
    return SessionsRevoked(str(auth_session.user_id), (str(auth_session.id),), reason)


async def _revoke_all(
    work: Transaction, user_id: uuid.UUID, reason: str, *, keep: uuid.UUID | None
) -> int:
    """Revoke the live sessions of ``user_id`` but ``keep`` in ``work``, announced."""
    live = [AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)]
    if keep is not None:
        live.append(AuthSession.id != keep)
    ids = list((await work.session.scalars(select(AuthSession.id).where(*live))).all())
    if not ids:
        return 0
    await work.session.execute(
        update(AuthSession)
        .where(AuthSession.id.in_(ids))
        .values(revoked_at=utcnow(), revoke_reason=reason)
        .execution_options(synchronize_session=False)
    )
    work.announce(SessionsRevoked(str(user_id), tuple(str(i) for i in ids), reason))
    return len(ids)
