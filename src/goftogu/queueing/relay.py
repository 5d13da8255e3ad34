"""The outbox relay: publishes what its sources hold, after the writes committed.

A source is anything that keeps messages waiting to be published next to the
state that caused them: the relational ``outbox`` table
(``goftogu.queueing.outbox.RelationalOutbox``), or a field on a MongoDB
document (the support desk's). The relay claims a batch, publishes it with
broker confirms, and marks what was confirmed. It runs when woken (a unit of
work that wrote for it announces ``OutboxWritten``; the composition root has
the bus call ``wake`` for it after the commit) and on a periodic sweep, the
safety net for a crash between a commit and the publish.

A message may be published twice (published, then the process died before
the mark committed): consumers dedupe by message id (see ``goftogu.queueing``).
When the broker is down the relay backs off exponentially and keeps the rows;
it publishes them once the broker answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from goftogu.bus import Event
from goftogu.metrics import OUTBOX_FAILURES, OUTBOX_PUBLISHED
from goftogu.queueing import Queue, QueueMessage
from goftogu.queueing.failures import describe

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxWritten(Event):
    """A unit of work left messages for the relay: publish soon, not at the next sweep."""


@dataclass(frozen=True)
class PendingMessage:
    """A message a source holds; ``key`` is the source's own handle on it."""

    queue: str
    message_id: str
    body: QueueMessage | bytes | Mapping[str, Any]
    key: Any = None


class PendingBatch(Protocol):
    """Messages claimed from a source, and how to record what became of them."""

    @property
    def messages(self) -> Sequence[PendingMessage]: ...

    async def mark_published(self, messages: Sequence[PendingMessage]) -> None:
        """The broker confirmed these: never publish them again."""
        ...

    async def mark_failed(self, messages: Sequence[PendingMessage], error: str) -> None:
        """Publishing these failed (they stay pending; record the attempt)."""
        ...


class PendingSource(Protocol):
    """Where a relay finds messages to publish."""

    name: str

    def claim(self, limit: int) -> AbstractAsyncContextManager[PendingBatch]:
        """Up to ``limit`` due messages, oldest first, held (where the store can)
        so that other relays skip them until the block ends."""
        ...


class OutboxRelay:
    """Publishes pending messages of every source, woken by commits and on a sweep."""

    def __init__(
        self,
        queue: Queue,
        sources: Sequence[PendingSource] = (),
        *,
        batch_size: int = 100,
        sweep_seconds: float = 5.0,
        retry_base_seconds: float = 0.5,
        retry_max_seconds: float = 30.0,
    ) -> None:
        self.queue = queue
        self.sources: tuple[PendingSource, ...] = tuple(sources)
        self.batch_size = batch_size
        self.sweep_seconds = sweep_seconds
        self.retry_base_seconds = retry_base_seconds
        self.retry_max_seconds = retry_max_seconds
        self.published = 0  # messages confirmed since this relay was made
        self.passes = 0  # completed passes of the background loop
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Publish now rather than at the next sweep (a hint; cheap; idempotent)."""
        if self._wakeup is not None:
            self._wakeup.set()

    async def run_once(self) -> int:
        """Publish every due message of every source; returns how many were confirmed.

        Raises ``QueueUnavailable`` (or the source's error) after recording the
        failed attempt; what was confirmed before the failure stays marked.
        """
        total = 0
        for source in self.sources:
            while True:
                published, claimed = await self._relay_batch(source)
                total += published
                if claimed < self.batch_size:
                    break
        self.published += total
        return total

    async def _relay_batch(self, source: PendingSource) -> tuple[int, int]:
        async with source.claim(self.batch_size) as batch:
            messages = list(batch.messages)
            if not messages:
                return 0, 0
            # Sent in order on one channel; confirms come back concurrently.
            results = await asyncio.gather(
                *(self.queue.publish(m.queue, m.body, message_id=m.message_id) for m in messages),
                return_exceptions=True,
            )
            confirmed = [m for m, r in zip(messages, results, strict=True) if isinstance(r, str)]
            failed = [
                (m, r) for m, r in zip(messages, results, strict=True) if not isinstance(r, str)
            ]
            await batch.mark_published(confirmed)
            OUTBOX_PUBLISHED.labels(source.name).inc(len(confirmed))
            if failed:
                OUTBOX_FAILURES.labels(source.name).inc()
                error = failed[0][1]
                await batch.mark_failed([m for m, _ in failed], describe(error))
        if failed:
            if isinstance(error, Exception):
                raise error
            raise RuntimeError(describe(error))
        return len(confirmed), len(messages)

    # --- the background loop --------------------------------------------------------

    def start(self) -> None:
        """Run in the background until ``stop``; ``wake`` makes it run now."""
        if self._task is not None:
            return
        self._wakeup = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="outbox relay")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        assert self._wakeup is not None
        failures = 0
        while True:
            self._wakeup.clear()
            try:
                await self.run_once()
            except Exception as exc:
                failures += 1
                pause = min(self.retry_base_seconds * 2 ** (failures - 1), self.retry_max_seconds)
                log.warning(
                    "outbox relay could not publish; retrying",
                    extra={"error": describe(exc), "retry_in_seconds": pause},
                )
                # Backing off: commits do not cut the pause short.
                await asyncio.sleep(pause)
                continue
            self.passes += 1
            if failures:
                log.info("outbox relay publishing again", extra={"after_failures": failures})
                failures = 0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.sweep_seconds)
