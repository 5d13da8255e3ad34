"""What the notifier needs from other domains, as small ports.

- ``OnlineUsers``: which users have a live connection right now, on any
  node. ``goftogu.presence.users.UserPresence`` implements it (Redis, or
  in-process for the embedded default).
- ``MuteSettings``: who muted a conversation. The messaging domain
  implements it over its per-user ``muted_until``; ``NoMutes`` is the
  default until it is wired.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Protocol


class OnlineUsers(Protocol):
    async def online_among(self, user_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Those of ``user_ids`` with at least one live connection (on any node),
        asked in one round trip."""
        ...


class MuteSettings(Protocol):
    async def muted_among(
        self, conversation: str, user_ids: Collection[uuid.UUID], at: datetime
    ) -> set[uuid.UUID]:
        """Those of ``user_ids`` whose ``muted_until`` for ``conversation`` (an address:
        ``single:<id>``, ``group:<id>``, ``support:<id>``) is later than ``at``."""
        ...


class NoMutes:
    """Nobody muted anything: the default until messaging provides its settings."""

    async def muted_among(
        self, conversation: str, user_ids: Collection[uuid.UUID], at: datetime
    ) -> set[uuid.UUID]:
        return set()
