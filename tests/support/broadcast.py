"""A Broadcaster that remembers what services told it, in order.

Service-level tests use it to see *what* leaves after a commit (events, room
moves); delivery to real Socket.IO clients is tested end to end with the
gateway's own broadcaster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Emitted:
    event: str
    data: dict[str, Any]
    room: str


@dataclass
class RecordingBroadcaster:
    emitted: list[Emitted] = field(default_factory=list)
    moves: list[tuple[str, str, str]] = field(default_factory=list)  # (join|leave, user, room)

    async def emit(
        self, event: str, data: dict[str, Any], *, room: str, skip_sid: str | None = None
    ) -> None:
        self.emitted.append(Emitted(event, data, room))

    async def join_user(self, user_id: str, room: str) -> None:
        self.moves.append(("join", user_id, room))

    async def leave_user(self, user_id: str, room: str) -> None:
        self.moves.append(("leave", user_id, room))

    def events(self, event: str | None = None, room: str | None = None) -> list[Emitted]:
        return [
            e
            for e in self.emitted
            if (event is None or e.event == event) and (room is None or e.room == room)
        ]

    def clear(self) -> None:
        self.emitted.clear()
        self.moves.clear()
