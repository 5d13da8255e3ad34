"""In-process connection store for the embedded default (one gateway process)."""

from __future__ import annotations

import time


class MemoryConnectionStore:
    def __init__(self) -> None:
        self._leases: dict[str, dict[str, float]] = {}  # user -> sid -> expiry
        self._chosen: dict[str, str] = {}
        self._announced: dict[str, str] = {}

    def _live(self, user_id: str) -> dict[str, float]:
        now = time.monotonic()
        leases = {s: e for s, e in self._leases.get(user_id, {}).items() if e > now}
        if leases:
            self._leases[user_id] = leases
        else:
            self._leases.pop(user_id, None)
        return leases

    async def add(self, user_id: str, sid: str, lease_seconds: float) -> int:
        self._leases.setdefault(user_id, {})[sid] = time.monotonic() + lease_seconds
        return len(self._live(user_id))

    async def remove(self, user_id: str, sid: str) -> int:
        self._leases.get(user_id, {}).pop(sid, None)
        return len(self._live(user_id))

    async def count(self, user_id: str) -> int:
        return len(self._live(user_id))

    async def renew(self, connections: list[tuple[str, str]], lease_seconds: float) -> None:
        expiry = time.monotonic() + lease_seconds
        for user_id, sid in connections:
            self._leases.setdefault(user_id, {})[sid] = expiry

    async def choose(self, user_id: str, status: str) -> None:
        self._chosen[user_id] = status

    async def chosen(self, user_ids: list[str]) -> dict[str, str]:
        return {u: self._chosen[u] for u in user_ids if u in self._chosen}

    async def live_counts(self, user_ids: list[str]) -> dict[str, int]:
        return {u: len(self._live(u)) for u in user_ids}

    async def announce(self, user_id: str, status: str) -> bool:
        previous = self._announced.get(user_id, "offline")
        self._announced[user_id] = status
        return previous != status

    async def lapsed(self) -> list[str]:
        now = time.monotonic()
        gone = [
            u
            for u, leases in self._leases.items()
            if leases and all(expiry <= now for expiry in leases.values())
        ]
        for user_id in gone:
            del self._leases[user_id]
        return gone
