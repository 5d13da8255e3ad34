"""Rate limits: a small port with an in-process and a Redis implementation.

Both implement GCRA (the generic cell rate algorithm, a token bucket kept as
one timestamp per key): ``limit`` hits per ``period``, bursts up to ``limit``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from goftogu.errors import RateLimited


@dataclass(frozen=True)
class RateRule:
    """``limit`` hits per ``period`` seconds, written ``"limit/period"`` in settings."""

    name: str
    limit: int
    period: float

    @classmethod
    def parse(cls, name: str, text: str) -> RateRule:
        limit, _, period = text.partition("/")
        rule = cls(name, int(limit), float(period))
        if rule.limit < 1 or rule.period <= 0:
            raise ValueError(f"rate rule {name} must be 'hits/seconds' with both > 0: {text!r}")
        return rule


class RateLimiter(Protocol):
    async def hit(self, key: str, rule: RateRule) -> float:
        """Count one hit; 0 when allowed, else the seconds until one would be."""
        ...


async def enforce(limiter: RateLimiter, rule: RateRule, subject: str) -> None:
    """Count a hit of ``rule`` for ``subject``; raise ``rate_limited`` past the limit."""
    retry_after = await limiter.hit(f"{rule.name}:{subject}", rule)
    if retry_after > 0:
        raise RateLimited(retry_after=max(1, math.ceil(retry_after)))
