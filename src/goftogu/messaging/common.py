"""What the messaging services share: their dependencies and small row helpers."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from goftogu.admission import AdmissionPolicy
from goftogu.bus import Event
from goftogu.errors import NotFound, PayloadTooLarge
from goftogu.ids import parse_id
from goftogu.messaging.access import Access
from goftogu.messaging.addresses import ConversationRef
from goftogu.messaging.models import ConversationSettings, Message, MessageType, Pin
from goftogu.storage.database import Database
from goftogu.storage.work import UnitsOfWork

T = TypeVar("T")


@dataclass(frozen=True)
class MessageStored(Event):
    """A new message, announced inside the transaction that stores it: other
    domains' work that must commit with it (the notifier's job) handles it
    before the commit."""

    ref: ConversationRef
    message: Message


@dataclass(frozen=True)
class NewMessage:
    """A message a batch of sends stored (``goftogu.messaging.batch``): plain values,
    no ORM object."""

    ref: ConversationRef
    id: uuid.UUID
    sender_id: uuid.UUID
    client_id: str
    seq: int
    ordinal: int
    message_type: MessageType
    content: str | None
    parent_id: uuid.UUID | None
    created_at: datetime


@dataclass(frozen=True)
class MessagesStored(Event):
    """New messages stored in one transaction by a batch of sends, announced inside
    it (the notifier's jobs commit with them, like ``MessageStored``'s).
    ``audiences``: each conversation's members under the batch's lock (single
    chats: both users) and a group's title."""

    messages: tuple[NewMessage, ...]
    audiences: Mapping[ConversationRef, tuple[tuple[uuid.UUID, ...], str | None]]


@dataclass(frozen=True)
class MessagingContext:
    """Built once in bootstrap; every messaging service holds it."""

    database: Database
    work: UnitsOfWork
    access: Access
    max_message_length: int
    max_attachment_bytes: int
    upload_quota_bytes: int
    attachments_dir: Path
    send_admission: AdmissionPolicy  # the batched send path's queue and deadline


class Unchanged(Exception, Generic[T]):
    """Raised inside a transaction that turned out to change nothing: the
    transaction (and the seq it took) is rolled back and ``result`` returned."""

    def __init__(self, result: T) -> None:
        super().__init__("nothing to change")
        self.result = result


def parse_message_id(text: str | uuid.UUID) -> uuid.UUID:
    parsed = text if isinstance(text, uuid.UUID) else parse_id(text)
    if parsed is None:
        raise NotFound("No such message.")
    return parsed


def check_length(content: str | None, limit: int) -> None:
    if content is not None and len(content) > limit:
        raise PayloadTooLarge(
            f"A message holds at most {limit} characters.", limit=limit, length=len(content)
        )


async def conversation_of(session: AsyncSession, message_id: uuid.UUID) -> ConversationRef:
    """The conversation a message belongs to; ``not_found`` when there is no such message."""
    row = (
        await session.execute(
            select(Message.single_chat_id, Message.group_id).where(Message.id == message_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("No such message.", message_id=str(message_id))
    return ConversationRef.of_columns(row[0], row[1])


async def fresh_message(session: AsyncSession, message_id: uuid.UUID) -> Message:
    """The message as committed now (read after taking its conversation's lock)."""
    message = await session.scalar(
        select(Message).where(Message.id == message_id).execution_options(populate_existing=True)
    )
    if message is None:
        raise NotFound("No such message.", message_id=str(message_id))
    return message


def in_conversation(
    model: type[Message] | type[Pin] | type[ConversationSettings], ref: ConversationRef
) -> ColumnElement[bool]:
    """The WHERE clause selecting rows of ``ref`` in a table with the two conversation columns."""
    column = model.group_id if ref.is_group else model.single_chat_id
    return column == ref.id


def conversation_columns(ref: ConversationRef) -> dict[str, Any]:
    """Values for the two exclusive conversation columns of a new row."""
    if ref.is_group:
        return {"group_id": ref.id, "single_chat_id": None}
    return {"single_chat_id": ref.id, "group_id": None}
