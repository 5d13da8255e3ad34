"""Group commit of concurrent sends: the sends waiting at one moment are stored
in ONE transaction, a few statements for all of them.

Why: one send alone is about ten round trips and an ORM flush; under load most
of a process's CPU went to that per-message ceremony, and every send waited for
a commit of its own. ``SendBatcher.submit`` queues a plain send (text, maybe a
reply; no files, not a forward) and one drain task writes what is queued, up
to ``max_batch`` at a time, while the next sends queue behind it: no timer, so
a lone send is written at once, and a busy process writes bigger batches.

Every guarantee of the single path holds, in the same transaction as the
messages (``write_sends``):

- the conversations' rows are locked first (``FOR UPDATE``, groups then single
  chats, each in id order, so two processes' batches never deadlock), then
  membership is checked under that lock: a member removed a moment earlier
  cannot slip a message in;
- seqs are taken in arrival order, gap-free: a send refused for its own reason
  (not a member, no such conversation, a bad parent) is decided before any seq
  is taken and does not stop the others;
- idempotency on (sender, ``client_id``): a retry of a stored message, or the
  same client id twice in one batch, is answered by the single path after the
  batch (the first message, ``created=False``), exactly as a lone retry is;
- the sender's read watermark and the receipts it passes, the event row for
  replay (``message:new``, announced to the room on commit) and the notifier's
  outbox job (``MessagesStored``, written before the commit) commit with the
  messages.

A batch that fails as a whole (a constraint a concurrent writer tripped, a lost
connection) is rolled back and each of its sends is tried alone, in order, so
one bad send never fails the others. The queue is bounded
(``admit_send_queue``) and a send that waited longer than its deadline
(``admit_send_deadline_seconds``) when its turn comes is refused with
``overloaded`` before anything is written: stored and acked, or refused,
never silently late or lost (``goftogu.admission``).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, insert, or_, select, tuple_, update

from goftogu.admission import AdmissionPolicy
from goftogu.broadcast import RoomEvent
from goftogu.bus import Transaction
from goftogu.errors import (
    DomainError,
    MessageDeleted,
    NotAMember,
    NotFound,
    ParentNotInConversation,
)
from goftogu.identity.tokens import Principal
from goftogu.ids import new_id
from goftogu.messaging.addresses import ConversationRef
from goftogu.messaging.common import MessagesStored, NewMessage
from goftogu.messaging.models import (
    ConversationEvent,
    ConversationSettings,
    Group,
    GroupMember,
    Message,
    MessageRead,
    MessageType,
    SingleChat,
)
from goftogu.messaging.reads import RECEIPTS_PER_READ
from goftogu.messaging.schemas import MessageNewEvent, MessagePublic
from goftogu.storage.models import utcnow
from goftogu.storage.work import UnitsOfWork

log = logging.getLogger(__name__)

Sent = tuple[MessagePublic, bool]

# Core tables: the batch writes plain rows, no ORM objects.
_MESSAGES = cast(Table, Message.__table__)
_GROUPS = cast(Table, Group.__table__)
_SINGLES = cast(Table, SingleChat.__table__)
_SETTINGS = cast(Table, ConversationSettings.__table__)
_EVENTS = cast(Table, ConversationEvent.__table__)
_READS = cast(Table, MessageRead.__table__)
# A watermark this far behind its conversation reads its receipts with the
# single path's exact query (newest first, limited) instead of the batch's range read.
_RANGE_READ_LIMIT = 200

_ADVANCE_GROUPS = (
    update(_GROUPS)
    .where(_GROUPS.c.id == bindparam("b_id"))
    .values(
        last_seq=bindparam("b_seq"),
        message_count=bindparam("b_count"),
        last_activity_at=bindparam("b_at"),
    )
)
_ADVANCE_SINGLES = (
    update(_SINGLES)
    .where(_SINGLES.c.id == bindparam("b_id"))
    .values(
        last_seq=bindparam("b_seq"),
        message_count=bindparam("b_count"),
        last_activity_at=bindparam("b_at"),
    )
)
_MOVE_WATERMARKS = (
    update(_SETTINGS)
    .where(_SETTINGS.c.id == bindparam("b_id"))
    .values(last_read_seq=bindparam("b_seq"), read_count=bindparam("b_count"))
)


@dataclass(frozen=True)
class PlainSend:
    """A send the batch can write: text (or a typed message without files), maybe a
    reply; validated already (length, type)."""

    client_id: str
    content: str
    message_type: MessageType
    parent_id: uuid.UUID | None = None


@dataclass(eq=False)
class _Pending:
    principal: Principal
    ref: ConversationRef
    send: PlainSend
    deadline: float
    future: asyncio.Future[Sent]


class _Alone:
    """The outcome of a send the single path answers (a retry of a stored client id)."""


ALONE = _Alone()
Outcome = Sent | DomainError | _Alone
SendAlone = Callable[[Principal, ConversationRef, PlainSend], Awaitable[Sent]]


class SendBatcher:
    """Queues plain sends and writes them in batches (see the module's text)."""

    def __init__(
        self,
        work: UnitsOfWork,
        alone: SendAlone,
        *,
        policy: AdmissionPolicy,
        max_batch: int,
    ) -> None:
        self._work = work
        self._alone = alone
        self._policy = policy
        self._max_batch = max_batch
        self._queue: deque[_Pending] = deque()
        self._drainer: asyncio.Task[None] | None = None

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def submit(self, principal: Principal, ref: ConversationRef, send: PlainSend) -> Sent:
        """Store ``send`` with the others waiting now; (message, created). Raises what
        the single path raises, and ``overloaded`` when the queue is full or the send
        waited past its deadline (nothing stored)."""
        if len(self._queue) >= self._policy.queue:
            raise self._policy.refuse("send", "queue_full")
        future: asyncio.Future[Sent] = asyncio.get_running_loop().create_future()
        deadline = time.monotonic() + self._policy.deadline_seconds
        self._queue.append(_Pending(principal, ref, send, deadline, future))
        if self._drainer is None:
            # A context of its own: the batch is nobody's request.
            self._drainer = asyncio.create_task(self._drain(), context=contextvars.Context())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch: list[_Pending] = []
                now = time.monotonic()
                while self._queue and len(batch) < self._max_batch:
                    pending = self._queue.popleft()
                    if pending.future.done():  # its caller gave up (cancelled)
                        continue
                    if pending.deadline < now:
                        pending.future.set_exception(self._policy.refuse("send", "deadline"))
                        continue
                    batch.append(pending)
                if batch:
                    await self._commit(batch)
        finally:
            self._drainer = None

    async def _commit(self, batch: list[_Pending]) -> None:
        try:
            async with self._work.transaction() as work:
                outcomes = await write_sends(work, [(p.principal, p.ref, p.send) for p in batch])
        except Exception:
            log.warning("a batch of sends failed; each is sent alone", exc_info=True)
            for pending in batch:
                await self._send_alone(pending)
            return
        for pending, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, DomainError):
                _settle(pending.future, error=outcome)
            elif not isinstance(outcome, _Alone):
                _settle(pending.future, result=outcome)
        for pending, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, _Alone):
                await self._send_alone(pending)

    async def _send_alone(self, pending: _Pending) -> None:
        if pending.future.done():
            return
        try:
            result = await self._alone(pending.principal, pending.ref, pending.send)
        except Exception as error:
            _settle(pending.future, error=error)
        else:
            _settle(pending.future, result=result)


