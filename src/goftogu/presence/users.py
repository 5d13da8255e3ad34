"""User presence: online while at least one connection is alive (M6).

A connection is a lease that its gateway renews; a node that dies stops
renewing and its connections expire, so presence heals without it. The last
connection closing starts a short grace period: reconnecting within it (a
page reload, a flaky network) changes nothing anyone sees.

Status a user chooses (``online``, ``away``, or ``offline`` to appear
offline) applies while connected; with no live connection the user is
offline. Changes of the *effective* status are written to ``users.status`` /
``users.last_seen`` and announced once (across nodes) with a ``presence``
event to everyone who shares a conversation with the user.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable
from datetime import datetime
from typing import ClassVar, Protocol

from pydantic import BaseModel
from sqlalchemy import update

from goftogu.broadcast import RoomEvent, user_room
from goftogu.identity.models import User, UserStatus
from goftogu.storage.models import utcnow
from goftogu.storage.work import UnitsOfWork

log = logging.getLogger(__name__)

OFFLINE_ANNOUNCEMENTS_AT_ONCE = 4

ContactSource = Callable[[str], Awaitable[Iterable[str]]]
"""The ids of the users who share a conversation with a user."""


class PresenceChanged(BaseModel):
    """``presence`` to ``user:<id>`` of the user and of each of their contacts."""

    EVENT: ClassVar[str] = "presence"
    user_id: str
    status: UserStatus
    last_seen: datetime


class ConnectionStore(Protocol):
    """Where live connections and chosen statuses are kept (Redis or in-process)."""

    async def add(self, user_id: str, sid: str, lease_seconds: float) -> int:
        """Record a connection; returns the user's live connections after it."""
        ...

    async def remove(self, user_id: str, sid: str) -> int:
        """Forget a connection; returns the user's live connections left."""
        ...

    async def count(self, user_id: str) -> int: ...

    async def renew(self, connections: list[tuple[str, str]], lease_seconds: float) -> None:
        """Extend (or re-create, after a store restart) leases of (user, sid) pairs."""
        ...

    async def choose(self, user_id: str, status: str) -> None:
        """Remember the status the user chose (online, away, offline)."""
        ...

    async def chosen(self, user_ids: list[str]) -> dict[str, str]: ...

    async def live_counts(self, user_ids: list[str]) -> dict[str, int]: ...

    async def announce(self, user_id: str, status: str) -> bool:
        """Record ``status`` as announced; True when it differs from the last one."""
        ...

    async def lapsed(self) -> list[str]:
        """Users whose every lease expired (their node died), each returned once."""
        ...


class UserPresence:
    """The presence use cases, shared by every gateway node."""

    def __init__(
        self,
        store: ConnectionStore,
        work: UnitsOfWork,
        *,
        contacts_of: ContactSource,
        grace_seconds: float,
        lease_seconds: float,
    ) -> None:
        self._store = store
        self._work = work
        self._contacts_of = contacts_of
        self._grace = grace_seconds
        self.lease_seconds = lease_seconds
        self._local: dict[str, str] = {}  # sid -> user id, this node's connections
        self._pending_offline: dict[str, asyncio.Task[None]] = {}
        # Offline announcements due at once (a node's connections dropped together)
        # take turns; a user who reconnects before their turn cancels theirs.
        self._offline_turns = asyncio.Semaphore(OFFLINE_ANNOUNCEMENTS_AT_ONCE)

    async def connected(self, user_id: uuid.UUID | str, sid: str) -> None:
        user = str(user_id)
        self._local[sid] = user
        pending = self._pending_offline.pop(user, None)
        if pending is not None:
            pending.cancel()
        await self._store.add(user, sid, self.lease_seconds)
        await self._settle(user)

    async def admit(self, user_id: uuid.UUID | str, sid: str, cap: int) -> bool:
        """Count ``sid`` among the user's connections (on every node) unless they
        already have ``cap``; False when refused. Counted first, then checked, so two
        racing connects cannot both take the last place."""
        user = str(user_id)
        if await self._store.add(user, sid, self.lease_seconds) <= cap:
            return True
        await self._store.remove(user, sid)
        return False

    async def release(self, user_id: uuid.UUID | str, sid: str) -> None:
        """Undo :meth:`admit` for a connection that was not set up after all."""
        if sid not in self._local:
            await self._store.remove(str(user_id), sid)

    async def disconnected(self, sid: str) -> None:
        user = self._local.pop(sid, None)
        if user is None:
            return
        if await self._store.remove(user, sid) == 0:
            task = asyncio.create_task(self._offline_after_grace(user))
            self._pending_offline[user] = task

    async def choose(self, user_id: uuid.UUID | str, status: UserStatus) -> UserStatus:
        """Set the status a user chose; returns their effective status."""
        user = str(user_id)
        await self._store.choose(user, status.value)
        return await self._settle(user)

    async def online_among(self, user_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Those of ``user_ids`` with a live connection on any node (appearing offline
        included: they are there, and should not be notified as if away); one
        round trip to the store."""
        ids = list(user_ids)
        counts = await self._store.live_counts([str(u) for u in ids])
        return {u for u in ids if counts.get(str(u), 0) > 0}

    async def statuses(self, user_ids: list[str]) -> dict[str, UserStatus]:
        counts = await self._store.live_counts(user_ids)
        chosen = await self._store.chosen(user_ids)
        return {u: _effective(counts.get(u, 0), chosen.get(u)) for u in user_ids}

    async def maintain(self) -> None:
        """Renew this node's leases and announce users whose node died (run periodically)."""
        await self._store.renew([(u, s) for s, u in self._local.items()], self.lease_seconds)
        for user in await self._store.lapsed():
            await self._settle(user)

    @property
    def maintenance_period(self) -> float:
        """How often :meth:`maintain` runs: leases are renewed well before they lapse."""
        return max(1.0, self.lease_seconds / 3)

    async def _offline_after_grace(self, user: str) -> None:
        await asyncio.sleep(self._grace)
        try:
            async with self._offline_turns:
                self._pending_offline.pop(user, None)
                await self._settle(user)
        except Exception:
            # Redis or the database overloaded or away: the lease runs out and the
            # periodic maintenance announces the user offline then.
            log.warning("offline announcement deferred", extra={"user_id": user}, exc_info=True)

    async def _settle(self, user: str) -> UserStatus:
        """Compute the effective status; persist and announce it if it changed."""
        status = (await self.statuses([user]))[user]
        if await self._store.announce(user, status.value):
            seen = utcnow()
            told = {user, *await self._contacts_of(user)}  # the user's own other devices too
            body = PresenceChanged(user_id=user, status=status, last_seen=seen)
            async with self._work.transaction() as work:
                await work.session.execute(
                    update(User)
                    .where(User.id == uuid.UUID(user))
                    .values(status=status.value, last_seen=seen)
                )
                work.announce(*(RoomEvent.of(body, user_room(contact)) for contact in told))
        return status


def _effective(live: int, chosen: str | None) -> UserStatus:
    if live == 0 or chosen == UserStatus.offline:
        return UserStatus.offline
    return UserStatus.away if chosen == UserStatus.away else UserStatus.online
