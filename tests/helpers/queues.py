"""Queues for tests: a unique namespace per test, on RabbitMQ or in process."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aio_pika

from goftogu.bus import Handlers
from goftogu.queueing import DEAD_SUFFIX, Delivery, Queue, QueuePolicy
from goftogu.queueing.memory import MemoryQueue
from goftogu.queueing.rabbitmq import RabbitQueue
from goftogu.queueing.relay import OutboxRelay, OutboxWritten
from goftogu.storage.database import Database
from goftogu.storage.work import UnitsOfWork

# Fast retries, few attempts: the tests see every step without waiting long.
FAST_POLICY = QueuePolicy(max_attempts=3, retry_base_seconds=0.05, retry_max_seconds=0.2)
WAIT_SECONDS = 30.0


@dataclass
class QueueWorld:
    """Queue instances of one backend sharing a test-unique namespace.

    ``new()`` gives another instance (another connection on RabbitMQ: another
    worker); ``name`` is a queue name no other test uses.
    """

    backend: str
    broker_url: str | None = None
    prefix: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex[:12]}.")
    instances: list[Queue] = field(default_factory=list)
    _memory: MemoryQueue | None = None

    @property
    def name(self) -> str:
        return "jobs"

    def new(self, policy: QueuePolicy = FAST_POLICY) -> Queue:
        queue: Queue
        if self.backend == "memory":
            # One process, one in-process queue: "another worker" is another consumer.
            if self._memory is None:
                self._memory = MemoryQueue(default_policy=policy)
            queue = self._memory
        else:
            assert self.broker_url is not None
            queue = RabbitQueue(self.broker_url, prefix=self.prefix, default_policy=policy)
        self.instances.append(queue)
        return queue

    async def close(self) -> None:
        for queue in self.instances:
            with contextlib.suppress(Exception):
                await queue.close()
        if self.backend == "rabbitmq" and self.broker_url:
            await delete_queues(self.broker_url, [self.prefix + self.name])


async def delete_queues(broker_url: str, names: list[str]) -> None:
    connection = await aio_pika.connect(broker_url)
    try:
        channel = await connection.channel()
        for name in names:
            for queue in (name, name + DEAD_SUFFIX):
                await channel.queue_delete(queue)
    finally:
        await connection.close()


@dataclass
class Recorder:
    """A handler that records each delivery, then does what ``behaviour`` says."""

    behaviour: Callable[[Delivery], Awaitable[None]] | None = None
    deliveries: list[Delivery] = field(default_factory=list)

    async def __call__(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        if self.behaviour is not None:
            await self.behaviour(delivery)

    @property
    def attempts(self) -> list[int]:
        return [delivery.attempt for delivery in self.deliveries]


def outbox_writer(database: Database, relay: OutboxRelay | None = None) -> UnitsOfWork:
    """Units of work on ``database`` for writing outbox rows, whose commits wake
    ``relay`` as they do in a process (the composition root's handler)."""

    async def wake(_event: OutboxWritten) -> None:
        if relay is not None:
            relay.wake()

    return UnitsOfWork(database, Handlers().after_commit(OutboxWritten, wake).build())
