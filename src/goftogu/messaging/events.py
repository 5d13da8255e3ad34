"""The ordered change log of each conversation: seq allocation, events, replay.

Every change of a conversation takes the next ``seq`` of that conversation
inside the transaction that makes the change: ``UPDATE ... SET last_seq =
last_seq + 1 RETURNING`` locks the conversation's row until commit, so the
changes of one conversation are serialised, their seqs distinct and (since a
rolled-back update gives its number back) gap-free. The same transaction
appends the event body to ``conversation_events`` and announces it
(``record_event``): the unit of work emits it to the conversation's room once
the transaction committed. A client that missed it reads it back with
``events_after`` on any node.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from goftogu.broadcast import RoomEvent, RoomJoined, RoomLeft, user_room
from goftogu.bus import Transaction
from goftogu.errors import NotFound
from goftogu.identity.tokens import Principal
from goftogu.messaging.access import Access
from goftogu.messaging.addresses import ConversationRef, parse_address
from goftogu.messaging.models import ConversationEvent, Group, SingleChat
from goftogu.messaging.schemas import (
    ConversationEventBody,
    ConversationJoinedEvent,
    ConversationLeftEvent,
)
from goftogu.storage.database import Database

MAX_REPLAY_PAGE = 1000

_ROOM_EVENTS = (
    select(ConversationEvent.type, ConversationEvent.payload)
    .where(
        ConversationEvent.conversation == bindparam("conversation"),
        ConversationEvent.seq > bindparam("after"),
    )
    .order_by(ConversationEvent.seq)
    .limit(bindparam("limit"))
)


@dataclass(frozen=True)
class Counters:
    """A conversation's counters right after an allocation."""

    seq: int
    message_count: int


def conversation_table(ref: ConversationRef) -> type[SingleChat] | type[Group]:
    return Group if ref.is_group else SingleChat


async def next_seq(
    session: AsyncSession, ref: ConversationRef, *, message_at: datetime | None = None
) -> Counters:
    """Take the conversation's next seq, locking its row until the transaction ends.

    ``message_at``: the change is a new message (counts it, moves last activity).
    ``not_found`` when the conversation does not exist.
    """
    table = conversation_table(ref)
    values: dict[str, object] = {"last_seq": table.last_seq + 1}
    if message_at is not None:
        values["message_count"] = table.message_count + 1
        values["last_activity_at"] = message_at
    row = (
        await session.execute(
            update(table)
            .where(table.id == ref.id)
            .values(**values)
            .returning(table.last_seq, table.message_count)
            .execution_options(synchronize_session=False)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("No such conversation.", conversation=ref.address)
    return Counters(seq=row[0], message_count=row[1])


def record_event(
    work: Transaction,
    body: ConversationEventBody,
    *,
    message_id: object | None = None,
) -> ConversationEvent:
    """Append ``body`` (already carrying its conversation and seq) to the log, and
    announce it to the conversation's room for when the transaction commits."""
    event = ConversationEvent(
        conversation=body.conversation,
        seq=body.seq,
        type=body.EVENT,
        payload=body.model_dump(mode="json"),
        message_id=message_id,
    )
    work.session.add(event)
    work.announce(RoomEvent(room=event.conversation, name=event.type, payload=event.payload))
    return event


def announce_move(
    work: Transaction, user_id: object, body: ConversationJoinedEvent | ConversationLeftEvent
) -> None:
    """After the membership change commits: put the user's connections into the
    conversation's room (or take them out) and tell them on ``user:<id>``."""
    user, room = str(user_id), body.conversation
    joined = isinstance(body, ConversationJoinedEvent)
    work.announce(
        RoomJoined(user, room) if joined else RoomLeft(user, room),
        RoomEvent.of(body, user_room(user)),
    )


class Events:
    """Replay: what a client missed in a conversation after its cursor."""

    def __init__(self, database: Database, access: Access) -> None:
        self._db = database
        self._access = access

    async def events_in_room(
        self, address: str, after_seq: int, limit: int = MAX_REPLAY_PAGE
    ) -> list[tuple[str, dict[str, Any]]]:
        """``events_after`` for a connection that is in the conversation's room, as
        (type, payload) pairs: no membership check, because joining the room was
        the check (M9) and a departure takes the connection out of it. One
        statement, so replays of many sockets can share it."""
        ref = parse_address(address)
        limit = max(1, min(limit, MAX_REPLAY_PAGE))
        async with self._db.reading() as session:
            rows = await session.execute(
                _ROOM_EVENTS, {"conversation": ref.address, "after": after_seq, "limit": limit}
            )
            return [(kind, payload) for kind, payload in rows.all()]

    async def events_after(
        self, principal: Principal, address: str, after_seq: int, limit: int = MAX_REPLAY_PAGE
    ) -> list[ConversationEvent]:
        """The conversation's events with ``seq > after_seq`` in seq order, at most
        ``limit`` (ask again after the last one for more). A former member gets
        those up to their departure only. ``not_found`` / ``not_a_member``."""
        limit = max(1, min(limit, MAX_REPLAY_PAGE))
        async with self._db.reading() as session:
            grant = await self._access.grant(session, principal, address)
            statement = (
                select(ConversationEvent)
                .where(
                    ConversationEvent.conversation == grant.ref.address,
                    ConversationEvent.seq > after_seq,
                )
                .order_by(ConversationEvent.seq)
                .limit(limit)
            )
            if grant.visible_up_to is not None:
                statement = statement.where(ConversationEvent.seq <= grant.visible_up_to)
            return list((await session.scalars(statement)).all())
