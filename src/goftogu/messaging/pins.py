"""Pinned messages of a conversation: in single chats either user pins, in groups
the owner and admins do."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from goftogu.errors import MessageDeleted, NotFound
from goftogu.identity.tokens import Principal
from goftogu.messaging.access import Grant
from goftogu.messaging.addresses import ConversationRef, parse_address
from goftogu.messaging.common import (
    MessagingContext,
    Unchanged,
    conversation_columns,
    conversation_of,
    fresh_message,
    in_conversation,
    parse_message_id,
)
from goftogu.messaging.events import record_event
from goftogu.messaging.models import GroupRole, Message, Pin
from goftogu.messaging.preamble import lock_conversation
from goftogu.messaging.schemas import MessagePinnedEvent, MessageUnpinnedEvent, PinPublic
from goftogu.messaging.serialisers import messages_public


class Pins:
    def __init__(self, context: MessagingContext) -> None:
        self._db = context.database
        self._work = context.work
        self._access = context.access

    async def pins_of(self, principal: Principal, address: str) -> list[PinPublic]:
        """The conversation's pinned messages, latest pin first."""
        async with self._db.reading() as session:
            grant = await self._access.grant(session, principal, address)
            statement = (
                select(Pin, Message)
                .join(Message, Message.id == Pin.message_id)
                .where(in_conversation(Pin, grant.ref))
                .order_by(Pin.created_at.desc(), Pin.id.desc())
            )
            if grant.visible_up_to is not None:
                # A former member: pins made before the leave, of messages before it.
                statement = statement.where(Message.seq <= grant.visible_up_to)
            if grant.left_at is not None:
                statement = statement.where(Pin.created_at <= grant.left_at)
            rows = (await session.execute(statement)).all()
            messages = await messages_public(session, [message for _pin, message in rows])
        return [
            PinPublic(message=message, pinned_by_id=pin.pinned_by_id, pinned_at=pin.created_at)
            for (pin, _row), message in zip(rows, messages, strict=True)
        ]

    async def pin_message(
        self, principal: Principal, address: str, message_id: str | uuid.UUID
    ) -> tuple[PinPublic, bool]:
        """Pin a message of this conversation and emit ``message:pinned``; returns
        (pin, created). Pinning it again changes nothing."""
        ref = parse_address(address)
        parsed = parse_message_id(message_id)
        try:
            async with self._work.transaction() as work:
                session = work.session
                locked = await lock_conversation(session, self._access, principal, ref)
                _require_pinner(locked.grant)
                message = await _message_in(session, ref, parsed)
                if message.deleted_at is not None:
                    raise MessageDeleted()
                existing = await session.scalar(select(Pin).where(Pin.message_id == parsed))
                public = (await messages_public(session, [message]))[0]
                if existing is not None:
                    raise Unchanged(
                        PinPublic(
                            message=public,
                            pinned_by_id=existing.pinned_by_id,
                            pinned_at=existing.created_at,
                        )
                    )
                pin = Pin(
                    **conversation_columns(ref), message_id=parsed, pinned_by_id=principal.user_id
                )
                session.add(pin)
                await session.flush()
                body = MessagePinnedEvent(
                    conversation=ref.address,
                    seq=locked.seq,
                    message_id=parsed,
                    user_id=principal.user_id,
                )
                record_event(work, body, message_id=parsed)
        except Unchanged as unchanged:
            same: PinPublic = unchanged.result
            return same, False
        return PinPublic(
            message=public, pinned_by_id=pin.pinned_by_id, pinned_at=pin.created_at
        ), True

    async def unpin_message(
        self, principal: Principal, address: str, message_id: str | uuid.UUID
    ) -> bool:
        """Unpin and emit ``message:unpinned``; False when it was not pinned."""
        ref = parse_address(address)
        parsed = parse_message_id(message_id)
        try:
            async with self._work.transaction() as work:
                session = work.session
                locked = await lock_conversation(session, self._access, principal, ref)
                _require_pinner(locked.grant)
                await _message_in(session, ref, parsed)
                pin = await session.scalar(select(Pin).where(Pin.message_id == parsed))
                if pin is None:
                    raise Unchanged(False)
                await session.delete(pin)
                body = MessageUnpinnedEvent(
                    conversation=ref.address,
                    seq=locked.seq,
                    message_id=parsed,
                    user_id=principal.user_id,
                )
                record_event(work, body, message_id=parsed)
        except Unchanged:
            return False
        return True


def _require_pinner(grant: Grant) -> None:
    if grant.ref.is_group:
        grant.require_role(GroupRole.owner, GroupRole.admin)


async def _message_in(
    session: AsyncSession, ref: ConversationRef, message_id: uuid.UUID
) -> Message:
    if await conversation_of(session, message_id) != ref:
        raise NotFound("No such message in this conversation.", message_id=str(message_id))
    return await fresh_message(session, message_id)
