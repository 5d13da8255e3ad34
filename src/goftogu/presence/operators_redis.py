"""Operator availability in Redis, shared by every gateway and worker.

Keys (one hash tag, so a Redis Cluster keeps them on one node for the scripts)::

    goftogu:{support}:ready              set once the state was rebuilt from the databases
    goftogu:{support}:ops                set of operator ids
    goftogu:{support}:op:<id>            hash: status, accepting (0/1), idle_since, capacity
                                         (their own; absent: the default the caller gives)
    goftogu:{support}:op:<id>:conns      zset: connection id -> lease expiry
    goftogu:{support}:op:<id>:chats      set: OPEN chat ids (the load)
    goftogu:{support}:op:<id>:holds      zset: chat id -> hold expiry (slots being assigned)
    goftogu:{support}:hold:<chat id>     the operator holding a slot for that chat (expires)

Choosing an operator and holding their slot is one Lua script, so any number
of workers may reserve at once without two taking the last slot. When the
``ready`` key is missing (a new or restarted Redis), the scripts answer
``restore``; the state is then rebuilt from the seed (statuses from the
relational table, open chats from the chat store) by another script that only
fills what is missing, and the call is tried again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any

from redis.asyncio import Redis

from goftogu.presence.operators import (
    AvailabilitySeed,
    OperatorState,
    OperatorStatus,
    SeedLoader,
    empty_seed,
)

PREFIX = "goftogu:{support}:"

_RESERVE = """
local p, chat = ARGV[1], ARGV[2]
local capacity, now, hold_until = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if redis.call('EXISTS', p .. 'ready') == 0 then return {'restore'} end
-- ARGV[6]: a JSON array of the operators to choose among ('' for everyone)
local among = nil
if ARGV[6] ~= '' then
  among = {}
  for _, op in ipairs(cjson.decode(ARGV[6])) do among[op] = true end
end
local held = redis.call('GET', p .. 'hold:' .. chat)
if held then
  local k = p .. 'op:' .. held
  if redis.call('ZSCORE', k .. ':holds', chat) then
    redis.call('ZADD', k .. ':holds', hold_until, chat)
    redis.call('SET', p .. 'hold:' .. chat, held, 'PX', math.floor((hold_until - now) * 1000))
    return {'ok', held}
  end
end
local best, best_load, best_idle = nil, nil, nil
for _, op in ipairs(redis.call('SMEMBERS', p .. 'ops')) do
  local k = p .. 'op:' .. op
  local st = redis.call('HMGET', k, 'status', 'accepting', 'idle_since', 'capacity')
  local cap = tonumber(st[4] or '') or capacity
  if (among == nil or among[op]) and st[1] == 'online' and st[2] == '1' then
    redis.call('ZREMRANGEBYSCORE', k .. ':conns', '-inf', now)
    if redis.call('ZCARD', k .. ':conns') > 0 then
      redis.call('ZREMRANGEBYSCORE', k .. ':holds', '-inf', now)
      local load = redis.call('SCARD', k .. ':chats') + redis.call('ZCARD', k .. ':holds')
      local idle = tonumber(st[3] or '0')
      if load < cap and (best == nil or load < best_load
          or (load == best_load and idle < best_idle)) then
        best, best_load, best_idle = op, load, idle
      end
    end
  end
