"""The port services use to tell connected clients what changed.

Services call it *after* their transaction commits (never before: a client
must not hear of a change that then rolls back). The gateway implements it on
its Socket.IO server; workers and notifiers implement it with a write-only
fan-out through Redis (``goftogu.realtime.broadcast``). Rooms follow the
conversation address: ``user:<id>``, ``single:<id>``, ``group:<id>``,
``support:<id>``, ``operator:<id>``, ``operators``.
"""

from __future__ import annotations

from typing import Any, Protocol


class Broadcaster(Protocol):
    async def emit(
        self, event: str, data: dict[str, Any], *, room: str, skip_sid: str | None = None
    ) -> None:
        """Send ``event`` to every socket in ``room``, on every gateway node."""
        ...

    async def join_user(self, user_id: str, room: str) -> None:
        """Put every live connection of ``user_id`` (on any node) into ``room``."""
        ...

    async def leave_user(self, user_id: str, room: str) -> None:
        """Take every live connection of ``user_id`` (on any node) out of ``room``."""
        ...


class NoBroadcast:
    """For processes without clients to tell (one-off CLI commands)."""

    async def emit(
        self, event: str, data: dict[str, Any], *, room: str, skip_sid: str | None = None
    ) -> None:
        return None

    async def join_user(self, user_id: str, room: str) -> None:
        return None

    async def leave_user(self, user_id: str, room: str) -> None:
        return None


def user_room(user_id: object) -> str:
    return f"user:{user_id}"
