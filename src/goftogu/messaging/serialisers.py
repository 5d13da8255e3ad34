"""Building the public shapes of messages from rows, a page at a time (no N+1)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, case, func, select
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

# A message as an ORM object or as a row of the ``messages`` table's columns.
MessageRow = Message | Row[Any]


def message_public(message: MessageRow, attachments: Sequence[Attachment] = ()) -> MessagePublic:
    """The message as members see it: a deleted one without content or files."""
    return MessagePublic(**_fields(message, attachments))


def _fields(message: MessageRow, attachments: Sequence[Attachment]) -> dict[str, Any]:
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
    session: AsyncSession, messages: Sequence[MessageRow]
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
    session: AsyncSession, messages: Sequence[MessageRow]
) -> list[MessagePublic]:
    files = await attachments_of(session, messages)
    return [message_public(m, files.get(m.id, ())) for m in messages]


async def history_page(
    session: AsyncSession,
    ref: ConversationRef,
    rows: Sequence[Row[Any]],
    viewer: uuid.UUID,
    until: datetime | None = None,
) -> list[HistoryMessage]:
    """A history page from rows of ``messages`` (one conversation, contiguous in seq):
    with their files and reaction counts, in two queries at most."""
    if not rows:
        return []
    files = await attachments_of(session, rows)
    seqs = [row.seq for row in rows]
    reactions = await reaction_counts(session, ref, min(seqs), max(seqs), viewer, until)
    return [
        HistoryMessage(**_fields(m, files.get(m.id, ())), reactions=reactions.get(m.id, []))
        for m in rows
    ]


def _reaction_counts(group: bool) -> Select[uuid.UUID, str, int, Any, datetime]:
    conversation = Message.group_id if group else Message.single_chat_id
    return (
        select(
            Reaction.message_id,
            Reaction.emoji,
            func.count(),
            func.max(case((Reaction.user_id == bindparam("viewer"), 1), else_=0)),
            func.min(Reaction.created_at),
        )
        .join(Message, Message.id == Reaction.message_id)
        .where(
            conversation == bindparam("conversation"),
            Message.seq >= bindparam("low"),
            Message.seq <= bindparam("high"),
            Message.deleted_at.is_(None),
            # A former member: only the reactions put before they left.
            Reaction.created_at <= bindparam("until"),
        )
        .group_by(Reaction.message_id, Reaction.emoji)
    )


_REACTION_COUNTS = {
    "single": _reaction_counts(group=False),
    "group": _reaction_counts(group=True),
}


# "No bound": one statement for members and former members alike.
_NO_BOUND = datetime(9999, 1, 1, tzinfo=UTC)


async def reaction_counts(
    session: AsyncSession,
    ref: ConversationRef,
    low_seq: int,
    high_seq: int,
    viewer: uuid.UUID,
    until: datetime | None = None,
) -> dict[uuid.UUID, list[ReactionCount]]:
    """Per live message of ``ref`` with a seq in [low, high]: each emoji, how many put
    it, whether ``viewer`` did; emojis in the order they were first used.

    Selecting by the page's seq range (not by its ids) keeps the statement the same
    for every page, so it is compiled and prepared once."""
    rows = await session.execute(
        _REACTION_COUNTS[ref.kind],
        {
            "conversation": ref.id,
            "low": low_seq,
            "high": high_seq,
            "viewer": viewer,
            "until": until or _NO_BOUND,
        },
    )
    found: dict[uuid.UUID, list[tuple[Any, ReactionCount]]] = defaultdict(list)
    for message_id, emoji, count, mine, first_used in rows:
        found[message_id].append(
            (first_used, ReactionCount(emoji=emoji, count=count, reacted=bool(mine)))
        )
    return {
        message_id: [count for _, count in sorted(counts, key=lambda c: (c[0], c[1].emoji))]
        for message_id, counts in found.items()
    }
