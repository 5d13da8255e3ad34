"""Wire shapes of the support desk: REST requests and answers, Socket.IO events.

Message bodies are not limited here: the service checks them (an empty body is
``validation_error``, an oversized one ``payload_too_large``) so that REST and
Socket.IO answer the same codes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from goftogu.pages import ListPage
from goftogu.presence.operators import OperatorStatus
from goftogu.support.documents import (
    ChatStatus,
    ChatType,
    Csat,
    Customer,
    FileRef,
    Message,
    Note,
    RoutingEntry,
    Sender,
    SlaStatus,
    Snooze,
    SupportChat,
)
from goftogu.text import Line, Text

ClientId = Annotated[
    Line,
    Field(
        min_length=1,
        max_length=64,
        description="chosen by the client, unique per sender: a retry with the same "
        "client_id returns the first message instead of storing it twice",
    ),
]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartChatRequest(Request):
    client_id: ClientId
    body: Text
    team: Annotated[Line, Field(max_length=64)] | None = Field(
        default=None,
        description="the team's topic or id (GET /support/topics); none: the general queue",
    )


class PostMessageRequest(Request):
    client_id: ClientId
    body: Text = ""
    attachment_ids: Annotated[
        list[Line], Field(max_length=10, description="uploads (POST /attachments) to send")
    ] = []


class SupportMessagePayload(Request):
    """The ``support:message`` socket event."""

    chat_id: Annotated[Line, Field(max_length=64)]
    client_id: ClientId
    body: Text = ""
    attachment_ids: Annotated[list[Line], Field(max_length=10)] = []


class TransferRequest(Request):
    operator_id: Annotated[Line, Field(max_length=64)]


class CapacityRequest(Request):
    capacity: int | None = Field(
        ge=1, le=1000, description="live chats at once; null: the server's default"
    )


class PresenceRequest(Request):
    status: OperatorStatus
    accepting: bool | None = Field(
        default=None, description="take new chats; default: unchanged (true the first time)"
    )


class MessagePublic(BaseModel):
    id: str
    client_id: str
    sender: Sender
    body: str
    created_at: datetime
    seq: int = Field(description="position in the conversation, from 1")
    attachments: list[FileRef] = Field(
        default_factory=list,
        description="files sent with it: GET /support/chats/{chat_id}/attachments/{id}",
    )

    @classmethod
    def of(cls, message: Message, seq: int) -> MessagePublic:
        return cls(**message.model_dump(), seq=seq)


class NotePublic(BaseModel):
    """A private note (staff only)."""

    id: str
    client_id: str
    author_id: str
    body: str
    created_at: datetime

    @classmethod
    def of(cls, note: Note) -> NotePublic:
        return cls(**note.model_dump())


class SupportChatPublic(BaseModel):
    """The whole conversation (S1), with where it stands in the queue."""

    id: str
    conversation: str
    customer: Customer
    operator_id: str | None
    team_id: str | None = None
    status: ChatStatus
    type: ChatType
    messages: list[MessagePublic]
    created_at: datetime
    updated_at: datetime
    assigned_at: datetime | None
    first_response_at: datetime | None
    closed_at: datetime | None
    routing: list[RoutingEntry] | None = Field(
        default=None,
        description="staff only (the desk's internal routing log: queues, teams, "
        "operators, reasons): null for the customer and in socket events",
    )
    previous_chat_id: str | None
    csat: Csat | None = Field(default=None, description="the customer's rating, once closed")
    customer_read_seq: int = Field(default=0, description="the customer read up to here")
    operator_read_seq: int = Field(
        default=0, description="the assigned operator read up to here (the customer's 'seen')"
    )
    queue_position: int | None = Field(
        default=None, description="1 = next to be taken; only while waiting for an operator"
    )
    operator_name: str | None = Field(
        default=None,
        description="the assigned operator's display name (else username), as the customer "
        "sees it; in GET /support/chats/{id} only",
    )
    estimated_wait_s: int | None = Field(
        default=None,
        description="while waiting: seconds until an operator takes it, from recent service "
        "times (null when not known); in POST and GET /support/chats/{id} only",
    )
    notes: list[NotePublic] | None = Field(
        default=None,
        description="private notes, staff only: null for the customer and in socket events",
    )
    sla: SlaStatus | None = Field(
        default=None,
        description="staff only: the SLA state, deadlines and marks fired (a team with a policy)",
    )
    labels: list[str] | None = Field(
        default=None, description="staff only: null for the customer and in socket events"
    )
    snooze: Snooze | None = Field(
        default=None, description="staff only: on hold until a time or the customer's message"
    )

    @classmethod
    def of(
        cls,
        chat: SupportChat,
        queue_position: int | None = None,
        operator_name: str | None = None,
        estimated_wait_s: int | None = None,
        *,
        for_staff: bool = False,
    ) -> SupportChatPublic:
        """The customer's view unless ``for_staff``: never a note, a label, nor the
        routing log."""
        return cls(
            **chat.model_dump(
                exclude={
                    "messages",
                    "intake_key",
                    "notes",
                    "labels",
                    "sla",
                    "snooze",
                    "routing",
                }
            ),
            routing=list(chat.routing) if for_staff else None,
            conversation=chat.conversation,
            messages=[MessagePublic.of(m, index + 1) for index, m in enumerate(chat.messages)],
            queue_position=queue_position,
            operator_name=operator_name,
            estimated_wait_s=estimated_wait_s,
            notes=[NotePublic.of(note) for note in chat.notes] if for_staff else None,
            labels=list(chat.labels) if for_staff else None,
            sla=chat.sla if for_staff else None,
            snooze=chat.snooze if for_staff else None,
        )


class SupportChatSummary(BaseModel):
    """A line of a queue or history list."""

    id: str
    conversation: str
    customer: Customer
    operator_id: str | None
    team_id: str | None = None
    status: ChatStatus
    type: ChatType
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    message_count: int
    last_message: MessagePublic | None
    waiting_seconds: float | None = Field(
        description="how long it has waited for an operator (waiting conversations only)"
    )
    labels: list[str] | None = Field(default=None, description="staff only")
    sla_state: Literal["ok", "warning", "breached"] | None = Field(
        default=None, description="staff only"
    )
    snooze: Snooze | None = Field(default=None, description="staff only")

    @classmethod
    def of(cls, chat: SupportChat, at: datetime, *, for_staff: bool = False) -> SupportChatSummary:
        last = chat.messages[-1] if chat.messages else None
        return cls(
            id=chat.id,
            conversation=chat.conversation,
            customer=chat.customer,
            operator_id=chat.operator_id,
            team_id=chat.team_id,
            status=chat.status,
            type=chat.type,
            created_at=chat.created_at,
            updated_at=chat.updated_at,
            closed_at=chat.closed_at,
            message_count=len(chat.messages),
            last_message=MessagePublic.of(last, len(chat.messages)) if last else None,
            waiting_seconds=(at - chat.created_at).total_seconds() if chat.is_waiting else None,
            labels=list(chat.labels) if for_staff else None,
            sla_state=chat.sla.state if for_staff and chat.sla else None,
            snooze=chat.snooze if for_staff else None,
        )


class SupportChatPage(BaseModel):
    items: list[SupportChatSummary]
    has_more: bool
    next_cursor: str | None = None


class PostedMessage(BaseModel):
    """A stored message and the conversation it went to: a customer writing to a
    closed conversation opens a new one linked to it (``previous_chat_id``)."""

    chat_id: str
    conversation: str
    status: ChatStatus
    message: MessagePublic
    new_conversation: bool = False
    previous_chat_id: str | None = None
    reopened: bool = Field(
        default=False,
        description="the customer's message reopened this closed conversation "
        "(within GOFTOGU_SUPPORT_REOPEN_WINDOW_SECONDS of its close)",
    )


def posted_message(
    chat: SupportChat, message: Message, seq: int, new_conversation: bool, reopened: bool = False
) -> PostedMessage:
    return PostedMessage(
        chat_id=chat.id,
        conversation=chat.conversation,
        status=chat.status,
        message=MessagePublic.of(message, seq),
        new_conversation=new_conversation,
        previous_chat_id=chat.previous_chat_id if new_conversation else None,
        reopened=reopened,
    )


class OperatorPresence(BaseModel):
    operator_id: str
    status: OperatorStatus
    accepting: bool
    connected: bool
    load: int
    capacity: int


class OperatorPublic(OperatorPresence):
    """An operator or admin in ``GET /support/operators`` (staff only)."""

    username: str
    display_name: str | None


# --- Socket.IO server events (room in the docstring) ------------------------------


class SupportEvent(BaseModel):
    chat_id: str
    conversation: str


class SupportAssigned(SupportEvent):
    """``support:assigned`` to ``operator:<id>`` and ``support:<chat_id>``."""

    EVENT: ClassVar[str] = "support:assigned"
    operator_id: str
    previous_operator_id: str | None = None
    chat: SupportChatPublic


class SupportMessageEvent(SupportEvent):
    """``support:message`` to ``support:<chat_id>``."""

    EVENT: ClassVar[str] = "support:message"
    seq: int
    message: MessagePublic


class SupportTicket(SupportEvent):
    """``support:ticket`` to ``support:<chat_id>``: nobody could take it live; it
    waits as a ticket and an operator will answer at the first chance."""

    EVENT: ClassVar[str] = "support:ticket"
    status: ChatStatus
    type: ChatType
    queue_position: int | None = None


class SupportClosed(SupportEvent):
    """``support:closed`` to ``support:<chat_id>``."""

    EVENT: ClassVar[str] = "support:closed"
    closed_at: datetime
    closed_by: Sender


class SupportQueue(SupportEvent):
    """``support:queue`` to ``operators``: the list of waiting conversations changed."""

    EVENT: ClassVar[str] = "support:queue"
    change: Literal["added", "updated", "removed"]
    status: ChatStatus
    type: ChatType


class SupportQueuePosition(SupportEvent):
    """``support:queue_position`` to ``support:<chat_id>`` (and to a customer's socket
    as it connects): where a waiting conversation stands now. Sent when the
    position changes (someone ahead was served or left) and on (re)connect."""

    EVENT: ClassVar[str] = "support:queue_position"
    position: int = Field(description="1 = next to be taken")
    estimated_wait_s: int | None = Field(
        description="seconds until an operator takes it, from recent service times; "
        "null when not known (see estimate)"
    )
    estimate: Literal["recent_service_times", "no_recent_service", "no_operator_available"]


class SupportNoteEvent(SupportEvent):
    """``support:note`` to ``operators`` (staff only): a private note was added."""

    EVENT: ClassVar[str] = "support:note"
    note: NotePublic


class SupportLabelsEvent(SupportEvent):
    """``support:labels`` to ``operators`` (staff only): the labels now, and the change."""

    EVENT: ClassVar[str] = "support:labels"
    labels: list[str]
    added: str | None = None
    removed: str | None = None


class SupportCannedEvent(BaseModel):
    """``support:canned`` to ``operator:<owner>`` (a personal reply) or ``operators``
    (team and global ones): a canned reply was created, updated or deleted; the
    console reloads its list."""

    EVENT: ClassVar[str] = "support:canned"
    change: Literal["created", "updated", "deleted"]
    reply_id: str
    scope: str
    shortcode: str


# --- canned replies, notes, labels (REST) ----------------------------------------


class NoteRequest(Request):
    client_id: ClientId
    body: Text


class PostedNote(BaseModel):
    chat_id: str
    conversation: str
    note: NotePublic


class LabelsPublic(BaseModel):
    chat_id: str
    labels: list[str]


class CannedReplyRequest(Request):
    scope: Literal["personal", "team", "global"] = "personal"
    team_id: Annotated[Line | None, Field(max_length=64)] = None
    shortcode: Line
    title: Line
    body: Text


class CannedReplyChange(Request):
    shortcode: Line | None = None
    title: Line | None = None
    body: Text | None = None


class CannedReplyPublic(BaseModel):
    id: str
    scope: Literal["personal", "team", "global"]
    team_id: str | None = Field(description="the team of a team reply")
    owner_id: str | None = Field(description="the operator of a personal reply")
    shortcode: str
    title: str
    body: str
    created_by: str
    created_at: datetime
    updated_at: datetime


class RenderedCannedReply(BaseModel):
    """A canned reply filled in for one conversation, ready to send."""

    id: str
    scope: Literal["personal", "team", "global"]
    shortcode: str
    title: str
    body: str


class SupportReadEvent(SupportEvent):
    """``support:read`` to ``support:<chat_id>``: the customer or the assigned operator
    read up to ``last_read_seq`` (the other side shows "seen")."""

    EVENT: ClassVar[str] = "support:read"
    reader: Literal["customer", "operator"]
    last_read_seq: int


class SupportReadPayload(Request):
    """The ``support:read`` client event: mark the conversation read up to a seq."""

    chat_id: Annotated[Line, Field(max_length=64)]
    up_to_seq: Annotated[int, Field(ge=0)]


class SupportReadState(BaseModel):
    """``GET``/``POST /conversations/support:{id}/read``: the caller's watermark and
    unread count, and the other side's watermark."""

    conversation: str
    last_read_seq: int
    unread_count: int
    peer_last_read_seq: int = Field(description="the other side read up to here ('seen')")


