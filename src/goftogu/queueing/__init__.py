"""Work queues (P3): a small port with two real implementations, and an outbox.

The API other packages use (stable: add to it, do not change it)
================================================================

Names and messages: each domain names its queues (``goftogu.support.jobs.SUPPORT_ROUTING``,
``goftogu.notifications.jobs.NOTIFY``); this module has the base of their messages::

    class QueueMessage(BaseModel):          # base of every typed queue message
        type: str                           # subclasses narrow it: type: Literal["route_chat"]

Publishing (``container.queue`` is a ``Queue``)::

    await container.queue.publish(queue: str, body: QueueMessage | bytes | Mapping,
                                  *, message_id: str | None = None) -> str
        # persistent, on a durable queue, returns once the broker confirmed it;
        # returns the message id (a fresh UUIDv7 when none is given).

Do not publish straight after a state change: write the job in the same
unit of work with the outbox (``goftogu.queueing.outbox``)::

    from goftogu.queueing.outbox import add_to_outbox
    async with container.work.transaction() as work:     # goftogu.storage.work
        ...  # the state change, in work.session
        await add_to_outbox(work: Transaction, queue: str,
                            message: QueueMessage | Mapping[str, Any],
                            *, message_id: str | None = None, delay: float = 0.0) -> str
    # INSIDE the caller's transaction: a rollback removes the job, a commit keeps it.
    # The row announces ``OutboxWritten``: after the commit the bus wakes this
    # process's relay, which publishes it (a sweep every GOFTOGU_OUTBOX_SWEEP_SECONDS
    # catches anything else). ``message_id`` is an idempotency key: a second row with
    # the same id is silently not written. ``delay``: not published before that many
    # seconds (batching windows).

The relay (``container.relay``, ``goftogu.queueing.relay.OutboxRelay``) publishes
what a ``PendingSource`` holds; the relational outbox is one source, a domain
may add its own (the support desk's MongoDB documents)::

    class PendingSource(Protocol):
        name: str
        def claim(self, limit: int) -> AbstractAsyncContextManager[PendingBatch]
            # due messages, oldest first, held so that other relays skip them
    class PendingBatch(Protocol):
        messages: Sequence[PendingMessage]   # PendingMessage(queue, message_id, body, key)
        async def mark_published(self, messages: Sequence[PendingMessage]) -> None
        async def mark_failed(self, messages: Sequence[PendingMessage], error: str) -> None

    OutboxRelay(queue, [source, ...])      # built with its sources in bootstrap
    work.announce(OutboxWritten())         # a hint: publish after this commit, not at the sweep

    # A source without transactions (MongoDB) claims without locking, and marks
    # conditionally (e.g. update_many({_id: {$in: keys}, routing_pending: true},
    # {$unset: ...})): two relays may then publish a message twice, which the
    # consumers' dedupe absorbs. ``PendingMessage.key`` is the source's own handle.

Consuming (a handler is ``async def handle(delivery: Delivery) -> None``)::

    consumer = await container.queue.consume(queue: str, handler: Handler,
                                             *, prefetch: int = 16,
                                             policy: QueuePolicy | None = None) -> Consumer
    await consumer.stop(grace: float = 30.0)   # let in-flight handlers finish, then stop

Long-running processes do not call ``consume`` themselves: a domain offers
a ``Subscription(queue, handler, prefetch=None, policy=None)`` (None: the
GOFTOGU_QUEUE_* settings), bootstrap puts it in ``container.subscriptions`` and
``goftogu.queueing.runner`` runs it (``goftogu worker`` runs ``support.routing``,
``goftogu notifier`` runs ``notify``, ``goftogu serve`` runs every subscription in
embedded mode).

What a handler gets and may raise::

    delivery.message_id: str         # dedupe key (see "Contract" below)
    delivery.attempt: int            # 1 on the first delivery, +1 on every retry or redelivery
    delivery.redelivered: bool       # an earlier delivery may have run without settling
                                     # (worker killed, connection lost, handler cancelled)
    delivery.body: bytes; delivery.headers: Mapping[str, Any]
    delivery.json() -> Any; delivery.parse(Model) -> Model   # Model: a type or a union

    raise Retry(delay: float | None = None, reason: str = "")   # transient: try again later
    raise Reject(reason: str)                                   # permanent: dead-letter now
    # any other exception is transient; pydantic.ValidationError (a malformed message) and a
    # DomainError below status 500 are permanent.

    QueuePolicy(max_attempts=5, retry_base_seconds=1.0, retry_max_seconds=300.0)
        # retry n waits min(base * 2 ** (n - 1), max) unless Retry(delay) says otherwise;
        # after max_attempts the message goes to the dead-letter queue "<queue>.dead"

Inspecting dead letters::

    await container.queue.dead_letters(queue: str, *, limit: int = 100) -> list[DeadLetter]

Contract (what a consumer may rely on, and what it must do)
===========================================================

- At least once: a message is acknowledged only after its handler returned,
  so a handler must commit its work before returning. A handler that raises,
  a worker that dies and a handler that is cancelled all lead to another
  delivery. The outbox relay may also publish a message twice (it published,
  then crashed before marking the row). Consumers therefore make their work
  idempotent: by state (a conditional update such as "assign only while
  PENDING") or by remembering ``delivery.message_id`` with their own writes.
- Order is not guaranteed across retries and redeliveries.
- Handlers run concurrently, at most ``prefetch`` at a time per consumer.
- Dead-lettered messages keep their body and message id; the headers
  ``x-goftogu-reason`` (``rejected``, ``max_attempts`` or ``malformed``),
  ``x-goftogu-error``, ``x-goftogu-attempts`` and ``x-goftogu-queue`` say why.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter

from goftogu.text import Line

DEAD_SUFFIX = ".dead"

# Headers the queues set on messages; consumers read them through `Delivery`.
ATTEMPT_HEADER = "x-goftogu-attempt"
REDELIVERED_HEADER = "x-goftogu-redelivered"
REASON_HEADER = "x-goftogu-reason"
ERROR_HEADER = "x-goftogu-error"
ATTEMPTS_HEADER = "x-goftogu-attempts"
QUEUE_HEADER = "x-goftogu-queue"

M = TypeVar("M")


class QueueMessage(BaseModel):
    """A typed queue message; subclasses give ``type`` a ``Literal`` value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Line


