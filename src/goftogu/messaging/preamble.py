"""What every change and every read of a message starts with: lock, authorise, load.

A change takes the conversation's next seq first (``next_seq`` locks its row
until the transaction ends), then checks the caller's membership under that
lock, so a member removed a moment earlier cannot slip a change in after their
departure; a message is then read as committed now. A read checks that the
caller may see the message (a former member: up to their departure).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from goftogu.errors import MessageDeleted, NotAMember
from goftogu.identity.tokens import Principal
from goftogu.messaging.access import Access, Grant
from goftogu.messaging.addresses import ConversationRef
from goftogu.messaging.common import conversation_of, fresh_message
from goftogu.messaging.events import Counters, next_seq
from goftogu.messaging.models import Message


@dataclass(frozen=True)
class Locked:
    """A conversation locked for one change: its new seq and the caller's grant."""

    counters: Counters
    grant: Grant

    @property
    def ref(self) -> ConversationRef:
        return self.grant.ref

    @property
    def seq(self) -> int:
        return self.counters.seq


@dataclass(frozen=True)
class LockedMessage(Locked):
    """The same, for a change to one message of it."""

    message: Message


async def lock_conversation(
    session: AsyncSession,
    access: Access,
    principal: Principal,
    ref: ConversationRef,
    *,
    message_at: datetime | None = None,
    active: bool = True,
) -> Locked:
    """Take ``ref``'s next seq (``message_at``: the change is a new message) and the
    caller's grant; ``active``: they must be a current member (``not_a_member``).
    ``not_found`` for an unknown conversation."""
    counters = await next_seq(session, ref, message_at=message_at)
    grant = await access.grant(session, principal, ref)
    return Locked(counters, grant.require_active() if active else grant)


async def lock_message(
    session: AsyncSession,
    access: Access,
    principal: Principal,
    message_id: uuid.UUID,
    *,
    live: bool = True,
) -> LockedMessage:
    """Lock the conversation of ``message_id`` for a change by a current member and
    load the message as committed now. ``live``: ``message_deleted`` when it was
    deleted. ``not_found`` / ``not_a_member``."""
    ref = await conversation_of(session, message_id)
    locked = await lock_conversation(session, access, principal, ref)
    message = await fresh_message(session, message_id)
    if live and message.deleted_at is not None:
        raise MessageDeleted()
    return LockedMessage(locked.counters, locked.grant, message)


async def visible_message(
    session: AsyncSession, access: Access, principal: Principal, message_id: uuid.UUID
) -> tuple[Grant, Message]:
    """The caller's grant in the conversation of ``message_id`` and the message, if
    they may see it (a former member: up to their departure). ``not_found`` /
    ``not_a_member``."""
    ref = await conversation_of(session, message_id)
    grant = await access.grant(session, principal, ref)
    message = await fresh_message(session, message_id)
    if not grant.sees(message.seq):
        raise NotAMember(conversation=ref.address)
    return grant, message
