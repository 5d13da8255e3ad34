"""What messaging tells the notifier, inside the transaction that stored a message."""

from __future__ import annotations

from typing import Literal, cast

from sqlalchemy.ext.asyncio import AsyncSession

from goftogu.messaging.access import Access
from goftogu.messaging.addresses import ConversationRef
from goftogu.messaging.common import MessageStored
from goftogu.messaging.models import Message
from goftogu.notifications.triggers import notify_message_created

MessageKind = Literal["text", "image", "file"]


def notify_recipients(access: Access) -> MessageStored:
    """A hook that queues a ``messaging.message_created`` job for the other members;
    the notifier decides who is away, muted or opted out."""

    async def on_stored(session: AsyncSession, ref: ConversationRef, message: Message) -> None:
        members, title = await access.audience_of(session, ref)
        await notify_message_created(
            session,
            conversation=ref.address,
            message_id=message.id,
            sender_id=message.sender_id,
            content=message.content or "",
            created_at=message.created_at,
            recipient_ids=members,
            conversation_title=title,
            message_type=cast(MessageKind, message.message_type),
        )

    return on_stored
