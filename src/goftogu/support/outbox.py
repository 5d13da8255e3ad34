"""The support documents as a source of the outbox relay.

A write that owes the queue a message sets a token on its own document (see
``store.py``); this source hands those to ``goftogu.queueing.relay.OutboxRelay``,
which publishes them and marks them here. Intake therefore stays one
single-document write, and a crash between the write and the publish loses
nothing: the relay's next pass publishes what is still marked.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from goftogu.notifications.jobs import (
    NOTIFY,
    ChatAssigned,
    OperatorReplied,
    TicketCreated,
    TranscriptLine,
    TranscriptRequested,
)
from goftogu.queueing import QueueMessage
from goftogu.queueing.relay import PendingMessage
from goftogu.support.documents import SenderKind, SupportChat
from goftogu.support.jobs import SUPPORT_ROUTING, RouteChat
from goftogu.support.store import ChatStore, OutboxKind, PendingJob

log = logging.getLogger(__name__)

PREVIEW_LENGTH = 300  # the notifier cuts previews to this anyway

Notice = TicketCreated | ChatAssigned | OperatorReplied | TranscriptRequested
TRANSCRIPT_LINES = 1000  # the newest messages of a longer conversation


@dataclass
class _Batch:
    store: ChatStore
    messages: list[PendingMessage]
    finished: set[int] = field(default_factory=set)

    async def _finish(self, messages: Sequence[PendingMessage], published: bool) -> None:
        await self.store.finish_jobs([message.key for message in messages], published=published)
        self.finished.update(id(message) for message in messages)

    async def mark_published(self, messages: Sequence[PendingMessage]) -> None:
        await self._finish(messages, True)

    async def mark_failed(self, messages: Sequence[PendingMessage], error: str) -> None:
        await self._finish(messages, False)


class SupportOutbox:
    """Relay source: routing jobs (``support.routing``) and ticket notices (``notify``)."""

    name = "support"

    def __init__(
        self,
        store: ChatStore,
        *,
        lease: timedelta = timedelta(seconds=60),
        rating_link: Callable[[SupportChat], str] | None = None,
    ) -> None:
        self._store = store
        self._lease = lease
        self._rating_link = rating_link

    @asynccontextmanager
    async def claim(self, limit: int) -> AsyncIterator[_Batch]:
        jobs = await self._store.claim_jobs(limit, self._lease)
        messages: list[PendingMessage] = []
        for job in jobs:
            built = await self._message(job)
            if built is None:
                await self._store.finish_jobs([job], published=True)  # nothing left to say
            else:
                queue, message_id, body = built
                messages.append(PendingMessage(queue, message_id, body, key=job))
        batch = _Batch(self._store, messages)
        try:
            yield batch
        finally:
            # Whatever the relay did not mark goes back for the next pass.
            left = [pending.key for pending in messages if id(pending) not in batch.finished]
            if left:
                await self._store.finish_jobs(left, published=False)

    async def _message(self, job: PendingJob) -> tuple[str, str, QueueMessage] | None:
        if job.kind is OutboxKind.route:
            # One message id per request: a re-offer is a new message, a relay
            # publishing the same request twice is the same one.
            route = RouteChat(chat_id=job.chat_id)
            return SUPPORT_ROUTING, f"support.route:{job.chat_id}:{job.token}", route
        chat = await self._store.get(job.chat_id)
        if chat is None:
            return None
        if job.kind is OutboxKind.closed_notice:
            link = self._rating_link(chat) if self._rating_link else None
            notice: Notice | None = transcript_of(chat, "closed", requested=False, csat_url=link)
        else:
            notice = _NOTICES[job.kind](chat)
        if notice is None:
            return None
        return NOTIFY, notice.job_id, notice


def _first_words(chat: SupportChat) -> str:
    return chat.messages[0].body[:PREVIEW_LENGTH] if chat.messages else ""


def _ticket_created(chat: SupportChat) -> TicketCreated:
    return TicketCreated(
        chat_id=chat.id,
        customer_id=uuid.UUID(chat.customer.id),
        customer_name=chat.customer.name,
        preview=_first_words(chat),
        created_at=chat.created_at,
    )


def _chat_assigned(chat: SupportChat) -> ChatAssigned | None:
    if chat.operator_id is None:
        return None
    return ChatAssigned(
        chat_id=chat.id,
        operator_id=uuid.UUID(chat.operator_id),
        customer_name=chat.customer.name,
        preview=_first_words(chat),
        assigned_at=chat.updated_at,
    )


def _operator_replied(chat: SupportChat) -> OperatorReplied | None:
    """The latest operator message: replies written before the relay's pass are
    told as one (the notifier gathers them into a digest anyway)."""
    replies = [m for m in chat.messages if m.sender.kind is SenderKind.operator]
    if not replies or replies[-1].sender.id is None:
        return None
    latest = replies[-1]
    return OperatorReplied(
        chat_id=chat.id,
        message_id=latest.id,
        operator_id=uuid.UUID(latest.sender.id),
        customer_id=uuid.UUID(chat.customer.id),
        preview=latest.body,
        created_at=latest.created_at,
    )


_NOTICES: dict[OutboxKind, Callable[[SupportChat], Notice | None]] = {
    OutboxKind.ticket_notice: _ticket_created,
    OutboxKind.assigned_notice: _chat_assigned,
    OutboxKind.reply_notice: _operator_replied,
}


def transcript_of(
    chat: SupportChat, request_id: str, *, requested: bool, csat_url: str | None = None
) -> TranscriptRequested:
    """The transcript job of ``chat``: its messages only (never a private note)."""
    names = {SenderKind.customer: chat.customer.name}
    lines = [
        TranscriptLine(
            who=message.sender.kind.value,
            name=names.get(message.sender.kind),
            body=message.body
            or ", ".join(f"📎 {file.filename}" for file in message.attachments)
            or "…",
            at=message.created_at,
        )
        for message in chat.messages[-TRANSCRIPT_LINES:]
    ]
    return TranscriptRequested(
        chat_id=chat.id,
        request_id=request_id,
        customer_id=uuid.UUID(chat.customer.id),
        customer_name=chat.customer.name,
        requested=requested,
        lines=lines,
        csat_url=csat_url,
        closed_at=chat.closed_at,
    )
