"""Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payloads (RFC 8291).

pywebpush encrypts the payload for the subscription's keys and signs the
VAPID JWT (ES256) with our private key; the push service answers 201. A 404
or 410 means the browser dropped the subscription: the caller forgets it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from goftogu.notifications.failures import PermanentFailure, SubscriptionGone, TransientFailure

Urgency = Literal["very-low", "low", "normal", "high"]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_vapid_keys() -> tuple[str, str]:
    """A new (public, private) VAPID pair, both base64url: the public key is the
    browser's ``applicationServerKey``, the private key a 32-byte P-256 scalar."""
    private = ec.generate_private_key(ec.SECP256R1())
    return _public_text(private.public_key()), _b64url(
        private.private_numbers().private_value.to_bytes(32, "big")
    )


def _public_text(public: ec.EllipticCurvePublicKey) -> str:
    return _b64url(
        public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )


def _load_private(text: str) -> ec.EllipticCurvePrivateKey:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
    else:
        raw = _unb64url(text.replace("\n", ""))
        if len(raw) == 32:
            return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        key = serialization.load_der_private_key(raw, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("not a P-256 (prime256v1) key")
    return key


@dataclass(frozen=True)
class VapidKeys:
    """Our VAPID identity: the key pair and the contact (``mailto:`` or ``https:``)."""

    public_key: str
    private_key: ec.EllipticCurvePrivateKey
    subject: str

    @classmethod
    def parse(cls, public_key: str, private_key: str, subject: str) -> VapidKeys:
        """Check the pair belongs together; ``ValueError`` naming what is wrong."""
        try:
            private = _load_private(private_key)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"the VAPID private key cannot be read: {exc}") from exc
        derived = _public_text(private.public_key())
        if derived != public_key.strip().rstrip("="):
            raise ValueError("the VAPID public key does not belong to the private key")
        if not subject.startswith(("mailto:", "https:")):
            raise ValueError("the VAPID subject must be a mailto: or https: URL")
        return cls(public_key=derived, private_key=private, subject=subject)


@dataclass(frozen=True)
class PushTarget:
    """Where a push goes: a subscription's endpoint and its keys (base64url)."""

    endpoint: str
    p256dh: str
    auth: str


class PushSender(Protocol):
    """Sends one push message; raises ``SubscriptionGone``, ``TransientFailure`` or
    ``PermanentFailure``."""

    async def send(
        self,
        target: PushTarget,
        payload: dict[str, Any],
        *,
        ttl: int,
        urgency: Urgency = "normal",
        topic: str | None = None,
    ) -> None: ...


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


class WebPushSender:
    """Web Push through pywebpush (its aiohttp client)."""

    def __init__(self, keys: VapidKeys, *, timeout: float = 15) -> None:
        from py_vapid import Vapid02

        self.keys = keys
        self._vapid = Vapid02()
        self._vapid.private_key = keys.private_key
        self._timeout = timeout

    async def send(
        self,
        target: PushTarget,
        payload: dict[str, Any],
        *,
        ttl: int,
        urgency: Urgency = "normal",
        topic: str | None = None,
    ) -> None:
        import aiohttp
        from pywebpush import WebPushException, webpush_async

        headers: dict[str, str] = {"Urgency": urgency}
        if topic:
            headers["Topic"] = topic
        try:
            await webpush_async(
                {
                    "endpoint": target.endpoint,
                    "keys": {"p256dh": target.p256dh, "auth": target.auth},
                },
                data=json.dumps(payload, ensure_ascii=False),
                vapid_private_key=self._vapid,
                # a fresh dict each time: pywebpush writes `aud` and `exp` into it
                vapid_claims={"sub": self.keys.subject},
                content_encoding="aes128gcm",
                ttl=ttl,
                headers=headers,
                timeout=self._timeout,
            )
        except WebPushException as exc:
            raise _push_failure(exc.status_code, exc.retry_after, exc.message) from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise TransientFailure(f"push service unreachable: {type(exc).__name__}") from exc


def _push_failure(
    status: int | None, retry_after: str | None, message: str
) -> SubscriptionGone | TransientFailure | PermanentFailure:
    reason = f"push service answered {status}: {message.splitlines()[0][:200]}"
    if status in (404, 410):
        return SubscriptionGone(reason)
    if status is None or status == 429 or status >= 500:
        return TransientFailure(reason, retry_after=_retry_after(retry_after))
    return PermanentFailure(reason)
