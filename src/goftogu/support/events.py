"""What the support desk announces to connected clients with each write.

Each function returns the events one change announces (``goftogu.broadcast``),
for the desk or the router to announce in its unit of work; the bus delivers
them once the write is done. Rooms: ``support:<chat_id>`` (the customer, the
assigned operator), ``operator:<id>`` (each operator's own sockets) and
``operators`` (every operator's console: the queue changed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from goftogu.broadcast import RoomEvent, RoomJoined, RoomLeft
from goftogu.bus import Event
from goftogu.support.documents import Csat, Message, Note, Sender, SupportChat
from goftogu.support.schemas import (
    MessagePublic,
    NotePublic,
    SupportAssigned,
    SupportChatPublic,
    SupportClosed,
    SupportCsatEvent,
    SupportLabelsEvent,
    SupportMessageEvent,
    SupportNoteEvent,
    SupportQueue,
    SupportReadEvent,
    SupportReopened,
    SupportSnoozed,
    SupportTeamChanged,
    SupportTicket,
)

OPERATORS_ROOM = "operators"

QueueChange = Literal["added", "updated", "removed"]

ActivityType = Literal[
    "conversation.created",
    "conversation.assigned",
    "conversation.closed",
    "conversation.reopened",
    "message.created",
    "csat.received",
]
ACTIVITY_TYPES: tuple[str, ...] = get_args(ActivityType)


@dataclass(frozen=True)
class ChatActivity(Event):
    """What integrators hear of (``goftogu.webhooks``): a conversation changed.
    ``key`` makes the happening unique within its conversation (a message's id,
    the routing log's length), so its event id is the same wherever it is made."""

    type: ActivityType
    chat: SupportChat
    key: str
    message: Message | None = None
    seq: int | None = None


def opened(chat: SupportChat) -> ChatActivity:
    return ChatActivity("conversation.created", chat, key="created")


def _reopened_activity(chat: SupportChat) -> ChatActivity:
    return ChatActivity("conversation.reopened", chat, key=f"routing:{len(chat.routing)}")


def operator_room(operator_id: str) -> str:
    return f"operator:{operator_id}"


def assigned(chat: SupportChat, previous_operator_id: str | None = None) -> list[Event]:
    """The operator (on every socket) joins the chat's room and hears of it; so
    does the customer (and a previous operator leaves the room)."""
    assert chat.operator_id is not None
    body = SupportAssigned(
        chat_id=chat.id,
        conversation=chat.conversation,
        operator_id=chat.operator_id,
        previous_operator_id=previous_operator_id,
        chat=SupportChatPublic.of(chat),
    )
    # To the room before the operator joins it, then to the operator's own room:
    # each socket hears it once.
    events: list[Event] = [
        RoomEvent.of(body, chat.conversation),
        RoomEvent.of(body, operator_room(chat.operator_id)),
    ]
    if previous_operator_id:
        events.append(RoomLeft(previous_operator_id, chat.conversation))
    events.append(RoomJoined(chat.operator_id, chat.conversation))
    events.append(ChatActivity("conversation.assigned", chat, key=f"routing:{len(chat.routing)}"))
    return events


def message_posted(chat: SupportChat, message: Message, seq: int) -> list[Event]:
    body = SupportMessageEvent(
        chat_id=chat.id,
        conversation=chat.conversation,
        seq=seq,
        message=MessagePublic.of(message, seq),
    )
    activity = ChatActivity("message.created", chat, key=message.id, message=message, seq=seq)
    return [RoomEvent.of(body, chat.conversation), activity]


def ticketed(chat: SupportChat, queue_position: int | None) -> RoomEvent:
    body = SupportTicket(
        chat_id=chat.id,
        conversation=chat.conversation,
        status=chat.status,
        type=chat.type,
        queue_position=queue_position,
    )
    return RoomEvent.of(body, chat.conversation)


def closed(chat: SupportChat, by: Sender) -> list[Event]:
    assert chat.closed_at is not None
    body = SupportClosed(
        chat_id=chat.id, conversation=chat.conversation, closed_at=chat.closed_at, closed_by=by
    )
    activity = ChatActivity("conversation.closed", chat, key=f"routing:{len(chat.routing)}")
    return [RoomEvent.of(body, chat.conversation), activity]


def queue_changed(chat: SupportChat, change: QueueChange) -> RoomEvent:
    body = SupportQueue(
        chat_id=chat.id,
        conversation=chat.conversation,
        change=change,
        status=chat.status,
        type=chat.type,
    )
    return RoomEvent.of(body, OPERATORS_ROOM)


def note_added(chat: SupportChat, note: Note) -> RoomEvent:
    """Staff only: never to the conversation's room, which the customer is in."""
    body = SupportNoteEvent(
        chat_id=chat.id, conversation=chat.conversation, note=NotePublic.of(note)
    )
    return RoomEvent.of(body, OPERATORS_ROOM)


def labels_changed(
    chat: SupportChat, *, added: str | None = None, removed: str | None = None
) -> RoomEvent:
    body = SupportLabelsEvent(
        chat_id=chat.id,
        conversation=chat.conversation,
        labels=list(chat.labels),
        added=added,
        removed=removed,
    )
    return RoomEvent.of(body, OPERATORS_ROOM)


def read_moved(chat: SupportChat, reader: Literal["customer", "operator"], seq: int) -> RoomEvent:
    body = SupportReadEvent(
        chat_id=chat.id, conversation=chat.conversation, reader=reader, last_read_seq=seq
    )
    return RoomEvent.of(body, chat.conversation)


def csat_received(chat: SupportChat, csat: Csat) -> list[Event]:
    """Staff hear it; so does the customer's widget (it stops asking)."""
    body = SupportCsatEvent(chat_id=chat.id, conversation=chat.conversation, csat=csat)
    return [
        RoomEvent.of(body, OPERATORS_ROOM),
        RoomEvent.of(body, chat.conversation),
        ChatActivity("csat.received", chat, key="csat"),
    ]


def reopened(chat: SupportChat, by: Sender) -> list[Event]:
    """The conversation's room hears it (the customer's widget); reopened to an
    operator it is theirs (``support:assigned``, they join the room), else it joins
    the queue (``support:queue`` to ``operators``)."""
    body = SupportReopened(
        chat_id=chat.id,
        conversation=chat.conversation,
        status=chat.status,
        operator_id=chat.operator_id,
        by=by,
    )
    told: list[Event] = [RoomEvent.of(body, chat.conversation), _reopened_activity(chat)]
    if chat.operator_id is not None:
        told += assigned(chat)
    else:
        told.append(queue_changed(chat, "added"))
    return told


def snooze_changed(
    chat: SupportChat, reason: Literal["snoozed", "time", "reply", "operator"]
) -> RoomEvent:
    """Staff only (the customer is not told their conversation is on hold)."""
    body = SupportSnoozed(
        chat_id=chat.id,
        conversation=chat.conversation,
        operator_id=chat.operator_id,
        snooze=chat.snooze,
        reason=reason,
    )
    return RoomEvent.of(body, OPERATORS_ROOM)


def team_changed(
    chat: SupportChat, previous_team_id: str | None, previous_operator_id: str | None, by: Sender
) -> list[Event]:
    body = SupportTeamChanged(
        chat_id=chat.id,
        conversation=chat.conversation,
        team_id=chat.team_id,
        previous_team_id=previous_team_id,
        previous_operator_id=previous_operator_id,
        by=by,
    )
    told: list[Event] = [RoomEvent.of(body, chat.conversation), queue_changed(chat, "added")]
    if previous_operator_id:
        told.append(RoomLeft(previous_operator_id, chat.conversation))
    return told
