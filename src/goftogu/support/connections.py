"""This process's operator sockets, and the heartbeat that keeps their leases.

Presence counts an operator as connected while a lease of one of their
sockets lives. The gateway renews its sockets' leases every third of the lease
time, so a gateway that dies stops counting within one lease, and a Redis that
lost its data learns the live connections again at the next beat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from goftogu.presence.operators import OperatorAvailability

log = logging.getLogger(__name__)


class LocalConnections:
    def __init__(self, availability: OperatorAvailability, *, lease_seconds: float = 60.0):
        self._availability = availability
        self._interval = lease_seconds / 3
        self._live: dict[str, str] = {}  # connection id -> operator id
        self._task: asyncio.Task[None] | None = None

    def opened(self, operator_id: str, connection_id: str) -> None:
        self._live[connection_id] = operator_id
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._beat(), name="operator connection leases")

    def closed(self, connection_id: str) -> None:
        self._live.pop(connection_id, None)

    def live(self) -> list[tuple[str, str]]:
        return [(operator, connection) for connection, operator in self._live.items()]

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self._availability.refresh_connections(self.live())
            except Exception:
                log.warning("could not renew operator connection leases", exc_info=True)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
