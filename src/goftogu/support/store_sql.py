"""The ``chats`` collection in the relational database (the embedded default).

Each conversation is one row: the document in a JSON column plus indexed
copies of the fields queries filter on. A conditional update reads the row
under a write lock (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` serialises writers), checks the same condition the MongoDB
filter holds, and writes the whole document back in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from goftogu.storage.database import Database
from goftogu.storage.errors import is_unique_violation
from goftogu.support.documents import (
    ChatStatus,
    ChatType,
    Csat,
    Message,
    Note,
    RoutingEntry,
    SenderKind,
    SlaStatus,
    Snooze,
    SupportChat,
    first_id_at,
    now,
    stored_chat,
    stored_chats,
)
from goftogu.support.models import SupportChatLabel, SupportChatRow
from goftogu.support.store import (
    Appended,
    ChatQuery,
    NoteAdded,
    OutboxKind,
    PendingJob,
    Reader,
)

_TOKEN_COLUMN = {
    OutboxKind.route: SupportChatRow.route_token,
    OutboxKind.ticket_notice: SupportChatRow.ticket_notice_token,
    OutboxKind.assigned_notice: SupportChatRow.assigned_notice_token,
    OutboxKind.reply_notice: SupportChatRow.reply_notice_token,
    OutboxKind.closed_notice: SupportChatRow.closed_notice_token,
}


def _document(chat: SupportChat) -> dict[str, Any]:
    document: dict[str, Any] = chat.model_dump(mode="json")
    return document


def _chat(row: SupportChatRow) -> SupportChat:
    return stored_chat(row.document)


def _copy_columns(row: SupportChatRow, chat: SupportChat) -> None:
    row.operator_id = uuid.UUID(chat.operator_id) if chat.operator_id else None
    row.team_id = uuid.UUID(chat.team_id) if chat.team_id else None
    row.sla_state = chat.sla.state if chat.sla else None
    row.snoozed = _snoozed(chat)
    row.status = chat.status.value
    row.type = chat.type.value
    row.updated_at = chat.updated_at
    row.assigned_at = chat.assigned_at
    row.closed_at = chat.closed_at
    row.document = _document(chat)


def _snoozed(chat: SupportChat) -> str | None:
    if chat.snooze is None:
        return None
    return FREED if chat.snooze.frees_slot else "held"


FREED = "freed"
SCAN_BATCH = 500
_COUNTED = or_(SupportChatRow.snoozed.is_(None), SupportChatRow.snoozed != FREED)


def _new_token() -> str:
    return uuid.uuid4().hex


def _waiting(statement: Select[Any]) -> Select[Any]:
    return statement.where(
        SupportChatRow.status == ChatStatus.PENDING.value, SupportChatRow.operator_id.is_(None)
    )


class SqlChatStore:
    """Support conversations as JSON documents in SQLite or PostgreSQL."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def prepare(self) -> None:
        return None  # the migrations made the table and its indexes

    async def create(self, chat: SupportChat) -> tuple[SupportChat, bool]:
        row = SupportChatRow(
            id=uuid.UUID(chat.id),
            customer_id=uuid.UUID(chat.customer.id),
            intake_key=chat.intake_key,
            created_at=chat.created_at,
            route_token=_new_token(),
        )
        _copy_columns(row, chat)
        try:
            async with self._db.transaction() as session:
                session.add(row)
        except IntegrityError as error:
            if not is_unique_violation(
                error,
                constraint="uq_support_chats_intake_key",
                columns="support_chats.intake_key",
            ):
                raise
            existing = await self.get_by_intake_key(chat.intake_key)
            if existing is None:
                raise
            return existing, False
        return chat, True

    async def get(self, chat_id: str) -> SupportChat | None:
        parsed = _parse(chat_id)
        if parsed is None:
            return None
        async with self._db.sessions() as session:
            row = await session.get(SupportChatRow, parsed)
            return _chat(row) if row else None

    async def get_by_intake_key(self, intake_key: str) -> SupportChat | None:
        async with self._db.sessions() as session:
            row = await session.scalar(
                select(SupportChatRow).where(SupportChatRow.intake_key == intake_key)
            )
            return _chat(row) if row else None

    async def _locked(self, session: AsyncSession, chat_id: str) -> SupportChatRow | None:
        parsed = _parse(chat_id)
        if parsed is None:
            return None
        row: SupportChatRow | None = await session.scalar(
            select(SupportChatRow).where(SupportChatRow.id == parsed).with_for_update()
        )
        return row

    async def _change(
        self,
        chat_id: str,
        condition: Callable[[SupportChat], bool],
        change: Callable[[SupportChat], SupportChat],
        *,
        columns: Callable[[SupportChatRow], None] | None = None,
    ) -> SupportChat | None:
        async with self._db.transaction() as session:
            row = await self._locked(session, chat_id)
            if row is None:
                return None
            chat = _chat(row)
            if not condition(chat):
                return None
            changed = change(chat)
            _copy_columns(row, changed)
            if columns is not None:
                columns(row)
            return changed

    async def append_message(
        self,
        chat_id: str,
        message: Message,
        *,
        statuses: frozenset[ChatStatus],
        operator_id: str | None = None,
    ) -> Appended | None:
        async with self._db.transaction() as session:
            row = await self._locked(session, chat_id)
            if row is None:
                return None
            chat = _chat(row)
            if chat.status not in statuses or (
                operator_id is not None and chat.operator_id != operator_id
            ):
                return None
            if found := chat.message(message.key):
                return Appended(chat=chat, message=found[1], seq=found[0], created=False)
            changes: dict[str, Any] = {
                "messages": [*chat.messages, message],
                "updated_at": message.created_at,
            }
            if message.sender.kind is SenderKind.operator:
                row.reply_notice_token = _new_token()
                if chat.first_response_at is None:
                    changes["first_response_at"] = message.created_at
            chat = chat.model_copy(update=changes)
            _copy_columns(row, chat)
            return Appended(chat=chat, message=message, seq=len(chat.messages), created=True)

    async def add_note(self, chat_id: str, note: Note) -> NoteAdded | None:
        async with self._db.transaction() as session:
            row = await self._locked(session, chat_id)
            if row is None:
                return None
            chat = _chat(row)
            if found := chat.note(note.key):
                return NoteAdded(chat=chat, note=found, created=False)
            chat = chat.model_copy(update={"notes": [*chat.notes, note]})
            row.document = _document(chat)
            return NoteAdded(chat=chat, note=note, created=True)

    async def add_label(self, chat_id: str, label: str) -> SupportChat | None:
        async with self._db.transaction() as session:
            row = await self._locked(session, chat_id)
            if row is None:
                return None
            chat = _chat(row)
            if label in chat.labels:
                return chat
            chat = chat.model_copy(update={"labels": [*chat.labels, label]})
            row.document = _document(chat)
            # The copy queries filter on, written with the document.
            session.add(SupportChatLabel(chat_id=row.id, label=label))
            return chat

    async def remove_label(self, chat_id: str, label: str) -> SupportChat | None:
        async with self._db.transaction() as session:
            row = await self._locked(session, chat_id)
            if row is None:
                return None
            chat = _chat(row)
            if label not in chat.labels:
                return chat
            chat = chat.model_copy(update={"labels": [x for x in chat.labels if x != label]})
            row.document = _document(chat)
            await session.execute(
                delete(SupportChatLabel).where(
                    SupportChatLabel.chat_id == row.id, SupportChatLabel.label == label
                )
            )
            return chat

    async def rate(self, chat_id: str, csat: Csat) -> SupportChat | None:
        return await self._change(
            chat_id,
            lambda chat: chat.status is ChatStatus.CLOSED and chat.csat is None,
            lambda chat: chat.model_copy(update={"csat": csat}),
        )

    async def mark_read(self, chat_id: str, reader: Reader, seq: int) -> SupportChat | None:
        field = f"{reader}_read_seq"
        async with self._db.transaction() as session:
            row = await self._locked(session, chat_id)
            if row is None:
                return None
            chat = _chat(row)
            if getattr(chat, field) >= seq:
                return chat
            chat = chat.model_copy(update={field: seq})
            row.document = _document(chat)
            return chat

    async def assign(
        self, chat_id: str, operator_id: str, entry: RoutingEntry
    ) -> SupportChat | None:
        def owe_notice(row: SupportChatRow) -> None:
            row.route_token = None
            row.assigned_notice_token = _new_token()

        return await self._change(
            chat_id,
            lambda chat: chat.is_waiting,
            lambda chat: chat.model_copy(
                update={
                    "operator_id": operator_id,
                    "status": ChatStatus.OPEN,
                    "assigned_at": entry.at,
                    "updated_at": entry.at,
                    "routing": [*chat.routing, entry],
                }
            ),
            columns=owe_notice,
        )

    async def mark_ticket(self, chat_id: str, entry: RoutingEntry) -> SupportChat | None:
        def owe_notice(row: SupportChatRow) -> None:
            row.ticket_notice_token = _new_token()

        return await self._change(
            chat_id,
            lambda chat: chat.is_waiting and chat.type is ChatType.CHAT,
            lambda chat: chat.model_copy(
                update={
                    "type": ChatType.TICKET,
                    "updated_at": entry.at,
                    "routing": [*chat.routing, entry],
                }
            ),
            columns=owe_notice,
        )

    async def transfer(
        self, chat_id: str, from_operator_id: str, to_operator_id: str, entry: RoutingEntry
    ) -> SupportChat | None:
        def owe_notice(row: SupportChatRow) -> None:
            row.assigned_notice_token = _new_token()

        return await self._change(
            chat_id,
            lambda chat: chat.status is ChatStatus.OPEN and chat.operator_id == from_operator_id,
            lambda chat: chat.model_copy(
                update={
                    "operator_id": to_operator_id,
                    "updated_at": entry.at,
                    "routing": [*chat.routing, entry],
                }
            ),
            columns=owe_notice,
        )

    async def close(
        self, chat_id: str, operator_id: str | None, entry: RoutingEntry
    ) -> SupportChat | None:
        def clear_route(row: SupportChatRow) -> None:
            row.route_token = None
            row.closed_notice_token = _new_token()

        return await self._change(
            chat_id,
            lambda chat: chat.status is not ChatStatus.CLOSED and chat.operator_id == operator_id,
            lambda chat: chat.model_copy(
                update={
                    "status": ChatStatus.CLOSED,
                    "closed_at": entry.at,
                    "updated_at": entry.at,
                    "snooze": None,
                    "routing": [*chat.routing, entry],
                }
            ),
            columns=clear_route,
        )

    async def reopen(
        self,
        chat_id: str,
        entry: RoutingEntry,
        *,
        operator_id: str | None,
        closed_since: datetime | None = None,
        message: Message | None = None,
    ) -> SupportChat | None:
        def closed(chat: SupportChat) -> bool:
            return chat.status is ChatStatus.CLOSED and (
                closed_since is None
                or (chat.closed_at is not None and chat.closed_at >= closed_since)
            )

        def reopened(chat: SupportChat) -> SupportChat:
            changes: dict[str, Any] = {
                "closed_at": None,
                "updated_at": entry.at,
                "snooze": None,
                "routing": [*chat.routing, entry],
            }
            if operator_id is None:
                changes |= {"status": ChatStatus.PENDING, "operator_id": None}
                changes["type"] = ChatType.CHAT
            else:
                changes |= {
                    "status": ChatStatus.OPEN,
                    "operator_id": operator_id,
                    "assigned_at": entry.at,
                }
            if message is not None and chat.message(message.key) is None:
                changes["messages"] = [*chat.messages, message]
            return chat.model_copy(update=changes)

        def owe(row: SupportChatRow) -> None:
            if operator_id is None:
                row.route_token = _new_token()
            else:
                row.assigned_notice_token = _new_token()

        return await self._change(chat_id, closed, reopened, columns=owe)

    async def snooze(
        self, chat_id: str, operator_id: str, snooze: Snooze, entry: RoutingEntry
    ) -> SupportChat | None:
        return await self._change(
            chat_id,
            lambda chat: (
                chat.status is ChatStatus.OPEN
                and chat.operator_id == operator_id
                and chat.snooze is None
            ),
            lambda chat: chat.model_copy(
                update={
                    "snooze": snooze,
                    "updated_at": entry.at,
                    "routing": [*chat.routing, entry],
                }
            ),
        )

    async def wake(self, chat_id: str, entry: RoutingEntry) -> SupportChat | None:
        return await self._change(
            chat_id,
            lambda chat: chat.snooze is not None and chat.status is not ChatStatus.CLOSED,
            lambda chat: chat.model_copy(
                update={"snooze": None, "updated_at": entry.at, "routing": [*chat.routing, entry]}
            ),
        )

    async def change_team(
        self,
        chat_id: str,
        team_id: str | None,
        from_operator_id: str | None,
        entry: RoutingEntry,
    ) -> SupportChat | None:
        def route(row: SupportChatRow) -> None:
            row.route_token = _new_token()

        return await self._change(
            chat_id,
            lambda chat: (
                chat.status is not ChatStatus.CLOSED
                and chat.snooze is None
                and chat.operator_id == from_operator_id
            ),
            lambda chat: chat.model_copy(
                update={
                    "team_id": team_id,
                    "status": ChatStatus.PENDING,
                    "operator_id": None,
                    "updated_at": entry.at,
                    "routing": [*chat.routing, entry],
                }
            ),
            columns=route,
        )

    async def find(self, query: ChatQuery) -> list[SupportChat]:
        async with self._db.sessions() as session:
            rows = await session.scalars(_matching(select(SupportChatRow), query))
            return stored_chats(row.document for row in rows.all())

    async def started_between(
        self, after_id: str, before_id: str, team_id: str | None = None
    ) -> AsyncIterator[list[SupportChat]]:
        after, end = _parse_or_nil(after_id), _parse_or_nil(before_id)
        while True:
            statement = select(SupportChatRow).where(
                SupportChatRow.id > after, SupportChatRow.id < end
            )
            if team_id is not None:
                statement = statement.where(SupportChatRow.team_id == _parse_or_nil(team_id))
            async with self._db.sessions() as session:
                rows = (
                    await session.scalars(statement.order_by(SupportChatRow.id).limit(SCAN_BATCH))
                ).all()
                batch = stored_chats(row.document for row in rows)
            if batch:
                yield batch
            if len(rows) < SCAN_BATCH:
                return
            after = rows[-1].id

    async def find_ids(self, query: ChatQuery) -> list[str]:
        async with self._db.sessions() as session:
            ids = await session.scalars(_matching(select(SupportChatRow.id), query))
            return [str(i) for i in ids.all()]

    async def count_waiting_before(self, chat: SupportChat) -> int:
        statement = _waiting(select(func.count()).select_from(SupportChatRow)).where(
            SupportChatRow.id < uuid.UUID(chat.id)
        )
        async with self._db.sessions() as session:
            return int(await session.scalar(statement) or 0)

    async def waiting_from(self, chat_id: str, limit: int) -> list[str]:
        statement = (
            _waiting(select(SupportChatRow.id))
            .where(SupportChatRow.id >= _parse_or_nil(chat_id))
            .order_by(SupportChatRow.id)
            .limit(limit)
        )
        async with self._db.sessions() as session:
            return [str(i) for i in (await session.scalars(statement)).all()]

    async def service_times(self, since: datetime, limit: int) -> list[float]:
        statement = (
            select(SupportChatRow.assigned_at, SupportChatRow.closed_at)
            .where(
                SupportChatRow.status == ChatStatus.CLOSED.value,
                SupportChatRow.closed_at >= since,
                SupportChatRow.assigned_at.is_not(None),
            )
            .order_by(SupportChatRow.closed_at.desc())
            .limit(limit)
        )
        async with self._db.sessions() as session:
            rows = (await session.execute(statement)).all()
        return [
            _seconds(closed_at - assigned_at)
            for assigned_at, closed_at in rows
            if assigned_at is not None and closed_at is not None
        ]

    async def request_routing(
        self,
        limit: int,
        entry: RoutingEntry,
        *,
        undecided_before: datetime | None = None,
        team_ids: Collection[str | None] | None = None,
    ) -> list[str]:
        if limit <= 0:
            return []
        statement = _waiting(select(SupportChatRow))
        if undecided_before is not None:
            statement = statement.where(
                SupportChatRow.type == ChatType.CHAT.value,
                SupportChatRow.id < uuid.UUID(first_id_at(undecided_before)),
            )
        if team_ids is not None:
            named = [_parse_or_nil(team) for team in team_ids if team is not None]
            of_teams = SupportChatRow.team_id.in_(named)
            statement = statement.where(
                or_(of_teams, SupportChatRow.team_id.is_(None)) if None in team_ids else of_teams
            )
        async with self._db.transaction() as session:
            rows = (
                await session.scalars(
                    statement
                    # no routing job waiting to be published (one being published
                    # may be older than the reason to route again)
                    .where(
                        or_(
                            SupportChatRow.route_token.is_(None),
                            SupportChatRow.outbox_claim.is_not(None),
                        )
                    )
                    .order_by(SupportChatRow.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            token = _new_token()
            for row in rows:
                chat = _chat(row)
                row.document = _document(
                    chat.model_copy(update={"routing": [*chat.routing, entry]})
                )
                row.route_token = token
            return [str(row.id) for row in rows]

    async def record_sla(
        self, chat_id: str, status: SlaStatus, new_marks: Sequence[str]
    ) -> SupportChat | None:
        def none_stored(chat: SupportChat) -> bool:
            marks = set(chat.sla.marks if chat.sla else ())
            return chat.status is not ChatStatus.CLOSED and not marks & set(new_marks)

        def merged(chat: SupportChat) -> SupportChat:
            marks = sorted({*(chat.sla.marks if chat.sla else ()), *status.marks})
            return chat.model_copy(update={"sla": status.model_copy(update={"marks": marks})})

        return await self._change(chat_id, none_stored, merged)

    async def count_open(self, team_id: str) -> int:
        statement = (
            select(func.count())
            .select_from(SupportChatRow)
            .where(
                SupportChatRow.team_id == _parse_or_nil(team_id),
                SupportChatRow.status == ChatStatus.OPEN.value,
                _COUNTED,
            )
        )
        async with self._db.sessions() as session:
            return int(await session.scalar(statement) or 0)

    async def open_chats_by_operator(self) -> dict[str, set[str]]:
        statement = select(SupportChatRow.id, SupportChatRow.operator_id).where(
            SupportChatRow.status == ChatStatus.OPEN.value, _COUNTED
        )
        loads: dict[str, set[str]] = {}
        async with self._db.sessions() as session:
            for chat_id, operator_id in (await session.execute(statement)).all():
                loads.setdefault(str(operator_id), set()).add(str(chat_id))
        return loads

    async def claim_jobs(self, limit: int, lease: timedelta) -> list[PendingJob]:
        at, claim = now(), _new_token()
        pending = or_(*(column.is_not(None) for column in _TOKEN_COLUMN.values()))
        free = or_(
            SupportChatRow.outbox_claimed_until.is_(None),
            SupportChatRow.outbox_claimed_until < at,
        )
        async with self._db.transaction() as session:
            rows = (
                await session.scalars(
                    select(SupportChatRow)
                    .where(pending, free)
                    .order_by(SupportChatRow.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            jobs: list[PendingJob] = []
            for row in rows:
                row.outbox_claimed_until = at + lease
                row.outbox_claim = claim
                for kind, column in _TOKEN_COLUMN.items():
                    token = getattr(row, column.key)
                    if token is not None:
                        jobs.append(PendingJob(kind, str(row.id), token, claim))
            return jobs

    async def finish_jobs(self, jobs: Sequence[PendingJob], *, published: bool) -> None:
        async with self._db.transaction() as session:
            for job in jobs:
                parsed = _parse(job.chat_id)
                if parsed is None:
                    continue
                if published:
                    column = _TOKEN_COLUMN[job.kind]
                    await session.execute(
                        update(SupportChatRow)
                        .where(SupportChatRow.id == parsed, column == job.token)
                        .values({column.key: None})
                    )
                await session.execute(
                    update(SupportChatRow)
                    .where(SupportChatRow.id == parsed, SupportChatRow.outbox_claim == job.claim)
                    .values(outbox_claim=None, outbox_claimed_until=None)
                )


def _matching(statement: Select[Any], query: ChatQuery) -> Select[Any]:
    """``statement`` narrowed, ordered and limited as ``query`` says."""
    if query.status is not None:
        statement = statement.where(SupportChatRow.status == query.status.value)
    if query.statuses:
        statement = statement.where(SupportChatRow.status.in_([s.value for s in query.statuses]))
    if query.type is not None:
        statement = statement.where(SupportChatRow.type == query.type.value)
    if query.customer_id is not None:
        statement = statement.where(SupportChatRow.customer_id == _parse_or_nil(query.customer_id))
    if query.operator_id is not None:
        statement = statement.where(SupportChatRow.operator_id == _parse_or_nil(query.operator_id))
    elif query.unassigned:
        statement = statement.where(SupportChatRow.operator_id.is_(None))
    if query.team_id is not None:
        statement = statement.where(SupportChatRow.team_id == _parse_or_nil(query.team_id))
    if query.sla_state is not None:
        statement = statement.where(SupportChatRow.sla_state == query.sla_state)
    if query.snoozed:
        statement = statement.where(SupportChatRow.snoozed.is_not(None))
    if query.label is not None:
        statement = statement.where(
            exists().where(
                SupportChatLabel.chat_id == SupportChatRow.id,
                SupportChatLabel.label == query.label,
            )
        )
    if query.after is not None:
        after = _parse_or_nil(query.after)
        statement = statement.where(
            SupportChatRow.id > after if query.oldest_first else SupportChatRow.id < after
        )
    order = SupportChatRow.id.asc() if query.oldest_first else SupportChatRow.id.desc()
    return statement.order_by(order).limit(query.limit)


def _seconds(span: timedelta) -> float:
    return max(0.0, span.total_seconds())


def _parse(chat_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(chat_id)
    except (ValueError, TypeError):
        return None


def _parse_or_nil(value: str) -> uuid.UUID:
    """A filter on a malformed id matches nothing rather than failing."""
    return _parse(value) or uuid.UUID(int=0)
