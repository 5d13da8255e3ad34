"""The ``chats`` collection in MongoDB (S1): one document per conversation.

Every change is one ``find_one_and_update`` whose filter holds the condition,
so it is atomic on its single document without transactions. The code keeps to
what both MongoDB 6+ and FerretDB do: no transactions, no update pipelines, no
partial indexes, no ``$group`` with ``$push`` (FerretDB lacks them), so
grouping happens here instead.

FerretDB 1.x does not apply an update atomically: it reads the document, then
writes it back (FerretDB issue 3040), so two concurrent updates of one
document can lose one of them and two conditional updates can both "win".
That is in its command layer (``findAndModify`` and ``update`` query the
matching documents, apply the operators in Go, then write each one back by
``_id``), shared by its handlers: the PostgreSQL handler, which
``scripts/services`` runs, needs the lock as much as the SQLite one (without it
two racing conditional updates both won in 97 rounds of 100 there).
Against FerretDB (found with ``buildInfo``) every write of a conversation
therefore holds a per-document lock: an insert of the conversation's id into
``chat_locks``, which a unique ``_id`` makes atomic there too. MongoDB itself
needs no lock and runs the very same filters and updates without it
(``tests/integration/test_support_store.py`` checks that FerretDB still needs it).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.errors import DuplicateKeyError

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
from goftogu.support.store import (
    Appended,
    ChatQuery,
    NoteAdded,
    OutboxKind,
    PendingJob,
    Reader,
)

COLLECTION = "chats"
LOCKS = "chat_locks"
SCAN_BATCH = 500
LOCK_SECONDS = 30.0  # a writer that died holding a lock loses it after this
DATABASE = "goftogu"  # when the URL names none
_TOKEN_FIELD = {kind: f"{kind.value}_token" for kind in OutboxKind}
# Outbox bookkeeping kept on the document, never part of the domain model.
_HIDDEN = (*_TOKEN_FIELD.values(), "outbox_", "message_keys", "note_keys")
# No routing job waiting to be published (one being published may be older than
# the reason to route again, so it does not count).
_NOT_AWAITING_ROUTING = {
    "$or": [{"route_token": {"$exists": False}}, {"outbox_claim": {"$exists": True}}]
}
_WAITING = {"status": ChatStatus.PENDING.value, "operator_id": None}
# A conversation counted in its operator's load: not snoozed with its slot given back
# (`$ne` also matches a missing or null `snooze`).
_COUNTED = {"snooze.frees_slot": {"$ne": True}}


def _plain(value: Any) -> Any:
    """Enums as their values, recursively: BSON knows str, not StrEnum."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _message_document(message: Message) -> dict[str, Any]:
    result: dict[str, Any] = _plain(message.model_dump())
    return result


def _to_document(chat: SupportChat) -> dict[str, Any]:
    document: dict[str, Any] = _plain(chat.model_dump(exclude={"id", "messages"}))
    document["_id"] = chat.id
    if document.get("first_response_at") is None:
        # Absent rather than null: `$min` sets a missing field, but null sorts
        # before every date and would stay.
        document.pop("first_response_at", None)
    document["messages"] = [_message_document(message) for message in chat.messages]
    # The keys (sender + client_id) of the messages, as a flat array, so that "no
    # message with this key yet" can be an update's filter. A `$ne` on the
    # embedded `messages.key` path would do in MongoDB, but FerretDB matches it when
    # any one element differs; on an array of strings both agree.
    document["message_keys"] = [message.key for message in chat.messages]
    document["note_keys"] = [note.key for note in chat.notes]  # the same, for notes
    return document


def _fields(document: dict[str, Any]) -> dict[str, Any]:
    fields = {key: value for key, value in document.items() if not key.startswith(_HIDDEN)}
    fields["id"] = fields.pop("_id")
    return fields


def _from_document(document: dict[str, Any]) -> SupportChat:
    return stored_chat(_fields(document))


def _entry(entry: RoutingEntry) -> dict[str, Any]:
    result: dict[str, Any] = _plain(entry.model_dump())
    return result


def _new_token() -> str:
    return uuid.uuid4().hex


