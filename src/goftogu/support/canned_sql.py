"""Canned replies in the relational database (the embedded default)."""

from __future__ import annotations

import uuid

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from goftogu.errors import ShortcodeTaken
from goftogu.storage.database import Database
from goftogu.storage.errors import is_unique_violation
from goftogu.support.canned import MAX_LIST, CannedReply, CannedScope
from goftogu.support.models import SupportCannedReply

_UNIQUE = "uq_support_canned_replies_scope_owner_key_shortcode"
_UNIQUE_COLUMNS = (
    "support_canned_replies.scope, support_canned_replies.owner_key, "
    "support_canned_replies.shortcode"
)


def _reply(row: SupportCannedReply) -> CannedReply:
    return CannedReply(
        id=str(row.id),
        scope=CannedScope(row.scope),
        owner_id=row.owner_key,
        shortcode=row.shortcode,
        title=row.title,
        body=row.body,
        created_by=str(row.created_by),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _copy(row: SupportCannedReply, reply: CannedReply) -> None:
    row.scope = reply.scope.value
    row.owner_key = reply.owner_id
    row.shortcode = reply.shortcode
    row.title = reply.title
    row.body = reply.body
    row.updated_at = reply.updated_at


def _parse(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError):
        return None


class SqlCannedReplyStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def prepare(self) -> None:
        return None

    async def create(self, reply: CannedReply) -> None:
        row = SupportCannedReply(
            id=uuid.UUID(reply.id),
            created_at=reply.created_at,
            created_by=uuid.UUID(reply.created_by),
        )
        _copy(row, reply)
        try:
            async with self._db.transaction() as session:
                session.add(row)
        except IntegrityError as error:
            if is_unique_violation(error, constraint=_UNIQUE, columns=_UNIQUE_COLUMNS):
                raise ShortcodeTaken(shortcode=reply.shortcode) from None
            raise

    async def get(self, reply_id: str) -> CannedReply | None:
        parsed = _parse(reply_id)
        if parsed is None:
            return None
        async with self._db.sessions() as session:
            row = await session.get(SupportCannedReply, parsed)
            return _reply(row) if row else None

    async def replace(self, reply: CannedReply) -> bool:
        try:
            async with self._db.transaction() as session:
                # Every column named, updated_at too: the row keeps the reply's time.
                result = await session.execute(
                    update(SupportCannedReply)
                    .where(SupportCannedReply.id == uuid.UUID(reply.id))
                    .values(
                        scope=reply.scope.value,
                        owner_key=reply.owner_id,
                        shortcode=reply.shortcode,
                        title=reply.title,
                        body=reply.body,
                        updated_at=reply.updated_at,
                    )
                )
        except IntegrityError as error:
            if is_unique_violation(error, constraint=_UNIQUE, columns=_UNIQUE_COLUMNS):
                raise ShortcodeTaken(shortcode=reply.shortcode) from None
            raise
        return bool(getattr(result, "rowcount", 0))

    async def delete(self, reply_id: str) -> bool:
        parsed = _parse(reply_id)
        if parsed is None:
            return False
        async with self._db.transaction() as session:
            result = await session.execute(
                delete(SupportCannedReply).where(SupportCannedReply.id == parsed)
            )
        return bool(getattr(result, "rowcount", 0))

    async def visible(
        self,
        user_id: str,
        team_ids: frozenset[str],
        *,
        shortcode: str | None = None,
        prefix: str | None = None,
        limit: int = MAX_LIST,
    ) -> list[CannedReply]:
        table = SupportCannedReply
        mine = [
            and_(table.scope == CannedScope.personal.value, table.owner_key == user_id),
            table.scope == CannedScope.global_.value,
        ]
        if team_ids:
            mine.append(
                and_(table.scope == CannedScope.team.value, table.owner_key.in_(sorted(team_ids)))
            )
        statement = select(table).where(or_(*mine))
        if shortcode is not None:
            statement = statement.where(table.shortcode == shortcode)
        if prefix is not None:
            statement = statement.where(table.shortcode.startswith(prefix, autoescape=True))
        statement = statement.order_by(table.shortcode, table.scope, table.id).limit(limit)
        async with self._db.sessions() as session:
            return [_reply(row) for row in (await session.scalars(statement)).all()]
