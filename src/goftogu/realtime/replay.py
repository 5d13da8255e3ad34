"""Replay reads shared between the sockets of one conversation.

After a reconnect storm every member of a group asks for the same events at
once, each from about the same cursor. Reading them once per socket costs the
database (and this node's event loop) as many identical queries as there are
members. Here the requests for one conversation that wait for a read slot join
ONE read from the lowest of their cursors; each caller keeps the events after
its own cursor.

Why sharing is safe: a read is only shared by callers that asked for it
*before it started*, so its database snapshot is taken after each of them had
joined the conversation's room. An event committed before that snapshot is in
the read; one committed after it is emitted after its commit, to a room the
caller is already in, and arrives live. Nothing falls between the two.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from goftogu.realtime.delivery import RepairPage, sequenced

RoomEventReader = Callable[[str, int, int], Awaitable[list[tuple[str, dict[str, Any]]]]]
"""(conversation, after_seq, limit) -> the room's events after ``after_seq``, in seq order."""


@dataclass
class _Read:
    after: int
    started: bool = False
    result: asyncio.Future[RepairPage] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class SharedReads:
    """At most ``concurrency`` replay reads at a time; requests that queue for the
    same conversation are answered by one read."""

    def __init__(self, read: RoomEventReader, *, page: int, concurrency: int) -> None:
        self._read = read
        self._page = page
        self._slots = asyncio.Semaphore(concurrency)
        self._queued: dict[str, _Read] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def events_after(self, conversation: str, after_seq: int) -> RepairPage:
        """The events after ``after_seq`` (a page of them: ``more`` says whether the
        read stopped at the page size, so the caller asks again after them)."""
        read = self._queued.get(conversation)
        if read is None or read.started:
            read = self._queued[conversation] = _Read(after_seq)
            task = asyncio.get_running_loop().create_task(self._run(conversation, read))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            read.after = min(read.after, after_seq)
        events, more = await asyncio.shield(read.result)
        return [e for e in events if _seq(e[1]) > after_seq], more

    async def _run(self, conversation: str, read: _Read) -> None:
        try:
            async with self._slots:
                read.started = True
                if self._queued.get(conversation) is read:
                    del self._queued[conversation]
                events = await self._read(conversation, read.after, self._page)
        except BaseException as error:
            read.result.set_exception(error)
            read.result.exception()  # retrieved: each waiter raises it on its own
            if not isinstance(error, Exception):
                raise
        else:
            read.result.set_result((events, len(events) >= self._page))


def _seq(data: dict[str, Any]) -> int:
    target = sequenced(data)
    return target[1] if target is not None else 0
