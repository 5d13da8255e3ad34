"""Signing a webhook body, and checking a signature (what a receiver does).

Header ``Goftogu-Signature: t=<unix seconds>,v1=<hex>`` where ``hex`` is
HMAC-SHA256 of ``f"{t}.".encode() + body`` keyed with the subscription's secret
(the UTF-8 bytes of the whole ``whsec_...`` string). ``t`` is the time of the
attempt: a receiver refuses a timestamp older than a few minutes (a replayed
request), compares in constant time, and dedupes on ``Goftogu-Event-Id``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "Goftogu-Signature"
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def sign(secret: str, body: bytes, *, at: int | None = None) -> str:
    """The header value for ``body`` sent now (or at ``at``)."""
    timestamp = int(time.time()) if at is None else at
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds."""
    try:
        parts = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    return hmac.compare_digest(parts.get("v1", ""), signature(secret, timestamp, body))
