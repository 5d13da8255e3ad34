"""The port to the ``chats`` collection: one implementation per backend.

``MongoChatStore`` (production, S1) and ``SqlChatStore`` (the embedded
default: a JSON column in the relational database) keep the same contract,
checked by one test suite against both. Every state change is a conditional
update on one document, so many workers and gateways may race safely: the
method answers ``None`` when the document no longer matches and changes
nothing.

The outbox lives in the document itself: a write that must lead to a queue
message (route this chat, tell operators about a ticket) sets a token on the
same document in the same write, and the relay publishes then clears it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal, Protocol

from goftogu.support.documents import (
    ChatStatus,
    ChatType,
    Csat,
    Message,
    Note,
    RoutingEntry,
    SlaStatus,
    Snooze,
    SupportChat,
)


class OutboxKind(StrEnum):
    """Work a document owes the queue."""

    route = "route"  # publish to support.routing: find this chat an operator
    ticket_notice = "ticket_notice"  # notify: tell operators of a new ticket
    assigned_notice = "assigned_notice"  # notify: tell the operator it is theirs (push)
    reply_notice = "reply_notice"  # notify: tell the customer an operator answered
    closed_notice = "closed_notice"  # notify: email the customer the transcript (closed)


@dataclass(frozen=True)
class PendingJob:
    """One outbox entry, claimed by one relay: ``token`` changes whenever the job is
    asked for again, so clearing an older token never drops a newer request;
    ``claim`` is the relay's lease on the document."""

    kind: OutboxKind
    chat_id: str
    token: str
    claim: str


@dataclass(frozen=True)
class ChatQuery:
    """Filters for listing conversations; pages by id (UUIDv7, so by creation)."""

    status: ChatStatus | None = None
    statuses: frozenset[ChatStatus] = frozenset()  # any of these (none: any status)
    type: ChatType | None = None
    customer_id: str | None = None
    operator_id: str | None = None
    team_id: str | None = None
    sla_state: str | None = None  # ok | warning | breached
    unassigned: bool = False
    label: str | None = None  # carrying this label
    snoozed: bool = False  # only snoozed conversations
    after: str | None = None  # the last id of the previous page
    oldest_first: bool = False
    limit: int = 50


@dataclass(frozen=True)
class Appended:
    """The outcome of appending a message: the document after the write, the
    message with its 1-based position (``seq``), and whether it is new (False: a
    retry, answered with the message stored the first time)."""

    chat: SupportChat
    message: Message
    seq: int
    created: bool


Reader = Literal["customer", "operator"]


@dataclass(frozen=True)
class NoteAdded:
    """The outcome of adding a private note (``created`` False: a retry)."""

    chat: SupportChat
    note: Note
    created: bool


OPEN_STATUSES = frozenset({ChatStatus.PENDING, ChatStatus.OPEN})


