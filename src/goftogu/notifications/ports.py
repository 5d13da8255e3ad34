"""What the notifier needs from other domains, as small ports.

- ``OnlineUsers``: whether a user has a live connection right now. The
  presence domain implements it (Redis in production); ``MemoryOnlineUsers``
  below is the minimal in-process one for a single embedded process.
- ``MuteSettings``: who muted a conversation. The messaging domain
  implements it over its per-user ``muted_until``; ``NoMutes`` is the
  default until it is wired.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection
from datetime import datetime
from typing import Protocol


class OnlineUsers(Protocol):
    async def is_online(self, user_id: uuid.UUID) -> bool:
        """Whether ``user_id`` has at least one live connection (on any node)."""
        ...


class MuteSettings(Protocol):
    async def muted_among(
        self, conversation: str, user_ids: Collection[uuid.UUID], at: datetime
    ) -> set[uuid.UUID]:
        """Those of ``user_ids`` whose ``muted_until`` for ``conversation`` (an address:
        ``single:<id>``, ``group:<id>``, ``support:<id>``) is later than ``at``."""
        ...


class MemoryOnlineUsers:
    """Live connections counted in this process: right for the embedded single
    process, where every connection lands here. Transports call ``connected`` and
    ``disconnected`` once per connection."""

    def __init__(self) -> None:
        self._connections: Counter[uuid.UUID] = Counter()

    def connected(self, user_id: uuid.UUID) -> None:
        self._connections[user_id] += 1

    def disconnected(self, user_id: uuid.UUID) -> None:
        self._connections[user_id] -= 1
        if self._connections[user_id] <= 0:
            del self._connections[user_id]

    async def is_online(self, user_id: uuid.UUID) -> bool:
        return self._connections[user_id] > 0


class NoMutes:
    """Nobody muted anything: the default until messaging provides its settings."""

    async def muted_among(
        self, conversation: str, user_ids: Collection[uuid.UUID], at: datetime
    ) -> set[uuid.UUID]:
        return set()
