"""The queue port on RabbitMQ (aio-pika): durable queues, persistent messages,
publisher confirms, manual acks, bounded prefetch, retries and dead letters.

Topology for a queue ``q`` (all on the default exchange, declared idempotently):

- ``q``: durable classic queue the consumers read.
- ``q.dead``: durable dead-letter queue; messages carry ``x-goftogu-reason``,
  ``x-goftogu-error``, ``x-goftogu-attempts`` and ``x-goftogu-queue``.
- ``q.retry.<ms>``: one durable delay queue per backoff delay, with
  ``x-message-ttl=<ms>`` and dead-lettering back into ``q``. Every message in
  one delay queue has the same TTL, so none waits behind a longer one (the
  head-of-line problem of per-message TTLs); ``x-expires`` removes a delay
  queue left unused. No plugin is needed.

A failed attempt is re-published (to a delay queue or to ``q.dead``) with
confirms *before* the original is acked, so a crash in between duplicates a
message but never loses one. The attempt number travels in the
``x-goftogu-attempt`` header. A delivery the broker flags as redelivered (its
worker died or lost the connection mid-handler) is counted as an attempt: it
is re-published with the next attempt number and the redelivered mark, so a
message that kills every worker still reaches the dead-letter queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
    DeliveryMode,
)

from goftogu.ids import new_id
from goftogu.metrics import QUEUE_DELIVERIES, QUEUE_HANDLER_SECONDS
from goftogu.queueing import (
    ATTEMPT_HEADER,
    ATTEMPTS_HEADER,
    DEAD_SUFFIX,
    ERROR_HEADER,
    QUEUE_HEADER,
    REASON_HEADER,
    REDELIVERED_HEADER,
    Body,
    DeadLetter,
    Delivery,
    Handler,
    QueueMessage,
    QueuePolicy,
    QueueUnavailable,
    encode_body,
)
from goftogu.queueing.failures import Verdict, describe, settle_failure, too_many_redeliveries

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 5.0
RECONNECT_INTERVAL_SECONDS = 1.0
# Failures to reach the broker: connection and channel errors, timeouts, nacks.
_BROKER_ERRORS = (
    aiormq.exceptions.AMQPError,
    aio_pika.exceptions.ChannelInvalidStateError,
    ConnectionError,
    OSError,
    TimeoutError,
)


class RabbitQueue:
    """The ``Queue`` port on one long-lived robust AMQP connection per process.

    The connection opens at first use (a process starts even while the broker
    is down) and reconnects by itself; consumers are restored after a reconnect.
    ``prefix`` is put in front of every queue name (isolates tests and tenants).
    """

    def __init__(
        self, url: str, *, prefix: str = "", default_policy: QueuePolicy | None = None
    ) -> None:
        self._url = url
        self._prefix = prefix
        self.default_policy = default_policy or QueuePolicy()
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._lock = asyncio.Lock()
        self._declared: set[str] = set()
        self._consumers: set[RabbitConsumer] = set()

    def physical(self, queue: str) -> str:
        """The broker's name for ``queue``."""
        return self._prefix + queue

    # --- connection -------------------------------------------------------------

    async def _connect(self) -> AbstractRobustConnection:
        async with self._lock:
            if self._connection is None:
                try:
                    self._connection = await aio_pika.connect_robust(
                        self._url,
                        timeout=CONNECT_TIMEOUT_SECONDS,
                        reconnect_interval=RECONNECT_INTERVAL_SECONDS,
                        client_properties={"connection_name": "goftogu"},
                    )
                except _BROKER_ERRORS as exc:
                    reason = describe(exc)
                    raise QueueUnavailable(f"cannot connect to the broker: {reason}") from exc
            return self._connection

    async def _publish_channel(self) -> AbstractChannel:
        connection = await self._connect()
        if not connection.connected.is_set():
            # Fail fast while reconnecting: a caller may hold a lock (the SQLite
            # relay holds the writer lock while it publishes).
            raise QueueUnavailable("not connected to the broker (reconnecting)")
        async with self._lock:
            if self._channel is None or self._channel.is_closed:
                self._channel = await connection.channel(
                    publisher_confirms=True, on_return_raises=True
                )
                self._declared.clear()
            return self._channel

    async def _declare(self, channel: AbstractChannel, queue: str) -> None:
        """Declare ``queue`` and its dead-letter queue once per channel."""
        name = self.physical(queue)
        if name in self._declared:
            return
        await channel.declare_queue(name, durable=True)
        await channel.declare_queue(name + DEAD_SUFFIX, durable=True)
        self._declared.add(name)

    # --- the port -----------------------------------------------------------------

    async def publish(self, queue: str, body: Body, *, message_id: str | None = None) -> str:
        message_id = message_id or str(new_id())
        kind = body.type if isinstance(body, QueueMessage) else None
        if isinstance(body, Mapping) and isinstance(body.get("type"), str):
            kind = body["type"]
        await self._send(queue, encode_body(body), message_id, {}, kind=kind)
        return message_id

    async def _send(
        self,
        queue: str,
        body: bytes,
        message_id: str,
        headers: Mapping[str, Any],
        *,
        kind: str | None = None,
        routing_key: str | None = None,
    ) -> None:
        """Publish with confirms to ``routing_key`` (default: the queue itself)."""
        message = aio_pika.Message(
            body,
            message_id=message_id,
            delivery_mode=DeliveryMode.PERSISTENT,
            content_type="application/json",
            headers=dict(headers),
            timestamp=datetime.now(UTC),
            type=kind,
        )
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
                channel = await self._publish_channel()
                await self._declare(channel, queue)
                key = routing_key or self.physical(queue)
                try:
                    await channel.default_exchange.publish(message, key, mandatory=True)
                except aiormq.exceptions.PublishError:
                    # Unroutable: the queue was deleted under us. Declare again, once.
                    self._declared.discard(self.physical(queue))
                    await self._declare(channel, queue)
                    await channel.default_exchange.publish(message, key, mandatory=True)
        except _BROKER_ERRORS as exc:
            raise QueueUnavailable(f"publish to {queue!r} failed: {describe(exc)}") from exc

    async def consume(
        self,
        queue: str,
        handler: Handler,
        *,
        prefetch: int = 16,
        policy: QueuePolicy | None = None,
    ) -> RabbitConsumer:
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1")
        consumer = RabbitConsumer(self, queue, handler, prefetch, policy or self.default_policy)
        try:
            await consumer.start(await self._connect())
        except _BROKER_ERRORS as exc:
            raise QueueUnavailable(f"cannot consume {queue!r}: {describe(exc)}") from exc
        self._consumers.add(consumer)
        return consumer

    async def dead_letters(self, queue: str, *, limit: int = 100) -> list[DeadLetter]:
        """Read without acking, then close the channel: the broker keeps them all."""
        connection = await self._connect()
        letters: list[DeadLetter] = []
        channel = await connection.channel()
        try:
            dead = await channel.declare_queue(self.physical(queue) + DEAD_SUFFIX, durable=True)
            while len(letters) < limit:
                message = await dead.get(no_ack=False, fail=False)
                if message is None:
                    break
                letters.append(_dead_letter(queue, message))
        finally:
            await channel.close()
        return letters

    async def depth(self, queue: str) -> int:
        connection = await self._connect()
        channel = await connection.channel()
        try:
            declared = await channel.declare_queue(self.physical(queue), durable=True)
            result = declared.declaration_result
            return int(result.message_count or 0)
        finally:
            await channel.close()

    async def ping(self) -> None:
        connection = await self._connect()
        if not connection.connected.is_set():
            raise QueueUnavailable("not connected to the broker (reconnecting)")
        # A round trip: opening and closing a channel.
        channel = await connection.channel(publisher_confirms=False)
        await channel.close()

    async def close(self) -> None:
        for consumer in list(self._consumers):
            await consumer.stop(grace=0)
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
            self._channel = None

    # --- settling, used by consumers ---------------------------------------------

    async def _retry_later(
        self, queue: str, message: AbstractIncomingMessage, verdict: Verdict, attempt: int
    ) -> None:
        """Park the message in the delay queue of ``verdict.delay``; it comes back
        to ``queue`` as attempt ``attempt``."""
        milliseconds = max(int(verdict.delay * 1000), 1)
        delay_queue = f"{self.physical(queue)}.retry.{milliseconds}"
        channel = await self._publish_channel()
        await channel.declare_queue(
            delay_queue,
            durable=True,
            arguments={
                "x-message-ttl": milliseconds,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.physical(queue),
                # Longer than any message stays in it, so it only goes once empty.
                "x-expires": milliseconds * 2 + 60_000,
            },
        )
        headers = {**_plain_headers(message), ATTEMPT_HEADER: attempt}
        headers.pop(REDELIVERED_HEADER, None)
        await self._send(
            queue,
            message.body,
            _message_id(message),
            headers,
            routing_key=delay_queue,
            kind=message.type,
        )

    async def _redeliver(self, queue: str, message: AbstractIncomingMessage, attempt: int) -> None:
        headers = {**_plain_headers(message), ATTEMPT_HEADER: attempt, REDELIVERED_HEADER: True}
        await self._send(queue, message.body, _message_id(message), headers, kind=message.type)

    async def _dead_letter(
        self, queue: str, message: AbstractIncomingMessage, verdict: Verdict, attempt: int
    ) -> None:
        headers = {
            **_plain_headers(message),
            REASON_HEADER: verdict.reason,
            ERROR_HEADER: verdict.error,
            ATTEMPTS_HEADER: attempt,
            QUEUE_HEADER: queue,
        }
        await self._send(
            queue,
            message.body,
            _message_id(message),
            headers,
            routing_key=self.physical(queue) + DEAD_SUFFIX,
            kind=message.type,
        )
        log.warning(
            "message dead-lettered",
            extra={
                "queue": queue,
                "message_id": _message_id(message),
                "reason": verdict.reason,
                "error": verdict.error,
                "attempts": attempt,
            },
        )


