"""Who muted a conversation, for the notifier (``notifications.ports.MuteSettings``)."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select

from goftogu.errors import NotFound
from goftogu.messaging.addresses import parse_address
from goftogu.messaging.models import ConversationSettings
from goftogu.storage.database import Database


class ConversationMutes:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def muted_among(
        self, conversation: str, user_ids: Collection[uuid.UUID], at: datetime
    ) -> set[uuid.UUID]:
        """Those of ``user_ids`` whose ``muted_until`` of ``conversation`` is after ``at``
        (support conversations have no per-user mute: nobody)."""
        if not user_ids or conversation.startswith("support:"):
            return set()
        try:
            ref = parse_address(conversation)
        except NotFound:
            return set()
        column = (
            ConversationSettings.group_id if ref.is_group else ConversationSettings.single_chat_id
        )
        async with self._db.reading() as session:
            rows = await session.scalars(
                select(ConversationSettings.user_id).where(
                    column == ref.id,
                    ConversationSettings.user_id.in_(list(user_ids)),
                    ConversationSettings.muted_until > at,
                )
            )
            return set(rows.all())
