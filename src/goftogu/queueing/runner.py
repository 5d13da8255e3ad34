"""Running consumers and the relay in a long-lived process, and stopping them cleanly.

``goftogu worker`` and ``goftogu notifier`` call ``run_until_signalled`` with
the queues they own; the gateway starts a ``Runner`` in its lifespan (every
subscription in embedded mode, only the relay with a broker). Stopping takes
no new messages, lets in-flight handlers finish (up to a timeout; what is
still running then is handed back to the queue), then stops the relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Collection, Sequence
from datetime import timedelta

from goftogu.queueing import Consumer, Queue, QueueUnavailable, Subscription
from goftogu.queueing.memory import MemoryQueue
from goftogu.queueing.outbox import RelationalOutbox
from goftogu.queueing.relay import OutboxRelay
from goftogu.storage.models import utcnow

log = logging.getLogger(__name__)

START_RETRY_MAX_SECONDS = 10.0


class Runner:
    """Consumers of ``subscriptions`` plus an optional relay, started and stopped together."""

    def __init__(
        self,
        queue: Queue,
        subscriptions: Sequence[Subscription],
        relay: OutboxRelay | None = None,
        *,
        stop_timeout: float = 30.0,
        default_prefetch: int = 16,
    ) -> None:
        self.queue = queue
        self.subscriptions = list(subscriptions)
        self.relay = relay
        self.stop_timeout = stop_timeout
        self.default_prefetch = default_prefetch
        self.consumers: list[Consumer] = []
        self.background: list[asyncio.Task[None]] = []
        self._starting: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the relay, then the consumers; while the broker is down the
        consumers keep trying in the background (start never blocks on it)."""
        if self.relay is not None:
            self.relay.start()
        self._starting = asyncio.create_task(self._start_consumers(), name="start consumers")
        # Give an available broker the chance to attach every consumer before we return.
        done, _ = await asyncio.wait({self._starting}, timeout=5.0)
        if self._starting in done:
            self._starting.result()

    async def _start_consumers(self) -> None:
        for subscription in self.subscriptions:
            pause = 0.5
            while True:
                try:
                    consumer = await self.queue.consume(
                        subscription.queue,
                        subscription.handler,
                        prefetch=subscription.prefetch or self.default_prefetch,
                        policy=subscription.policy,
                    )
                except QueueUnavailable as exc:
                    log.warning(
                        "cannot consume yet; retrying",
                        extra={
                            "queue": subscription.queue,
                            "error": str(exc),
                            "retry_in_seconds": pause,
                        },
                    )
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, START_RETRY_MAX_SECONDS)
                    continue
                self.consumers.append(consumer)
                if subscription.background is not None:
                    self.background.append(
                        asyncio.create_task(
                            subscription.background(), name=f"{subscription.queue} background"
                        )
                    )
                log.info("consuming", extra={"queue": subscription.queue})
                break

    async def stop(self) -> None:
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._starting
        await asyncio.gather(
            *(consumer.stop(self.stop_timeout) for consumer in self.consumers),
            return_exceptions=True,
        )
        self.consumers.clear()
        for task in self.background:
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        self.background.clear()
        if self.relay is not None:
            await self.relay.stop()


def subscriptions_for(
    subscriptions: Sequence[Subscription], queues: Collection[str] | None
) -> list[Subscription]:
    """The subscriptions of ``queues`` (all of them for None)."""
    return [s for s in subscriptions if queues is None or s.queue in queues]


async def replay_embedded_outbox(queue: Queue, relay: OutboxRelay, window: float) -> int:
    """With the in-process queue, publish again what the outbox published in the
    last ``window`` seconds before this process started: the previous process took
    it to its grave. Consumers dedupe by message id, so a replayed message that was
    handled is harmless."""
    if not isinstance(queue, MemoryQueue) or window <= 0:
        return 0
    replayed = 0
    for source in relay.sources:
        if isinstance(source, RelationalOutbox):
            replayed += await source.replay_published_since(utcnow() - timedelta(seconds=window))
    if replayed:
        log.info("outbox rows replayed into the in-process queue", extra={"rows": replayed})
    return replayed


async def run_until_signalled(runner: Runner, *, name: str) -> None:
    """Start ``runner``, wait for SIGTERM or SIGINT, then stop it cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runner.start()
        log.info(
            f"{name} running",
            extra={
                "queues": [s.queue for s in runner.subscriptions],
                "relay": runner.relay is not None,
            },
        )
        await stop.wait()
        log.info(f"{name} stopping")
    finally:
        await runner.stop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    log.info(f"{name} stopped")
