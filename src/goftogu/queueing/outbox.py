"""The relational outbox: queue messages written in the transaction that causes them.

``add_to_outbox`` adds a row to the caller's unit of work, so the job exists
exactly when the state change does: a rollback takes it away, a commit keeps
it even if the process dies before publishing. ``RelationalOutbox`` is the
relay's source for those rows (``goftogu.queueing.relay``).

Claiming rows: on PostgreSQL ``SELECT ... FOR UPDATE SKIP LOCKED`` inside the
transaction that marks them, so several relays (one per process) share the
work without publishing a row twice in normal operation. On SQLite every
transaction holds the single writer lock (``BEGIN IMMEDIATE``), which
serialises relays the same way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import JSON, CheckConstraint, Index, String, Table, Text, delete, select, text
from sqlalchemy import update as sql_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from goftogu.bus import Transaction
from goftogu.ids import new_id
from goftogu.queueing import QueueMessage
from goftogu.queueing.relay import OutboxWritten, PendingMessage
from goftogu.storage.database import Database
from goftogu.storage.models import Entity, utcnow

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 1000


class OutboxMessage(Entity):
    """A queue message waiting to be published (``published_at IS NULL``), or
    kept for a while after (``published_at`` set) for inspection."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # The relay's query: due rows, oldest first; published rows are not indexed.
        Index(
            "ix_outbox_pending",
            "available_at",
            "created_at",
            sqlite_where=text("published_at IS NULL"),
            postgresql_where=text("published_at IS NULL"),
        ),
        Index(None, "published_at"),
    )

    queue: Mapped[str] = mapped_column(String(255))
    message_id: Mapped[str] = mapped_column(String(128), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)


async def add_to_outbox(
    work: Transaction,
    queue: str,
    message: QueueMessage | Mapping[str, Any],
    *,
    message_id: str | None = None,
    delay: float = 0.0,
) -> str:
    """Record ``message`` for ``queue`` in the caller's unit of work.

    Published by the relay once the transaction commits (the row announces
    itself: ``OutboxWritten`` wakes this process's relay after the commit), not
    before ``delay`` seconds from now. The
    ``message_id`` (default: a fresh UUIDv7) is the idempotency key: a second
    row with the same id is not written, so a retried request enqueues once.
    Returns the message id.
    """
    message_id = message_id or str(new_id())
    payload = (
        message.model_dump(mode="json") if isinstance(message, QueueMessage) else dict(message)
    )
    now = utcnow()
    values = {
        "id": new_id(),
        "created_at": now,
        "updated_at": now,
        "queue": queue,
        "message_id": message_id,
        "payload": payload,
        "available_at": now + timedelta(seconds=delay),
        "attempts": 0,
    }
    dialect = work.session.sync_session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["message_id"])
    )
    await work.session.execute(statement)
    work.announce(OutboxWritten())
    return message_id


async def add_many_to_outbox(
    work: Transaction, queue: str, messages: Sequence[tuple[str, QueueMessage]]
) -> None:
    """``add_to_outbox`` for many (message id, message) pairs at once: one statement
    (executemany) instead of one per row; a message id already written is skipped."""
    if not messages:
        return
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "created_at": now,
            "updated_at": now,
            "queue": queue,
            "message_id": message_id,
            "payload": message.model_dump(mode="json"),
            "available_at": now,
            "attempts": 0,
        }
        for message_id, message in messages
    ]
    dialect = work.session.sync_session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(cast(Table, OutboxMessage.__table__)).on_conflict_do_nothing(
        index_elements=["message_id"]
    )
    await work.session.execute(statement, rows)
    work.announce(OutboxWritten())


# --- the relay's source ------------------------------------------------------------


class _RelationalBatch:
    def __init__(self, session: AsyncSession, rows: Sequence[OutboxMessage]) -> None:
        self._session = session
        self.messages = [
            PendingMessage(queue=row.queue, message_id=row.message_id, body=row.payload, key=row.id)
            for row in rows
        ]

    async def mark_published(self, messages: Sequence[PendingMessage]) -> None:
        if messages:
            now = utcnow()
            await self._session.execute(
                sql_update(OutboxMessage)
                .where(OutboxMessage.id.in_([message.key for message in messages]))
                .values(published_at=now, updated_at=now)
            )

    async def mark_failed(self, messages: Sequence[PendingMessage], error: str) -> None:
        if messages:
            await self._session.execute(
                sql_update(OutboxMessage)
                .where(OutboxMessage.id.in_([message.key for message in messages]))
                .values(
                    attempts=OutboxMessage.attempts + 1,
                    last_error=error[:MAX_ERROR_LENGTH],
                    updated_at=utcnow(),
                )
            )


class RelationalOutbox:
    """The ``outbox`` table as a relay source; published rows are deleted after
    ``retention`` (checked at most once per ``purge_every`` seconds)."""

    name = "outbox"

    def __init__(
        self,
        database: Database,
        *,
        retention: timedelta = timedelta(days=3),
        purge_every: float = 3600.0,
    ) -> None:
        self._database = database
        self._retention = retention
        self._purge_every = purge_every
        self._last_purge = time.monotonic()

    @asynccontextmanager
    async def claim(self, limit: int) -> AsyncIterator[_RelationalBatch]:
        """Due rows, oldest first, locked until the block ends (and its marks commit)."""
        await self._purge_if_due()
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.published_at.is_(None), OutboxMessage.available_at <= utcnow())
            .order_by(OutboxMessage.available_at, OutboxMessage.created_at, OutboxMessage.id)
            .limit(limit)
        )
        if self._database.kind == "postgresql":
            query = query.with_for_update(skip_locked=True)
        async with self._database.transaction() as session:
            rows = (await session.scalars(query)).all()
            yield _RelationalBatch(session, rows)

    async def replay_published_since(self, moment: datetime) -> int:
        """Mark rows published since ``moment`` as pending again (the embedded queue
        lost what it held when its process stopped); returns how many."""
        async with self._database.transaction() as session:
            result = await session.execute(
                sql_update(OutboxMessage)
                .where(OutboxMessage.published_at >= moment)
                .values(published_at=None, updated_at=utcnow())
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def _purge_if_due(self) -> None:
        if time.monotonic() - self._last_purge < self._purge_every:
            return
        self._last_purge = time.monotonic()
        async with self._database.transaction() as session:
            result = await session.execute(
                delete(OutboxMessage).where(OutboxMessage.published_at < utcnow() - self._retention)
            )
        purged = int(getattr(result, "rowcount", 0) or 0)
        if purged:
            log.info("published outbox rows purged", extra={"rows": purged})
