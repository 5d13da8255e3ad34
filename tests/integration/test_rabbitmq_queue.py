"""What only a real broker can show: durability, persistence, a worker killed outright."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import aiormq
import pytest

from goftogu.queueing import Delivery
from tests.helpers.queues import QueueWorld, Recorder
from tests.helpers.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def world(broker_url: str) -> AsyncIterator[QueueWorld]:
    world = QueueWorld("rabbitmq", broker_url)
    yield world
    await world.close()


async def test_messages_are_persistent_on_a_durable_queue(world: QueueWorld) -> None:
    queue = world.new()
    await queue.publish(world.name, {"chat_id": "c1"}, message_id="m-durable")

    connection = await aio_pika.connect(world.broker_url)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(world.prefix + world.name, durable=True)
        message = await declared.get(no_ack=False)
        assert message.message_id == "m-durable"
        assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        await message.reject(requeue=True)
        # Declaring it non-durable is refused: the broker holds it as durable.
        with pytest.raises(aiormq.exceptions.ChannelPreconditionFailed):
            await channel.declare_queue(world.prefix + world.name, durable=False)
    finally:
        await connection.close()


async def test_a_worker_killed_mid_handler_has_its_message_redelivered_to_another(
    world: QueueWorld,
) -> None:
    assert world.broker_url is not None
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.integration.queue_worker_process",
        world.broker_url,
        world.prefix,
        world.name,
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )
    try:
        assert worker.stdout is not None
        assert await asyncio.wait_for(worker.stdout.readline(), 60) == b"consuming\n"
        await world.new().publish(world.name, {"chat_id": "c1"}, message_id="m-killed")
        line = await asyncio.wait_for(worker.stdout.readline(), 60)
        assert line == b"started m-killed\n"
    finally:
        if worker.returncode is None:
            worker.send_signal(signal.SIGKILL)
        await worker.wait()
    assert worker.returncode == -signal.SIGKILL

    survivor = Recorder()
    await world.new().consume(world.name, survivor)

    await eventually(lambda: len(survivor.deliveries) == 1)
    delivery: Delivery = survivor.deliveries[0]
    assert delivery.message_id == "m-killed"
    assert delivery.redelivered is True
    assert delivery.attempt == 2
    assert delivery.json() == {"chat_id": "c1"}
