"""What messaging tells the notifier: a job for every stored message, written in
the transaction that stores it (a ``before_commit`` handler of ``MessageStored``,
and of ``MessagesStored`` for a batch of sends: one statement for all their jobs)."""

from __future__ import annotations

from typing import Literal, cast

from goftogu.bus import BeforeCommit, Transaction
from goftogu.messaging.access import Access
from goftogu.messaging.common import MessagesStored, MessageStored
from goftogu.notifications.triggers import (
    enqueue_notifications,
    message_created,
    notify_message_created,
)

MessageKind = Literal["text", "image", "file"]


def notify_recipients(access: Access) -> BeforeCommit[MessageStored]:
    """Queues a ``messaging.message_created`` job for the other members; the
    notifier decides who is away, muted or opted out."""

    async def queue_notice(work: Transaction, stored: MessageStored) -> None:
        members, title = await access.audience_of(work.session, stored.ref)
        message = stored.message
        await notify_message_created(
            work,
            conversation=stored.ref.address,
            message_id=message.id,
            sender_id=message.sender_id,
            content=message.content or "",
            created_at=message.created_at,
            recipient_ids=members,
            conversation_title=title,
            message_type=cast(MessageKind, message.message_type),
        )

    return queue_notice


def notify_recipients_of_batch() -> BeforeCommit[MessagesStored]:
    """The same jobs for a batch of sends, written in one statement; the audiences
    came with the batch (read under its lock)."""

    async def queue_notices(work: Transaction, stored: MessagesStored) -> None:
        jobs = []
        for message in stored.messages:
            members, title = stored.audiences[message.ref]
            jobs.append(
                message_created(
                    conversation=message.ref.address,
                    message_id=message.id,
                    sender_id=message.sender_id,
                    content=message.content or "",
                    created_at=message.created_at,
                    recipient_ids=members,
                    conversation_title=title,
                    message_type=message.message_type.value,
                )
            )
        await enqueue_notifications(work, jobs)

    return queue_notices