def _message_id(message: AbstractIncomingMessage) -> str:
    return message.message_id or f"unidentified-{message.delivery_tag}"


def _plain_headers(message: AbstractIncomingMessage) -> dict[str, Any]:
    """The message's headers without those a dead-lettering broker adds."""
    return {key: value for key, value in (message.headers or {}).items() if key != "x-death"}


def _int_header(message: AbstractIncomingMessage, name: str, default: int) -> int:
    value = (message.headers or {}).get(name)
    return value if isinstance(value, int) and value > 0 else default


def _dead_letter(queue: str, message: AbstractIncomingMessage) -> DeadLetter:
    headers = message.headers or {}
    return DeadLetter(
        queue=queue,
        message_id=_message_id(message),
        body=message.body,
        reason=str(headers.get(REASON_HEADER, "")),
        error=str(headers.get(ERROR_HEADER, "")),
        attempts=_int_header(message, ATTEMPTS_HEADER, 0),
        dead_at=message.timestamp,
    )


class RabbitConsumer:
    """One channel with ``prefetch`` unacked messages at most, one handler task each."""

    def __init__(
        self,
        owner: RabbitQueue,
        queue: str,
        handler: Handler,
        prefetch: int,
        policy: QueuePolicy,
    ) -> None:
        self.queue = queue
        self._owner = owner
        self._handler = handler
        self._prefetch = prefetch
        self._policy = policy
        self._channel: AbstractChannel | None = None
        self._amqp_queue: AbstractQueue | None = None
        self._tag: str | None = None
        self._inflight: set[asyncio.Task[Any]] = set()

    async def start(self, connection: AbstractRobustConnection) -> None:
        self._channel = await connection.channel()
        await self._channel.set_qos(prefetch_count=self._prefetch)
        name = self._owner.physical(self.queue)
        self._amqp_queue = await self._channel.declare_queue(name, durable=True)
        await self._channel.declare_queue(name + DEAD_SUFFIX, durable=True)
        self._tag = await self._amqp_queue.consume(self._on_message, no_ack=False)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        # aio-pika runs each delivery in a task of its own; keep it for stop().
        task = asyncio.current_task()
        assert task is not None
        self._inflight.add(task)
        try:
            await self._process(message)
        finally:
            self._inflight.discard(task)

    async def _process(self, message: AbstractIncomingMessage) -> None:
        attempt = _int_header(message, ATTEMPT_HEADER, 1)
        if message.redelivered:
            # An earlier delivery ran unsettled: that counts as an attempt.
            QUEUE_DELIVERIES.labels(self.queue, "unsettled").inc()
            attempt += 1
            verdict = too_many_redeliveries(attempt, self._policy)
            if verdict is not None:
                await self._settle(
                    message, self._owner._dead_letter(self.queue, message, verdict, attempt - 1)
                )
            else:
                await self._settle(message, self._owner._redeliver(self.queue, message, attempt))
            return
        delivery = Delivery(
            queue=self.queue,
            message_id=_message_id(message),
            body=message.body,
            attempt=attempt,
            redelivered=(message.headers or {}).get(REDELIVERED_HEADER) is True,
            headers=dict(message.headers or {}),
        )
        try:
            with QUEUE_HANDLER_SECONDS.labels(self.queue).time():
                await self._handler(delivery)
        except Exception as exc:
            verdict = settle_failure(exc, attempt, self._policy)
            QUEUE_DELIVERIES.labels(self.queue, "dead" if verdict.dead else "retry").inc()
            if verdict.dead:
                follow_up = self._owner._dead_letter(self.queue, message, verdict, attempt)
            else:
                log.info(
                    "handler failed; will retry",
                    extra={
                        "queue": self.queue,
                        "message_id": delivery.message_id,
                        "attempt": attempt,
                        "retry_in_seconds": verdict.delay,
                        "error": verdict.error,
                    },
                )
                follow_up = self._owner._retry_later(self.queue, message, verdict, attempt + 1)
            await self._settle(message, follow_up)
        else:
            QUEUE_DELIVERIES.labels(self.queue, "ack").inc()
            await self._settle(message, None)

    async def _settle(self, message: AbstractIncomingMessage, follow_up: Any) -> None:
        """Publish the follow-up copy (if any), then ack the original. When either
        fails the original goes back to the queue (or, on a dead channel, the
        broker takes it back), to be delivered again."""
        try:
            if follow_up is not None:
                await follow_up
            await message.ack()
        except (QueueUnavailable, *_BROKER_ERRORS) as exc:
            log.warning(
                "could not settle a message; it will be delivered again",
                extra={
                    "queue": self.queue,
                    "message_id": _message_id(message),
                    "error": describe(exc),
                },
            )
            with contextlib.suppress(*_BROKER_ERRORS):
                await message.nack(requeue=True)

    async def stop(self, grace: float = 30.0) -> None:
        if self._amqp_queue is not None and self._tag is not None:
            with contextlib.suppress(*_BROKER_ERRORS):
                await self._amqp_queue.cancel(self._tag)
        inflight = list(self._inflight)
        if inflight and grace > 0:
            await asyncio.wait(inflight, timeout=grace)
        for task in inflight:
            task.cancel()
        await asyncio.gather(*inflight, return_exceptions=True)
        if self._channel is not None:
            # Closing the channel hands every unacked message back to the broker.
            with contextlib.suppress(*_BROKER_ERRORS):
                await self._channel.close()
        self._owner._consumers.discard(self)
