"""Revoked sessions in Redis, shared by every gateway node (``revocations``)."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from goftogu.identity.revocations import CLOCK_SLACK_SECONDS, KnownRevoked

if TYPE_CHECKING:
    from redis.asyncio import Redis


class RedisSessionRevocations:
    """One key per revoked session (its value: the reason), expiring with the last
    token it could have issued. A node asks Redis about what it does not know to be
    revoked (one round trip per request or connect) and remembers what it found."""

    def __init__(
        self, redis: Redis, token_ttl_seconds: float, prefix: str = "goftogu:revoked:"
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._keep = token_ttl_seconds + CLOCK_SLACK_SECONDS
        self._known = KnownRevoked(self._keep)

    async def revoke(self, session_ids: Collection[str], reason: str) -> None:
        if not session_ids:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for session_id in session_ids:
                pipe.set(self._prefix + session_id, reason, ex=max(1, round(self._keep)))
            await pipe.execute()
        self._known.add(dict.fromkeys(session_ids, reason))

    async def revoked(self, session_ids: Collection[str]) -> dict[str, str]:
        known = self._known.among(session_ids)
        unknown = [s for s in session_ids if s not in known]
        if not unknown:
            return known
        values = await self._redis.mget([self._prefix + s for s in unknown])
        found = {
            s: value if isinstance(value, str) else value.decode()
            for s, value in zip(unknown, values, strict=True)
            if value is not None
        }
        self._known.add(found)
        return {**known, **found}
