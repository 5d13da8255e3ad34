"""What other domains call to have users notified (the producers' API; stable).

Call these INSIDE the transaction of the change that causes the notification:
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
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from goftogu.notifications.jobs import (
    ChatAssigned,
    MessageCreated,
    OperatorReplied,
    TicketCreated,
    Trigger,
)
from goftogu.queueing import NOTIFY
from goftogu.queueing.outbox import add_to_outbox


async def enqueue_notification(session: AsyncSession, job: Trigger) -> str:
    """Write ``job`` to the outbox in the caller's open transaction; returns its id."""
    return await add_to_outbox(session, NOTIFY, job, message_id=job.job_id)


async def notify_message_created(
    session: AsyncSession,
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
    recipients = sorted({user_id for user_id in recipient_ids if user_id != sender_id})
    job = MessageCreated(
        conversation=conversation,
        conversation_title=conversation_title,
        message_id=str(message_id),
        sender_id=sender_id,
        message_type=message_type,
        preview=content,
        created_at=created_at,
        recipient_ids=recipients,
    )
    return await enqueue_notification(session, job)


async def notify_ticket_created(
    session: AsyncSession,
    *,
    chat_id: str,
    customer_id: uuid.UUID | None,
    customer_name: str | None,
    first_message: str,
    created_at: datetime,
) -> str:
    """A support conversation became a ticket (nobody could take it): tell staff."""
    job = TicketCreated(
        chat_id=chat_id,
        customer_id=customer_id,
        customer_name=customer_name,
        preview=first_message,
        created_at=created_at,
    )
    return await enqueue_notification(session, job)


async def notify_operator_replied(
    session: AsyncSession,
    *,
    chat_id: str,
    message_id: str,
    operator_id: uuid.UUID,
    customer_id: uuid.UUID,
    body: str,
    created_at: datetime,
    operator_name: str | None = None,
) -> str:
    """An operator wrote to the customer: tell the customer if they are away."""
    job = OperatorReplied(
        chat_id=chat_id,
        message_id=message_id,
        operator_id=operator_id,
        operator_name=operator_name,
        customer_id=customer_id,
        preview=body,
        created_at=created_at,
    )
    return await enqueue_notification(session, job)


async def notify_chat_assigned(
    session: AsyncSession,
    *,
    chat_id: str,
    operator_id: uuid.UUID,
    customer_name: str | None,
    first_message: str,
    assigned_at: datetime,
) -> str:
    """A chat was assigned (or transferred) to an operator: push to their devices."""
    job = ChatAssigned(
        chat_id=chat_id,
        operator_id=operator_id,
        customer_name=customer_name,
        preview=first_message,
        assigned_at=assigned_at,
    )
    return await enqueue_notification(session, job)
