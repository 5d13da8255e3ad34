"""Operator availability and capacity: who may be offered a support chat now.

An operator is offered chats while they are ``online``, ``accepting`` and
connected (at least one live socket), and below capacity. Their load is the
set of their ``OPEN`` chats plus slots *held* for chats a worker is about to
assign to them. Holding a slot and choosing the operator is one atomic step
(a Lua script in Redis, a lock in process): least loaded first, then the one
idle longest (least recently given a chat).

Every write is idempotent (sets of chat ids, not counters): a worker that dies
between holding a slot and confirming it leaves a hold that expires, a job
delivered twice confirms the same chat twice, a close released twice frees
one slot. Connections are leases the gateway refreshes, so a node that dies
stops counting and a Redis that restarts learns them again. Chosen statuses
and open chats come back from the databases (``AvailabilitySeed``) the first
time the state is found missing.

``OperatorAvailability`` is the port; ``MemoryOperatorAvailability`` here and
``goftogu.presence.operators_redis.RedisOperatorAvailability`` implement it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class OperatorStatus(StrEnum):
    online = "online"
    away = "away"
    offline = "offline"


@dataclass(frozen=True)
class OperatorState:
    operator_id: str
    status: OperatorStatus
    accepting: bool
    connections: int
    chats: frozenset[str]
    holds: int
    idle_since: float
    capacity: int | None = None  # their own; None: the default

    def capacity_or(self, default: int) -> int:
        return self.capacity if self.capacity is not None else default

    @property
    def load(self) -> int:
        return len(self.chats) + self.holds

    @property
    def offered_chats(self) -> bool:
        """Online, accepting and connected: routing may offer chats (capacity aside)."""
        return self.status is OperatorStatus.online and self.accepting and self.connections > 0

    def free_slots(self, capacity: int) -> int:
        """Free slots, ``capacity`` being the default for an operator without their own."""
        return max(0, self.capacity_or(capacity) - self.load) if self.offered_chats else 0


@dataclass(frozen=True)
class AvailabilitySeed:
    """What presence is rebuilt from: chosen statuses (relational table) and each
    operator's open chats (the chat store)."""

    statuses: dict[str, tuple[OperatorStatus, bool]] = field(default_factory=dict)
    open_chats: dict[str, set[str]] = field(default_factory=dict)
    capacities: dict[str, int] = field(default_factory=dict)


SeedLoader = Callable[[], Awaitable[AvailabilitySeed]]


async def empty_seed() -> AvailabilitySeed:
    return AvailabilitySeed()


class OperatorAvailability(Protocol):
    async def set_status(
        self, operator_id: str, status: OperatorStatus, accepting: bool
    ) -> OperatorState:
        """Record the operator's chosen status (already stored durably by the caller)."""
        ...

    async def connection_opened(self, operator_id: str, connection_id: str) -> OperatorState:
        """A socket of the operator connected; it counts for ``lease_seconds``."""
        ...

    async def connection_closed(self, operator_id: str, connection_id: str) -> OperatorState: ...

    async def refresh_connections(self, connections: Sequence[tuple[str, str]]) -> None:
        """Renew the leases of live ``(operator_id, connection_id)`` pairs (the
        gateway's heartbeat; also how they come back after Redis lost them)."""
        ...

    async def reserve(
        self, chat_id: str, capacity: int, among: Collection[str] | None = None
    ) -> str | None:
        """Choose an operator to offer ``chat_id`` (online, accepting, connected,
        below their capacity, ``capacity`` by default; least loaded, then idle
        longest; only those in ``among`` when given) and hold one of their slots,
        atomically. The same chat asking again while its hold lives gets the same
        operator. None: nobody can take it."""
        ...

    async def set_capacity(self, operator_id: str, capacity: int | None) -> OperatorState:
        """The operator's own capacity (None: the default); stored durably by the caller."""
        ...

    async def reserve_operator(self, operator_id: str, chat_id: str, capacity: int) -> bool:
        """Hold a slot of this operator for ``chat_id`` (claim, transfer) when they are
        below their capacity (``capacity`` by default), whatever their status."""
        ...

    async def confirm(self, operator_id: str, chat_id: str) -> None:
        """The chat is now ``OPEN`` with this operator: the hold becomes load."""
        ...

    async def release(self, operator_id: str, chat_id: str) -> None:
        """The chat no longer takes a slot of this operator (closed, transferred away,
        lost the race)."""
        ...

    async def state(self, operator_id: str) -> OperatorState: ...

    async def states(self) -> list[OperatorState]:
        """Every operator known to presence."""
        ...


async def free_slots(availability: OperatorAvailability, capacity: int) -> int:
    """Chats that could be offered right now, over every operator."""
    return sum(state.free_slots(capacity) for state in await availability.states())


@dataclass
class _Operator:
    status: OperatorStatus = OperatorStatus.offline
    accepting: bool = False
    idle_since: float = 0.0
    connections: dict[str, float] = field(default_factory=dict)  # id -> lease expiry
    chats: set[str] = field(default_factory=set)
    holds: dict[str, float] = field(default_factory=dict)  # chat id -> hold expiry
    capacity: int | None = None

    def expire(self, now: float) -> None:
        self.connections = {c: until for c, until in self.connections.items() if until > now}
        self.holds = {c: until for c, until in self.holds.items() if until > now}

    def load(self) -> int:
        return len(self.chats) + len(self.holds)


