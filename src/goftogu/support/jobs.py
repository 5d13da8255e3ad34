"""Queue messages of the support desk, written through the document outbox.

On ``support.routing``: ``RouteChat``. On ``notify`` (consumed by the notifier;
the field names are the notifier's ``goftogu.notifications.jobs``, and each
message id is its ``job_id``, so a job relayed twice is handled once):

- ``support.ticket_created``: nobody could take a new conversation; tell staff.
- ``support.chat_assigned``: a conversation was given to an operator (push).
- ``support.operator_replied``: an operator answered; tell the customer when away
  (a ticket's answer reaches a customer who left).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from goftogu.queueing import QueueMessage


class RouteChat(QueueMessage):
    """Find ``chat_id`` an operator (S4, S5)."""

    type: Literal["support.route"] = "support.route"
    chat_id: str


class Notice(QueueMessage):
    """A ``notify`` trigger; ``job_id`` is its queue message id."""

    @property
    def job_id(self) -> str:
        raise NotImplementedError


class TicketCustomer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str | None = None
    email: str | None = None


class TicketCreated(Notice):
    type: Literal["support.ticket_created"] = "support.ticket_created"
    audience: Literal["operators"] = "operators"
    chat_id: str
    conversation: str
    customer_id: str
    customer_name: str | None = None
    customer: TicketCustomer
    preview: str
    created_at: datetime

    @property
    def job_id(self) -> str:
        return f"ticket_created:{self.chat_id}"


class ChatAssigned(Notice):
    type: Literal["support.chat_assigned"] = "support.chat_assigned"
    chat_id: str
    conversation: str
    operator_id: str
    customer_name: str | None = None
    preview: str
    assigned_at: datetime

    @property
    def job_id(self) -> str:
        return f"chat_assigned:{self.chat_id}:{self.operator_id}:{self.assigned_at.isoformat()}"


class OperatorReplied(Notice):
    type: Literal["support.operator_replied"] = "support.operator_replied"
    chat_id: str
    conversation: str
    message_id: str
    operator_id: str
    customer_id: str
    preview: str
    created_at: datetime

    @property
    def job_id(self) -> str:
        return f"operator_replied:{self.chat_id}:{self.message_id}"
