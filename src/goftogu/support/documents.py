"""The support conversation document (S1, S2): one document per conversation,
its messages embedded, its lifecycle in ``status`` and ``type``.

These models are the domain shape both stores read and write; the wire shapes
in ``schemas.py`` are built from them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from goftogu.text import repaired, safe_filename

log = logging.getLogger(__name__)


class ChatStatus(StrEnum):
    PENDING = "PENDING"  # waiting for an operator
    OPEN = "OPEN"  # being handled by an operator
    CLOSED = "CLOSED"  # resolved, archived in the same document


class ChatType(StrEnum):
    CHAT = "CHAT"  # live, synchronous
    TICKET = "TICKET"  # asynchronous: nobody could take it live


class SenderKind(StrEnum):
    customer = "customer"
    operator = "operator"
    system = "system"


class Decision(StrEnum):
    """What the routing log records."""

    queued = "queued"
    assigned = "assigned"
    ticketed = "ticketed"
    claimed = "claimed"
    transferred = "transferred"
    reoffered = "reoffered"
    closed = "closed"
    # Lifecycle (issue 18, item 6).
    reopened = "reopened"
    snoozed = "snoozed"
    woken = "woken"
    team_changed = "team_changed"


def now() -> datetime:
    """The current UTC time at millisecond precision: what BSON dates keep, so a
    document reads back the same from MongoDB and from the relational store."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class _Document(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Sender(_Document):
    kind: SenderKind
    id: str | None = None


class Customer(_Document):
    id: str
    name: str | None = None
    email: str | None = None


class FileRef(_Document):
    """A file sent with a support message: uploaded through ``POST /attachments``
    (messaging's upload path and checks), then held by the conversation."""

    id: str
    filename: str
    content_type: str
    size_bytes: int

    @field_validator("filename")
    @classmethod
    def _shown_safely(cls, value: str) -> str:
        return safe_filename(value) or "file"


class Message(_Document):
    id: str
    client_id: str
    sender: Sender
    body: str
    created_at: datetime
    attachments: list[FileRef] = Field(default_factory=list)

    @property
    def key(self) -> str:
        """What makes a message unique in its conversation: a retry by the same
        sender with the same ``client_id`` is the same message."""
        return message_key(self.sender.id, self.client_id)


def message_key(sender_id: str | None, client_id: str) -> str:
    return f"{sender_id or '-'}:{client_id}"


class Note(_Document):
    """A private note: staff-only, kept beside the messages (never one of them), so
    it has no ``seq``, never reaches the customer, their view or a transcript."""

    id: str
    client_id: str
    author_id: str
    body: str
    created_at: datetime

    @property
    def key(self) -> str:
        return message_key(self.author_id, self.client_id)


class CsatSource(StrEnum):
    widget = "widget"
    email = "email"


class Csat(_Document):
    """The customer's rating of a closed conversation (once)."""

    score: int
    comment: str | None = None
    at: datetime
    source: CsatSource


class RoutingEntry(_Document):
    at: datetime
    decision: Decision
    operator_id: str | None = None
    reason: str | None = None
    by: Sender | None = None


class Snooze(_Document):
    """An open conversation put on hold by its operator (``goftogu.support.lifecycle``):
    until ``until``, or (null) until the customer writes; the customer's message
    wakes it in both cases. ``frees_slot``: the operator's slot was given back for
    the time (``GOFTOGU_SUPPORT_SNOOZE_FREES_SLOT`` when it was snoozed)."""

    until: datetime | None = None
    frees_slot: bool
    at: datetime
    by: str


class SlaStatus(_Document):
    """Where a conversation stands against its team's SLA (``goftogu.support.sla``):
    the deadlines of the running timers and the marks already fired."""

    state: Literal["ok", "warning", "breached"] = "ok"
    first_response_due: datetime | None = None
    next_response_due: datetime | None = None
    resolution_due: datetime | None = None
    marks: list[str] = Field(default_factory=list)

    @field_validator("marks")
    @classmethod
    def _sorted(cls, marks: list[str]) -> list[str]:
        return sorted(set(marks))  # a set, in one order whatever the store keeps


class SupportChat(_Document):
    """One support conversation, whole: read in one go (S1)."""

    id: str
    customer: Customer
    operator_id: str | None = None
    team_id: str | None = None  # the team (topic) it asked for
    sla: SlaStatus | None = None
    snooze: Snooze | None = None
    status: ChatStatus = ChatStatus.PENDING
    type: ChatType = ChatType.CHAT
    messages: list[Message] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    assigned_at: datetime | None = None
    first_response_at: datetime | None = None
    closed_at: datetime | None = None
    routing: list[RoutingEntry] = Field(default_factory=list)
    previous_chat_id: str | None = None
    # Read watermarks (seq): the customer's, and the assigned operator's ("seen").
    customer_read_seq: int = 0
    operator_read_seq: int = 0
    csat: Csat | None = None
    # Staff-only: private notes and labels (goftogu.support.content).
    notes: list[Note] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)
    # The customer's client_id of the first message, scoped to the customer: a
    # retried intake finds the conversation it already created.
    intake_key: str

    @property
    def conversation(self) -> str:
        return conversation_of(self.id)

    @property
    def is_waiting(self) -> bool:
        """Waiting for an operator: routing may still assign it."""
        return self.status is ChatStatus.PENDING and self.operator_id is None

    def note(self, key: str) -> Note | None:
        return next((note for note in self.notes if note.key == key), None)

    def message(self, key: str) -> tuple[int, Message] | None:
        """The message with ``key`` and its 1-based position (its ``seq``)."""
        for index, message in enumerate(self.messages):
            if message.key == key:
                return index + 1, message
        return None


def stored_chat(document: Mapping[str, Any]) -> SupportChat:
    """A conversation as a store holds it, its text repaired: a document written
    before the text rule (or by hand) holding a lone surrogate or a control
    character reads with U+FFFD there instead of failing every reader; the next
    whole-document write stores the repaired text."""
    return SupportChat.model_validate(repaired(dict(document)))


def stored_chats(documents: Iterable[Mapping[str, Any]]) -> list[SupportChat]:
    """The readable conversations of a list: one document no repair can make a
    conversation again is left out (and logged), never the whole list failed."""
    chats = []
    for document in documents:
        try:
            chats.append(stored_chat(document))
        except ValidationError:
            log.error(
                "unreadable support conversation left out of a list",
                extra={"chat_id": str(document.get("id") or document.get("_id"))},
            )
    return chats


def first_id_at(moment: datetime) -> str:
    """The smallest UUIDv7 of ``moment``'s millisecond: ids below it were made before."""
    millis = int(moment.timestamp() * 1000)
    return str(uuid.UUID(int=(millis << 80) | (0x7 << 76) | (0b10 << 62)))


def conversation_of(chat_id: str) -> str:
    """The conversation address of a support chat: also its Socket.IO room."""
    return f"support:{chat_id}"
