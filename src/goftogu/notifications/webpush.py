"""Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payloads (RFC 8291).

pywebpush encrypts the payload for the subscription's keys and signs the
VAPID JWT (ES256) with our private key; the push service answers 201. A 404
or 410 means the browser dropped the subscription: the caller forgets it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from goftogu.notifications.failures import PermanentFailure, SubscriptionGone, TransientFailure
from goftogu.vapid import VapidKeys

Urgency = Literal["very-low", "low", "normal", "high"]


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
