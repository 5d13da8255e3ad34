"""Units of work: a write and what it announces, handled on commit (``goftogu.bus``).

Every state change that tells anyone anything is written inside one::

    async with self._work.transaction() as work:
        ...                                  # the change, in work.session
        work.announce(RoomEvent.of(body))    # collected, not sent
    # committed: the bus has run the announcements' handlers

``transaction()`` wraps one relational transaction: the announcements'
``before_commit`` handlers run in it just before the commit (an outbox row
commits with the change), the ``after_commit`` ones once it committed. A block
that raises rolls back and announces nothing.

``announcing()`` (``goftogu.bus.Announcements``) is for writes that commit on
their own, one atomic call each (a support chat document in MongoDB): what the
block announces is handled when it ends without an error, after its writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from goftogu.bus import Announcements, Bus, Transaction
from goftogu.storage.database import Database


class UnitsOfWork(Announcements):
    """Opens units of work on ``database`` whose announcements go to ``bus``."""

    def __init__(self, database: Database, bus: Bus) -> None:
        super().__init__(bus)
        self.database = database

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One transaction: committed on success (then its announcements handled),
        rolled back on error (and nothing announced)."""
        async with self.database.sessions() as session, session.begin():
            work = Transaction(session)
            yield work
            # Handlers may announce more (an outbox row announces itself): run until
            # every announcement, old and new, had its turn.
            done = 0
            while done < len(work.events):
                event = work.events[done]
                done += 1
                await self._bus.stage(work, event)
        await self._bus.publish(work.events)
