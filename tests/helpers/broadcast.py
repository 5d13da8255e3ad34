"""A Broadcaster that remembers what services told it, in order, and units of
work whose announcements reach it through the real bus handlers.

Service-level tests use it to see *what* leaves after a commit (events, room
moves); delivery to real Socket.IO clients is tested end to end with the
gateway's own broadcaster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from goftogu.broadcast import clients_are_told
from goftogu.bus import Announcements, Bus, Handlers
from goftogu.queueing.relay import OutboxWritten
from goftogu.storage.database import Database
from goftogu.storage.work import UnitsOfWork


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

    def to(self, room: str, event: str | None = None) -> list[dict[str, Any]]:
        """The payloads sent to ``room`` (of ``event`` only, when given), in order."""
        return [e.data for e in self.events(event, room)]

    def clear(self) -> None:
        self.emitted.clear()
        self.moves.clear()


def recording_bus(told: RecordingBroadcaster, *, woken: list[int] | None = None) -> Bus:
    """A bus whose client events reach ``told`` (through the same handlers as in
    production) and whose relay wake-ups are counted in ``woken``."""

    async def wake(_event: OutboxWritten) -> None:
        if woken is not None:
            woken.append(1)

    return clients_are_told(Handlers(), told).after_commit(OutboxWritten, wake).build()


def units_of_work(
    database: Database, told: RecordingBroadcaster, *, woken: list[int] | None = None
) -> UnitsOfWork:
    """Units of work on ``database`` announcing to ``recording_bus(told, woken)``."""
    return UnitsOfWork(database, recording_bus(told, woken=woken))


def announcements(told: RecordingBroadcaster, *, woken: list[int] | None = None) -> Announcements:
    """Announcements (writes that commit on their own) to ``recording_bus``."""
    return Announcements(recording_bus(told, woken=woken))
