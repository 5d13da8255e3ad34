"""Read state: a per-user watermark (``last_read_seq``) and receipts (M7).

``unread_count`` is a subtraction: the conversation counts its messages
(``message_count``), the watermark remembers how many of them lie at or below
it (``read_count``). Sending a message moves the sender's own watermark to it
(replying implies having read), so what lies above a watermark was written by
others. Receipts (``message_reads``) are written for messages of others as the
watermark passes them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from goftogu.identity.tokens import Principal
from goftogu.ids import new_id
from goftogu.messaging.addresses import ConversationRef, parse_address
from goftogu.messaging.common import (
    MessagingContext,
    Unchanged,
    conversation_columns,
    in_conversation,
    parse_message_id,
)
from goftogu.messaging.events import conversation_table, record_event
from goftogu.messaging.models import ConversationSettings, Message, MessageRead
from goftogu.messaging.preamble import lock_conversation, visible_message
from goftogu.messaging.schemas import MessageReadEvent, ReadState, ReceiptPublic
from goftogu.storage.models import utcnow

# Catching up on a long backlog in one read writes receipts for its newest messages
# only: a receipt matters for recent messages, and one read must stay one small write.
# The watermark (and so the unread count) covers everything it passed.
RECEIPTS_PER_READ = 500


async def settings_for_update(
    session: AsyncSession, ref: ConversationRef, user_id: uuid.UUID
) -> ConversationSettings:
    """The user's settings row of ``ref``, locked; created when missing."""
    settings = await session.scalar(
        select(ConversationSettings)
        .where(ConversationSettings.user_id == user_id, in_conversation(ConversationSettings, ref))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if settings is None:
        settings = ConversationSettings(user_id=user_id, **conversation_columns(ref))
        session.add(settings)
        await session.flush()
    return settings


async def advance_watermark(
    session: AsyncSession,
    ref: ConversationRef,
    user_id: uuid.UUID,
    *,
    up_to_seq: int,
    read_count: int,
    at: datetime,
) -> ConversationSettings | None:
    """Move the user's watermark up to ``up_to_seq`` (never down) and write receipts
    for the messages of others it passes (the newest ``RECEIPTS_PER_READ`` of them).
    None when it was already there.

    Call with the conversation's row locked (after ``next_seq``)."""
    settings = await settings_for_update(session, ref, user_id)
    if up_to_seq <= settings.last_read_seq:
        return None
    passed = await session.scalars(
        select(Message.id)
        .where(
            in_conversation(Message, ref),
            Message.seq > settings.last_read_seq,
            Message.seq <= up_to_seq,
            Message.sender_id != user_id,
            Message.deleted_at.is_(None),
        )
        .order_by(Message.seq.desc())
        .limit(RECEIPTS_PER_READ)
    )
    receipts = [
        {"id": new_id(), "message_id": message_id, "user_id": user_id, "read_at": at}
        for message_id in passed
    ]
    if receipts:
        await session.execute(insert(MessageRead), receipts)
    settings.last_read_seq = up_to_seq
    settings.read_count = read_count
    return settings


async def messages_up_to(session: AsyncSession, ref: ConversationRef, seq: int) -> int:
    """How many of the conversation's messages have ``seq`` at or below ``seq``."""
    ordinal = await session.scalar(
        select(Message.ordinal)
        .where(in_conversation(Message, ref), Message.seq <= seq)
        .order_by(Message.seq.desc())
        .limit(1)
    )
    return ordinal or 0


class Reads:
    def __init__(self, context: MessagingContext) -> None:
        self._db = context.database
        self._work = context.work
        self._access = context.access

    async def mark_read(self, principal: Principal, address: str, up_to_seq: int) -> ReadState:
        """Move the caller's watermark to ``up_to_seq`` (capped at the latest change;
        a lower one changes nothing), write receipts, emit ``message:read``."""
        ref = parse_address(address)
        now = utcnow()
        try:
            async with self._work.transaction() as work:
                session = work.session
                counters = (await lock_conversation(session, self._access, principal, ref)).counters
                target = min(up_to_seq, counters.seq - 1)
                read_count = await messages_up_to(session, ref, target)
                settings = await advance_watermark(
                    session, ref, principal.user_id, up_to_seq=target, read_count=read_count, at=now
                )
                if settings is None:
                    raise Unchanged(await self._state(session, ref, principal.user_id))
                body = MessageReadEvent(
                    conversation=ref.address,
                    seq=counters.seq,
                    user_id=principal.user_id,
                    up_to_seq=target,
                    read_at=now,
                )
                record_event(work, body)
                state = ReadState(
                    conversation=ref.address,
                    last_read_seq=target,
                    unread_count=counters.message_count - read_count,
                )
        except Unchanged as unchanged:
            result: ReadState = unchanged.result
            return result
        return state

    async def read_state(self, principal: Principal, address: str) -> ReadState:
        """The caller's watermark and unread count in a conversation."""
        async with self._db.reading() as session:
            grant = await self._access.grant(session, principal, address)
            return await self._state(session, grant.ref, principal.user_id)

    async def receipts_of(
        self, principal: Principal, message_id: str | uuid.UUID
    ) -> list[ReceiptPublic]:
        """Who read a message and when, first reader first (members of its conversation)."""
        parsed = parse_message_id(message_id)
        async with self._db.reading() as session:
            grant, _message = await visible_message(session, self._access, principal, parsed)
            statement = select(MessageRead).where(MessageRead.message_id == parsed)
            if grant.left_at is not None:
                # A former member: who had read it by the time they left, not since.
                statement = statement.where(MessageRead.read_at <= grant.left_at)
            rows = await session.scalars(statement.order_by(MessageRead.read_at, MessageRead.id))
            return [ReceiptPublic.model_validate(row) for row in rows]

    async def _state(
        self, session: AsyncSession, ref: ConversationRef, user_id: uuid.UUID
    ) -> ReadState:
        table = conversation_table(ref)
        row = (
            await session.execute(
                select(
                    table.message_count,
                    ConversationSettings.last_read_seq,
                    ConversationSettings.read_count,
                )
                .select_from(table)
                .outerjoin(
                    ConversationSettings,
                    (ConversationSettings.user_id == user_id)
                    & in_conversation(ConversationSettings, ref),
                )
                .where(table.id == ref.id)
            )
        ).one()
        message_count, last_read_seq, read_count = row
        return ReadState(
            conversation=ref.address,
            last_read_seq=last_read_seq or 0,
            unread_count=message_count - (read_count or 0),
        )
