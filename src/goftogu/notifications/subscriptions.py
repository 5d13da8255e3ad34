"""Web Push subscriptions: a browser registers its endpoint and keys for a user.

The endpoint is checked before it is stored: the notifier will POST to it,
so it must be HTTPS on a known push service (``GOFTOGU_PUSH_ENDPOINT_HOSTS``),
never an address inside our network. The keys must be a P-256 point and a
16-byte secret, or encryption would fail later at every send.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from goftogu.errors import Conflict, InvalidPushSubscription, NotFound, PushNotConfigured
from goftogu.identity.tokens import Principal
from goftogu.ids import parse_id
from goftogu.notifications.models import PushSubscription
from goftogu.notifications.schemas import PushSubscriptionCreate
from goftogu.storage.database import Database
from goftogu.storage.errors import is_unique_violation

MAX_SUBSCRIPTIONS_PER_USER = 20


def _unb64url(text: str) -> bytes:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidPushSubscription("The keys must be base64url.") from exc


@dataclass(frozen=True)
class EndpointRule:
    """Which push endpoints may be stored (see ``GOFTOGU_PUSH_ENDPOINT_HOSTS``)."""

    https_suffixes: tuple[str, ...]
    any_https: bool
    plain_http: tuple[str, ...]  # "host:port" allowed over plain HTTP

    @classmethod
    def parse(cls, setting: str) -> EndpointRule:
        entries = [entry.strip().lower() for entry in setting.split(",") if entry.strip()]
        return cls(
            https_suffixes=tuple(e.lstrip(".") for e in entries if "://" not in e and e != "*"),
            any_https="*" in entries,
            plain_http=tuple(e.removeprefix("http://") for e in entries if e.startswith("http://")),
        )

    def allows(self, endpoint: str) -> bool:
        try:
            parts = urlsplit(endpoint)
            host, port = (parts.hostname or "").lower(), parts.port
        except ValueError:
            return False
        if not host or parts.username or parts.password:
            return False
        if parts.scheme == "http":
            return f"{host}:{port or 80}" in self.plain_http
        if parts.scheme != "https" or port not in (None, 443):
            # Push services listen on 443: another port is some other service on that host.
            return False
        return self.any_https or any(
            host == suffix or host.endswith("." + suffix) for suffix in self.https_suffixes
        )


def _check_keys(p256dh: str, auth: str) -> None:
    point = _unb64url(p256dh)
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError as exc:
        raise InvalidPushSubscription("keys.p256dh is not a P-256 public key.") from exc
    if len(_unb64url(auth)) != 16:
        raise InvalidPushSubscription("keys.auth must be 16 bytes.")


class PushSubscriptions:
    """Use cases on the caller's Web Push subscriptions."""

    def __init__(self, database: Database, *, vapid_public_key: str | None, endpoints: str) -> None:
        self._db = database
        self._public_key = vapid_public_key
        self._rule = EndpointRule.parse(endpoints)

    def vapid_public_key(self) -> str:
        """The key browsers pass to ``pushManager.subscribe`` (``applicationServerKey``)."""
        if not self._public_key:
            raise PushNotConfigured()
        return self._public_key

    async def subscribe(
        self, principal: Principal, request: PushSubscriptionCreate, user_agent: str | None
    ) -> tuple[PushSubscription, bool]:
        """Store the browser's subscription for the caller; returns it and whether it
        is new. The same endpoint again updates its keys; an endpoint another user
        subscribed moves to the caller (the browser is now signed in as them)."""
        self.vapid_public_key()
        if not self._rule.allows(request.endpoint):
            raise InvalidPushSubscription(
                "The endpoint is not on a push service this server sends to."
            )
        _check_keys(request.keys.p256dh, request.keys.auth)
        try:
            return await self._store(principal.user_id, request, (user_agent or "")[:512] or None)
        except IntegrityError as error:
            if is_unique_violation(
                error,
                constraint="uq_push_subscriptions_endpoint",
                columns="push_subscriptions.endpoint",
            ):
                raise Conflict("The same subscription is being registered; try again.") from error
            raise

    async def _store(
        self, user_id: uuid.UUID, request: PushSubscriptionCreate, user_agent: str | None
    ) -> tuple[PushSubscription, bool]:
        async with self._db.transaction() as session:
            row = await session.scalar(
                select(PushSubscription)
                .where(PushSubscription.endpoint == request.endpoint)
                .with_for_update()
            )
            created = row is None or row.user_id != user_id
            if row is None:
                row = PushSubscription(user_id=user_id, endpoint=request.endpoint)
                session.add(row)
            row.user_id = user_id
            row.p256dh, row.auth = request.keys.p256dh, request.keys.auth
            row.user_agent = user_agent
            await session.flush()
            await self._keep_newest(session, user_id)
        return row, created

    async def _keep_newest(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        """A user keeps at most MAX_SUBSCRIPTIONS_PER_USER browsers; the least recently
        registered go first (bounds the fan-out of every push)."""
        count = await session.scalar(
            select(func.count()).where(PushSubscription.user_id == user_id)
        )
        if count is not None and count > MAX_SUBSCRIPTIONS_PER_USER:
            oldest = (
                select(PushSubscription.id)
                .where(PushSubscription.user_id == user_id)
                .order_by(PushSubscription.updated_at, PushSubscription.id)
                .limit(count - MAX_SUBSCRIPTIONS_PER_USER)
            )
            await session.execute(delete(PushSubscription).where(PushSubscription.id.in_(oldest)))

    async def list_for(self, principal: Principal) -> list[PushSubscription]:
        async with self._db.sessions() as session:
            rows = await session.scalars(
                select(PushSubscription)
                .where(PushSubscription.user_id == principal.user_id)
                .order_by(PushSubscription.created_at)
            )
            return list(rows.all())

    async def unsubscribe_for(self, principal: Principal, subscription_id: str) -> None:
        """Delete one of the caller's subscriptions; someone else's is ``not_found``."""
        parsed = parse_id(subscription_id)
        async with self._db.transaction() as session:
            row = await session.get(PushSubscription, parsed) if parsed else None
            if row is None or row.user_id != principal.user_id:
                raise NotFound("No such push subscription.")
            await session.delete(row)
