"""Presence of a process, built once: users' (``container.presence``) and
operators' availability, each in Redis when configured, else in-process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from goftogu.presence.operators import (
    AvailabilitySeed,
    MemoryOperatorAvailability,
    OperatorAvailability,
)
from goftogu.presence.users import ConnectionStore, ContactSource, UserPresence
from goftogu.settings import Settings
from goftogu.storage.work import UnitsOfWork

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from redis.asyncio import Redis


def build_user_presence(
    settings: Settings, redis: Redis | None, work: UnitsOfWork, contacts_of: ContactSource
) -> UserPresence:
    """Connections as leases; changes announced to ``contacts_of`` a user."""
    store: ConnectionStore
    if redis is not None:
        from goftogu.presence.users_redis import RedisConnectionStore

        store = RedisConnectionStore(redis)
    else:
        from goftogu.presence.users_memory import MemoryConnectionStore

        store = MemoryConnectionStore()
    return UserPresence(
        store,
        work,
        contacts_of=contacts_of,
        grace_seconds=settings.presence_grace_seconds,
        lease_seconds=settings.presence_lease_seconds,
    )


def build_operator_availability(
    settings: Settings, redis: Redis | None, seed: Callable[[], Awaitable[AvailabilitySeed]]
) -> OperatorAvailability:
    """Operators' status, connections and loads, rebuilt by ``seed`` from the
    databases when the store lost them."""
    lease, hold = settings.operator_lease_seconds, settings.support_hold_seconds
    if redis is not None:
        from goftogu.presence.operators_redis import RedisOperatorAvailability

        return RedisOperatorAvailability(redis, seed, lease_seconds=lease, hold_seconds=hold)
    return MemoryOperatorAvailability(seed, lease_seconds=lease, hold_seconds=hold)
