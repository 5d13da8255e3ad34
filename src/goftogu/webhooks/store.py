"""The webhook tables (relational: PostgreSQL or SQLite; one contract suite).

Deliveries follow the notification ledger's life::

    plan       -> queued     (with a ``webhooks.deliver`` job in the outbox, one transaction)
    claim      -> sending    (attempts + 1, held until lease_until)
    delivered | queued (retry later) | failed (out of attempts) | skipped

``plan`` inserts with ON CONFLICT DO NOTHING on (subscription, event): an event
recorded twice is delivered once. ``claim`` refuses a finished row and a row
another attempt holds; after a crash the lease runs out and the next attempt
takes it over.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from goftogu.bus import Transaction
from goftogu.ids import new_id
from goftogu.storage.database import Database
from goftogu.storage.models import utcnow
from goftogu.webhooks.models import WebhookDelivery, WebhookStatus, WebhookSubscription

MAX_ERROR = 500
_FINISHED = (WebhookStatus.delivered, WebhookStatus.failed, WebhookStatus.skipped)


@dataclass(frozen=True)
class Claimed:
    delivery: WebhookDelivery
    subscription: WebhookSubscription | None


@dataclass(frozen=True)
class Busy:
    seconds: float


@dataclass(frozen=True)
class Done:
    status: str


@dataclass(frozen=True)
class Failure:
    """What a failed attempt left: whether the delivery is over, whether the
    subscription was disabled by it."""

    final: bool
    disabled: bool


class WebhookStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    # --- subscriptions ---------------------------------------------------------------

    async def create(
        self,
        *,
        url: str,
        secret: str,
        events: Sequence[str],
        description: str | None,
        created_by: uuid.UUID | None,
    ) -> WebhookSubscription:
        row = WebhookSubscription(
            url=url,
            secret=secret,
            events=list(events),
            description=description,
            active=True,
            consecutive_failures=0,
            created_by=created_by,
        )
        async with self._db.transaction() as session:
            session.add(row)
            await session.flush()
        return row

    async def count(self) -> int:
        async with self._db.sessions() as session:
            return int(await session.scalar(select(func.count(WebhookSubscription.id))) or 0)

    async def get(self, subscription_id: uuid.UUID) -> WebhookSubscription | None:
        async with self._db.sessions() as session:
            return await session.get(WebhookSubscription, subscription_id)

    async def page(
        self, after: uuid.UUID | None, limit: int
    ) -> tuple[list[WebhookSubscription], bool]:
        """Subscriptions in creation (id) order after ``after``; (page, has_more)."""
        statement = select(WebhookSubscription).order_by(WebhookSubscription.id)
        if after is not None:
            statement = statement.where(WebhookSubscription.id > after)
        async with self._db.sessions() as session:
            rows = list((await session.scalars(statement.limit(limit + 1))).all())
        return rows[:limit], len(rows) > limit

    async def update(
        self, subscription_id: uuid.UUID, changes: dict[str, Any]
    ) -> WebhookSubscription | None:
        """Apply ``changes``; ``active: True`` also clears the failure count and the
        reason it was disabled."""
        async with self._db.transaction() as session:
            row = await session.get(WebhookSubscription, subscription_id, with_for_update=True)
            if row is None:
                return None
            for name, value in changes.items():
                setattr(row, name, list(value) if name == "events" else value)
            if changes.get("active") is True:
                row.consecutive_failures = 0
                row.disabled_at = None
                row.disabled_reason = None
            elif changes.get("active") is False and row.disabled_at is None:
                row.disabled_at = utcnow()
                row.disabled_reason = "disabled by an admin"
            row.updated_at = utcnow()
            await session.flush()
        return row

    async def delete(self, subscription_id: uuid.UUID) -> bool:
        async with self._db.transaction() as session:
            await session.execute(
                delete(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
            )
            result = await session.execute(
                delete(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
            )
        return bool(getattr(result, "rowcount", 0))

    async def subscribers(self, event_type: str) -> list[WebhookSubscription]:
        """The active subscriptions that want ``event_type`` (a small table: filtered here,
        the same way on both engines)."""
        async with self._db.sessions() as session:
            rows = (
                await session.scalars(
                    select(WebhookSubscription)
                    .where(WebhookSubscription.active.is_(True))
                    .order_by(WebhookSubscription.id)
                )
            ).all()
        return [row for row in rows if event_type in row.events]

    # --- deliveries ------------------------------------------------------------------

    async def plan(
        self,
        work: Transaction,
        subscription_id: uuid.UUID,
        *,
        event_id: uuid.UUID,
        event_type: str,
        body: str,
    ) -> uuid.UUID | None:
        """Record a delivery in the caller's unit of work; None when this subscription
        had this event already."""
        now = utcnow()
        dialect = work.session.sync_session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(WebhookDelivery)
            .values(
                id=new_id(),
                created_at=now,
                updated_at=now,
                subscription_id=subscription_id,
                event_id=event_id,
                event_type=event_type,
                body=body,
                status=WebhookStatus.queued.value,
                attempts=0,
            )
            .on_conflict_do_nothing(index_elements=["subscription_id", "event_id"])
            .returning(WebhookDelivery.id)
        )
        inserted: uuid.UUID | None = (await work.session.execute(statement)).scalar_one_or_none()
        return inserted

    async def claim(self, delivery_id: uuid.UUID, lease: timedelta) -> Claimed | Busy | Done:
        now = utcnow()
        async with self._db.transaction() as session:
            row = await session.scalar(
                select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update()
            )
            if row is None:
                return Done("missing")
            if row.status in _FINISHED:
                return Done(row.status)
            if (
                row.status == WebhookStatus.sending
                and row.lease_until is not None
                and row.lease_until > now
            ):
                return Busy((row.lease_until - now).total_seconds())
            subscription = await session.get(WebhookSubscription, row.subscription_id)
            row.status = WebhookStatus.sending.value
            row.attempts += 1
            row.lease_until = now + lease
            row.updated_at = now
            await session.flush()
            return Claimed(row, subscription)

    def _held(self, claimed: Claimed) -> Any:
        row = claimed.delivery
        return update(WebhookDelivery).where(
            WebhookDelivery.id == row.id,
            WebhookDelivery.status == WebhookStatus.sending.value,
            WebhookDelivery.attempts == row.attempts,
        )

    async def delivered(self, claimed: Claimed, response_status: int) -> None:
        """The endpoint took it: delivered (always recorded), and its subscription's
        failures start again from zero."""
        now = utcnow()
        async with self._db.transaction() as session:
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == claimed.delivery.id)
                .values(
                    status=WebhookStatus.delivered.value,
                    response_status=response_status,
                    lease_until=None,
                    delivered_at=now,
                    updated_at=now,
                )
            )
            await session.execute(
                update(WebhookSubscription)
                .where(
                    WebhookSubscription.id == claimed.delivery.subscription_id,
                    WebhookSubscription.consecutive_failures != 0,
                )
                .values(consecutive_failures=0)
            )

    async def failed(
        self,
        claimed: Claimed,
        *,
        response_status: int | None,
        error: str,
        max_attempts: int,
        disable_after: int,
    ) -> Failure:
        """Record a failed attempt: back to ``queued`` for a retry, or ``failed`` when it
        was the last; the subscription counts it, and is disabled at ``disable_after``
        failures in a row."""
        final = claimed.delivery.attempts >= max_attempts
        now = utcnow()
        disabled = False
        async with self._db.transaction() as session:
            held = await session.execute(
                self._held(claimed).values(
                    status=(WebhookStatus.failed if final else WebhookStatus.queued).value,
                    response_status=response_status,
                    last_error=error[:MAX_ERROR],
                    lease_until=None,
                    updated_at=now,
                )
            )
            if not getattr(held, "rowcount", 0):
                # A stale attempt (its lease ran out, another took over): not counted.
                return Failure(final=True, disabled=False)
            subscription = await session.get(
                WebhookSubscription, claimed.delivery.subscription_id, with_for_update=True
            )
            if subscription is not None:
                subscription.consecutive_failures += 1
                if subscription.active and subscription.consecutive_failures >= disable_after:
                    subscription.active = False
                    subscription.disabled_at = now
                    subscription.disabled_reason = (
                        f"{subscription.consecutive_failures} failed tries in a row; last: {error}"
                    )[:MAX_ERROR]
                    disabled = True
                await session.flush()
            if disabled and not final:
                # A delivery whose failure disabled its subscription is over too.
                final = True
                await session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id == claimed.delivery.id)
                    .values(status=WebhookStatus.failed.value)
                )
        return Failure(final=final, disabled=disabled)

    async def skipped(self, claimed: Claimed, reason: str) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                self._held(claimed).values(
                    status=WebhookStatus.skipped.value,
                    last_error=reason[:MAX_ERROR],
                    lease_until=None,
                    updated_at=utcnow(),
                )
            )

    async def deliveries(
        self, subscription_id: uuid.UUID, before: uuid.UUID | None, limit: int
    ) -> tuple[list[WebhookDelivery], bool]:
        """The subscription's deliveries, newest first, older than ``before``."""
        statement = (
            select(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == subscription_id)
            .order_by(WebhookDelivery.id.desc())
        )
        if before is not None:
            statement = statement.where(WebhookDelivery.id < before)
        async with self._db.sessions() as session:
            rows = list((await session.scalars(statement.limit(limit + 1))).all())
        return rows[:limit], len(rows) > limit

    async def purge(self, older_than: timedelta) -> int:
        async with self._db.transaction() as session:
            result = await session.execute(
                delete(WebhookDelivery).where(
                    WebhookDelivery.status.in_([status.value for status in _FINISHED]),
                    WebhookDelivery.updated_at < utcnow() - older_than,
                )
            )
        return int(getattr(result, "rowcount", 0) or 0)
