"""Live queue positions and wait estimates (issue 18, item 1).

A waiting customer hears ``support:queue_position {position, estimated_wait_s}``
when their place changes and when their socket (re)connects. Only a
conversation leaving or joining the line moves anyone, and only those behind
it: a change announces ``QueueMoved(chat_id)`` in its unit of work, and the
handler (registered in the composition root) tells each waiting conversation
from ``chat_id`` on — one event per customer whose position changed, never a
list to everyone (no O(N²) fan-out). Departures that arrive while a round of
announcements is running are merged into one next round, so a burst of
assignments costs one event per moved customer, not one per departure.

The estimate: position × mean service time ÷ live slots, where the mean
service time is that of the last ``SAMPLE`` conversations closed in the last
``window`` (assigned → closed), and the live slots are the capacity of the
operators offered chats now. No recent service, or no operator taking chats:
``estimated_wait_s`` is null and ``estimate`` says why.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from goftogu.broadcast import RoomEvent
from goftogu.bus import Event
from goftogu.presence.operators import OperatorAvailability
from goftogu.support.documents import SupportChat, now
from goftogu.support.schemas import SupportQueuePosition
from goftogu.support.store import ChatStore

log = logging.getLogger(__name__)

SAMPLE = 50  # recent service times the estimate averages
CACHE_SECONDS = 10.0  # the service rate is read again after this

Estimate = Literal["recent_service_times", "no_recent_service", "no_operator_available"]


@dataclass(frozen=True)
class QueueMoved(Event):
    """The line of waiting conversations changed at ``chat_id`` (it left or joined
    it): everyone waiting from there on has a new position."""

    chat_id: str


@dataclass(frozen=True)
class Place:
    position: int
    estimated_wait_s: int | None
    estimate: Estimate


Emit = Callable[[RoomEvent], Awaitable[None]]


class QueuePositions:
    def __init__(
        self,
        store: ChatStore,
        availability: OperatorAvailability,
        *,
        capacity: int,
        window: timedelta = timedelta(hours=24),
        announce_limit: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.availability = availability
        self.capacity = capacity
        self.window = window
        self.announce_limit = announce_limit
        self._clock = clock
        self._rate: tuple[float, float | None, int] | None = None  # (read at, mean, slots)
        self._pending: str | None = None  # the smallest chat id moved, not yet told
        self._flushing = False

    async def place_of(self, chat: SupportChat) -> Place | None:
        """Where a waiting conversation stands (None: it does not wait)."""
        if not chat.is_waiting:
            return None
        position = await self.store.count_waiting_before(chat) + 1
        return await self._place(position)

    async def _place(self, position: int) -> Place:
        mean, slots = await self._service_rate()
        if slots == 0:
            return Place(position, None, "no_operator_available")
        if mean is None:
            return Place(position, None, "no_recent_service")
        return Place(position, math.ceil(position * mean / slots), "recent_service_times")

    async def _service_rate(self) -> tuple[float | None, int]:
        at = self._clock()
        if self._rate is not None and at - self._rate[0] < CACHE_SECONDS:
            return self._rate[1], self._rate[2]
        times = await self.store.service_times(now() - self.window, SAMPLE)
        mean = sum(times) / len(times) if times else None
        slots = sum(
            self.capacity for state in await self.availability.states() if state.offered_chats
        )
        self._rate = (at, mean, slots)
        return mean, slots

    def event_for(self, chat: SupportChat, place: Place, room: str | None = None) -> RoomEvent:
        body = SupportQueuePosition(
            chat_id=chat.id,
            conversation=chat.conversation,
            position=place.position,
            estimated_wait_s=place.estimated_wait_s,
            estimate=place.estimate,
        )
        return RoomEvent.of(body, room or chat.conversation)

    async def moved(self, event: QueueMoved, emit: Emit) -> None:
        """The after-commit handler of ``QueueMoved``: tell everyone behind."""
        if self._pending is None or event.chat_id < self._pending:
            self._pending = event.chat_id
        if self._flushing:
            return  # the round running now takes it up next
        self._flushing = True
        try:
            while self._pending is not None:
                from_id, self._pending = self._pending, None
                await self._announce_from(from_id, emit)
        finally:
            self._flushing = False

    async def _announce_from(self, from_id: str, emit: Emit) -> None:
        ids = await self.store.waiting_from(from_id, self.announce_limit)
        if not ids:
            return
        first = await self.store.get(ids[0])
        if first is None:
            return
        ahead = await self.store.count_waiting_before(first)
        for index, chat_id in enumerate(ids):
            place = await self._place(ahead + index + 1)
            body = SupportQueuePosition(
                chat_id=chat_id,
                conversation=f"support:{chat_id}",
                position=place.position,
                estimated_wait_s=place.estimated_wait_s,
                estimate=place.estimate,
            )
            try:
                await emit(RoomEvent.of(body, body.conversation))
            except Exception:
                log.warning("a queue position could not be sent", exc_info=True)
