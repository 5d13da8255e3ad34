"""Connection store in Redis, shared by every gateway node.

Keys (prefix ``gp:``): ``conn:<user>`` sorted set of sids scored by lease
expiry (ms); ``users`` sorted set of users scored by their latest expiry, so
users whose node died are found without scanning; ``chosen`` and ``announced``
hashes. Time is Redis's own clock, so nodes agree on it.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

_NOW = "local t = redis.call('TIME'); local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

# KEYS: conn, users; ARGV: user, sid, lease ms -> live count
_ADD = (
    _NOW
    + """
local expiry = now + tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], expiry, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[2], 'GT', expiry, ARGV[1])
return redis.call('ZCARD', KEYS[1])
"""
)

# KEYS: conn, users; ARGV: user, sid -> live count
_REMOVE = (
    _NOW
    + """
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local left = redis.call('ZCARD', KEYS[1])
if left == 0 then redis.call('ZREM', KEYS[2], ARGV[1]) end
return left
"""
)

# KEYS: conn; ARGV: none -> live count
_COUNT = (
    _NOW
    + """
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
"""
)

# KEYS: users; ARGV: prefix -> users whose leases all expired (claimed once)
_LAPSED = (
    _NOW
    + """
local gone = {}
for _, user in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 500)) do
  local conn = ARGV[1] .. 'conn:' .. user
  redis.call('ZREMRANGEBYSCORE', conn, '-inf', now)
  local top = redis.call('ZRANGE', conn, -1, -1, 'WITHSCORES')
  if #top == 0 then
    redis.call('ZREM', KEYS[1], user)
    table.insert(gone, user)
  else
    redis.call('ZADD', KEYS[1], top[2], user)
  end
end
return gone
"""
)

# KEYS: announced; ARGV: user, status -> 1 when changed
_ANNOUNCE = """
local previous = redis.call('HGET', KEYS[1], ARGV[1]) or 'offline'
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if previous == ARGV[2] then return 0 end
return 1
"""


class RedisConnectionStore:
    def __init__(self, redis: Redis, prefix: str = "gp:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._add: Any = redis.register_script(_ADD)
        self._remove: Any = redis.register_script(_REMOVE)
        self._count: Any = redis.register_script(_COUNT)
        self._lapsed: Any = redis.register_script(_LAPSED)
        self._announce: Any = redis.register_script(_ANNOUNCE)

    def _conn(self, user_id: str) -> str:
        return f"{self._prefix}conn:{user_id}"

    @property
    def _users(self) -> str:
        return f"{self._prefix}users"

    async def add(self, user_id: str, sid: str, lease_seconds: float) -> int:
        keys = [self._conn(user_id), self._users]
        return int(await self._add(keys=keys, args=[user_id, sid, round(lease_seconds * 1000)]))

    async def remove(self, user_id: str, sid: str) -> int:
        return int(await self._remove(keys=[self._conn(user_id), self._users], args=[user_id, sid]))

    async def count(self, user_id: str) -> int:
        return int(await self._count(keys=[self._conn(user_id)]))

    async def renew(self, connections: list[tuple[str, str]], lease_seconds: float) -> None:
        lease_ms = round(lease_seconds * 1000)
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id, sid in connections:
                await self._add(
                    keys=[self._conn(user_id), self._users],
                    args=[user_id, sid, lease_ms],
                    client=pipe,
                )
            await pipe.execute()

    async def choose(self, user_id: str, status: str) -> None:
        await self._redis.hset(f"{self._prefix}chosen", user_id, status)

    async def chosen(self, user_ids: list[str]) -> dict[str, str]:
        if not user_ids:
            return {}
        values = await self._redis.hmget(f"{self._prefix}chosen", user_ids)
        return {u: _text(v) for u, v in zip(user_ids, values, strict=True) if v is not None}

    async def live_counts(self, user_ids: list[str]) -> dict[str, int]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                await self._count(keys=[self._conn(user_id)], client=pipe)
            counts = await pipe.execute()
        return {u: int(c) for u, c in zip(user_ids, counts, strict=True)}

    async def announce(self, user_id: str, status: str) -> bool:
        return bool(await self._announce(keys=[f"{self._prefix}announced"], args=[user_id, status]))

    async def lapsed(self) -> list[str]:
        gone = await self._lapsed(keys=[self._users], args=[self._prefix])
        return [_text(user) for user in gone]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
