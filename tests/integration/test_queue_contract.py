"""The queue port's contract, run against RabbitMQ and the in-process queue alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Literal

import pytest

from goftogu.errors import NotFound
from goftogu.queueing import Delivery, QueueMessage, QueuePolicy, Reject, Retry
from tests.helpers.queues import FAST_POLICY, QueueWorld, Recorder
from tests.helpers.waiting import eventually


class Ping(QueueMessage):
    type: Literal["ping"] = "ping"
    text: str


@pytest.fixture(params=["memory", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)])
async def world(request: pytest.FixtureRequest) -> AsyncIterator[QueueWorld]:
    broker_url = request.getfixturevalue("broker_url") if request.param == "rabbitmq" else None
    world = QueueWorld(request.param, broker_url)
    yield world
    await world.close()


async def test_a_published_message_reaches_a_consumer_with_its_id_and_body(
    world: QueueWorld,
) -> None:
    queue = world.new()
    received = Recorder()
    await queue.consume(world.name, received)

    message_id = await queue.publish(world.name, Ping(text="سلام"), message_id="m-1")

    await eventually(lambda: len(received.deliveries) == 1)
    delivery = received.deliveries[0]
    assert message_id == "m-1"
    assert delivery.message_id == "m-1"
    assert delivery.parse(Ping) == Ping(text="سلام")
    assert (delivery.attempt, delivery.redelivered) == (1, False)
    assert await queue.depth(world.name) == 0


async def test_bytes_and_mappings_are_published_as_they_are(world: QueueWorld) -> None:
    queue = world.new()
    received = Recorder()
    await queue.consume(world.name, received)

    await queue.publish(world.name, b"\x00raw")
    await queue.publish(world.name, {"chat_id": "c1"})

    await eventually(lambda: len(received.deliveries) == 2)
    bodies = {delivery.body for delivery in received.deliveries}
    assert bodies == {b"\x00raw", b'{"chat_id":"c1"}'}


async def test_a_message_is_acked_only_after_its_handler_returns(world: QueueWorld) -> None:
    """A handler that raises (its work was not committed) gets the message again."""
    queue = world.new()

    async def fail_first(delivery: Delivery) -> None:
        if delivery.attempt == 1:
            raise RuntimeError("database went away before the commit")

    received = Recorder(fail_first)
    await queue.consume(world.name, received)
    await queue.publish(world.name, Ping(text="x"), message_id="m-ack")

    await eventually(lambda: len(received.deliveries) == 2)
    assert received.attempts == [1, 2]
    assert [d.message_id for d in received.deliveries] == ["m-ack", "m-ack"]
    assert await queue.dead_letters(world.name) == []


async def test_a_message_whose_worker_stops_mid_handler_goes_to_another_worker(
    world: QueueWorld,
) -> None:
    first, second = world.new(), world.new()
    started, never = asyncio.Event(), asyncio.Event()

    async def hang(delivery: Delivery) -> None:
        started.set()
        await never.wait()

    stuck = Recorder(hang)
    consumer = await first.consume(world.name, stuck)
    await first.publish(world.name, Ping(text="x"), message_id="m-crash")
    await asyncio.wait_for(started.wait(), 30)

    await consumer.stop(grace=0)  # the handler is cut off before it settles
    taker = Recorder()
    await second.consume(world.name, taker)

    await eventually(lambda: len(taker.deliveries) == 1)
    delivery = taker.deliveries[0]
    assert delivery.message_id == "m-crash"
    assert delivery.redelivered is True
    assert delivery.attempt == 2


async def test_retries_back_off_and_then_succeed(world: QueueWorld) -> None:
    queue = world.new()

    async def flaky(delivery: Delivery) -> None:
        if delivery.parse(Ping).text == "witness":
            if delivery.attempt == 1:
                raise Retry(0.5, "a witness: back later than any retry of x")
            return
        if delivery.attempt == 1:
            raise Retry(0.05, "operator presence not ready")
        if delivery.attempt == 2:
            raise ConnectionError("redis reset")  # any exception is transient

    received = Recorder(flaky)
    await queue.consume(world.name, received)
    await queue.publish(world.name, Ping(text="x"))

    await eventually(lambda: len(received.deliveries) == 3)
    assert received.attempts == [1, 2, 3]
    assert all(not d.redelivered for d in received.deliveries)
    # Once the witness is back from its longer retry, a wrong extra delivery of x
    # (from any of its shorter retries) would have come first.
    await queue.publish(world.name, Ping(text="witness"))
    await eventually(lambda: len(received.deliveries) == 5)
    assert [d.parse(Ping).text for d in received.deliveries] == ["x"] * 3 + ["witness"] * 2
    assert await queue.dead_letters(world.name) == []


async def test_a_message_failing_every_attempt_is_dead_lettered_with_its_last_error(
    world: QueueWorld,
) -> None:
    queue = world.new()

    async def broken(delivery: Delivery) -> None:
        raise ValueError(f"boom on attempt {delivery.attempt}")

    received = Recorder(broken)
    await queue.consume(world.name, received, policy=FAST_POLICY)
    await queue.publish(world.name, Ping(text="x"), message_id="m-dead")

    await eventually(lambda: len(received.deliveries) == FAST_POLICY.max_attempts)
    await eventually(_has_dead_letters(queue, world.name))
    [dead] = await queue.dead_letters(world.name)
    assert dead.message_id == "m-dead"
    assert dead.reason == "max_attempts"
    assert dead.attempts == 3
    assert dead.error == "ValueError: boom on attempt 3"
    assert Ping.model_validate_json(dead.body) == Ping(text="x")
    assert received.attempts == [1, 2, 3]


async def test_a_rejected_message_is_dead_lettered_at_once_with_the_reason(
    world: QueueWorld,
) -> None:
    queue = world.new()

    async def refuse(delivery: Delivery) -> None:
        raise Reject("chat belongs to a deleted account")

    received = Recorder(refuse)
    await queue.consume(world.name, received)
    await queue.publish(world.name, Ping(text="x"), message_id="m-reject")

    await eventually(_has_dead_letters(queue, world.name))
    [dead] = await queue.dead_letters(world.name)
    assert (dead.reason, dead.error, dead.attempts) == (
        "rejected",
        "chat belongs to a deleted account",
        1,
    )
    assert received.attempts == [1]


async def test_a_domain_error_or_a_malformed_message_is_dead_lettered_at_once(
    world: QueueWorld,
) -> None:
    queue = world.new()

    async def handle(delivery: Delivery) -> None:
        message = delivery.parse(Ping)
        if message.text == "missing":
            raise NotFound("no such chat")

    received = Recorder(handle)
    await queue.consume(world.name, received)
    await queue.publish(world.name, {"type": "ping"}, message_id="m-malformed")
    await queue.publish(world.name, Ping(text="missing"), message_id="m-missing")

    await eventually(_has_dead_letters(queue, world.name, 2))
    dead = {letter.message_id: letter for letter in await queue.dead_letters(world.name)}
    assert dead["m-malformed"].reason == "malformed"
    assert "text" in dead["m-malformed"].error
    assert (dead["m-missing"].reason, dead["m-missing"].error) == (
        "rejected",
        "not_found: no such chat",
    )
    assert received.attempts == [1, 1]


async def test_a_message_that_never_settles_is_dead_lettered_after_max_attempts(
    world: QueueWorld,
) -> None:
    """A message that kills every worker that takes it must not loop for ever."""
    policy = QueuePolicy(max_attempts=2, retry_base_seconds=0.05)
    queue = world.new(policy)
    await queue.publish(world.name, Ping(text="poison"), message_id="m-poison")
    for _ in range(policy.max_attempts):
        started, never = asyncio.Event(), asyncio.Event()

        async def hang(
            delivery: Delivery, started: asyncio.Event = started, never: asyncio.Event = never
        ) -> None:
            started.set()
            await never.wait()

        consumer = await world.new(policy).consume(world.name, hang, policy=policy)
        await asyncio.wait_for(started.wait(), 30)
        await consumer.stop(grace=0)

    survivor = Recorder()
    await world.new(policy).consume(world.name, survivor, policy=policy)

    await eventually(_has_dead_letters(queue, world.name))
    [dead] = await queue.dead_letters(world.name)
    assert (dead.message_id, dead.reason, dead.attempts) == ("m-poison", "max_attempts", 2)
    assert survivor.deliveries == []


async def test_prefetch_bounds_the_handlers_running_at_once(world: QueueWorld) -> None:
    queue = world.new()
    running, most, gate = 0, 0, asyncio.Semaphore(0)
    done: list[str] = []

    async def slow(delivery: Delivery) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await gate.acquire()
        running -= 1
        done.append(delivery.message_id)

    for number in range(10):
        await queue.publish(world.name, Ping(text=str(number)))
    await queue.consume(world.name, slow, prefetch=2)

    await eventually(lambda: running == 2)
    # The broker holds the rest back: exactly 8 still wait in the queue.
    await eventually(lambda: _depth_is(queue, world.name, 8))
    for _ in range(10):
        gate.release()
        await asyncio.sleep(0)
    await eventually(lambda: len(done) == 10)
    assert most == 2


def _has_dead_letters(queue: object, name: str, count: int = 1):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        return len(await queue.dead_letters(name)) >= count  # type: ignore[attr-defined]

    return check


async def _depth_is(queue: object, name: str, expected: int) -> bool:
    return await queue.depth(name) == expected  # type: ignore[attr-defined, no-any-return]