end
if best == nil then return {'none'} end
local k = p .. 'op:' .. best
redis.call('ZADD', k .. ':holds', hold_until, chat)
redis.call('SET', p .. 'hold:' .. chat, best, 'PX', math.floor((hold_until - now) * 1000))
redis.call('HSET', k, 'idle_since', now)
return {'ok', best}
"""

_RESERVE_OPERATOR = """
local p, op, chat = ARGV[1], ARGV[2], ARGV[3]
local capacity, now, hold_until = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
if redis.call('EXISTS', p .. 'ready') == 0 then return {'restore'} end
local k = p .. 'op:' .. op
redis.call('SADD', p .. 'ops', op)
if redis.call('SISMEMBER', k .. ':chats', chat) == 1 then return {'ok'} end
if redis.call('ZSCORE', k .. ':holds', chat) then return {'ok'} end
redis.call('ZREMRANGEBYSCORE', k .. ':holds', '-inf', now)
local load = redis.call('SCARD', k .. ':chats') + redis.call('ZCARD', k .. ':holds')
local cap = tonumber(redis.call('HGET', k, 'capacity') or '') or capacity
if load >= cap then return {'full'} end
redis.call('ZADD', k .. ':holds', hold_until, chat)
redis.call('SET', p .. 'hold:' .. chat, op, 'PX', math.floor((hold_until - now) * 1000))
redis.call('HSET', k, 'idle_since', now)
return {'ok'}
"""

_RESTORE = """
local p = ARGV[1]
if redis.call('EXISTS', p .. 'ready') == 1 then return 0 end
local seed = cjson.decode(ARGV[2])
for op, chosen in pairs(seed.statuses) do
  local k = p .. 'op:' .. op
  redis.call('SADD', p .. 'ops', op)
  -- what was written since the restart is newer than the seed: keep it
  redis.call('HSETNX', k, 'status', chosen[1])
  redis.call('HSETNX', k, 'accepting', chosen[2])
  redis.call('HSETNX', k, 'idle_since', ARGV[3])
end
for op, chats in pairs(seed.open_chats) do
  redis.call('SADD', p .. 'ops', op)
  for _, chat in ipairs(chats) do redis.call('SADD', p .. 'op:' .. op .. ':chats', chat) end
end
for op, capacity in pairs(seed.capacities) do
  redis.call('SADD', p .. 'ops', op)
  redis.call('HSETNX', p .. 'op:' .. op, 'capacity', capacity)
