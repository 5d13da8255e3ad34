"""What other domains call to have users notified (the producers' API; stable).

Call these INSIDE the unit of work of the change that causes the notification
(typically from a ``before_commit`` handler of the event the change announces):
the job is written to the outbox with it, so it exists exactly when the change
does, and the relay publishes it to the ``notify`` queue after the commit.
Calling one twice for the same thing enqueues one job (the job id is derived
from what it is about). Who gets told, through which channel, and whether they
are online or muted is the notifier's business, not the caller's.

A producer whose state is not in the relational database (support chat
documents in MongoDB) builds the same models from ``goftogu.notifications.jobs``
and publishes ``job`` with ``message_id=job.job_id`` through its own outbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal

from goftogu.bus import Transaction
from goftogu.notifications.jobs import NOTIFY, MessageCreated, Trigger
from goftogu.queueing.outbox import add_many_to_outbox, add_to_outbox


async def enqueue_notification(work: Transaction, job: Trigger) -> str:
    """Write ``job`` to the outbox in the caller's unit of work; returns its id."""
    return await add_to_outbox(work, NOTIFY, job, message_id=job.job_id)


async def enqueue_notifications(work: Transaction, jobs: Sequence[Trigger]) -> None:
    """``enqueue_notification`` for many jobs, in one statement."""
    await add_many_to_outbox(work, NOTIFY, [(job.job_id, job) for job in jobs])


async def notify_message_created(
    work: Transaction,
    *,
    conversation: str,
    message_id: str | uuid.UUID,
    sender_id: uuid.UUID,
    content: str,
    created_at: datetime,
    recipient_ids: Iterable[uuid.UUID],
    conversation_title: str | None = None,
    message_type: Literal["text", "image", "file"] = "text",
) -> str:
    """A direct or group message was stored. ``recipient_ids``: the conversation's
    members (the sender is left out here); ``conversation``: its address
    (``single:<id>`` / ``group:<id>``); ``conversation_title``: a group's title."""
    job = message_created(
        conversation=conversation,
        message_id=message_id,
        sender_id=sender_id,
        content=content,
        created_at=created_at,
        recipient_ids=recipient_ids,
        conversation_title=conversation_title,
        message_type=message_type,
    )
    return await enqueue_notification(work, job)


def message_created(
    *,
    conversation: str,
    message_id: str | uuid.UUID,
    sender_id: uuid.UUID,
    content: str,
    created_at: datetime,
    recipient_ids: Iterable[uuid.UUID],
    conversation_title: str | None = None,
    message_type: Literal["text", "image", "file"] = "text",
) -> MessageCreated:
    """The job of ``notify_message_created``, for ``enqueue_notifications``."""
    recipients = sorted({user_id for user_id in recipient_ids if user_id != sender_id})
    return MessageCreated(
        conversation=conversation,
        conversation_title=conversation_title,
        message_id=str(message_id),
        sender_id=sender_id,
        message_type=message_type,
        preview=content,
        created_at=created_at,
        recipient_ids=recipients,
    )
