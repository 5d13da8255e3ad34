"""The Broadcaster port on the gateway's own Socket.IO server."""

from __future__ import annotations

from typing import Any

import socketio

from goftogu.broadcast import user_room

NAMESPACE = "/"


class SocketBroadcaster:
    """Emits through the server's client manager: with the Redis manager an emit
    reaches every node. Membership moves act on this node's sockets of the user."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self._sio = sio

    async def emit(
        self, event: str, data: dict[str, Any], *, room: str, skip_sid: str | None = None
    ) -> None:
        await self._sio.emit(event, data, room=room, skip_sid=skip_sid, namespace=NAMESPACE)

    async def join_user(self, user_id: str, room: str) -> None:
        for sid in self._local_sids(user_id):
            await self._sio.enter_room(sid, room, namespace=NAMESPACE)

    async def leave_user(self, user_id: str, room: str) -> None:
        for sid in self._local_sids(user_id):
            await self._sio.leave_room(sid, room, namespace=NAMESPACE)

    def _local_sids(self, user_id: str) -> list[str]:
        participants = self._sio.manager.get_participants(NAMESPACE, user_room(user_id))
        return [sid for sid, _eio_sid in participants]
