"""Each domain's part of the Socket.IO contract, bound to its services (M10).

Every binding parses its payload with the domain's own model and makes ONE
service call, so a Socket.IO event and its REST twin behave the same. The
gateway combines these (``SocketBindings.combine``) when it starts.
"""

from __future__ import annotations

from typing import Any

from goftogu.identity.models import UserStatus
from goftogu.identity.tokens import Principal
from goftogu.messaging import schemas
from goftogu.messaging.service import Messaging
from goftogu.presence.operators import OperatorStatus
from goftogu.presence.users import UserPresence
from goftogu.realtime.handlers import Replay, SocketBindings, SocketEvent
from goftogu.realtime.protocol import PresencePayload
from goftogu.support.conversation import SupportConversations
from goftogu.support.desk import SupportDesk
from goftogu.support.drafts import DraftPreviews
from goftogu.support.schemas import (
    SupportDraftPayload,
    SupportMessagePayload,
    SupportReadPayload,
    SupportReadState,
    posted_message,
)


def messaging_bindings(messaging: Messaging) -> SocketBindings:
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

    async def rooms(principal: Principal) -> list[str]:
        return await messaging.access.rooms_of(principal.user_id)

    async def replay(
        principal: Principal, address: str, after_seq: int, limit: int
    ) -> list[tuple[str, dict[str, Any]]]:
        events = await messaging.events.events_after(principal, address, after_seq, limit)
        return [(event.type, event.payload) for event in events]

    conversations = Replay(fetch=replay, in_room=messaging.events.events_in_room)
    return SocketBindings(
        events=(
            SocketEvent("message:send", schemas.SendMessageEvent, send),
            SocketEvent("message:edit", schemas.EditMessageEvent, edit),
            SocketEvent("message:delete", schemas.DeleteMessageEvent, delete),
            SocketEvent("message:read", schemas.MarkReadEvent, read),
            SocketEvent("reaction:add", schemas.ReactionEvent, react),
            SocketEvent("reaction:remove", schemas.ReactionEvent, unreact),
        ),
        rooms=(rooms,),
        replay={"single": conversations, "group": conversations},
    )


def support_bindings(
    desk: SupportDesk, conversations: SupportConversations, drafts: DraftPreviews
) -> SocketBindings:
    """``support:message``, the support rooms joined on connect, replay of missed
    support messages, and operators' connections (their availability)."""

    async def support_message(
        principal: Principal, _sid: str, body: SupportMessagePayload
    ) -> dict[str, Any]:
        posted = await conversations.send(
            principal, body.chat_id, body.client_id, body.body, body.attachment_ids
        )
        answer = posted_message(
            posted.chat, posted.message, posted.seq, posted.new_conversation, posted.reopened
        )
        return answer.model_dump(mode="json")

    async def support_read(
        principal: Principal, _sid: str, body: SupportReadPayload
    ) -> dict[str, Any]:
        state = await conversations.mark_read(principal, body.chat_id, body.up_to_seq)
        return SupportReadState(**vars(state)).model_dump(mode="json")

    async def support_draft(
        principal: Principal, _sid: str, body: SupportDraftPayload
    ) -> dict[str, Any]:
        return {"shown": await drafts.draft(principal, body.chat_id, body.text)}

    return SocketBindings(
        events=(
            SocketEvent("support:message", SupportMessagePayload, support_message),
            SocketEvent("support:read", SupportReadPayload, support_read),
            SocketEvent("support:draft", SupportDraftPayload, support_draft),
        ),
        rooms=(desk.rooms_for,),
        replay={"support": Replay(fetch=desk.replay_for)},
        on_connect=(desk.operator_connected, desk.customer_connected),
        on_disconnect=(desk.operator_disconnected,),
    )


def presence_bindings(presence: UserPresence, desk: SupportDesk) -> SocketBindings:
    """Connections as presence leases, and ``presence:set``: the user's chosen
    status, and for operators and admins their availability too."""

    async def connected(principal: Principal, sid: str) -> None:
        await presence.connected(principal.user_id, sid)

    async def disconnected(_principal: Principal, sid: str) -> None:
        await presence.disconnected(sid)

    async def presence_set(
        principal: Principal, _sid: str, body: PresencePayload
    ) -> dict[str, Any]:
        status = await presence.choose(principal.user_id, UserStatus(body.status))
        answer: dict[str, Any] = {"status": status.value}
        if principal.is_staff:
            operator = await desk.set_presence(
                principal, OperatorStatus(body.status), body.accepting
            )
            answer["operator"] = operator.model_dump(mode="json")
        return answer

    return SocketBindings(
        events=(SocketEvent("presence:set", PresencePayload, presence_set),),
        on_connect=(connected,),
        on_disconnect=(disconnected,),
    )
