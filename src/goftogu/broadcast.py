"""Telling connected clients what changed: the events a unit of work announces
for them, and the port that delivers those events.

Services announce ``RoomEvent``, ``RoomJoined`` and ``RoomLeft`` in their unit
of work (``goftogu.storage.work``); after the commit, the bus hands them to a
``Broadcaster`` (``clients_are_told``). The gateway implements the port on its
Socket.IO server; workers and notifiers with a write-only fan-out through
Redis (``goftogu.realtime.broadcast``). Rooms follow the conversation address:
``user:<id>``, ``single:<id>``, ``group:<id>``, ``support:<id>``,
``operator:<id>``, ``operators``, and ``session:<id>`` for the sockets of
one sign-in session (ended together when it is revoked).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from goftogu.bus import Event, Handlers


class WireEvent(Protocol):
    """A typed Socket.IO server event: a pydantic model naming its event."""

    EVENT: ClassVar[str]

    def model_dump(self, *, mode: str = ...) -> dict[str, Any]: ...


@dataclass(frozen=True)
class RoomEvent(Event):
    """Socket.IO event ``name`` with ``payload`` for every socket in ``room``."""

    room: str
    name: str
    payload: dict[str, Any]

    @classmethod
    def of(cls, body: WireEvent, room: str) -> RoomEvent:
        return cls(room=room, name=body.EVENT, payload=body.model_dump(mode="json"))


@dataclass(frozen=True)
class RoomJoined(Event):
    """Every live connection of ``user_id`` (on any node) joins ``room``."""

    user_id: str
    room: str


@dataclass(frozen=True)
class RoomLeft(Event):
    """Every live connection of ``user_id`` (on any node) leaves ``room``."""

    user_id: str
    room: str


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

    async def end_sockets(self, session_ids: Sequence[str], reason: str) -> None:
        """On every node, tell the sockets of these sessions ``session:ended`` with
        ``reason``, then disconnect them."""
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

    async def end_sockets(self, session_ids: Sequence[str], reason: str) -> None:
        return None


def clients_are_told(handlers: Handlers, broadcaster: Broadcaster) -> Handlers:
    """Register the after-commit handlers that deliver client events through ``broadcaster``."""

    async def emit(event: RoomEvent) -> None:
        await broadcaster.emit(event.name, event.payload, room=event.room)

    async def join(event: RoomJoined) -> None:
        await broadcaster.join_user(event.user_id, event.room)

    async def leave(event: RoomLeft) -> None:
        await broadcaster.leave_user(event.user_id, event.room)

    return (
        handlers.after_commit(RoomEvent, emit)
        .after_commit(RoomJoined, join)
        .after_commit(RoomLeft, leave)
    )


def user_room(user_id: object) -> str:
    return f"user:{user_id}"


def session_room(session_id: object) -> str:
    """Every socket authenticated by one session (its access tokens) is in it."""
    return f"session:{session_id}"
