"""Queue messages of the support desk (written through the document outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from goftogu.queueing import QueueMessage


class RouteChat(QueueMessage):
    """On ``support.routing``: find ``chat_id`` an operator (S4, S5)."""

    type: Literal["support.route"] = "support.route"
    chat_id: str


class TicketCustomer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str | None = None
    email: str | None = None


class TicketCreated(QueueMessage):
    """On ``notify``: a conversation became a ticket (S6b); tell the operators
    (every operator and admin, by email and push, as they chose)."""

    type: Literal["support.ticket_created"] = "support.ticket_created"
    audience: Literal["operators"] = "operators"
    chat_id: str
    conversation: str
    customer: TicketCustomer
    preview: str
    created_at: datetime
