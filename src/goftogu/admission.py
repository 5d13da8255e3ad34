"""Admission control: take on only the work that can be finished in time.

Past its capacity a server that queues everything answers everyone late: each
request waits behind all the others, clients time out and retry, and goodput
collapses while the CPU is busy with work nobody waits for any more. A
``Gate`` bounds the work of one kind instead: at most ``in_flight`` at a time,
at most ``queue`` waiting for a turn, and none waiting longer than
``deadline_seconds``. What does not fit is refused at once with
``Overloaded`` (code ``overloaded``: REST 503 with ``Retry-After``, a socket
ack with the code), before anything was written, so a request is either done
or refused, never silently late or lost.

The send path has its own bounded queue with deadlines (``goftogu.messaging.batch``);
gates guard logins (password hashing is the costliest CPU work of the
platform) and support intakes.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from prometheus_client import Counter

from goftogu.errors import Overloaded

REFUSED = Counter(
    "goftogu_admission_refused_total",
    "Work refused at once with `overloaded`, by gate and reason (queue full, deadline)",
    ["gate", "reason"],
)


@dataclass(frozen=True)
class AdmissionPolicy:
    """How much work of one kind a process takes on (settings ``GOFTOGU_ADMIT_*``)."""

    in_flight: int
    queue: int
    deadline_seconds: float
    retry_after_seconds: int = 1

    def refuse(self, gate: str, reason: str) -> Overloaded:
        REFUSED.labels(gate, reason).inc()
        return Overloaded(self.retry_after_seconds)


class Gate:
    """At most ``policy.in_flight`` holders at once; up to ``policy.queue`` callers
    wait (first come, first served) at most ``policy.deadline_seconds`` each; the
    rest are refused at once with ``Overloaded``::

        async with gate.admit():
            ...  # the work
    """

    def __init__(self, name: str, policy: AdmissionPolicy) -> None:
        self.name = name
        self.policy = policy
        self._running = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        await self._enter()
        try:
            yield
        finally:
            self._leave()

    async def _enter(self) -> None:
        if self._running < self.policy.in_flight and not self._waiting:
            self._running += 1
            return
        if len(self._waiting) >= self.policy.queue:
            raise self.policy.refuse(self.name, "queue_full")
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            await asyncio.wait_for(asyncio.shield(turn), self.policy.deadline_seconds)
        except TimeoutError:
            if turn.done():  # handed a turn just as the deadline passed: take it
                return
            self._waiting.remove(turn)
            turn.cancel()
            raise self.policy.refuse(self.name, "deadline") from None
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._leave()  # the turn handed over is given on
            else:
                self._waiting.remove(turn)
                turn.cancel()
            raise

    def _leave(self) -> None:
        # Hand the slot straight to the next waiter (it keeps ``_running``).
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._running -= 1
