"""What the support desk tells connected clients, after each write committed.

Rooms: ``support:<chat_id>`` (the customer, the assigned operator),
``operator:<id>`` (each operator's own sockets) and ``operators`` (every
operator's console: the queue changed).
"""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import BaseModel

from goftogu.broadcast import Broadcaster
from goftogu.support.documents import Message, Sender, SupportChat
from goftogu.support.schemas import (
    MessagePublic,
    SupportAssigned,
    SupportChatPublic,
    SupportClosed,
    SupportMessageEvent,
    SupportQueue,
    SupportTicket,
)

log = logging.getLogger(__name__)

OPERATORS_ROOM = "operators"


def operator_room(operator_id: str) -> str:
    return f"operator:{operator_id}"


class SupportEvents:
    """Typed emits of the ``support:*`` events through the Broadcaster port."""

    def __init__(self, broadcaster: Broadcaster) -> None:
        self.broadcaster = broadcaster

    async def _emit(self, event: str, payload: BaseModel, room: str) -> None:
        try:
            await self.broadcaster.emit(event, payload.model_dump(mode="json"), room=room)
        except Exception:
            # The write is committed; a client that missed the event reads the document.
            log.exception("support event not delivered", extra={"event": event, "room": room})

    async def assigned(self, chat: SupportChat, previous_operator_id: str | None = None) -> None:
        """The operator (on every socket) joins the chat's room and hears of it; so
        does the customer."""
        assert chat.operator_id is not None
        payload = SupportAssigned(
            chat_id=chat.id,
            conversation=chat.conversation,
            operator_id=chat.operator_id,
            previous_operator_id=previous_operator_id,
            chat=SupportChatPublic.of(chat),
        )
        # To the room before the operator joins it, then to the operator's own room:
        # each socket hears it once.
        await self._emit("support:assigned", payload, chat.conversation)
        await self._emit("support:assigned", payload, operator_room(chat.operator_id))
        try:
            if previous_operator_id:
                await self.broadcaster.leave_user(previous_operator_id, chat.conversation)
            await self.broadcaster.join_user(chat.operator_id, chat.conversation)
        except Exception:
            log.exception("could not move sockets between rooms", extra={"chat_id": chat.id})

    async def message(self, chat: SupportChat, message: Message, seq: int) -> None:
        payload = SupportMessageEvent(
            chat_id=chat.id,
            conversation=chat.conversation,
            seq=seq,
            message=MessagePublic.of(message, seq),
        )
        await self._emit("support:message", payload, chat.conversation)

    async def ticket(self, chat: SupportChat, queue_position: int | None) -> None:
        payload = SupportTicket(
            chat_id=chat.id,
            conversation=chat.conversation,
            status=chat.status,
            type=chat.type,
            queue_position=queue_position,
        )
        await self._emit("support:ticket", payload, chat.conversation)

    async def closed(self, chat: SupportChat, by: Sender) -> None:
        assert chat.closed_at is not None
        payload = SupportClosed(
            chat_id=chat.id, conversation=chat.conversation, closed_at=chat.closed_at, closed_by=by
        )
        await self._emit("support:closed", payload, chat.conversation)

    async def queue(
        self, chat: SupportChat, change: Literal["added", "updated", "removed"]
    ) -> None:
        payload = SupportQueue(
            chat_id=chat.id,
            conversation=chat.conversation,
            change=change,
            status=chat.status,
            type=chat.type,
        )
        await self._emit("support:queue", payload, OPERATORS_ROOM)

    async def customer_joins(self, chat: SupportChat) -> None:
        """The customer's open sockets join a conversation they just started."""
        try:
            await self.broadcaster.join_user(chat.customer.id, chat.conversation)
        except Exception:
            log.exception("could not join the customer's sockets", extra={"chat_id": chat.id})