class ChatStore(Protocol):
    async def prepare(self) -> None:
        """Create indexes (idempotent; called once per process)."""
        ...

    async def create(self, chat: SupportChat) -> tuple[SupportChat, bool]:
        """Insert a new conversation with a routing job in its outbox, in one write.
        When the customer already created one with the same ``intake_key`` (a
        retried request) answers that one and ``False``."""
        ...

    async def get(self, chat_id: str) -> SupportChat | None:
        """The whole conversation, messages included, in one read."""
        ...

    async def get_by_intake_key(self, intake_key: str) -> SupportChat | None: ...

    async def append_message(
        self,
        chat_id: str,
        message: Message,
        *,
        statuses: frozenset[ChatStatus],
        operator_id: str | None = None,
    ) -> Appended | None:
        """Append ``message`` where the status is one of ``statuses`` (and the
        operator is ``operator_id`` when given). A message with the same sender and
        ``client_id`` already there is answered instead of stored twice. An operator
        message sets ``first_response_at`` (the first time) and owes the customer a
        notice. None: the chat does not match."""
        ...

    async def assign(
        self, chat_id: str, operator_id: str, entry: RoutingEntry
    ) -> SupportChat | None:
        """``PENDING`` with no operator -> ``operator_id``, ``OPEN``, with a notice for
        the operator in its outbox. The type stays: a chat stays a live chat, a
        ticket taken up stays a ticket."""
        ...

    async def mark_ticket(self, chat_id: str, entry: RoutingEntry) -> SupportChat | None:
        """A waiting ``CHAT`` -> ``TICKET`` (still ``PENDING``), with a notice for
        operators in its outbox."""
        ...

    async def transfer(
        self, chat_id: str, from_operator_id: str, to_operator_id: str, entry: RoutingEntry
    ) -> SupportChat | None:
        """``OPEN`` with ``from_operator_id`` -> ``to_operator_id`` (who is owed a notice)."""
        ...

    async def close(
        self, chat_id: str, operator_id: str | None, entry: RoutingEntry
    ) -> SupportChat | None:
        """``PENDING`` or ``OPEN`` with exactly ``operator_id`` (None: unassigned) ->
        ``CLOSED``; the document stays, archived (S7). Owes the customer the closing
        email (transcript and rating link) in its outbox; a snooze ends."""
        ...

    async def reopen(
        self,
        chat_id: str,
        entry: RoutingEntry,
        *,
        operator_id: str | None,
        closed_since: datetime | None = None,
        message: Message | None = None,
    ) -> SupportChat | None:
        """``CLOSED`` (since ``closed_since`` when given) -> ``OPEN`` with
        ``operator_id`` (owed an assignment notice), or with None -> a waiting live
        chat owing a routing job; ``closed_at`` cleared, ``message`` appended in the
        same write (unless one with its key is there). None: not closed (or closed
        before ``closed_since``), or no such chat."""
        ...

    async def snooze(
        self, chat_id: str, operator_id: str, snooze: Snooze, entry: RoutingEntry
    ) -> SupportChat | None:
        """``OPEN`` with ``operator_id`` and not snoozed -> snoozed. None otherwise."""
        ...

    async def wake(self, chat_id: str, entry: RoutingEntry) -> SupportChat | None:
        """A snoozed conversation not closed -> not snoozed. None: it was not."""
        ...

    async def change_team(
        self,
        chat_id: str,
        team_id: str | None,
        from_operator_id: str | None,
        entry: RoutingEntry,
    ) -> SupportChat | None:
        """A conversation not closed nor snoozed, with exactly ``from_operator_id``
        (None: waiting) -> of ``team_id``, waiting again without an operator and
        owing a routing job. None: it does not match."""
        ...

    async def add_note(self, chat_id: str, note: Note) -> NoteAdded | None:
        """Add a private note, whatever the status. One with the same author and
        ``client_id`` already there is answered instead. None: no such chat."""
        ...

    async def add_label(self, chat_id: str, label: str) -> SupportChat | None:
        """Add ``label`` (already there: nothing changes). None: no such chat."""
        ...

    async def remove_label(self, chat_id: str, label: str) -> SupportChat | None:
        """Remove ``label`` (not there: nothing changes). None: no such chat."""
        ...

    async def rate(self, chat_id: str, csat: Csat) -> SupportChat | None:
        """Store the rating of a ``CLOSED`` conversation not rated yet. None: no such
        chat, not closed, or rated already (the first rating stays)."""
        ...

    async def mark_read(self, chat_id: str, reader: Reader, seq: int) -> SupportChat | None:
        """Move ``reader``'s watermark up to ``seq`` (never down). None: no such chat."""
        ...

    async def find(self, query: ChatQuery) -> list[SupportChat]:
        """Up to ``query.limit`` conversations matching ``query``, in id order."""
        ...

    def started_between(
        self, after_id: str, before_id: str, team_id: str | None = None
    ) -> AsyncIterator[list[SupportChat]]:
        """The conversations with ids in ``(after_id, before_id)`` (of ``team_id``
        when given), in batches, in no particular order: a period's conversations
        for a report, read once without sorting the collection."""
        ...

    async def find_ids(self, query: ChatQuery) -> list[str]:
        """The ids :meth:`find` would answer, without reading the documents (a
        connecting socket needs its rooms, not the conversations)."""
        ...

    async def count_waiting_before(self, chat: SupportChat) -> int:
        """How many waiting conversations are older than ``chat``."""
        ...

    async def waiting_from(self, chat_id: str, limit: int) -> list[str]:
        """The ids of up to ``limit`` waiting conversations from ``chat_id`` on
        (itself included when it waits), oldest first: the line behind it."""
        ...

    async def service_times(self, since: datetime, limit: int) -> list[float]:
        """Seconds from assignment to close of the last ``limit`` conversations closed
        since ``since`` (newest first); conversations never assigned are left out."""
        ...

    async def request_routing(
        self,
        limit: int,
        entry: RoutingEntry,
        *,
        undecided_before: datetime | None = None,
        team_ids: Collection[str | None] | None = None,
    ) -> list[str]:
        """Offer the ``limit`` oldest waiting conversations to routing again (those
        not already awaiting it); answers their ids. ``undecided_before``: only live
        chats never ticketed that were created before then (their first routing job
        was lost, or they wait for their team's overflow). ``team_ids``: only those
        of these teams (None in it: of no team)."""
        ...

    async def record_sla(
        self, chat_id: str, status: SlaStatus, new_marks: Sequence[str]
    ) -> SupportChat | None:
        """Store ``status`` while none of ``new_marks`` is stored yet (and the
        conversation is not closed): the one write that lets an SLA event fire
        once. None: another writer stored one of them first, or it closed."""
        ...

    async def count_open(self, team_id: str) -> int:
        """How many conversations of ``team_id`` are ``OPEN`` (the team's load), but
        those snoozed with their slot given back."""
        ...

    async def open_chats_by_operator(self) -> dict[str, set[str]]:
        """The ``OPEN`` conversations of each operator: what their load is made of (a
        conversation snoozed with its slot given back is not)."""
        ...

    async def claim_jobs(self, limit: int, lease: timedelta) -> list[PendingJob]:
        """Outbox entries not yet published, of up to ``limit`` conversations (oldest
        first) that no other relay holds; held for ``lease`` or until finished."""
        ...

    async def finish_jobs(self, jobs: Sequence[PendingJob], *, published: bool) -> None:
        """Release the claims; when ``published``, clear the entries unless they were
        asked for again meanwhile."""
        ...


def ids_in(chats: Sequence[SupportChat]) -> list[str]:
    return [chat.id for chat in chats]
