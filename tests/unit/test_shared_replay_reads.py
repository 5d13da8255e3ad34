"""Replay reads of one conversation are shared by the sockets that queue for them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from goftogu.realtime.replay import SharedReads
from tests.helpers.waiting import eventually

ROOM = "group:g"


class Log:
    """A conversation of ``size`` events; records every read made of it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.reads: list[int] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail: Exception | None = None

    async def read(self, conversation: str, after: int, limit: int) -> list[tuple[str, Any]]:
        self.reads.append(after)
        await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        last = min(self.size, after + limit)
        return [
            ("message:new", {"conversation": conversation, "seq": s})
            for s in range(after + 1, last + 1)
        ]


def seqs(page: tuple[list[tuple[str, Any]], bool]) -> list[int]:
    return [data["seq"] for _, data in page[0]]


async def test_requests_queued_for_a_conversation_share_one_read_from_the_lowest_cursor() -> None:
    log = Log(size=10)
    reads = SharedReads(log.read, page=100, concurrency=1)
    log.gate.clear()
    busy = asyncio.create_task(reads.events_after("group:other", 0))  # holds the only slot
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(reads.events_after(ROOM, cursor)) for cursor in (7, 3, 5)]
    await asyncio.sleep(0)
    log.gate.set()

    pages = await asyncio.gather(*waiting)
    await busy

    assert log.reads == [0, 3]  # the other room's read, then ONE read for the three
    assert [seqs(p) for p in pages] == [[8, 9, 10], [4, 5, 6, 7, 8, 9, 10], [6, 7, 8, 9, 10]]
    assert all(more is False for _, more in pages)


async def test_a_read_already_under_way_is_not_shared_by_a_later_request() -> None:
    log = Log(size=4)
    reads = SharedReads(log.read, page=100, concurrency=2)
    log.gate.clear()
    first = asyncio.create_task(reads.events_after(ROOM, 0))
    # Started: its snapshot may predate the next caller's room join.
    await eventually(lambda: log.reads == [0], what="the first read to start")
    second = asyncio.create_task(reads.events_after(ROOM, 0))
    await eventually(lambda: log.reads == [0, 0], what="a read of its own")
    log.gate.set()

    assert seqs(await first) == seqs(await second) == [1, 2, 3, 4]
    assert log.reads == [0, 0]


async def test_a_full_page_says_more_may_follow() -> None:
    log = Log(size=250)
    reads = SharedReads(log.read, page=100, concurrency=1)

    events, more = await reads.events_after(ROOM, 0)
    last_events, last_more = await reads.events_after(ROOM, 200)

    assert (len(events), more) == (100, True)
    assert (len(last_events), last_more) == (50, False)


async def test_a_failed_read_fails_every_request_that_shared_it_and_the_next_read_is_fresh() -> (
    None
):
    log = Log(size=3)
    reads = SharedReads(log.read, page=100, concurrency=1)
    log.gate.clear()
    log.fail = ConnectionError("database away")
    busy = asyncio.create_task(reads.events_after("group:other", 0))
    await asyncio.sleep(0)
    sharing = [asyncio.create_task(reads.events_after(ROOM, c)) for c in (0, 1)]
    await asyncio.sleep(0)
    log.gate.set()

    outcomes = await asyncio.gather(busy, *sharing, return_exceptions=True)
    log.fail = None

    assert all(isinstance(o, ConnectionError) for o in outcomes)
    assert seqs(await reads.events_after(ROOM, 1)) == [2, 3]


async def test_a_caller_that_gives_up_does_not_cancel_the_read_of_the_others() -> None:
    log = Log(size=2)
    reads = SharedReads(log.read, page=100, concurrency=1)
    log.gate.clear()
    busy = asyncio.create_task(reads.events_after("group:other", 0))
    await asyncio.sleep(0)
    leaving = asyncio.create_task(reads.events_after(ROOM, 0))
    staying = asyncio.create_task(reads.events_after(ROOM, 0))
    await asyncio.sleep(0)
    leaving.cancel()
    log.gate.set()

    assert seqs(await staying) == [1, 2]
    await busy
    with pytest.raises(asyncio.CancelledError):
        await leaving
