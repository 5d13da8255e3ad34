"""A Broadcaster that records what services told clients, for service-level tests.

End-to-end tests check the same events arriving at real Socket.IO clients; this
one lets a service test assert *what* was announced without running sockets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RecordingBroadcaster:
    emitted: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    moves: list[tuple[str, str, str]] = field(default_factory=list)

    async def emit(
        self, event: str, data: dict[str, Any], *, room: str, skip_sid: str | None = None
    ) -> None:
        self.emitted.append((event, data, room))

    async def join_user(self, user_id: str, room: str) -> None:
        self.moves.append(("join", user_id, room))

    async def leave_user(self, user_id: str, room: str) -> None:
        self.moves.append(("leave", user_id, room))

    def to(self, room: str, event: str | None = None) -> list[dict[str, Any]]:
        return [d for e, d, r in self.emitted if r == room and (event is None or e == event)]
