"""Live queue positions and wait estimates (issue 18, item 1) on every chat store:
only the customers behind a change hear it, the estimate comes from recent
service times and says when it does not know, bursts are merged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from goftogu.broadcast import RoomEvent
from goftogu.ids import new_id
from goftogu.presence.operators import MemoryOperatorAvailability, OperatorStatus
from goftogu.support.documents import Decision, RoutingEntry, SupportChat, now
from goftogu.support.queue import QueueMoved, QueuePositions
from goftogu.support.store import ChatStore
from tests.helpers.chats import STORE_BACKENDS, new_chat, open_chat_store


class Line:
    def __init__(self, store: ChatStore) -> None:
        self.store = store
        self.availability = MemoryOperatorAvailability()
        self.positions = QueuePositions(store, self.availability, capacity=2)
        self.told: list[RoomEvent] = []

    async def emit(self, event: RoomEvent) -> None:
        self.told.append(event)

    async def waiting(self, count: int) -> list[SupportChat]:
        chats = sorted(
            (new_chat(client_id=str(new_id())) for _ in range(count)), key=lambda c: c.id
        )
        for chat in chats:
            await self.store.create(chat)
        return chats

    async def operator(self) -> str:
        operator_id = str(new_id())
        await self.availability.set_status(operator_id, OperatorStatus.online, True)
        await self.availability.connection_opened(operator_id, "socket")
        return operator_id

    async def served(self, chat: SupportChat, operator_id: str, minutes: float) -> None:
        """``chat`` was taken and closed after ``minutes`` of service."""
        at = now()
        start = RoutingEntry(
            at=at - timedelta(minutes=minutes), decision=Decision.assigned, operator_id=operator_id
        )
        await self.store.assign(chat.id, operator_id, start)
        await self.store.close(chat.id, operator_id, RoutingEntry(at=at, decision=Decision.closed))

    def positions_told(self) -> dict[str, dict[str, Any]]:
        return {
            event.payload["chat_id"]: event.payload
            for event in self.told
            if event.name == "support:queue_position"
        }


@pytest.fixture(params=STORE_BACKENDS)
async def line(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Line]:
    async for store in open_chat_store(request, request.param, tmp_path):
        yield Line(store)


async def test_only_the_customers_behind_the_one_served_hear_their_new_position(
    line: Line,
) -> None:
    chats = await line.waiting(5)
    operator_id = await line.operator()
    await line.store.assign(
        chats[2].id, operator_id, RoutingEntry(at=now(), decision=Decision.assigned)
    )
    await line.positions.moved(QueueMoved(chats[2].id), line.emit)
    told = line.positions_told()
    assert {chat_id: body["position"] for chat_id, body in told.items()} == {
        chats[3].id: 3,
        chats[4].id: 4,
    }
    assert all(event.room == f"support:{event.payload['chat_id']}" for event in line.told)


async def test_the_estimate_is_position_times_recent_service_over_live_slots(
    line: Line,
) -> None:
    operator_id = await line.operator()  # one operator, capacity 2: two live slots
    for minutes in (4, 6):  # a mean service time of five minutes
        [done] = await line.waiting(1)
        await line.served(done, operator_id, minutes)
    chats = await line.waiting(3)
    place = await line.positions.place_of(chats[2])
    assert place is not None
    assert (place.position, place.estimated_wait_s, place.estimate) == (
        3,
        3 * 300 // 2,
        "recent_service_times",
    )


async def test_without_recent_service_or_anyone_taking_chats_the_estimate_is_unknown(
    line: Line,
) -> None:
    [chat] = await line.waiting(1)
    nobody = await line.positions.place_of(chat)
    assert nobody is not None
    assert (nobody.position, nobody.estimated_wait_s, nobody.estimate) == (
        1,
        None,
        "no_operator_available",
    )
    await line.operator()
    fresh = QueuePositions(line.store, line.availability, capacity=2)  # no cached rate
    no_history = await fresh.place_of(chat)
    assert no_history is not None
    assert (no_history.estimated_wait_s, no_history.estimate) == (None, "no_recent_service")


async def test_a_conversation_no_longer_waiting_has_no_place(line: Line) -> None:
    [chat] = await line.waiting(1)
    operator_id = await line.operator()
    assigned = await line.store.assign(
        chat.id, operator_id, RoutingEntry(at=now(), decision=Decision.assigned)
    )
    assert assigned is not None
    assert await line.positions.place_of(assigned) is None


async def test_a_burst_of_departures_tells_each_customer_once_per_round(line: Line) -> None:
    chats = await line.waiting(6)
    operator_id = await line.operator()
    rounds: list[int] = []

    async def slow_emit(event: RoomEvent) -> None:
        # While the first round is being told, three more leave the line.
        if not rounds:
            rounds.append(1)
            for chat in chats[1:4]:
                await line.store.assign(
                    chat.id, operator_id, RoutingEntry(at=now(), decision=Decision.assigned)
                )
                await line.positions.moved(QueueMoved(chat.id), slow_emit)
        line.told.append(event)

    await line.store.assign(
        chats[0].id, operator_id, RoutingEntry(at=now(), decision=Decision.assigned)
    )
    await line.positions.moved(QueueMoved(chats[0].id), slow_emit)
    # Round one told chats 1..5 (read before the burst); round two, merged from the
    # three departures, told the two left: 7 events, not 5 + 2 + 2 + 2.
    final = line.positions_told()
    assert {
        chat_id: body["position"]
        for chat_id, body in final.items()
        if chat_id
        in (
            chats[4].id,
            chats[5].id,
        )
    } == {chats[4].id: 1, chats[5].id: 2}
    assert len(line.told) == 5 + 2