class MemoryOperatorAvailability:
    """The embedded implementation: the same rules in this process, under one lock."""

    def __init__(
        self,
        seed: SeedLoader = empty_seed,
        *,
        lease_seconds: float = 60.0,
        hold_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._seed = seed
        self._lease = lease_seconds
        self._hold = hold_seconds
        self._clock = clock
        self._operators: dict[str, _Operator] = {}
        self._lock = asyncio.Lock()
        self._ready = False

    async def _restore_if_needed(self) -> None:
        if self._ready:
            return
        seed = await self._seed()
        for operator_id, (status, accepting) in seed.statuses.items():
            operator = self._operators.setdefault(operator_id, _Operator())
            operator.status, operator.accepting = status, accepting
        for operator_id, chats in seed.open_chats.items():
            self._operators.setdefault(operator_id, _Operator()).chats |= chats
        for operator_id, capacity in seed.capacities.items():
            operator = self._operators.setdefault(operator_id, _Operator())
            if operator.capacity is None:
                operator.capacity = capacity
        self._ready = True

    def _operator(self, operator_id: str) -> _Operator:
        operator = self._operators.setdefault(operator_id, _Operator())
        operator.expire(self._clock())
        return operator

    def _state(self, operator_id: str) -> OperatorState:
        operator = self._operator(operator_id)
        return OperatorState(
            operator_id=operator_id,
            status=operator.status,
            accepting=operator.accepting,
            connections=len(operator.connections),
            chats=frozenset(operator.chats),
            holds=len(operator.holds),
            idle_since=operator.idle_since,
            capacity=operator.capacity,
        )

    async def set_status(
        self, operator_id: str, status: OperatorStatus, accepting: bool
    ) -> OperatorState:
        async with self._lock:
            operator = self._operator(operator_id)
            operator.status, operator.accepting = status, accepting
            if not operator.idle_since:
                operator.idle_since = self._clock()
            return self._state(operator_id)

    async def connection_opened(self, operator_id: str, connection_id: str) -> OperatorState:
        async with self._lock:
            self._operator(operator_id).connections[connection_id] = self._clock() + self._lease
            return self._state(operator_id)

    async def connection_closed(self, operator_id: str, connection_id: str) -> OperatorState:
        async with self._lock:
            self._operator(operator_id).connections.pop(connection_id, None)
            return self._state(operator_id)

    async def refresh_connections(self, connections: Sequence[tuple[str, str]]) -> None:
        async with self._lock:
            until = self._clock() + self._lease
            for operator_id, connection_id in connections:
                self._operator(operator_id).connections[connection_id] = until

    async def set_capacity(self, operator_id: str, capacity: int | None) -> OperatorState:
        async with self._lock:
            await self._restore_if_needed()
            self._operator(operator_id).capacity = capacity
            return self._state(operator_id)

    async def reserve(
        self, chat_id: str, capacity: int, among: Collection[str] | None = None
    ) -> str | None:
        async with self._lock:
            await self._restore_if_needed()
            now = self._clock()
            for operator_id in self._operators:
                operator = self._operator(operator_id)
                if chat_id in operator.holds:
                    operator.holds[chat_id] = now + self._hold
                    return operator_id
            candidates = [
                (operator.load(), operator.idle_since, operator_id)
                for operator_id in list(self._operators)
                if (among is None or operator_id in among)
                and (operator := self._operator(operator_id)).status is OperatorStatus.online
                and operator.accepting
                and operator.connections
                and operator.load() < _capacity(operator, capacity)
            ]
            if not candidates:
                return None
            _, _, chosen = min(candidates)
            operator = self._operators[chosen]
            operator.holds[chat_id] = now + self._hold
            operator.idle_since = now
            return chosen

    async def reserve_operator(self, operator_id: str, chat_id: str, capacity: int) -> bool:
        async with self._lock:
            await self._restore_if_needed()
            operator = self._operator(operator_id)
            if chat_id in operator.chats or chat_id in operator.holds:
                return True
            if operator.load() >= _capacity(operator, capacity):
                return False
            now = self._clock()
            operator.holds[chat_id] = now + self._hold
            operator.idle_since = now
            return True

    async def confirm(self, operator_id: str, chat_id: str) -> None:
        async with self._lock:
            operator = self._operator(operator_id)
            operator.holds.pop(chat_id, None)
            operator.chats.add(chat_id)

    async def release(self, operator_id: str, chat_id: str) -> None:
        async with self._lock:
            operator = self._operator(operator_id)
            operator.holds.pop(chat_id, None)
            operator.chats.discard(chat_id)

    async def state(self, operator_id: str) -> OperatorState:
        async with self._lock:
            await self._restore_if_needed()
            return self._state(operator_id)

    async def states(self) -> list[OperatorState]:
        async with self._lock:
            await self._restore_if_needed()
            return [self._state(operator_id) for operator_id in list(self._operators)]


def _capacity(operator: _Operator, default: int) -> int:
    return operator.capacity if operator.capacity is not None else default
