"""Building the public shapes of messages from rows, a page at a time (no N+1)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from goftogu.messaging.addresses import ConversationRef
from goftogu.messaging.models import Attachment, Message, MessageType, Reaction
from goftogu.messaging.schemas import (
    AttachmentPublic,
    ForwardedFrom,
    HistoryMessage,
    MessagePublic,
    ReactionCount,
)


def message_public(message: Message, attachments: Sequence[Attachment] = ()) -> MessagePublic:
    """The message as members see it: a deleted one without content or files."""
    return MessagePublic(**_fields(message, attachments))


def _fields(message: Message, attachments: Sequence[Attachment]) -> dict[str, Any]:
    deleted = message.deleted_at is not None
    forwarded = (
        ForwardedFrom(
            message_id=message.forwarded_from_id, sender_id=message.forwarded_from_sender_id
        )
        if message.forwarded_from_id is not None
        else None
    )
    return {
        "id": message.id,
        "conversation": ConversationRef.of_columns(
            message.single_chat_id, message.group_id
        ).address,
        "seq": message.seq,
        "sender_id": message.sender_id,
        "client_id": message.client_id,
        "message_type": MessageType(message.message_type),
        "content": None if deleted else message.content,
        "parent_message_id": message.parent_message_id,
        "forwarded_from": forwarded,
        "attachments": []
        if deleted
        else [AttachmentPublic.model_validate(a) for a in sorted(attachments, key=_by_position)],
        "created_at": message.created_at,
        "edited_at": message.edited_at,
        "deleted_at": message.deleted_at,
    }


def _by_position(attachment: Attachment) -> int:
    return attachment.position


async def attachments_of(
    session: AsyncSession, messages: Sequence[Message]
) -> dict[uuid.UUID, list[Attachment]]:
    """The files of the live messages among ``messages``, in one query (none for text)."""
    ids = [m.id for m in messages if m.deleted_at is None and m.message_type != MessageType.text]
    found: dict[uuid.UUID, list[Attachment]] = defaultdict(list)
    if not ids:
        return found
    rows = await session.scalars(select(Attachment).where(Attachment.message_id.in_(ids)))
    for attachment in rows:
        assert attachment.message_id is not None
        found[attachment.message_id].append(attachment)
    return found


async def messages_public(
    session: AsyncSession, messages: Sequence[Message]
) -> list[MessagePublic]:
    files = await attachments_of(session, messages)
    return [message_public(m, files.get(m.id, ())) for m in messages]


async def history_messages(
    session: AsyncSession, messages: Sequence[Message], viewer: uuid.UUID
) -> list[HistoryMessage]:
    """A history page: messages with their files and reaction counts (two queries)."""
    files = await attachments_of(session, messages)
    reactions = await reaction_counts(session, messages, viewer)
    return [
        HistoryMessage(**_fields(m, files.get(m.id, ())), reactions=reactions.get(m.id, []))
        for m in messages
    ]


async def reaction_counts(
    session: AsyncSession, messages: Sequence[Message], viewer: uuid.UUID
) -> dict[uuid.UUID, list[ReactionCount]]:
    """Per live message: each emoji, how many put it, whether ``viewer`` did; emojis in
    the order they were first used."""
    ids = [m.id for m in messages if m.deleted_at is None]
    counts: dict[uuid.UUID, list[ReactionCount]] = defaultdict(list)
    if not ids:
        return counts
    first_used = func.min(Reaction.created_at)
    rows = await session.execute(
        select(
            Reaction.message_id,
            Reaction.emoji,
            func.count(),
            func.max(case((Reaction.user_id == viewer, 1), else_=0)),
        )
        .where(Reaction.message_id.in_(ids))
        .group_by(Reaction.message_id, Reaction.emoji)
        .order_by(Reaction.message_id, first_used, Reaction.emoji)
    )
    for message_id, emoji, count, mine in rows:
        counts[message_id].append(ReactionCount(emoji=emoji, count=count, reacted=bool(mine)))
    return counts
