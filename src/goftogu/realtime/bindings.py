"""The client events of each domain, bound to its services (M10).

Each binding parses its payload with the domain's own model and makes ONE
service call, so a Socket.IO event and its REST twin behave the same.
"""

from __future__ import annotations

from typing import Any

from goftogu.identity.tokens import Principal
from goftogu.messaging import schemas
from goftogu.messaging.service import Messaging
from goftogu.realtime.handlers import SocketBindings


def bind_messaging(bindings: SocketBindings, messaging: Messaging) -> None:
    """``message:*`` and ``reaction:*`` events, the rooms of a user's chats and
    groups, and replay of single and group conversations."""

    async def send(principal: Principal, _sid: str, body: schemas.SendMessageEvent) -> Any:
        message, created = await messaging.messages.send_message(
            principal, body.conversation, body.message()
        )
        return {"message": message.model_dump(mode="json"), "created": created}

    async def edit(principal: Principal, _sid: str, body: schemas.EditMessageEvent) -> Any:
        message = await messaging.messages.edit_message(principal, body.message_id, body.content)
        return {"message": message.model_dump(mode="json")}

    async def delete(principal: Principal, _sid: str, body: schemas.DeleteMessageEvent) -> Any:
        await messaging.messages.delete_message(principal, body.message_id)
        return {"message_id": str(body.message_id)}

    async def read(principal: Principal, _sid: str, body: schemas.MarkReadEvent) -> Any:
        state = await messaging.reads.mark_read(principal, body.conversation, body.up_to_seq)
        return state.model_dump(mode="json")

    async def react(principal: Principal, _sid: str, body: schemas.ReactionEvent) -> Any:
        reaction, created = await messaging.reactions.add_reaction(
            principal, body.message_id, body.emoji
        )
        return {"reaction": reaction.model_dump(mode="json"), "created": created}

    async def unreact(principal: Principal, _sid: str, body: schemas.ReactionEvent) -> Any:
        removed = await messaging.reactions.remove_reaction(principal, body.message_id, body.emoji)
        return {"removed": removed}

    bindings.add("message:send", schemas.SendMessageEvent, send)
    bindings.add("message:edit", schemas.EditMessageEvent, edit)
    bindings.add("message:delete", schemas.DeleteMessageEvent, delete)
    bindings.add("message:read", schemas.MarkReadEvent, read)
    bindings.add("reaction:add", schemas.ReactionEvent, react)
    bindings.add("reaction:remove", schemas.ReactionEvent, unreact)

    async def rooms(principal: Principal) -> list[str]:
        return await messaging.access.rooms_of(principal.user_id)

    async def replay(
        principal: Principal, address: str, after_seq: int, limit: int
    ) -> list[tuple[str, dict[str, Any]]]:
        events = await messaging.events.events_after(principal, address, after_seq, limit)
        return [(event.type, event.payload) for event in events]

    bindings.room_sources.append(rooms)
    bindings.event_fetchers["single"] = replay
    bindings.event_fetchers["group"] = replay
    bindings.room_readers["single"] = messaging.events.events_in_room
    bindings.room_readers["group"] = messaging.events.events_in_room
