"""Implementations of the Broadcaster port (src/goftogu/broadcast.py).

- ``SocketBroadcaster``: in the gateway, on its own Socket.IO server (local
  delivery, plus every other node through the Redis manager when configured).
- ``RedisBroadcaster``: in workers and notifiers, a write-only Redis manager
  that publishes to the gateways' fan-out channel.

Moving a user's sockets between rooms, and ending the sockets of revoked
sessions, are control emits that every node acts on for its own sockets
(``delivery.CONTROL_EVENT``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import socketio

from goftogu.broadcast import session_room, user_room
from goftogu.realtime.delivery import CONTROL_EVENT

NAMESPACE = "/"


def _control(op: str, user_id: str, room: str) -> dict[str, str]:
    return {"op": op, "user_room": user_room(user_id), "room": room}


def _end(session_ids: Sequence[str], reason: str) -> dict[str, Any]:
    return {"op": "end", "rooms": [session_room(s) for s in session_ids], "reason": reason}


class SocketBroadcaster:
    def __init__(self, sio: socketio.AsyncServer) -> None:
        self._sio = sio

    async def emit(
        self, event: str, data: dict[str, Any], *, room: str, skip_sid: str | None = None
    ) -> None:
        await self._sio.emit(event, data, room=room, skip_sid=skip_sid, namespace=NAMESPACE)

    async def join_user(self, user_id: str, room: str) -> None:
        await self._sio.emit(CONTROL_EVENT, _control("join", user_id, room), namespace=NAMESPACE)

    async def leave_user(self, user_id: str, room: str) -> None:
        await self._sio.emit(CONTROL_EVENT, _control("leave", user_id, room), namespace=NAMESPACE)

    async def end_sockets(self, session_ids: Sequence[str], reason: str) -> None:
        await self._sio.emit(CONTROL_EVENT, _end(session_ids, reason), namespace=NAMESPACE)


class RedisBroadcaster:
    """For processes without sockets of their own: publish to every gateway node."""

    def __init__(self, redis_url: str, channel: str) -> None:
        self._manager = socketio.AsyncRedisManager(redis_url, channel=channel, write_only=True)

    async def emit(
        self, event: str, data: dict[str, Any], *, room: str, skip_sid: str | None = None
    ) -> None:
        await self._manager.emit(event, data, namespace=NAMESPACE, room=room, skip_sid=skip_sid)

    async def join_user(self, user_id: str, room: str) -> None:
        await self._manager.emit(
            CONTROL_EVENT, _control("join", user_id, room), namespace=NAMESPACE
        )

    async def leave_user(self, user_id: str, room: str) -> None:
        await self._manager.emit(
            CONTROL_EVENT, _control("leave", user_id, room), namespace=NAMESPACE
        )

    async def end_sockets(self, session_ids: Sequence[str], reason: str) -> None:
        await self._manager.emit(CONTROL_EVENT, _end(session_ids, reason), namespace=NAMESPACE)
