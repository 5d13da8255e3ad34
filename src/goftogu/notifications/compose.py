"""What a planned delivery says: the email or push payload for its kind.

A delivery row keeps the trigger that planned it (``context``), or the id of
its digest; composing reads names, digest items and the recipient's language
at send time, so the message uses the names people have now.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from goftogu.identity.models import User
from goftogu.notifications.bidi import direction_of
from goftogu.notifications.jobs import (
    ChatAssigned,
    MessageCreated,
    OperatorReplied,
    TicketCreated,
    TranscriptRequested,
)
from goftogu.notifications.models import (
    NotificationDelivery,
    NotificationDigest,
    NotificationDigestItem,
    NotificationKind,
)
from goftogu.notifications.templates import EmailContent, Line, phrase, render_email, render_push
from goftogu.notifications.webpush import Urgency

_TRANSCRIPT: TypeAdapter[TranscriptRequested] = TypeAdapter(TranscriptRequested)
_TRIGGER: TypeAdapter[MessageCreated | TicketCreated | OperatorReplied | ChatAssigned] = (
    TypeAdapter(MessageCreated | TicketCreated | OperatorReplied | ChatAssigned)
)


class Links:
    """Addresses in the web app that notifications point to."""

    def __init__(self, public_url: str) -> None:
        self._base = public_url.rstrip("/")

    def conversation(self, address: str) -> str:
        return f"{self._base}/conversations/{address}"

    def support_chat(self, chat_id: str) -> str:
        return f"{self._base}/support/chats/{chat_id}"

    def settings(self) -> str:
        return f"{self._base}/settings/notifications"


def name_of(user: User | None, language: str) -> str:
    """How a person is called in a notification."""
    if user is None:
        return phrase(language, "common", "someone")
    if user.display_name:
        return user.display_name
    if user.is_visitor:
        return phrase(language, "common", "visitor")
    return user.username


async def users_by_id(session: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, User]:
    if not ids:
        return {}
    rows = await session.scalars(select(User).where(User.id.in_(list(ids))))
    return {user.id: user for user in rows}


def _preview_text(text: str, message_type: str, language: str) -> str:
    if text or message_type == "text":
        return text
    return phrase(language, "common", message_type)


@dataclass(frozen=True)
class PushMessage:
    payload: dict[str, Any]
    ttl: int
    urgency: Urgency
    topic: str | None


def _topic(address: str) -> str:
    """A Web Push ``Topic`` (at most 32 URL-safe characters): a newer push of the
    same conversation replaces one the push service still holds for the device."""
    return hashlib.sha256(address.encode()).hexdigest()[:32]


async def compose_email(
    session: AsyncSession,
    delivery: NotificationDelivery,
    recipient: User,
    language: str,
    links: Links,
) -> EmailContent:
    """The email of an email delivery (a digest, or a new ticket)."""
    common = {"recipient_name": name_of(recipient, language), "settings_url": links.settings()}
    if delivery.kind == NotificationKind.support_transcript:
        return _transcript_email(_TRANSCRIPT.validate_python(delivery.context), language, links)
    if delivery.kind == NotificationKind.ticket_created:
        ticket = _TRIGGER.validate_python(delivery.context)
        assert isinstance(ticket, TicketCreated)
        customer = ticket.customer_name or phrase(language, "common", "visitor")
        return render_email(
            "ticket_created",
            language,
            [Line(customer, ticket.preview, ticket.created_at)],
            url=links.support_chat(ticket.chat_id),
            customer_name=customer,
            **common,
        )
    digest = await session.get(NotificationDigest, uuid.UUID(delivery.context["digest_id"]))
    if digest is None:
        raise LookupError("the digest of this delivery is gone")
    items = list(
        await session.scalars(
            select(NotificationDigestItem)
            .where(NotificationDigestItem.digest_id == digest.id)
            .order_by(NotificationDigestItem.sent_at, NotificationDigestItem.id)
        )
    )
    senders = await users_by_id(session, {i.sender_id for i in items if i.sender_id})
    lines = [
        Line(
            name_of(senders.get(i.sender_id) if i.sender_id else None, language),
            _preview_text(i.preview, i.message_type, language),
            i.sent_at,
        )
        for i in items
    ]
    phrases: str = digest.kind
    if digest.kind == NotificationKind.support_replies:
        title = phrase(language, "common", "support_title")
        url = links.support_chat(digest.conversation.partition(":")[2])
    else:
        url = links.conversation(digest.conversation)
        if digest.conversation.startswith("single:"):
            # A direct chat is named after the one who wrote.
            phrases, title = "direct_messages", lines[0].sender if lines else ""
        else:
            title = digest.title or name_of(None, language)
    return render_email(phrases, language, lines, url=url, title=title, **common)


def _transcript_email(job: TranscriptRequested, language: str, links: Links) -> EmailContent:
    """The whole conversation, in the reader's language and direction; on close, its
    button is the rating (CSAT) link."""
    support = phrase(language, "common", "support_title")
    customer = job.customer_name or phrase(language, "common", "visitor")
    lines = [
        Line(
            customer if line.who == "customer" else (line.name or support),
            line.body,
            line.at,
        )
        for line in job.lines
    ]
    closed = job.csat_url is not None
    return render_email(
        "support_transcript_closed" if closed else "support_transcript",
        language,
        lines,
        url=job.csat_url or links.support_chat(job.chat_id),
        recipient_name=customer,
        settings_url=links.settings(),
    )


async def compose_push(
    session: AsyncSession, delivery: NotificationDelivery, language: str, links: Links
) -> PushMessage:
    """The payload a service worker receives, with its TTL, urgency and topic."""
    trigger = _TRIGGER.validate_python(delivery.context)
    urgency: Urgency
    topic: str | None
    if isinstance(trigger, MessageCreated):
        sender = (await users_by_id(session, [trigger.sender_id])).get(trigger.sender_id)
        sender_name = name_of(sender, language)
        text = _preview_text(trigger.preview, trigger.message_type, language)
        content = render_push(
            "message",
            language,
            title=trigger.conversation_title or sender_name,
            sender_name=sender_name,
            preview=text,
        )
        extra = {"conversation": trigger.conversation, "message_id": trigger.message_id}
        url, tag = links.conversation(trigger.conversation), trigger.conversation
        ttl, urgency, topic = 86_400, "high", _topic(trigger.conversation)
    elif isinstance(trigger, OperatorReplied):
        operator = (await users_by_id(session, [trigger.operator_id])).get(trigger.operator_id)
        operator_name = trigger.operator_name or name_of(operator, language)
        content = render_push(
            "support_reply", language, sender_name=operator_name, preview=trigger.preview
        )
        address = f"support:{trigger.chat_id}"
        extra = {"conversation": address, "chat_id": trigger.chat_id}
        url, tag = links.support_chat(trigger.chat_id), address
        ttl, urgency, topic = 3 * 86_400, "high", _topic(address)
    elif isinstance(trigger, TicketCreated):
        customer = trigger.customer_name or phrase(language, "common", "visitor")
        content = render_push(
            "ticket_created", language, customer_name=customer, preview=trigger.preview
        )
        extra = {"conversation": f"support:{trigger.chat_id}", "chat_id": trigger.chat_id}
        url, tag = links.support_chat(trigger.chat_id), f"ticket:{trigger.chat_id}"
        ttl, urgency, topic = 86_400, "normal", None
    else:
        customer = trigger.customer_name or phrase(language, "common", "visitor")
        content = render_push(
            "chat_assigned", language, customer_name=customer, preview=trigger.preview
        )
        extra = {"conversation": f"support:{trigger.chat_id}", "chat_id": trigger.chat_id}
        url, tag = links.support_chat(trigger.chat_id), f"assigned:{trigger.chat_id}"
        # An assignment is worth nothing an hour later: the customer has gone.
        ttl, urgency, topic = 600, "high", None
    payload = {
        "type": delivery.kind,
        "title": content.title,
        "body": content.body,
        "url": url,
        "tag": tag,
        "lang": language,
        "dir": direction_of(f"{content.title} {content.body}"),
        **extra,
    }
    return PushMessage(payload=payload, ttl=ttl, urgency=urgency, topic=topic)