class MongoChatStore:
    """Support conversations as MongoDB documents (PyMongo's async API)."""

    def __init__(
        self,
        client: AsyncMongoClient[dict[str, Any]],
        database: str | None = None,
        *,
        lock_writes: bool | None = None,
    ):
        db = client.get_database(database) if database else client.get_default_database(DATABASE)
        self._client = client
        self._chats: AsyncCollection[dict[str, Any]] = db[COLLECTION]
        self._locks = _DocumentLocks(db[LOCKS]) if lock_writes is not False else None
        self._detect_locking = lock_writes is None

    async def prepare(self) -> None:
        if self._detect_locking:
            build = await self._client.admin.command("buildInfo")
            if "ferretdbVersion" not in build:
                self._locks = None  # MongoDB applies each update atomically
        await self._chats.create_index("intake_key", unique=True)
        await self._chats.create_index([("status", ASCENDING), ("operator_id", ASCENDING)])
        await self._chats.create_index([("customer.id", ASCENDING), ("_id", ASCENDING)])
        await self._chats.create_index([("operator_id", ASCENDING), ("status", ASCENDING)])
        await self._chats.create_index([("labels", ASCENDING), ("_id", ASCENDING)])
        # FerretDB has no partial indexes; these stay small enough unfiltered.
        for field in _TOKEN_FIELD.values():
            await self._chats.create_index(field, sparse=True)
        await self._chats.create_index("outbox_claim", sparse=True)
        await self._chats.create_index([("status", ASCENDING), ("closed_at", DESCENDING)])
        await self._chats.create_index([("team_id", ASCENDING), ("status", ASCENDING)])
        await self._chats.create_index([("sla.state", ASCENDING), ("_id", ASCENDING)])

    async def create(self, chat: SupportChat) -> tuple[SupportChat, bool]:
        document = _to_document(chat)
        document["route_token"] = _new_token()
        try:
            await self._chats.insert_one(document)
        except DuplicateKeyError:
            existing = await self.get_by_intake_key(chat.intake_key)
            if existing is None:  # the other request's document is gone: cannot happen
                raise
            return existing, False
        return chat, True

    async def get(self, chat_id: str) -> SupportChat | None:
        document = await self._chats.find_one({"_id": chat_id})
        return _from_document(document) if document else None

    async def get_by_intake_key(self, intake_key: str) -> SupportChat | None:
        document = await self._chats.find_one({"intake_key": intake_key})
        return _from_document(document) if document else None

    async def append_message(
        self,
        chat_id: str,
        message: Message,
        *,
        statuses: frozenset[ChatStatus],
        operator_id: str | None = None,
    ) -> Appended | None:
        condition: dict[str, Any] = {
            "_id": chat_id,
            "status": {"$in": [status.value for status in statuses]},
        }
        if operator_id is not None:
            condition["operator_id"] = operator_id
        update: dict[str, Any] = {
            "$push": {"messages": _message_document(message), "message_keys": message.key},
            "$set": {"updated_at": message.created_at},
        }
        if message.sender.kind is SenderKind.operator:
            # $min sets a missing field and never moves an existing one later.
            update["$min"] = {"first_response_at": message.created_at}
            update["$set"]["reply_notice_token"] = _new_token()
        async with self._writing(chat_id):
            document = await self._chats.find_one_and_update(
                {**condition, "message_keys": {"$ne": message.key}},
                update,
                return_document=ReturnDocument.AFTER,
            )
        created = document is not None
        if document is None:
            # Either a retry of a stored message, or the chat does not match.
            document = await self._chats.find_one({**condition, "message_keys": message.key})
            if document is None:
                return None
        chat = _from_document(document)
        found = chat.message(message.key)
        assert found is not None
        seq, stored = found
        return Appended(chat=chat, message=stored, seq=seq, created=created)

    async def add_note(self, chat_id: str, note: Note) -> NoteAdded | None:
        async with self._writing(chat_id):
            document = await self._chats.find_one_and_update(
                {"_id": chat_id, "note_keys": {"$ne": note.key}},
                {"$push": {"notes": _plain(note.model_dump()), "note_keys": note.key}},
                return_document=ReturnDocument.AFTER,
            )
        created = document is not None
        if document is None:
            document = await self._chats.find_one({"_id": chat_id})
            if document is None:
                return None
        chat = _from_document(document)
        stored = chat.note(note.key)
        if stored is None:  # a document written before notes existed, or a race
            return None
        return NoteAdded(chat=chat, note=stored, created=created)

    async def add_label(self, chat_id: str, label: str) -> SupportChat | None:
        return await self._update({"_id": chat_id}, {"$addToSet": {"labels": label}})

    async def remove_label(self, chat_id: str, label: str) -> SupportChat | None:
        return await self._update({"_id": chat_id}, {"$pull": {"labels": label}})

    async def rate(self, chat_id: str, csat: Csat) -> SupportChat | None:
        # {csat: None} matches a missing field or null in MongoDB and FerretDB alike.
        return await self._update(
            {"_id": chat_id, "status": ChatStatus.CLOSED.value, "csat": None},
            {"$set": {"csat": _plain(csat.model_dump())}},
        )

    async def mark_read(self, chat_id: str, reader: Reader, seq: int) -> SupportChat | None:
        # $max never moves a watermark down (MongoDB and FerretDB both have it).
        return await self._update({"_id": chat_id}, {"$max": {f"{reader}_read_seq": seq}})

    def _writing(self, chat_id: str, *, wait: bool = True) -> AbstractAsyncContextManager[bool]:
        """Where updates are not atomic (FerretDB), hold the conversation's lock;
        answers False when ``wait`` is off and someone else holds it."""
        return self._locks.hold(chat_id, wait=wait) if self._locks else _held()

    async def _update(
        self, condition: dict[str, Any], update: dict[str, Any]
    ) -> SupportChat | None:
        async with self._writing(condition["_id"]):
            document = await self._chats.find_one_and_update(
                condition, update, return_document=ReturnDocument.AFTER
            )
        return _from_document(document) if document else None

    async def _update_one(
        self, condition: dict[str, Any], update: dict[str, Any], *, wait: bool = True
    ) -> bool:
        async with self._writing(condition["_id"], wait=wait) as held:
            if not held:
                return False
            result = await self._chats.update_one(condition, update)
        return result.modified_count == 1

    async def assign(
        self, chat_id: str, operator_id: str, entry: RoutingEntry
    ) -> SupportChat | None:
        return await self._update(
            {"_id": chat_id, **_WAITING},
            {
                "$set": {
                    "operator_id": operator_id,
                    "status": ChatStatus.OPEN.value,
                    "assigned_at": entry.at,
                    "updated_at": entry.at,
                    "assigned_notice_token": _new_token(),
                },
                "$unset": {"route_token": ""},
                "$push": {"routing": _entry(entry)},
            },
        )

    async def mark_ticket(self, chat_id: str, entry: RoutingEntry) -> SupportChat | None:
        return await self._update(
            {"_id": chat_id, **_WAITING, "type": ChatType.CHAT.value},
            {
                "$set": {
                    "type": ChatType.TICKET.value,
                    "updated_at": entry.at,
                    "ticket_notice_token": _new_token(),
                },
                "$push": {"routing": _entry(entry)},
            },
        )

    async def transfer(
        self, chat_id: str, from_operator_id: str, to_operator_id: str, entry: RoutingEntry
    ) -> SupportChat | None:
        return await self._update(
            {"_id": chat_id, "status": ChatStatus.OPEN.value, "operator_id": from_operator_id},
            {
                "$set": {
                    "operator_id": to_operator_id,
                    "updated_at": entry.at,
                    "assigned_notice_token": _new_token(),
                },
                "$push": {"routing": _entry(entry)},
            },
        )

    async def close(
        self, chat_id: str, operator_id: str | None, entry: RoutingEntry
    ) -> SupportChat | None:
        return await self._update(
            {
                "_id": chat_id,
                "status": {"$in": [ChatStatus.PENDING.value, ChatStatus.OPEN.value]},
                "operator_id": operator_id,
            },
            {
                "$set": {
                    "status": ChatStatus.CLOSED.value,
                    "closed_at": entry.at,
                    "updated_at": entry.at,
                    "closed_notice_token": _new_token(),
                    "snooze": None,
                },
                "$unset": {"route_token": ""},
                "$push": {"routing": _entry(entry)},
            },
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
        condition: dict[str, Any] = {"_id": chat_id, "status": ChatStatus.CLOSED.value}
        if closed_since is not None:
            condition["closed_at"] = {"$gte": closed_since}
        fields: dict[str, Any] = {"closed_at": None, "updated_at": entry.at, "snooze": None}
        if operator_id is None:
            fields |= {
                "status": ChatStatus.PENDING.value,
                "operator_id": None,
                "type": ChatType.CHAT.value,
                "route_token": _new_token(),
            }
        else:
            fields |= {
                "status": ChatStatus.OPEN.value,
                "operator_id": operator_id,
                "assigned_at": entry.at,
                "assigned_notice_token": _new_token(),
            }
        update: dict[str, Any] = {"$set": fields, "$push": {"routing": _entry(entry)}}
        if message is not None:
            async with self._writing(chat_id):
                current = await self._chats.find_one(condition, projection={"message_keys": 1})
                if current is None:
                    return None
                if message.key not in current.get("message_keys", []):
                    condition["message_keys"] = {"$ne": message.key}
                    update["$push"] |= {
                        "messages": _message_document(message),
                        "message_keys": message.key,
                    }
                document = await self._chats.find_one_and_update(
                    condition, update, return_document=ReturnDocument.AFTER
                )
            return _from_document(document) if document else None
        return await self._update(condition, update)

    async def snooze(
        self, chat_id: str, operator_id: str, snooze: Snooze, entry: RoutingEntry
    ) -> SupportChat | None:
        return await self._update(
            {
                "_id": chat_id,
                "status": ChatStatus.OPEN.value,
                "operator_id": operator_id,
                "snooze": None,
            },
            {
                "$set": {"snooze": _plain(snooze.model_dump()), "updated_at": entry.at},
                "$push": {"routing": _entry(entry)},
            },
        )

    async def wake(self, chat_id: str, entry: RoutingEntry) -> SupportChat | None:
        return await self._update(
            {
                "_id": chat_id,
                "status": {"$ne": ChatStatus.CLOSED.value},
                "snooze": {"$ne": None},
            },
            {"$set": {"snooze": None, "updated_at": entry.at}, "$push": {"routing": _entry(entry)}},
        )

    async def change_team(
        self,
        chat_id: str,
        team_id: str | None,
        from_operator_id: str | None,
        entry: RoutingEntry,
    ) -> SupportChat | None:
        return await self._update(
            {
                "_id": chat_id,
                "status": {"$ne": ChatStatus.CLOSED.value},
                "snooze": None,
                "operator_id": from_operator_id,
            },
            {
                "$set": {
                    "team_id": team_id,
                    "status": ChatStatus.PENDING.value,
                    "operator_id": None,
                    "updated_at": entry.at,
                    "route_token": _new_token(),
                },
                "$push": {"routing": _entry(entry)},
            },
        )

    async def find(self, query: ChatQuery) -> list[SupportChat]:
        cursor = self._matching(query)
        return stored_chats([_fields(document) async for document in cursor])

    async def started_between(
        self, after_id: str, before_id: str, team_id: str | None = None
    ) -> AsyncIterator[list[SupportChat]]:
        # One unsorted range query, streamed: FerretDB sorts a whole collection for
        # every sorted page, so paging by id costs a sort per page.
        condition: dict[str, Any] = {"_id": {"$gt": after_id, "$lt": before_id}}
        if team_id is not None:
            condition["team_id"] = team_id
        batch: list[dict[str, Any]] = []
        async for document in self._chats.find(condition, batch_size=SCAN_BATCH):
            batch.append(_fields(document))
            if len(batch) == SCAN_BATCH:
                yield stored_chats(batch)
                batch = []
        if batch:
            yield stored_chats(batch)

    async def find_ids(self, query: ChatQuery) -> list[str]:
        cursor = self._matching(query, projection={"_id": 1})
        return [document["_id"] async for document in cursor]

    def _matching(
        self, query: ChatQuery, projection: dict[str, int] | None = None
    ) -> AsyncCursor[dict[str, Any]]:
        condition: dict[str, Any] = {}
        if query.status is not None:
            condition["status"] = query.status.value
        if query.statuses:
            condition.setdefault("$and", []).append(
                {"status": {"$in": sorted(s.value for s in query.statuses)}}
            )
        if query.type is not None:
            condition["type"] = query.type.value
        if query.customer_id is not None:
            condition["customer.id"] = query.customer_id
        if query.operator_id is not None:
            condition["operator_id"] = query.operator_id
        elif query.unassigned:
            condition["operator_id"] = None
        if query.team_id is not None:
            condition["team_id"] = query.team_id
        if query.sla_state is not None:
            condition["sla.state"] = query.sla_state
        if query.snoozed:
            condition["snooze"] = {"$ne": None}
        if query.label is not None:
            condition["labels"] = query.label  # an array field matches any element
        if query.after is not None:
            condition["_id"] = {"$gt" if query.oldest_first else "$lt": query.after}
        order = ASCENDING if query.oldest_first else DESCENDING
        return self._chats.find(condition, projection).sort("_id", order).limit(query.limit)

    async def count_waiting_before(self, chat: SupportChat) -> int:
        return await self._chats.count_documents({**_WAITING, "_id": {"$lt": chat.id}})

    async def waiting_from(self, chat_id: str, limit: int) -> list[str]:
        cursor = (
            self._chats.find({**_WAITING, "_id": {"$gte": chat_id}}, projection={"_id": 1})
            .sort("_id", ASCENDING)
            .limit(limit)
        )
        return [document["_id"] async for document in cursor]

    async def service_times(self, since: datetime, limit: int) -> list[float]:
        cursor = (
            self._chats.find(
                {
                    "status": ChatStatus.CLOSED.value,
                    "closed_at": {"$gte": since},
                    "assigned_at": {"$ne": None},
                },
                projection={"assigned_at": 1, "closed_at": 1},
            )
            .sort("closed_at", DESCENDING)
            .limit(limit)
        )
        return [
            max(0.0, (document["closed_at"] - document["assigned_at"]).total_seconds())
            async for document in cursor
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
        condition: dict[str, Any] = {**_WAITING, **_NOT_AWAITING_ROUTING}
        if undecided_before is not None:
            condition["type"] = ChatType.CHAT.value
            condition["_id"] = {"$lt": first_id_at(undecided_before)}
        if team_ids is not None:
            # `$in` with null also matches a missing field, in MongoDB and FerretDB.
            condition["team_id"] = {"$in": list(team_ids)}
        cursor = (
            self._chats.find(condition, projection={"_id": 1}).sort("_id", ASCENDING).limit(limit)
        )
        token, offered = _new_token(), []
        for chat_id in [document["_id"] async for document in cursor]:
            # One document at a time: MongoDB has no update with a limit, and a
            # conversation taken meanwhile must not be offered.
            if await self._update_one(
                {**_WAITING, **_NOT_AWAITING_ROUTING, "_id": chat_id},
                {"$set": {"route_token": token}, "$push": {"routing": _entry(entry)}},
            ):
                offered.append(chat_id)
        return offered

    async def record_sla(
        self, chat_id: str, status: SlaStatus, new_marks: Sequence[str]
    ) -> SupportChat | None:
        # One `$ne` per mark: on an array of strings MongoDB and FerretDB agree.
        condition: dict[str, Any] = {
            "_id": chat_id,
            "status": {"$ne": ChatStatus.CLOSED.value},
            "$and": [{"sla.marks": {"$ne": mark}} for mark in new_marks] or [{}],
        }
        # A `$set` of `sla.<field>` needs `sla` to be a document, not null.
        await self._update_one(
            {"_id": chat_id, "sla": None}, {"$set": {"sla": {"state": "ok", "marks": []}}}
        )
        fields = _plain(status.model_dump(exclude={"marks"}))
        update: dict[str, Any] = {"$set": {f"sla.{key}": value for key, value in fields.items()}}
        if status.marks:
            update["$addToSet"] = {"sla.marks": {"$each": list(status.marks)}}
        return await self._update(condition, update)

    async def count_open(self, team_id: str) -> int:
        return await self._chats.count_documents(
            {"team_id": team_id, "status": ChatStatus.OPEN.value, **_COUNTED}
        )

    async def open_chats_by_operator(self) -> dict[str, set[str]]:
        loads: dict[str, set[str]] = {}
        cursor = self._chats.find(
            {"status": ChatStatus.OPEN.value, **_COUNTED}, projection={"_id": 1, "operator_id": 1}
        )
        async for document in cursor:
            loads.setdefault(document["operator_id"], set()).add(document["_id"])
        return loads

    async def claim_jobs(self, limit: int, lease: timedelta) -> list[PendingJob]:
        at = now()
        claimable = {
            "$and": [
                {
                    "$or": [
                        {"outbox_claimed_until": {"$exists": False}},
                        {"outbox_claimed_until": {"$lt": at}},
                    ]
                },
                {"$or": [{field: {"$exists": True}} for field in _TOKEN_FIELD.values()]},
            ]
        }
        cursor = (
            self._chats.find(claimable, projection={"_id": 1}).sort("_id", ASCENDING).limit(limit)
        )
        claim, claimed = _new_token(), []
        for chat_id in [document["_id"] async for document in cursor]:
            # No update with a limit in MongoDB: pick, then claim what is still free.
            # A conversation being written now is left for the next pass.
            if await self._update_one(
                {**claimable, "_id": chat_id},
                {"$set": {"outbox_claimed_until": at + lease, "outbox_claim": claim}},
                wait=False,
            ):
                claimed.append(chat_id)
        jobs: list[PendingJob] = []
        if not claimed:
            return jobs
        owned = self._chats.find({"_id": {"$in": claimed}, "outbox_claim": claim})
        async for document in owned.sort("_id", ASCENDING):
            for kind, field in _TOKEN_FIELD.items():
                if field in document:
                    jobs.append(PendingJob(kind, document["_id"], document[field], claim))
        return jobs

    async def finish_jobs(self, jobs: Sequence[PendingJob], *, published: bool) -> None:
        by_chat: dict[str, list[PendingJob]] = {}
        for job in jobs:
            by_chat.setdefault(job.chat_id, []).append(job)
        release = {"outbox_claim": "", "outbox_claimed_until": ""}
        for chat_id, owned in by_chat.items():
            claim = {"_id": chat_id, "outbox_claim": owned[0].claim}
            if not published:
                await self._update_one(claim, {"$unset": release})
                continue
            tokens = {_TOKEN_FIELD[job.kind]: job.token for job in owned}
            # One write in the usual case; field by field when one was asked again.
            if not await self._update_one(
                {**claim, **tokens}, {"$unset": {**release, **dict.fromkeys(tokens, "")}}
            ):
                for field, token in tokens.items():
                    await self._update_one({"_id": chat_id, field: token}, {"$unset": {field: ""}})
                await self._update_one(claim, {"$unset": release})


@contextlib.asynccontextmanager
async def _held() -> AsyncIterator[bool]:
    yield True


class _DocumentLocks:
    """A lock per conversation: a document ``{_id: chat id, owner, until}``. Taking
    it is an insert (a duplicate ``_id`` means someone holds it); a lock past its
    ``until`` is taken over."""

    def __init__(self, locks: AsyncCollection[dict[str, Any]]) -> None:
        self._locks = locks

    @contextlib.asynccontextmanager
    async def hold(self, chat_id: str, *, wait: bool = True) -> AsyncIterator[bool]:
        owner = _new_token()
        if not await self._acquire(chat_id, owner, wait):
            yield False
            return
        try:
            yield True
        finally:
            await self._locks.delete_one({"_id": chat_id, "owner": owner})

    async def _acquire(self, chat_id: str, owner: str, wait: bool) -> bool:
        pause = 0.001
        deadline = time.monotonic() + LOCK_SECONDS
        while True:
            at = now()
            try:
                await self._locks.insert_one(
                    {"_id": chat_id, "owner": owner, "until": at + timedelta(seconds=LOCK_SECONDS)}
                )
                return True
            except DuplicateKeyError:
                await self._locks.delete_one({"_id": chat_id, "until": {"$lt": at}})
            if not wait:
                return False
            if time.monotonic() > deadline:
                raise TimeoutError(f"support chat {chat_id} stayed locked")
            await asyncio.sleep(pause * (1 + random.random()))
            pause = min(pause * 2, 0.05)
