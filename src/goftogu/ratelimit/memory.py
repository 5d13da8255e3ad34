"""In-process GCRA rate limiter for the embedded default (one process)."""

from __future__ import annotations

import time

from goftogu.ratelimit import RateRule

_PRUNE_EVERY = 10_000


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._tat: dict[str, float] = {}  # key -> theoretical arrival time
        self._hits = 0

    async def hit(self, key: str, rule: RateRule) -> float:
        now = time.monotonic()
        self._maybe_prune(now)
        interval = rule.period / rule.limit
        tat = max(self._tat.get(key, now), now)
        excess = tat - now - (rule.period - interval)
        if excess > 0:
            return excess
        self._tat[key] = tat + interval
        return 0.0

    def _maybe_prune(self, now: float) -> None:
        self._hits += 1
        if self._hits % _PRUNE_EVERY == 0:
            self._tat = {key: tat for key, tat in self._tat.items() if tat > now}
