"""Ordered, exactly-once delivery of conversation events to each socket, on a real
Socket.IO server and client: duplicates dropped, gaps held and repaired, replay
after a cursor with no gap and no duplicate at the boundary."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import socketio
import uvicorn

from goftogu.realtime.delivery import OrderedDelivery, RepairPage
from tests.e2e.clients import PyClient
from tests.e2e.servers import free_port

ROOM = "group:00000000-0000-7000-8000-000000000001"


class Harness:
    def __init__(self) -> None:
        self.manager = OrderedDelivery()
        self.sio = socketio.AsyncServer(async_mode="asgi", client_manager=self.manager)
        self.log: list[tuple[str, dict[str, Any]]] = []  # the "database" of events
        self.manager.fetch_repair = self.fetch
        self.sids: list[str] = []

        @self.sio.on("connect")  # type: ignore[misc]
        async def connect(sid: str, _environ: Any, auth: Any = None) -> None:
            cursor = (auth or {}).get("cursor")
            if cursor is not None:
                self.manager.prime(sid, ROOM, cursor)
            await self.sio.enter_room(sid, ROOM)
            self.sids.append(sid)
            if cursor is not None:
                self.sio.start_background_task(self.manager.replay, sid, ROOM, cursor)

    async def fetch(self, _sid: str, _room: str, after: int) -> RepairPage:
        return [(e, d) for e, d in self.log if d["seq"] > after], False  # all of it: no more

    def record(self, seq: int) -> tuple[str, dict[str, Any]]:
        event = ("message:new", {"conversation": ROOM, "seq": seq, "content": f"m{seq}"})
        self.log.append(event)
        return event

    async def emit(self, seq: int) -> None:
        event, data = next((e, d) for e, d in self.log if d["seq"] == seq)
        await self.sio.emit(event, data, room=ROOM)


@pytest.fixture
async def harness() -> AsyncIterator[tuple[Harness, str]]:
    h = Harness()
    port = free_port()
    config = uvicorn.Config(
        socketio.ASGIApp(h.sio), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield h, f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


def seqs(client: PyClient) -> list[int]:
    return [data["seq"] for data in client.events("message:new")]


async def wait_for_seq(client: PyClient, seq: int) -> None:
    await client.wait_for("message:new", lambda d: d["seq"] == seq, timeout=5)


async def test_events_arrive_in_seq_order_even_when_emitted_out_of_order(
    harness: tuple[Harness, str],
) -> None:
    h, url = harness
    client = await PyClient.connect(url, {})
    for seq in range(1, 6):
        h.record(seq)
    for seq in (1, 3, 2, 5, 4):
        await h.emit(seq)
    await wait_for_seq(client, 5)
    assert seqs(client) == [1, 2, 3, 4, 5]
    await client.close()


async def test_a_duplicate_event_is_delivered_once(harness: tuple[Harness, str]) -> None:
    h, url = harness
    client = await PyClient.connect(url, {})
    h.record(1)
    h.record(2)
    h.record(3)
    for seq in (1, 1, 2, 1, 2):
        await h.emit(seq)
    await h.emit(3)  # a witness: the socket gets its events in order, so by the time
    await wait_for_seq(client, 3)  # it has 3, any duplicate of 1 or 2 would be there
    assert seqs(client) == [1, 2, 3]
    await client.close()


async def test_a_gap_that_never_fills_live_is_repaired_from_the_store(
    harness: tuple[Harness, str],
) -> None:
    h, url = harness
    client = await PyClient.connect(url, {})
    for seq in (1, 2, 3):
        h.record(seq)
    await h.emit(1)
    await h.emit(3)  # 2 was committed but its emit got lost
    await wait_for_seq(client, 3)
    assert seqs(client) == [1, 2, 3]
    await client.close()


async def test_a_reconnect_with_a_cursor_replays_the_missed_events_then_continues_live(
    harness: tuple[Harness, str],
) -> None:
    h, url = harness
    for seq in range(1, 101):
        h.record(seq)
    client = await PyClient.connect(url, {"cursor": 40})
    # Live traffic keeps flowing while the replay runs.
    for seq in range(101, 111):
        h.record(seq)
        await h.emit(seq)
    await wait_for_seq(client, 110)
    assert seqs(client) == list(range(41, 111))
    await client.close()
