"""The delivery ledger: one row per (notification, channel, recipient), start to end.

Life of a row::

    plan_delivery   -> queued    (with a `notify.deliver` job in the outbox, one transaction)
    claim           -> sending   (attempts + 1, held until lease_until)
    finish          -> sent | failed | skipped     or release -> queued (retry later)

``plan_delivery`` inserts with ON CONFLICT DO NOTHING on the idempotency key:
a trigger handled twice plans nothing new. ``claim`` refuses a row that is
finished, and a row another attempt holds; after a crash the lease runs out
and the next attempt takes the row over. The one duplicate this cannot
prevent is a send the server accepted just before the process died, before
``finish`` committed: no protocol lets an SMTP client and a database commit
together. The deterministic Message-ID lets mail clients fold that rare copy.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from goftogu.bus import Transaction
from goftogu.ids import new_id
from goftogu.notifications.jobs import NOTIFY, DeliveryDue
from goftogu.notifications.models import (
    Channel,
    DeliveryStatus,
    NotificationDelivery,
    NotificationDigest,
)
from goftogu.queueing.outbox import add_to_outbox
from goftogu.storage.database import Database
from goftogu.storage.models import utcnow

MAX_ERROR_LENGTH = 500
_FINISHED = (DeliveryStatus.sent, DeliveryStatus.failed, DeliveryStatus.skipped)


def delivery_key(notification: str, channel: Channel, recipient: object) -> str:
    """The idempotency key of ``notification`` to ``recipient`` (a user id for email,
    a subscription id for push) over ``channel``."""
    return f"{notification}:{channel.value}:{recipient}"


async def plan_delivery(
    work: Transaction,
    *,
    notification: str,
    kind: str,
    channel: Channel,
    user_id: uuid.UUID,
    context: dict[str, Any],
    subscription_id: uuid.UUID | None = None,
) -> uuid.UUID | None:
    """Record a delivery and queue its job, in the caller's unit of work. Returns its
    id, or None when this (notification, channel, recipient) was planned before."""
    session = work.session
    recipient = subscription_id if channel is Channel.push else user_id
    now = utcnow()
    delivery_id = new_id()
    dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(NotificationDelivery)
        .values(
            id=delivery_id,
            created_at=now,
            updated_at=now,
            idempotency_key=delivery_key(notification, channel, recipient),
            kind=kind,
            channel=channel.value,
            user_id=user_id,
            subscription_id=subscription_id,
            context=context,
            status=DeliveryStatus.queued.value,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(NotificationDelivery.id)
    )
    inserted = (await session.execute(statement)).scalar_one_or_none()
    if inserted is None:
        return None
    await add_to_outbox(
        work, NOTIFY, DeliveryDue(delivery_id=inserted), message_id=f"deliver:{inserted}"
    )
    return inserted


@dataclass(frozen=True)
class Claimed:
    """The row is ours until ``lease`` runs out: send it."""

    delivery: NotificationDelivery


@dataclass(frozen=True)
class Busy:
    """Another attempt holds the row; look again after ``seconds``."""

    seconds: float


@dataclass(frozen=True)
class Done:
    """Nothing to do: the row is finished (or gone with its user)."""

    status: str


class Ledger:
    def __init__(self, database: Database, *, lease_seconds: float) -> None:
        self._db = database
        self._lease = timedelta(seconds=lease_seconds)

    async def claim(self, delivery_id: uuid.UUID) -> Claimed | Busy | Done:
        """Take the delivery for one send attempt (see the module docstring)."""
        now = utcnow()
        async with self._db.transaction() as session:
            row = await session.scalar(
                select(NotificationDelivery)
                .where(NotificationDelivery.id == delivery_id)
                .with_for_update()
            )
            if row is None:
                return Done("missing")
            if row.status in _FINISHED:
                return Done(row.status)
            if (
                row.status == DeliveryStatus.sending
                and row.lease_until is not None
                and row.lease_until > now
            ):
                return Busy((row.lease_until - now).total_seconds())
            row.status = DeliveryStatus.sending
            row.attempts += 1
            row.lease_until = now + self._lease
            await session.flush()
            return Claimed(row)

    async def release(self, claimed: Claimed, error: str) -> None:
        """The attempt failed in a way worth retrying: the row is free again."""
        async with self._db.transaction() as session:
            await self.finish(session, claimed, DeliveryStatus.queued, error)

    async def finish(
        self,
        session: AsyncSession,
        claimed: Claimed,
        status: DeliveryStatus,
        error: str | None = None,
    ) -> None:
        """Record the outcome of the attempt, in the caller's transaction (with what
        goes with it: a subscription removed, its last success noted).

        ``sent`` is always recorded. Any other outcome only while the attempt still
        holds the row: an attempt whose lease ran out while it hung must not undo
        what the attempt that took over did."""
        row = claimed.delivery
        now = utcnow()
        values: dict[str, Any] = {"status": status.value, "lease_until": None, "updated_at": now}
        if status is DeliveryStatus.sent:
            values["sent_at"] = now
        if error is not None:
            values["last_error"] = error[:MAX_ERROR_LENGTH]
        statement = update(NotificationDelivery).where(NotificationDelivery.id == row.id)
        if status is not DeliveryStatus.sent:
            statement = statement.where(
                NotificationDelivery.status == DeliveryStatus.sending.value,
                NotificationDelivery.attempts == row.attempts,
            )
        await session.execute(statement.values(values))

    async def finish_alone(
        self, claimed: Claimed, status: DeliveryStatus, error: str | None = None
    ) -> None:
        async with self._db.transaction() as session:
            await self.finish(session, claimed, status, error)


async def purge_finished(database: Database, older_than: timedelta) -> int:
    """Delete finished deliveries and closed digests (with their items) last touched
    more than ``older_than`` ago; returns how many rows went. Their idempotency keys
    go with them: a job older than that is not expected to come back."""
    cutoff = utcnow() - older_than
    async with database.transaction() as session:
        deliveries = await session.execute(
            delete(NotificationDelivery).where(
                NotificationDelivery.status.in_([status.value for status in _FINISHED]),
                NotificationDelivery.updated_at < cutoff,
            )
        )
        digests = await session.execute(
            delete(NotificationDigest).where(
                NotificationDigest.closed_at.is_not(None), NotificationDigest.closed_at < cutoff
            )
        )
    return int(getattr(deliveries, "rowcount", 0) or 0) + int(getattr(digests, "rowcount", 0) or 0)