def _settle(
    future: asyncio.Future[Sent], *, result: Sent | None = None, error: BaseException | None = None
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        assert result is not None
        future.set_result(result)


# --- the batch's transaction ------------------------------------------------------


@dataclass
class _Counters:
    seq: int
    count: int
    initial_seq: int


async def write_sends(
    work: Transaction, sends: Sequence[tuple[Principal, ConversationRef, PlainSend]]
) -> list[Outcome]:
    """Store ``sends`` in ``work``'s transaction; one outcome per send, in order: the
    stored message, the ``DomainError`` that refused it, or ``ALONE``."""
    session, now = work.session, utcnow()
    outcomes: list[Outcome | None] = [None] * len(sends)

    # Retries: a client id seen twice in the batch, or stored before.
    keys: dict[tuple[uuid.UUID, str], int] = {}
    for index, (principal, _ref, send) in enumerate(sends):
        key = (principal.user_id, send.client_id)
        if key in keys:
            outcomes[index] = ALONE
        else:
            keys[key] = index
    stored = await session.execute(
        select(_MESSAGES.c.sender_id, _MESSAGES.c.client_id).where(
            tuple_(_MESSAGES.c.sender_id, _MESSAGES.c.client_id).in_(list(keys))
        )
    )
    for sender_id, client_id in stored:
        outcomes[keys[(sender_id, client_id)]] = ALONE

    # Lock the conversations (groups, then single chats; each in id order).
    group_ids = sorted({ref.id for _p, ref, _s in sends if ref.is_group})
    single_ids = sorted({ref.id for _p, ref, _s in sends if not ref.is_group})
    counters: dict[ConversationRef, _Counters] = {}
    titles: dict[uuid.UUID, str] = {}
    members: dict[uuid.UUID, list[uuid.UUID]] = {}
    pairs: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID]] = {}
    if group_ids:
        rows = await session.execute(
            select(_GROUPS.c.id, _GROUPS.c.last_seq, _GROUPS.c.message_count, _GROUPS.c.title)
            .where(_GROUPS.c.id.in_(group_ids))
            .order_by(_GROUPS.c.id)
            .with_for_update()
        )
        for group_id, last_seq, count, title in rows:
            counters[ConversationRef.group(group_id)] = _Counters(last_seq, count, last_seq)
            titles[group_id] = title
            members[group_id] = []
        active = await session.execute(
            select(GroupMember.group_id, GroupMember.user_id).where(
                GroupMember.group_id.in_(group_ids), GroupMember.left_at.is_(None)
            )
        )
        for group_id, user_id in active:
            members[group_id].append(user_id)
    if single_ids:
        chats = await session.execute(
            select(
                _SINGLES.c.id,
                _SINGLES.c.last_seq,
                _SINGLES.c.message_count,
                _SINGLES.c.user1_id,
                _SINGLES.c.user2_id,
            )
            .where(_SINGLES.c.id.in_(single_ids))
            .order_by(_SINGLES.c.id)
            .with_for_update()
        )
        for chat_id, last_seq, count, user1, user2 in chats:
            counters[ConversationRef.single(chat_id)] = _Counters(last_seq, count, last_seq)
            pairs[chat_id] = (user1, user2)

    # Refusals of their own: no such conversation, not a member, a bad parent.
    for index, (principal, ref, _send) in enumerate(sends):
        if outcomes[index] is not None:
            continue
        if ref not in counters:
            outcomes[index] = NotFound("No such conversation.", conversation=ref.address)
        elif principal.user_id not in (members[ref.id] if ref.is_group else pairs[ref.id]):
            outcomes[index] = NotAMember(conversation=ref.address)
    await _check_parents(work, sends, outcomes)

    # Seqs in arrival order, then the rows.
    accepted: list[tuple[int, NewMessage, MessagePublic]] = []
    for index, (principal, ref, send) in enumerate(sends):
        if outcomes[index] is not None:
            continue
        counter = counters[ref]
        counter.seq += 1
        counter.count += 1
        message = NewMessage(
            ref=ref,
            id=new_id(),
            sender_id=principal.user_id,
            client_id=send.client_id,
            seq=counter.seq,
            ordinal=counter.count,
            message_type=send.message_type,
            content=send.content or None,
            parent_id=send.parent_id,
            created_at=now,
        )
        public = _public(message)
        outcomes[index] = (public, True)
        accepted.append((index, message, public))
    if not accepted:
        return _decided(outcomes)
    written = [message for _i, message, _p in accepted]
    await _advance_counters(work, counters, now)
    await session.execute(insert(_MESSAGES), [_message_row(m) for m in written])
    await _move_watermarks(work, written, counters, now)
    bodies = [
        MessageNewEvent(conversation=m.ref.address, seq=m.seq, message=public).model_dump(
            mode="json"
        )
        for _i, m, public in accepted
    ]
    await session.execute(
        insert(_EVENTS),
        [
            {
                "id": new_id(),
                "created_at": now,
                "updated_at": now,
                "conversation": m.ref.address,
                "seq": m.seq,
                "type": MessageNewEvent.EVENT,
                "payload": body,
                "message_id": m.id,
            }
            for m, body in zip(written, bodies, strict=True)
        ],
    )
    work.announce(
        *(
            RoomEvent(room=m.ref.address, name=MessageNewEvent.EVENT, payload=body)
            for m, body in zip(written, bodies, strict=True)
        )
    )
    audiences = {
        ref: (tuple(members[ref.id]), titles[ref.id]) if ref.is_group else (pairs[ref.id], None)
        for ref in {m.ref for m in written}
    }
    work.announce(MessagesStored(tuple(written), audiences))
    return _decided(outcomes)


