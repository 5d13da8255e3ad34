"""Single chats (M4): one per pair of users, whichever side opens it."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from goftogu.errors import NotFound, ValidationFailed
from goftogu.identity.models import User
from goftogu.identity.tokens import Principal
from goftogu.ids import new_id
from goftogu.messaging.access import require_messaging_user
from goftogu.messaging.addresses import ConversationRef
from goftogu.messaging.common import MessagingContext
from goftogu.messaging.events import announce_move
from goftogu.messaging.models import ConversationSettings, SingleChat
from goftogu.messaging.schemas import ConversationJoinedEvent, SingleChatPublic
from goftogu.storage.models import utcnow


class SingleChats:
    def __init__(self, context: MessagingContext) -> None:
        self._db = context.database
        self._work = context.work

    async def open_chat(
        self, principal: Principal, user_id: uuid.UUID
    ) -> tuple[SingleChatPublic, bool]:
        """The one single chat of the caller and ``user_id``: (chat, created).

        Race-safe: concurrent calls from either side create one row (the ordered
        pair is unique; losers of the insert find the winner's chat). A new chat
        joins both users' connections to its room and tells them
        (``conversation:joined``) once it committed."""
        require_messaging_user(principal)
        if user_id == principal.user_id:
            raise ValidationFailed("A single chat needs another user.")
        user1, user2 = sorted((principal.user_id, user_id))
        existing = await self._find(user1, user2)
        if existing is not None:
            return existing, False
        now = utcnow()
        async with self._work.transaction() as work:
            session = work.session
            peer = await session.get(User, user_id)
            if peer is None or peer.is_visitor:
                raise NotFound("No such user.", user_id=str(user_id))
            insert = postgresql.insert if self._db.kind == "postgresql" else sqlite.insert
            created_id = await session.scalar(
                insert(SingleChat)
                .values(
                    id=new_id(),
                    user1_id=user1,
                    user2_id=user2,
                    last_seq=0,
                    message_count=0,
                    last_activity_at=now,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["user1_id", "user2_id"])
                .returning(SingleChat.id)
            )
            if created_id is not None:
                session.add_all(
                    ConversationSettings(user_id=member, single_chat_id=created_id)
                    for member in (user1, user2)
                )
                body = ConversationJoinedEvent(
                    conversation=ConversationRef.single(created_id).address,
                    kind="single",
                    by=principal.user_id,
                )
                for member in (user1, user2):
                    announce_move(work, member, body)
        chat = await self._find(user1, user2)
        assert chat is not None, "the chat was created or found under the unique pair"
        return chat, created_id is not None

    async def _find(self, user1: uuid.UUID, user2: uuid.UUID) -> SingleChatPublic | None:
        async with self._db.reading() as session:
            chat = await session.scalar(
                select(SingleChat).where(SingleChat.user1_id == user1, SingleChat.user2_id == user2)
            )
        if chat is None:
            return None
        return SingleChatPublic(
            id=chat.id,
            conversation=ConversationRef.single(chat.id).address,
            user_ids=(chat.user1_id, chat.user2_id),
            created_at=chat.created_at,
        )
