"""GCRA rate limiter in Redis: one atomic Lua script, shared by every gateway node."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from goftogu.ratelimit import RateRule

# KEYS[1] key; ARGV[1] interval ms; ARGV[2] period ms. Returns 0 or ms to wait.
# The server's clock is used so that every node agrees on "now".
_GCRA = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local excess = tat - now - (period - interval)
if excess > 0 then return excess end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil(new_tat - now))
return 0
"""


class RedisRateLimiter:
    def __init__(self, redis: Redis, prefix: str = "goftogu:rl:") -> None:
        self._script: Any = redis.register_script(_GCRA)
        self._prefix = prefix

    async def hit(self, key: str, rule: RateRule) -> float:
        interval_ms = max(1, round(rule.period * 1000 / rule.limit))
        waited = await self._script(
            keys=[self._prefix + key], args=[interval_ms, round(rule.period * 1000)]
        )
        return int(waited) / 1000