def _decided(outcomes: list[Outcome | None]) -> list[Outcome]:
    assert all(outcome is not None for outcome in outcomes)
    return [outcome for outcome in outcomes if outcome is not None]


async def _check_parents(
    work: Transaction,
    sends: Sequence[tuple[Principal, ConversationRef, PlainSend]],
    outcomes: list[Outcome | None],
) -> None:
    wanted = {
        send.parent_id
        for index, (_p, _r, send) in enumerate(sends)
        if send.parent_id is not None and outcomes[index] is None
    }
    if not wanted:
        return
    rows = await work.session.execute(
        select(
            _MESSAGES.c.id, _MESSAGES.c.single_chat_id, _MESSAGES.c.group_id, _MESSAGES.c.deleted_at
        ).where(_MESSAGES.c.id.in_(wanted))
    )
    parents = {row[0]: (ConversationRef.of_columns(row[1], row[2]), row[3]) for row in rows}
    for index, (_principal, ref, send) in enumerate(sends):
        if send.parent_id is None or outcomes[index] is not None:
            continue
        parent = parents.get(send.parent_id)
        if parent is None or parent[0] != ref:
            outcomes[index] = ParentNotInConversation(parent_message_id=str(send.parent_id))
        elif parent[1] is not None:
            outcomes[index] = MessageDeleted("The message replied to was deleted.")