Body = QueueMessage | bytes | Mapping[str, Any]


def encode_body(body: Body) -> bytes:
    """The bytes on the wire: JSON for models and mappings, bytes unchanged."""
    if isinstance(body, QueueMessage):
        return body.model_dump_json().encode()
    if isinstance(body, bytes):
        return body
    return json.dumps(dict(body), separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Delivery:
    """One delivery of a message to a handler."""

    queue: str
    message_id: str
    body: bytes
    attempt: int = 1
    redelivered: bool = False
    headers: Mapping[str, Any] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)

    def parse(self, model: type[M] | Any) -> M:
        """The body validated as ``model`` (a pydantic model or a union of them)."""
        adapter: TypeAdapter[M] = TypeAdapter(model)
        return adapter.validate_json(self.body)


Handler = Callable[[Delivery], Awaitable[None]]


class Retry(Exception):
    """Raised by a handler: transient failure, deliver again after ``delay`` seconds
    (default: the policy's exponential backoff)."""

    def __init__(self, delay: float | None = None, reason: str = "") -> None:
        super().__init__(reason or "retry requested")
        self.delay = delay
        self.reason = reason


class Reject(Exception):
    """Raised by a handler: permanent failure, straight to the dead-letter queue."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class QueuePolicy:
    """Failure handling of one queue's consumers."""

    max_attempts: int = 5
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 300.0

    def backoff(self, failed_attempt: int) -> float:
        """Seconds to wait before the attempt after ``failed_attempt`` (1-based)."""
        growth = 2.0 ** (failed_attempt - 1)
        return min(self.retry_base_seconds * growth, self.retry_max_seconds)


@dataclass(frozen=True)
class DeadLetter:
    """A message that will not be processed any more, and why."""

    queue: str
    message_id: str
    body: bytes
    reason: str
    error: str
    attempts: int
    dead_at: datetime | None = None


class Consumer(Protocol):
    """A running consumer of one queue."""

    queue: str

    async def stop(self, grace: float = 30.0) -> None:
        """Take no new messages; let in-flight handlers finish for up to ``grace``
        seconds, then cancel them (their messages are delivered again)."""
        ...


class Queue(Protocol):
    """The queue port: RabbitMQ (``rabbitmq.RabbitQueue``) or in-process
    (``memory.MemoryQueue``), chosen in bootstrap by ``settings.broker_url``."""

    async def publish(self, queue: str, body: Body, *, message_id: str | None = None) -> str:
        """Publish a persistent message; returns once the broker confirmed it."""
        ...

    async def consume(
        self,
        queue: str,
        handler: Handler,
        *,
        prefetch: int = 16,
        policy: QueuePolicy | None = None,
    ) -> Consumer:
        """Start delivering ``queue``'s messages to ``handler``."""
        ...

    async def dead_letters(self, queue: str, *, limit: int = 100) -> list[DeadLetter]:
        """The oldest dead-lettered messages of ``queue`` (left in place)."""
        ...

    async def depth(self, queue: str) -> int:
        """Messages of ``queue`` ready for delivery (not counting those in handlers)."""
        ...

    async def ping(self) -> None:
        """Raise when the broker cannot be reached (the /readyz probe)."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Subscription:
    """A handler a process runs for a queue (see ``goftogu.queueing.runner``)."""

    queue: str
    handler: Handler
    prefetch: int | None = None  # default: GOFTOGU_QUEUE_PREFETCH
    policy: QueuePolicy | None = None  # default: the GOFTOGU_QUEUE_* settings
    # Runs beside the consumer for as long as it runs (periodic sweeps of the
    # queue's domain); cancelled when the runner stops.
    background: Callable[[], Coroutine[Any, Any, None]] | None = None


class QueueUnavailable(ConnectionError):
    """The broker cannot be reached or did not confirm a message."""


__all__ = [
    "Body",
    "Consumer",
    "DeadLetter",
    "Delivery",
    "Handler",
    "Queue",
    "QueueMessage",
    "QueuePolicy",
    "QueueUnavailable",
    "Reject",
    "Retry",
    "Subscription",
    "encode_body",
]
