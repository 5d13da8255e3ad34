"""Messages of the ``notify`` queue: what producers put there, and the notifier's own.

Triggers (written by other domains, in the transaction of the change that
causes them; see ``goftogu.notifications.triggers``):

- ``messaging.message_created``: a direct or group message; the notifier tells
  recipients with no live connection (push now, email as a digest).
- ``support.ticket_created``: nobody could take a new conversation; staff are told.
- ``support.operator_replied``: an operator answered; the customer is told
  when away (email digest when they gave an address, push).
- ``support.chat_assigned``: a chat was given to an operator (push).

The notifier's own (``notify.deliver``, ``notify.digest_due``) carry only ids:
what to send lives in ``notification_deliveries`` and the digest tables.

Every trigger has a ``job_id`` derived from what it is about, used as the
queue message id, so a producer that runs twice enqueues it once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from goftogu.notifications.templates import preview
from goftogu.queueing import QueueMessage
from goftogu.text import Line, Text

NOTIFY = "notify"  # consumed by `goftogu notifier`

CONVERSATION_PATTERN = r"^(single|group):[0-9a-fA-F-]{32,36}$"
ChatId = Annotated[Line, Field(min_length=1, max_length=64)]
MessageId = Annotated[Line, Field(min_length=1, max_length=64)]
Preview = Annotated[Text, Field(max_length=20_000, description="the text; cut to a preview")]


class NotifyMessage(QueueMessage):
    # Unknown fields are ignored, not refused: during a rolling upgrade a newer
    # producer may add a field that an older notifier does not know yet.
    model_config = ConfigDict(frozen=True, extra="ignore")

    @field_validator("preview", mode="after", check_fields=False)
    @classmethod
    def _cut_preview(cls, value: str) -> str:
        return preview(value)


class MessageCreated(NotifyMessage):
    type: Literal["messaging.message_created"] = "messaging.message_created"
    conversation: Annotated[Line, Field(pattern=CONVERSATION_PATTERN)]
    conversation_title: Line | None = Field(
        default=None, max_length=200, description="a group's title; None for a single chat"
    )
    message_id: MessageId
    sender_id: uuid.UUID
    message_type: Literal["text", "image", "file"] = "text"
    preview: Preview = ""
    created_at: datetime
    recipient_ids: list[uuid.UUID] = Field(
        max_length=100_000, description="every member but the sender; the notifier filters"
    )

    @property
    def job_id(self) -> str:
        return f"message_created:{self.message_id}"


class TicketCreated(NotifyMessage):
    type: Literal["support.ticket_created"] = "support.ticket_created"
    chat_id: ChatId
    customer_id: uuid.UUID | None = None
    customer_name: Line | None = Field(default=None, max_length=200)
    preview: Preview = ""
    created_at: datetime

    @property
    def job_id(self) -> str:
        return f"ticket_created:{self.chat_id}"


class OperatorReplied(NotifyMessage):
    type: Literal["support.operator_replied"] = "support.operator_replied"
    chat_id: ChatId
    message_id: MessageId
    operator_id: uuid.UUID
    operator_name: Line | None = Field(default=None, max_length=200)
    customer_id: uuid.UUID
    preview: Preview = ""
    created_at: datetime

    @property
    def job_id(self) -> str:
        return f"operator_replied:{self.chat_id}:{self.message_id}"


class ChatAssigned(NotifyMessage):
    type: Literal["support.chat_assigned"] = "support.chat_assigned"
    chat_id: ChatId
    operator_id: uuid.UUID
    customer_name: Line | None = Field(default=None, max_length=200)
    preview: Preview = ""
    assigned_at: datetime

    @property
    def job_id(self) -> str:
        return f"chat_assigned:{self.chat_id}:{self.operator_id}:{self.assigned_at.isoformat()}"


class TranscriptLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    who: Literal["customer", "operator", "system"]
    name: Line | None = Field(default=None, max_length=200)
    body: Annotated[Text, Field(max_length=20_000)]
    at: datetime


class TranscriptRequested(NotifyMessage):
    """Email the customer the transcript of a support conversation: on request
    (``request_id``: the request's ``client_id``) or when it closed
    (``request_id`` ``closed``, with the rating link)."""

    type: Literal["support.transcript_requested"] = "support.transcript_requested"
    chat_id: ChatId
    request_id: Annotated[Line, Field(min_length=1, max_length=64)]
    customer_id: uuid.UUID
    customer_name: Line | None = Field(default=None, max_length=200)
    requested: bool = Field(description="asked for: sent even with email notifications off")
    lines: list[TranscriptLine] = Field(max_length=1000)
    csat_url: Annotated[Line, Field(max_length=4000)] | None = None
    closed_at: datetime | None = None

    @property
    def job_id(self) -> str:
        return f"transcript:{self.chat_id}:{self.request_id}"


class DeliveryDue(NotifyMessage):
    """Send one planned delivery (a row of ``notification_deliveries``)."""

    type: Literal["notify.deliver"] = "notify.deliver"
    delivery_id: uuid.UUID


class DigestDue(NotifyMessage):
    """A digest's window is over: close it and plan its email."""

    type: Literal["notify.digest_due"] = "notify.digest_due"
    digest_id: uuid.UUID


Trigger = MessageCreated | TicketCreated | OperatorReplied | ChatAssigned | TranscriptRequested
NotifyJob = Annotated[
    MessageCreated
    | TicketCreated
    | OperatorReplied
    | ChatAssigned
    | TranscriptRequested
    | DeliveryDue
    | DigestDue,
    Field(discriminator="type"),
]