end
redis.call('SET', p .. 'ready', ARGV[3])
return 1
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisOperatorAvailability:
    """Operator presence and capacity shared through Redis."""

    def __init__(
        self,
        redis: Redis,
        seed: SeedLoader = empty_seed,
        *,
        lease_seconds: float = 60.0,
        hold_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
        prefix: str = PREFIX,
    ) -> None:
        self._redis = redis
        self._seed = seed
        self._lease = lease_seconds
        self._hold = hold_seconds
        self._clock = clock
        self._p = prefix
        self._reserve = redis.register_script(_RESERVE)
        self._reserve_operator = redis.register_script(_RESERVE_OPERATOR)
        self._restore = redis.register_script(_RESTORE)

    def _key(self, operator_id: str, suffix: str = "") -> str:
        return f"{self._p}op:{operator_id}{suffix}"

    async def _run(self, script: Any, *args: Any) -> list[Any]:
        """Run a script that needs the rebuilt state; rebuild once when asked to."""
        result: list[Any] = await script(args=[self._p, *args])
        if result and _text(result[0]) == "restore":
            await self.restore(await self._seed())
            result = await script(args=[self._p, *args])
        return result

    async def _restore_if_needed(self) -> None:
        if not await self._redis.exists(f"{self._p}ready"):
            await self.restore(await self._seed())

    async def restore(self, seed: AvailabilitySeed) -> bool:
        """Fill what is missing from ``seed``; False when another process did it first."""
        payload = {
            "statuses": {
                op: [status.value, "1" if accepting else "0"]
                for op, (status, accepting) in seed.statuses.items()
            },
            "open_chats": {op: sorted(chats) for op, chats in seed.open_chats.items()},
            "capacities": seed.capacities,
        }
        restored = await self._restore(args=[self._p, json.dumps(payload), self._clock()])
        return bool(restored)

    async def set_status(
        self, operator_id: str, status: OperatorStatus, accepting: bool
    ) -> OperatorState:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(f"{self._p}ops", operator_id)
            pipe.hset(
                self._key(operator_id),
                mapping={"status": status.value, "accepting": "1" if accepting else "0"},
            )
            pipe.hsetnx(self._key(operator_id), "idle_since", self._clock())
            await pipe.execute()
        return await self.state(operator_id)

    async def connection_opened(self, operator_id: str, connection_id: str) -> OperatorState:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(f"{self._p}ops", operator_id)
            pipe.zadd(
                self._key(operator_id, ":conns"), {connection_id: self._clock() + self._lease}
            )
            await pipe.execute()
        return await self.state(operator_id)

    async def connection_closed(self, operator_id: str, connection_id: str) -> OperatorState:
        await self._redis.zrem(self._key(operator_id, ":conns"), connection_id)
        return await self.state(operator_id)

    async def refresh_connections(self, connections: Sequence[tuple[str, str]]) -> None:
        if not connections:
            return
        until = self._clock() + self._lease
        async with self._redis.pipeline(transaction=False) as pipe:
            for operator_id, connection_id in connections:
                pipe.sadd(f"{self._p}ops", operator_id)
                pipe.zadd(self._key(operator_id, ":conns"), {connection_id: until})
            await pipe.execute()

    async def set_capacity(self, operator_id: str, capacity: int | None) -> OperatorState:
        await self._restore_if_needed()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(f"{self._p}ops", operator_id)
            if capacity is None:
                pipe.hdel(self._key(operator_id), "capacity")
            else:
                pipe.hset(self._key(operator_id), "capacity", capacity)
            await pipe.execute()
        return await self.state(operator_id)

    async def reserve(
        self, chat_id: str, capacity: int, among: Collection[str] | None = None
    ) -> str | None:
        now = self._clock()
        chosen = "" if among is None else json.dumps(sorted(among))
        result = await self._run(self._reserve, chat_id, capacity, now, now + self._hold, chosen)
        return _text(result[1]) if _text(result[0]) == "ok" else None

    async def reserve_operator(self, operator_id: str, chat_id: str, capacity: int) -> bool:
        now = self._clock()
        result = await self._run(
            self._reserve_operator, operator_id, chat_id, capacity, now, now + self._hold
        )
        return _text(result[0]) == "ok"

    async def confirm(self, operator_id: str, chat_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(f"{self._p}ops", operator_id)
            pipe.sadd(self._key(operator_id, ":chats"), chat_id)
            pipe.zrem(self._key(operator_id, ":holds"), chat_id)
            pipe.delete(f"{self._p}hold:{chat_id}")
            await pipe.execute()

    async def release(self, operator_id: str, chat_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.srem(self._key(operator_id, ":chats"), chat_id)
            pipe.zrem(self._key(operator_id, ":holds"), chat_id)
            await pipe.execute()

    async def state(self, operator_id: str) -> OperatorState:
        await self._restore_if_needed()
        return (await self._states([operator_id]))[0]

    async def states(self) -> list[OperatorState]:
        await self._restore_if_needed()
        operator_ids = sorted(_text(op) for op in await self._redis.smembers(f"{self._p}ops"))
        return await self._states(operator_ids)

    async def _states(self, operator_ids: Sequence[str]) -> list[OperatorState]:
        now = self._clock()
        async with self._redis.pipeline(transaction=False) as pipe:
            for operator_id in operator_ids:
                pipe.hgetall(self._key(operator_id))
                pipe.zcount(self._key(operator_id, ":conns"), f"({now}", "+inf")
                pipe.smembers(self._key(operator_id, ":chats"))
                pipe.zcount(self._key(operator_id, ":holds"), f"({now}", "+inf")
            replies = await pipe.execute()
        states = []
        for index, operator_id in enumerate(operator_ids):
            raw_fields, connections, chats, holds = replies[index * 4 : index * 4 + 4]
            fields = {_text(key): _text(value) for key, value in raw_fields.items()}
            states.append(
                OperatorState(
                    operator_id=operator_id,
                    status=OperatorStatus(fields.get("status", OperatorStatus.offline.value)),
                    accepting=fields.get("accepting") == "1",
                    connections=int(connections),
                    chats=frozenset(_text(chat) for chat in chats),
                    holds=int(holds),
                    idle_since=float(fields.get("idle_since", 0) or 0),
                    capacity=int(fields["capacity"]) if fields.get("capacity") else None,
                )
            )
        return states