class SupportMessagePage(BaseModel):
    """``GET /conversations/support:{id}/messages``."""

    items: list[MessagePublic]
    has_more: bool
    next_cursor: str | None = Field(
        default=None,
        description="the seq to page on from (as `before_seq` or `after_seq`); null on the last",
    )


# --- lists (one shape: goftogu/pages.py) ------------------------------------------


class OperatorList(ListPage[OperatorPublic]):
    """OperatorPublic items, answered whole."""


class CannedReplyList(ListPage[CannedReplyPublic]):
    """CannedReplyPublic items, answered whole."""


class SupportCsatEvent(SupportEvent):
    """``support:csat`` to ``operators`` and ``support:<chat_id>``: the customer rated
    the conversation."""

    EVENT: ClassVar[str] = "support:csat"
    csat: Csat


class CsatRequest(Request):
    score: Annotated[int, Field(ge=1, le=5, strict=True)]
    comment: Text | None = None


class CsatPublic(BaseModel):
    chat_id: str
    conversation: str
    closed_at: datetime | None
    csat: Csat | None


class SupportDraftPayload(Request):
    """The ``support:draft`` client event (the customer's widget, as they type)."""

    chat_id: Annotated[Line, Field(max_length=64)]
    text: Text = Field(description="the whole draft now; empty: cleared")


