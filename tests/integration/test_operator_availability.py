"""One contract for operator availability in process and in Redis: who is offered
chats, atomic slot holds, capacity, leases, and rebuilding lost state."""

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from goftogu.presence.operators import (
    AvailabilitySeed,
    MemoryOperatorAvailability,
    OperatorAvailability,
    OperatorStatus,
    SeedLoader,
    empty_seed,
    free_slots,
)
from goftogu.presence.operators_redis import RedisOperatorAvailability

ONLINE = OperatorStatus.online


class Clock:
    """Time the test moves by hand (leases and holds expire with it)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Fixture:
    make: Callable[..., OperatorAvailability]
    clock: Clock


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Fixture]:
    clock = Clock()
    if request.param == "memory":

        def make_memory(seed: SeedLoader = empty_seed) -> OperatorAvailability:
            return MemoryOperatorAvailability(seed, lease_seconds=30, hold_seconds=10, clock=clock)

        yield Fixture(make_memory, clock)
        return
    client = Redis.from_url(request.getfixturevalue("redis_url"), decode_responses=True)

    def make_redis(seed: SeedLoader = empty_seed) -> OperatorAvailability:
        return RedisOperatorAvailability(
            client, seed, lease_seconds=30, hold_seconds=10, clock=clock
        )

    yield Fixture(make_redis, clock)
    await client.aclose()


async def ready(availability: OperatorAvailability, operator_id: str) -> None:
    await availability.set_status(operator_id, ONLINE, True)
    await availability.connection_opened(operator_id, f"{operator_id}-socket")


async def test_an_online_accepting_connected_operator_is_offered_the_chat(
    backend: Fixture,
) -> None:
    availability = backend.make()
    await ready(availability, "op-a")
    assert await availability.reserve("chat-1", 3) == "op-a"
    state = await availability.state("op-a")
    assert (state.load, state.holds) == (1, 1)


@pytest.mark.parametrize(
    ("status", "accepting", "connected"),
    [
        (OperatorStatus.away, True, True),
        (OperatorStatus.offline, True, True),
        (OperatorStatus.online, False, True),
        (OperatorStatus.online, True, False),
    ],
)
async def test_an_operator_who_is_not_online_accepting_and_connected_is_not_offered(
    backend: Fixture, status: OperatorStatus, accepting: bool, connected: bool
) -> None:
    availability = backend.make()
    await availability.set_status("op-a", status, accepting)
    if connected:
        await availability.connection_opened("op-a", "s1")
    assert await availability.reserve("chat-1", 3) is None


async def test_the_least_loaded_operator_is_chosen_then_the_longest_idle(
    backend: Fixture,
) -> None:
    availability = backend.make()
    for name in ("op-a", "op-b", "op-c"):
        await ready(availability, name)
        backend.clock.now += 1
    chosen = []
    for index in range(6):
        backend.clock.now += 1
        chosen.append(await availability.reserve(f"chat-{index}", 3))
    # Everyone gets one before anyone gets two; ties go to whoever waited longest.
    assert chosen == ["op-a", "op-b", "op-c", "op-a", "op-b", "op-c"]


async def test_nobody_is_offered_more_than_capacity(backend: Fixture) -> None:
    availability = backend.make()
    await ready(availability, "op-a")
    assert [await availability.reserve(f"chat-{i}", 2) for i in range(3)] == [
        "op-a",
        "op-a",
        None,
    ]


async def test_concurrent_reservations_never_exceed_capacity(backend: Fixture) -> None:
    availability = backend.make()
    for index in range(5):
        await ready(availability, f"op-{index}")
    results = await asyncio.gather(*(availability.reserve(f"chat-{i}", 3) for i in range(40)))
    taken = [r for r in results if r is not None]
    assert len(taken) == 15
    assert all(taken.count(f"op-{i}") == 3 for i in range(5))


async def test_the_same_chat_asking_again_keeps_its_operator(backend: Fixture) -> None:
    availability = backend.make()
    await ready(availability, "op-a")
    await ready(availability, "op-b")
    first = await availability.reserve("chat-1", 3)
    assert await availability.reserve("chat-1", 3) == first
    assert sum(state.load for state in await availability.states()) == 1


async def test_a_confirmed_chat_is_load_until_released_once(backend: Fixture) -> None:
    availability = backend.make()
    await ready(availability, "op-a")
    await availability.reserve("chat-1", 1)
    await availability.confirm("op-a", "chat-1")
    await availability.confirm("op-a", "chat-1")  # a redelivered job
    state = await availability.state("op-a")
    assert (state.chats, state.holds) == (frozenset({"chat-1"}), 0)
    assert await availability.reserve("chat-2", 1) is None
    await availability.release("op-a", "chat-1")
    await availability.release("op-a", "chat-1")  # a close answered twice
    assert await availability.reserve("chat-2", 1) == "op-a"


async def test_a_hold_never_confirmed_expires_and_frees_the_slot(backend: Fixture) -> None:
    availability = backend.make()
    await ready(availability, "op-a")
    assert await availability.reserve("chat-1", 1) == "op-a"  # the worker then died
    assert await availability.reserve("chat-2", 1) is None
    backend.clock.now += 11
    await availability.refresh_connections([("op-a", "op-a-socket")])
    assert await availability.reserve("chat-2", 1) == "op-a"


async def test_a_connection_not_refreshed_stops_counting(backend: Fixture) -> None:
    availability = backend.make()
    await ready(availability, "op-a")
    backend.clock.now += 31  # the gateway holding the socket died
    assert (await availability.state("op-a")).connections == 0
    assert await availability.reserve("chat-1", 3) is None
    await availability.refresh_connections([("op-a", "s2")])
    assert await availability.reserve("chat-1", 3) == "op-a"


async def test_closing_the_last_connection_stops_offers(backend: Fixture) -> None:
    availability = backend.make()
    await availability.set_status("op-a", ONLINE, True)
    await availability.connection_opened("op-a", "s1")
    await availability.connection_opened("op-a", "s2")
    await availability.connection_closed("op-a", "s1")
    assert (await availability.state("op-a")).offered_chats
    await availability.connection_closed("op-a", "s2")
    assert await availability.reserve("chat-1", 3) is None


async def test_claiming_for_a_named_operator_respects_capacity_only(backend: Fixture) -> None:
    availability = backend.make()
    await availability.set_status("op-a", OperatorStatus.away, False)
    assert await availability.reserve_operator("op-a", "chat-1", 1)
    assert await availability.reserve_operator("op-a", "chat-1", 1)  # the same chat again
    assert not await availability.reserve_operator("op-a", "chat-2", 1)


async def test_state_missing_at_first_use_is_rebuilt_from_the_seed(backend: Fixture) -> None:
    async def seed() -> AvailabilitySeed:
        return AvailabilitySeed(
            statuses={"op-a": (ONLINE, True), "op-b": (ONLINE, True)},
            open_chats={"op-a": {"old-1", "old-2"}},
        )

    availability = backend.make(seed)
    await availability.refresh_connections([("op-a", "s1"), ("op-b", "s2")])
    assert await availability.reserve("chat-1", 3) == "op-b"  # op-a already has two
    state = await availability.state("op-a")
    assert state.chats == frozenset({"old-1", "old-2"})
    assert await free_slots(availability, 3) == 1 + 2


async def test_redis_state_lost_in_a_restart_comes_back_from_seed_and_leases(
    redis_url: str,
) -> None:
    client = Redis.from_url(redis_url, decode_responses=True)
    seed_state = AvailabilitySeed(statuses={"op-a": (ONLINE, True)}, open_chats={"op-a": {"c0"}})

    async def seed() -> AvailabilitySeed:
        return seed_state

    availability = RedisOperatorAvailability(client, seed)
    try:
        await availability.refresh_connections([("op-a", "s1")])
        assert await availability.reserve("c1", 3) == "op-a"
        await availability.confirm("op-a", "c1")
        await client.flushdb()  # what a restart without persistence leaves
        seed_state.open_chats["op-a"].add("c1")  # the store has it OPEN
        await availability.refresh_connections([("op-a", "s1")])  # the next heartbeat
        assert await availability.reserve("c2", 3) == "op-a"
        assert (await availability.state("op-a")).chats == frozenset({"c0", "c1"})
    finally:
        await client.aclose()


async def test_a_reservation_among_some_operators_only_chooses_among_them(
    backend: Fixture,
) -> None:
    availability = backend.make()
    for name in ("op-a", "op-b"):
        await ready(availability, name)
    assert await availability.reserve("chat-1", 3, among=["op-b"]) == "op-b"
    assert await availability.reserve("chat-2", 3, among=[]) is None
    assert await availability.reserve("chat-3", 3, among=["op-x"]) is None
    assert await availability.reserve("chat-4", 3) == "op-a"  # everyone: least loaded


async def test_an_operators_own_capacity_overrides_the_default(backend: Fixture) -> None:
    availability = backend.make()
    await ready(availability, "op-a")
    state = await availability.set_capacity("op-a", 1)
    assert (state.capacity, state.free_slots(3)) == (1, 1)
    assert await availability.reserve("chat-1", 3) == "op-a"
    assert await availability.reserve("chat-2", 3) is None
    assert not await availability.reserve_operator("op-a", "chat-3", 3)
    await availability.set_capacity("op-a", None)  # the default again
    assert await availability.reserve("chat-2", 3) == "op-a"


async def test_own_capacities_come_back_from_the_seed(backend: Fixture) -> None:
    async def seed() -> AvailabilitySeed:
        return AvailabilitySeed(statuses={"op-a": (ONLINE, True)}, capacities={"op-a": 1})

    availability = backend.make(seed)
    await availability.connection_opened("op-a", "s1")
    assert (await availability.state("op-a")).capacity == 1
    assert await availability.reserve("chat-1", 3) == "op-a"
    assert await availability.reserve("chat-2", 3) is None
