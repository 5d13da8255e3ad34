"""The producers' API: jobs written to the outbox with the change that causes them."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from pydantic import TypeAdapter
from sqlalchemy import select, update

from goftogu.ids import new_id
from goftogu.notifications.jobs import (
    NOTIFY,
    ChatAssigned,
    NotifyJob,
    OperatorReplied,
    TicketCreated,
)
from goftogu.notifications.ledger import purge_finished
from goftogu.notifications.models import NotificationDelivery
from goftogu.notifications.triggers import enqueue_notification, notify_message_created
from goftogu.queueing.outbox import OutboxMessage
from goftogu.storage.database import Database
from goftogu.storage.models import utcnow
from tests.helpers.notify import NOW
from tests.helpers.queues import outbox_writer

JOBS: TypeAdapter[NotifyJob] = TypeAdapter(NotifyJob)
GROUP = "group:0190a0c0-0000-7000-8000-000000000001"


async def outbox(database: Database) -> list[OutboxMessage]:
    async with database.sessions() as session:
        return list(await session.scalars(select(OutboxMessage)))


async def test_a_message_is_queued_once_for_its_recipients_with_a_cut_preview(
    database: Database,
) -> None:
    sender, reader = new_id(), new_id()
    for _ in range(2):  # a retried request calls the producer again
        async with outbox_writer(database).transaction() as work:
            await notify_message_created(
                work,
                conversation=GROUP,
                message_id="m1",
                sender_id=sender,
                content="سلام " * 500,
                created_at=NOW,
                recipient_ids=[sender, reader],
                conversation_title="تیم",
            )

    [row] = await outbox(database)
    assert (row.queue, row.message_id) == (NOTIFY, "message_created:m1")
    job = JOBS.validate_python(row.payload)
    assert job.type == "messaging.message_created"
    assert row.payload["recipient_ids"] == [str(reader)]
    assert len(row.payload["preview"]) <= 301
    assert row.payload["preview"].endswith("…")


async def test_a_rolled_back_change_takes_its_notification_with_it(database: Database) -> None:
    async def failing_send() -> None:
        async with outbox_writer(database).transaction() as work:
            await notify_message_created(
                work,
                conversation=GROUP,
                message_id="m1",
                sender_id=new_id(),
                content="hi",
                created_at=NOW,
                recipient_ids=[new_id()],
            )
            raise RuntimeError("the send failed after the job was written")

    with pytest.raises(RuntimeError):
        await failing_send()
    assert await outbox(database) == []


async def test_every_support_job_written_to_the_outbox_is_one_the_notifier_reads(
    database: Database,
) -> None:
    operator, customer = new_id(), new_id()
    jobs = [
        TicketCreated(
            chat_id="c1",
            customer_id=customer,
            customer_name="Mina",
            preview="help",
            created_at=NOW,
        ),
        OperatorReplied(
            chat_id="c1",
            message_id="r1",
            operator_id=operator,
            customer_id=customer,
            preview="on it",
            created_at=NOW,
        ),
        ChatAssigned(
            chat_id="c1",
            operator_id=operator,
            customer_name="Mina",
            preview="help",
            assigned_at=NOW,
        ),
    ]
    async with outbox_writer(database).transaction() as work:
        for job in jobs:
            await enqueue_notification(work, job)
    rows = await outbox(database)
    assert sorted(JOBS.validate_python(row.payload).type for row in rows) == [
        "support.chat_assigned",
        "support.operator_replied",
        "support.ticket_created",
    ]


async def test_old_finished_deliveries_are_purged_and_the_rest_kept(database: Database) -> None:
    from goftogu.identity.models import User

    user = User(username="u", username_key="u", password_hash="x", role="customer")
    async with database.transaction() as session:
        session.add(user)
        await session.flush()
        for key, status in (("old-sent", "sent"), ("old-queued", "queued"), ("new-sent", "sent")):
            session.add(
                NotificationDelivery(
                    idempotency_key=key,
                    kind="ticket_created",
                    channel="email",
                    user_id=user.id,
                    context={},
                    status=status,
                )
            )
    async with database.transaction() as session:
        await session.execute(
            update(NotificationDelivery)
            .where(NotificationDelivery.idempotency_key.like("old-%"))
            .values(updated_at=utcnow() - timedelta(days=40))
        )

    assert await purge_finished(database, timedelta(days=30)) == 1
    async with database.sessions() as session:
        keys = set(await session.scalars(select(NotificationDelivery.idempotency_key)))
    assert keys == {"old-queued", "new-sent"}


def test_a_job_with_unknown_fields_is_read_and_a_bad_address_refused() -> None:
    job = JOBS.validate_python(
        {
            "type": "support.chat_assigned",
            "chat_id": "c1",
            "operator_id": str(uuid.uuid4()),
            "assigned_at": NOW.isoformat(),
            "added_by_a_newer_producer": True,
        }
    )
    assert job.type == "support.chat_assigned"
    with pytest.raises(ValueError, match="pattern"):
        JOBS.validate_python(
            {
                "type": "messaging.message_created",
                "conversation": "support:1",
                "message_id": "m",
                "sender_id": str(uuid.uuid4()),
                "created_at": NOW.isoformat(),
                "recipient_ids": [],
            }
        )
