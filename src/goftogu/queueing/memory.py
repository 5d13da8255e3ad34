"""The in-process queue of the embedded default (P5): asyncio, one process.

Same semantics as RabbitMQ through the same contract tests: a message leaves
the queue when its handler returned, comes back when its handler raised
(after the policy's backoff) or was cancelled (redelivered), and lands in a
dead-letter list after ``max_attempts`` or a ``Reject``. What it cannot give
is durability: queued messages live in memory, so jobs that must survive a
restart are written to the outbox, which re-publishes what a restart lost
(``OutboxRelay.replay_recent``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from goftogu.ids import new_id
from goftogu.metrics import QUEUE_DELIVERIES, QUEUE_HANDLER_SECONDS
from goftogu.queueing import (
    DEAD_SUFFIX,
    Body,
    DeadLetter,
    Delivery,
    Handler,
    QueuePolicy,
    encode_body,
)
from goftogu.queueing.failures import Verdict, settle_failure, too_many_redeliveries

log = logging.getLogger(__name__)


@dataclass
class _Message:
    message_id: str
    body: bytes
    attempt: int = 1
    redelivered: bool = False


@dataclass
class _Channel:
    """One named queue: ready messages, dead letters, and a wake-up for consumers."""

    ready: deque[_Message] = field(default_factory=deque)
    dead: list[DeadLetter] = field(default_factory=list)
    nonempty: asyncio.Event = field(default_factory=asyncio.Event)
    timers: set[asyncio.TimerHandle] = field(default_factory=set)

    def put(self, message: _Message, *, front: bool = False) -> None:
        if front:
            self.ready.appendleft(message)
        else:
            self.ready.append(message)
        self.nonempty.set()

    async def take(self) -> _Message:
        while not self.ready:
            self.nonempty.clear()
            await self.nonempty.wait()
        return self.ready.popleft()


class MemoryQueue:
    """The ``Queue`` port in process memory."""

    def __init__(self, default_policy: QueuePolicy | None = None) -> None:
        self._channels: dict[str, _Channel] = {}
        self._consumers: set[MemoryConsumer] = set()
        self.default_policy = default_policy or QueuePolicy()

    def _channel(self, queue: str) -> _Channel:
        return self._channels.setdefault(queue, _Channel())

    async def publish(self, queue: str, body: Body, *, message_id: str | None = None) -> str:
        message_id = message_id or str(new_id())
        self._channel(queue).put(_Message(message_id, encode_body(body)))
        return message_id

    async def consume(
        self,
        queue: str,
        handler: Handler,
        *,
        prefetch: int = 16,
        policy: QueuePolicy | None = None,
    ) -> MemoryConsumer:
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1")
        consumer = MemoryConsumer(self, queue, handler, prefetch, policy or self.default_policy)
        self._consumers.add(consumer)
        consumer.start()
        return consumer

    async def dead_letters(self, queue: str, *, limit: int = 100) -> list[DeadLetter]:
        return list(self._channel(queue).dead[:limit])

    async def depth(self, queue: str) -> int:
        return len(self._channel(queue).ready)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        for consumer in list(self._consumers):
            await consumer.stop(grace=0)
        for channel in self._channels.values():
            for timer in channel.timers:
                timer.cancel()

    # --- settling, called by consumers ------------------------------------------

    def _requeue(self, queue: str, message: _Message, *, front: bool) -> None:
        self._channel(queue).put(message, front=front)

    def _retry_later(self, queue: str, message: _Message, delay: float) -> None:
        channel = self._channel(queue)
        loop = asyncio.get_running_loop()

        def due() -> None:
            channel.timers.discard(timer)
            channel.put(message)

        timer = loop.call_later(delay, due)
        channel.timers.add(timer)

    def _dead_letter(self, queue: str, message: _Message, verdict: Verdict, attempts: int) -> None:
        self._channel(queue).dead.append(
            DeadLetter(
                queue=queue,
                message_id=message.message_id,
                body=message.body,
                reason=verdict.reason,
                error=verdict.error,
                attempts=attempts,
                dead_at=datetime.now(UTC),
            )
        )
        log.warning(
            "message dead-lettered",
            extra={
                "queue": queue,
                "dead_letter_queue": queue + DEAD_SUFFIX,
                "message_id": message.message_id,
                "reason": verdict.reason,
                "error": verdict.error,
                "attempts": attempts,
            },
        )


class MemoryConsumer:
    """Delivers one queue's messages to a handler, at most ``prefetch`` at a time."""

    def __init__(
        self,
        owner: MemoryQueue,
        queue: str,
        handler: Handler,
        prefetch: int,
        policy: QueuePolicy,
    ) -> None:
        self.queue = queue
        self._owner = owner
        self._handler = handler
        self._policy = policy
        self._slots = asyncio.Semaphore(prefetch)
        self._inflight: dict[asyncio.Task[None], _Message] = {}
        self._loop_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._dispatch(), name=f"consume {self.queue}")

    async def _dispatch(self) -> None:
        channel = self._owner._channel(self.queue)
        while True:
            await self._slots.acquire()
            try:
                message = await channel.take()
            except BaseException:
                self._slots.release()
                raise
            # No await between taking the message and owning it in a task.
            task = asyncio.create_task(self._run(message), name=f"handle {self.queue}")
            self._inflight[task] = message
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        message = self._inflight.pop(task)
        self._slots.release()
        if task.cancelled():
            QUEUE_DELIVERIES.labels(self.queue, "unsettled").inc()
            # Unsettled (cancelled before or while its handler ran): back to the
            # head of the queue, flagged as redelivered, counted as an attempt.
            again = _Message(message.message_id, message.body, message.attempt + 1, True)
            self._owner._requeue(self.queue, again, front=True)

    async def _run(self, message: _Message) -> None:
        if verdict := too_many_redeliveries(message.attempt, self._policy):
            # The deliveries so far were attempts; this one is not made.
            self._owner._dead_letter(self.queue, message, verdict, message.attempt - 1)
            return
        delivery = Delivery(
            queue=self.queue,
            message_id=message.message_id,
            body=message.body,
            attempt=message.attempt,
            redelivered=message.redelivered,
        )
        try:
            with QUEUE_HANDLER_SECONDS.labels(self.queue).time():
                await self._handler(delivery)
        except Exception as exc:
            self._settle_failure(message, exc)
        else:
            QUEUE_DELIVERIES.labels(self.queue, "ack").inc()

    def _settle_failure(self, message: _Message, exc: Exception) -> None:
        verdict = settle_failure(exc, message.attempt, self._policy)
        QUEUE_DELIVERIES.labels(self.queue, "dead" if verdict.dead else "retry").inc()
        if verdict.dead:
            self._owner._dead_letter(self.queue, message, verdict, message.attempt)
            return
        log.info(
            "handler failed; will retry",
            extra={
                "queue": self.queue,
                "message_id": message.message_id,
                "attempt": message.attempt,
                "retry_in_seconds": verdict.delay,
                "error": verdict.error,
            },
        )
        again = _Message(message.message_id, message.body, message.attempt + 1, False)
        self._owner._retry_later(self.queue, again, verdict.delay)

    async def stop(self, grace: float = 30.0) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        inflight = list(self._inflight)
        if inflight and grace > 0:
            await asyncio.wait(inflight, timeout=grace)
        for task in inflight:
            task.cancel()
        await asyncio.gather(*inflight, return_exceptions=True)
        self._owner._consumers.discard(self)
