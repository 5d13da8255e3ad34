"""Canned replies in MongoDB (the ``canned_replies`` collection).

Uses only what MongoDB 6+ and FerretDB both do: a unique compound index, plain
equality, ``$in``, ``$or`` and an anchored ``$regex`` for a prefix (the prefix
is letters, digits, "-" and "_" only, so it needs no escaping). A replace is one
``replace_one`` by ``_id``: a canned reply has one writer at a time in practice,
and the last write wins (no conditional update to race).

A replace that breaks the unique index is ``DuplicateKeyError`` (11000) on
MongoDB; FerretDB (its PostgreSQL handler) answers an ``InternalError`` whose
text is PostgreSQL's "duplicate key value violates unique constraint": both
mean ``shortcode_taken``.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.errors import DuplicateKeyError, OperationFailure

from goftogu.errors import ShortcodeTaken
from goftogu.support.canned import MAX_LIST, CannedReply, CannedScope
from goftogu.text import repaired

COLLECTION = "canned_replies"
DATABASE = "goftogu"


def _document(reply: CannedReply) -> dict[str, Any]:
    document: dict[str, Any] = reply.model_dump(mode="python", exclude={"id"})
    document["scope"] = reply.scope.value
    document["_id"] = reply.id
    return document


def _reply(document: dict[str, Any]) -> CannedReply:
    fields = dict(document)
    fields["id"] = fields.pop("_id")
    return CannedReply.model_validate(repaired(fields))


class MongoCannedReplyStore:
    def __init__(self, client: AsyncMongoClient[dict[str, Any]], database: str | None = None):
        db = client.get_database(database) if database else client.get_default_database(DATABASE)
        self._replies = db[COLLECTION]

    async def prepare(self) -> None:
        await self._replies.create_index(
            [("scope", ASCENDING), ("owner_id", ASCENDING), ("shortcode", ASCENDING)],
            unique=True,
        )

    async def create(self, reply: CannedReply) -> None:
        try:
            await self._replies.insert_one(_document(reply))
        except DuplicateKeyError:
            raise ShortcodeTaken(shortcode=reply.shortcode) from None

    async def get(self, reply_id: str) -> CannedReply | None:
        document = await self._replies.find_one({"_id": reply_id})
        return _reply(document) if document else None

    async def replace(self, reply: CannedReply) -> bool:
        try:
            result = await self._replies.replace_one({"_id": reply.id}, _document(reply))
        except DuplicateKeyError:
            raise ShortcodeTaken(shortcode=reply.shortcode) from None
        except OperationFailure as error:
            if "duplicate key" not in str(error):  # FerretDB's word for 11000
                raise
            raise ShortcodeTaken(shortcode=reply.shortcode) from None
        return result.matched_count == 1

    async def delete(self, reply_id: str) -> bool:
        result = await self._replies.delete_one({"_id": reply_id})
        return result.deleted_count == 1

    async def visible(
        self,
        user_id: str,
        team_ids: frozenset[str],
        *,
        shortcode: str | None = None,
        prefix: str | None = None,
        limit: int = MAX_LIST,
    ) -> list[CannedReply]:
        mine: list[dict[str, Any]] = [
            {"scope": CannedScope.personal.value, "owner_id": user_id},
            {"scope": CannedScope.global_.value},
        ]
        if team_ids:
            mine.append({"scope": CannedScope.team.value, "owner_id": {"$in": sorted(team_ids)}})
        condition: dict[str, Any] = {"$or": mine}
        if shortcode is not None:
            condition["shortcode"] = shortcode
        elif prefix is not None:
            condition["shortcode"] = {"$regex": f"^{prefix}"}
        cursor = (
            self._replies.find(condition)
            .sort([("shortcode", ASCENDING), ("scope", ASCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [_reply(document) async for document in cursor]
