"""Reactions (M8): an emoji per user per message, each add and removal a change with a seq."""

from __future__ import annotations

import unicodedata
import uuid

from sqlalchemy import select

from goftogu.identity.tokens import Principal
from goftogu.messaging.access import require_messaging_user
from goftogu.messaging.common import MessagingContext, Unchanged, parse_message_id
from goftogu.messaging.events import record_event
from goftogu.messaging.models import Reaction
from goftogu.messaging.preamble import lock_message, visible_message
from goftogu.messaging.schemas import ReactionAddedEvent, ReactionPublic, ReactionRemovedEvent


class Reactions:
    def __init__(self, context: MessagingContext) -> None:
        self._db = context.database
        self._work = context.work
        self._access = context.access

    async def add_reaction(
        self, principal: Principal, message_id: str | uuid.UUID, emoji: str
    ) -> tuple[ReactionPublic, bool]:
        """Put ``emoji`` on a message and emit ``reaction:added``; returns (reaction,
        created). The same emoji again by the same user changes nothing.
        ``message_deleted`` on a deleted message."""
        require_messaging_user(principal)
        parsed = parse_message_id(message_id)
        emoji = unicodedata.normalize("NFC", emoji)
        try:
            async with self._work.transaction() as work:
                session = work.session
                locked = await lock_message(session, self._access, principal, parsed)
                existing = await session.scalar(
                    select(Reaction).where(
                        Reaction.message_id == parsed,
                        Reaction.user_id == principal.user_id,
                        Reaction.emoji == emoji,
                    )
                )
                if existing is not None:
                    raise Unchanged(ReactionPublic.model_validate(existing))
                reaction = Reaction(message_id=parsed, user_id=principal.user_id, emoji=emoji)
                session.add(reaction)
                await session.flush()
                body = ReactionAddedEvent(
                    conversation=locked.ref.address,
                    seq=locked.seq,
                    message_id=parsed,
                    user_id=principal.user_id,
                    emoji=emoji,
                )
                record_event(work, body, message_id=parsed)
                public = ReactionPublic.model_validate(reaction)
        except Unchanged as unchanged:
            same: ReactionPublic = unchanged.result
            return same, False
        return public, True

    async def remove_reaction(
        self, principal: Principal, message_id: str | uuid.UUID, emoji: str
    ) -> bool:
        """Take the caller's ``emoji`` off a message and emit ``reaction:removed``;
        False (and nothing emitted) when it was not there."""
        require_messaging_user(principal)
        parsed = parse_message_id(message_id)
        emoji = unicodedata.normalize("NFC", emoji)
        try:
            async with self._work.transaction() as work:
                session = work.session
                locked = await lock_message(session, self._access, principal, parsed, live=False)
                reaction = await session.scalar(
                    select(Reaction).where(
                        Reaction.message_id == parsed,
                        Reaction.user_id == principal.user_id,
                        Reaction.emoji == emoji,
                    )
                )
                if reaction is None:
                    raise Unchanged(False)
                await session.delete(reaction)
                body = ReactionRemovedEvent(
                    conversation=locked.ref.address,
                    seq=locked.seq,
                    message_id=parsed,
                    user_id=principal.user_id,
                    emoji=emoji,
                )
                record_event(work, body, message_id=parsed)
        except Unchanged:
            return False
        return True

    async def reactions_of(
        self, principal: Principal, message_id: str | uuid.UUID
    ) -> list[ReactionPublic]:
        """Who put which emoji on a message, first reaction first (members of its
        conversation). A former member sees the reactions made by the time they left."""
        parsed = parse_message_id(message_id)
        async with self._db.reading() as session:
            grant, _message = await visible_message(session, self._access, principal, parsed)
            statement = select(Reaction).where(Reaction.message_id == parsed)
            if grant.left_at is not None:
                statement = statement.where(Reaction.created_at <= grant.left_at)
            rows = await session.scalars(statement.order_by(Reaction.created_at, Reaction.id))
            return [ReactionPublic.model_validate(row) for row in rows]