async def _advance_counters(
    work: Transaction, counters: dict[ConversationRef, _Counters], now: datetime
) -> None:
    for is_group, statement in ((True, _ADVANCE_GROUPS), (False, _ADVANCE_SINGLES)):
        moved = [
            {"b_id": ref.id, "b_seq": c.seq, "b_count": c.count, "b_at": now}
            for ref, c in counters.items()
            if ref.is_group == is_group and c.seq != c.initial_seq
        ]
        if moved:
            await work.session.execute(statement, moved)


async def _move_watermarks(
    work: Transaction,
    written: Sequence[NewMessage],
    counters: dict[ConversationRef, _Counters],
    now: datetime,
) -> None:
    """Each sender's watermark moves to their newest message of the batch, and the
    receipts of the messages of others it passes are written (the single path's
    ``advance_watermark``, for every (conversation, sender) of the batch at once)."""
    session = work.session
    newest: dict[tuple[ConversationRef, uuid.UUID], NewMessage] = {}
    for message in written:
        newest[(message.ref, message.sender_id)] = message  # arrival order: the last wins
    settings: dict[tuple[ConversationRef, uuid.UUID], tuple[uuid.UUID, int]] = {}
    for is_group, column in ((True, _SETTINGS.c.group_id), (False, _SETTINGS.c.single_chat_id)):
        wanted = [(user, ref.id) for ref, user in newest if ref.is_group == is_group]
        if not wanted:
            continue
        found = await session.execute(
            select(_SETTINGS.c.id, _SETTINGS.c.user_id, column, _SETTINGS.c.last_read_seq)
            .where(tuple_(_SETTINGS.c.user_id, column).in_(wanted))
            .with_for_update()
        )
        for settings_id, user_id, conversation_id, last_read in found:
            ref = (ConversationRef.group if is_group else ConversationRef.single)(conversation_id)
            settings[(ref, user_id)] = (settings_id, last_read)

    # What each watermark passes: earlier messages (read back) and this batch's.
    by_conversation: dict[ConversationRef, list[NewMessage]] = {}
    for message in written:
        by_conversation.setdefault(message.ref, []).append(message)
    ranges: dict[ConversationRef, int] = {}  # conversation -> the lowest watermark to read above
    far: list[tuple[ConversationRef, uuid.UUID, int]] = []
    for (ref, user), _message in newest.items():
        last_read = settings.get((ref, user), (None, 0))[1]
        before = counters[ref].initial_seq
        if last_read >= before:
            continue
        if before - last_read > _RANGE_READ_LIMIT:
            far.append((ref, user, last_read))
        else:
            ranges[ref] = min(ranges.get(ref, last_read), last_read)
    earlier: dict[ConversationRef, list[tuple[int, uuid.UUID, uuid.UUID]]] = {}
    if ranges:
        passed_rows = await session.execute(
            select(
                _MESSAGES.c.single_chat_id,
                _MESSAGES.c.group_id,
                _MESSAGES.c.seq,
                _MESSAGES.c.id,
                _MESSAGES.c.sender_id,
            ).where(
                or_(
                    *(
                        and_(
                            (_MESSAGES.c.group_id if ref.is_group else _MESSAGES.c.single_chat_id)
                            == ref.id,
                            _MESSAGES.c.seq > low,
                            _MESSAGES.c.seq <= counters[ref].initial_seq,
                        )
                        for ref, low in ranges.items()
                    )
                ),
                _MESSAGES.c.deleted_at.is_(None),
            )
        )
        for single_id, group_id, seq, message_id, sender_id in passed_rows:
            ref = ConversationRef.of_columns(single_id, group_id)
            earlier.setdefault(ref, []).append((seq, message_id, sender_id))
    far_rows: dict[tuple[ConversationRef, uuid.UUID], list[tuple[int, uuid.UUID, uuid.UUID]]] = {}
    for ref, user, last_read in far:
        column = _MESSAGES.c.group_id if ref.is_group else _MESSAGES.c.single_chat_id
        newest_rows = await session.execute(
            select(_MESSAGES.c.seq, _MESSAGES.c.id, _MESSAGES.c.sender_id)
            .where(
                column == ref.id,
                _MESSAGES.c.seq > last_read,
                _MESSAGES.c.seq <= counters[ref].initial_seq,
                _MESSAGES.c.sender_id != user,
                _MESSAGES.c.deleted_at.is_(None),
            )
            .order_by(_MESSAGES.c.seq.desc())
            .limit(RECEIPTS_PER_READ)
        )
        far_rows[(ref, user)] = [(seq, i, s) for seq, i, s in newest_rows]

    receipts: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    created: list[dict[str, Any]] = []
    for (ref, user), message in newest.items():
        settings_id, last_read = settings.get((ref, user), (None, 0))
        candidates: Iterable[tuple[int, uuid.UUID, uuid.UUID]] = far_rows.get(
            (ref, user), earlier.get(ref, ())
        )
        passed = [
            (seq, message_id)
            for seq, message_id, sender_id in candidates
            if sender_id != user and last_read < seq
        ] + [
            (m.seq, m.id)
            for m in by_conversation[ref]
            if m.sender_id != user and last_read < m.seq <= message.seq
        ]
        passed.sort(reverse=True)
        receipts.extend(
            {
                "id": new_id(),
                "created_at": now,
                "updated_at": now,
                "message_id": message_id,
                "user_id": user,
                "read_at": now,
            }
            for _seq, message_id in passed[:RECEIPTS_PER_READ]
        )
        if settings_id is not None:
            moves.append({"b_id": settings_id, "b_seq": message.seq, "b_count": message.ordinal})
        else:
            created.append(
                {
                    "id": new_id(),
                    "created_at": now,
                    "updated_at": now,
                    "user_id": user,
                    "group_id": ref.id if ref.is_group else None,
                    "single_chat_id": None if ref.is_group else ref.id,
                    "archived": False,
                    "muted_until": None,
                    "last_read_seq": message.seq,
                    "read_count": message.ordinal,
                }
            )
    if receipts:
        await session.execute(insert(_READS), receipts)
    if moves:
        await session.execute(_MOVE_WATERMARKS, moves)
    if created:
        await session.execute(insert(_SETTINGS), created)


def _message_row(message: NewMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "created_at": message.created_at,
        "updated_at": message.created_at,
        "single_chat_id": None if message.ref.is_group else message.ref.id,
        "group_id": message.ref.id if message.ref.is_group else None,
        "sender_id": message.sender_id,
        "client_id": message.client_id,
        "seq": message.seq,
        "ordinal": message.ordinal,
        "message_type": message.message_type.value,
        "content": message.content,
        "parent_message_id": message.parent_id,
        "forwarded_from_id": None,
        "forwarded_from_sender_id": None,
        "edited_at": None,
        "deleted_at": None,
        "deleted_by_id": None,
    }


def _public(message: NewMessage) -> MessagePublic:
    return MessagePublic(
        id=message.id,
        conversation=message.ref.address,
        seq=message.seq,
        sender_id=message.sender_id,
        client_id=message.client_id,
        message_type=message.message_type,
        content=message.content,
        parent_message_id=message.parent_id,
        forwarded_from=None,
        attachments=[],
        created_at=message.created_at,
        edited_at=None,
        deleted_at=None,
    )
