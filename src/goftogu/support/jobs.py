"""Queue messages of the support desk, written through the document outbox.

On ``support.routing``: ``RouteChat``. On ``notify``, the notifier's own models
(``goftogu.notifications.jobs``), built in ``outbox.py``:
``support.ticket_created`` (nobody could take a new conversation; tell staff),
``support.chat_assigned`` (push to the operator) and
``support.operator_replied`` (tell the customer when away: a ticket's answer
reaches a customer who left).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from goftogu.queueing import QueueMessage
from goftogu.text import Line

SUPPORT_ROUTING = "support.routing"  # consumed by `goftogu worker`


class RouteChat(QueueMessage):
    """Find ``chat_id`` an operator (S4, S5)."""

    type: Literal["support.route"] = "support.route"
    chat_id: Annotated[Line, Field(max_length=64)]