class SupportDraftEvent(SupportEvent):
    """``support:draft`` to ``operator:<assigned>`` only: the customer's draft as
    typed (typing preview, opt-in per team); never stored, throttled."""

    EVENT: ClassVar[str] = "support:draft"
    text: str
    at: datetime


# --- Lifecycle (issue 18, item 6) ------------------------------------------------


class SnoozeRequest(Request):
    until: AwareDatetime | None = Field(
        default=None,
        description="wake at this time (with a time zone, in the future, within 90 days); "
        "null: until the customer's next message (which wakes it in any case)",
    )


class AssignRequest(Request):
    """Exactly one of ``operator_id`` and ``team_id`` (``team_id: null``: no team)."""

    operator_id: Annotated[Line, Field(max_length=64)] | None = None
    team_id: Annotated[Line, Field(max_length=64)] | None = None


class SupportReopened(SupportEvent):
    """``support:reopened`` to ``support:<chat_id>``: a closed
    conversation is live again, assigned to the operator who reopened it
    (``status: OPEN``) or waiting to be routed (``PENDING``, the customer wrote)."""

    EVENT: ClassVar[str] = "support:reopened"
    status: ChatStatus
    operator_id: str | None
    by: Sender


class SupportSnoozed(SupportEvent):
    """``support:snoozed`` to ``operators`` (staff only): put on hold (``snooze``
    set) or woken (``snooze: null``; ``reason`` says why)."""

    EVENT: ClassVar[str] = "support:snoozed"
    operator_id: str | None
    snooze: Snooze | None
    reason: Literal["snoozed", "time", "reply", "operator"]


class SupportTeamChanged(SupportEvent):
    """``support:team`` to ``support:<chat_id>``: assigned by hand
    to a team (``team_id`` null: the general queue); it waits to be routed again."""

    EVENT: ClassVar[str] = "support:team"
    team_id: str | None
    previous_team_id: str | None
    previous_operator_id: str | None
    by: Sender
