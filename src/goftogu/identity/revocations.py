"""Revoked sessions, checked on every authenticated request and socket connect.

An access token names its session (``sid``). Refresh tokens of a revoked session
stop at once (the database says so), but its access token would live until it
expires; this set makes revocation immediate: a revoked session's id (and why)
is kept until every access token it could have issued has expired (the token
lifetime, plus a minute of clock slack), then forgotten.

Two implementations under one contract: in-process (the embedded default, one
node) and Redis (every node reads the same set; ``revocations_redis``). A node
remembers what it found revoked (a revocation is never undone) and never caches
"not revoked", so a logout on one node is refused on the very next request to
any other.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from typing import Protocol

from goftogu.errors import SessionRevoked
from goftogu.identity.tokens import Principal

CLOCK_SLACK_SECONDS = 60.0


class SessionRevocations(Protocol):
    async def revoke(self, session_ids: Collection[str], reason: str) -> None:
        """Mark ``session_ids`` revoked for ``reason``, on every node at once."""
        ...

    async def revoked(self, session_ids: Collection[str]) -> dict[str, str]:
        """The revoked ones among ``session_ids``, each with its reason."""
        ...


async def ensure_live(revocations: SessionRevocations, principal: Principal) -> Principal:
    """``principal`` when its session is live; ``session_revoked`` otherwise."""
    revoked = await revocations.revoked((str(principal.session_id),))
    if revoked:
        raise SessionRevoked(reason=next(iter(revoked.values())))
    return principal


class KnownRevoked:
    """A node's memory of sessions it knows revoked, until they expire."""

    PRUNE_ABOVE = 10_000

    def __init__(self, keep_seconds: float) -> None:
        self.keep_seconds = keep_seconds
        self._entries: dict[str, tuple[float, str]] = {}

    def add(self, reasons: Mapping[str, str]) -> None:
        until = time.monotonic() + self.keep_seconds
        for session_id, reason in reasons.items():
            self._entries[session_id] = (until, reason)
        if len(self._entries) > self.PRUNE_ABOVE:
            now = time.monotonic()
            self._entries = {s: e for s, e in self._entries.items() if e[0] > now}

    def among(self, session_ids: Collection[str]) -> dict[str, str]:
        now = time.monotonic()
        found: dict[str, str] = {}
        for session_id in session_ids:
            entry = self._entries.get(session_id)
            if entry is not None and entry[0] > now:
                found[session_id] = entry[1]
        return found


class MemorySessionRevocations:
    """The embedded default: one process, one set."""

    def __init__(self, token_ttl_seconds: float) -> None:
        self._known = KnownRevoked(token_ttl_seconds + CLOCK_SLACK_SECONDS)

    async def revoke(self, session_ids: Collection[str], reason: str) -> None:
        self._known.add(dict.fromkeys(session_ids, reason))

    async def revoked(self, session_ids: Collection[str]) -> dict[str, str]:
        return self._known.among(session_ids)
