"""The caller's conversation list, and their per-conversation settings (archive, mute)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Row,
    String,
    Subquery,
    Uuid,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import aliased

from goftogu.broadcast import RoomEvent, user_room
from goftogu.errors import Forbidden, ValidationFailed
from goftogu.identity.models import Role, User
from goftogu.identity.schemas import UserPublic
from goftogu.identity.tokens import Principal
from goftogu.messaging.access import require_messaging_user
from goftogu.messaging.common import MessagingContext
from goftogu.messaging.models import (
    ConversationSettings,
    Group,
    GroupMember,
    GroupRole,
    Message,
    SingleChat,
)
from goftogu.messaging.reads import settings_for_update
from goftogu.messaging.schemas import (
    MAX_PAGE,
    ConversationPage,
    ConversationSummary,
    MessagePublic,
    MessagingCounts,
    SettingsPublic,
    UpdateSettings,
)
from goftogu.messaging.serialisers import messages_public


class Conversations:
    def __init__(self, context: MessagingContext) -> None:
        self._db = context.database
        self._work = context.work
        self._access = context.access

    async def list_for(
        self,
        principal: Principal,
        *,
        archived: bool | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> ConversationPage:
        """The caller's single chats and active groups, latest activity first, each
        with its last message, unread count and settings; ``archived`` filters.

        A constant number of queries whatever the page holds: the page itself,
        its last messages (and their files), the peers of its single chats."""
        require_messaging_user(principal)
        limit = max(1, min(limit, MAX_PAGE))
        me = principal.user_id
        listing = _listing(me).subquery("listing")
        page = select(listing)
        if archived is not None:
            page = page.where(listing.c.archived.is_(archived))
        if cursor is not None:
            at, conversation_id = _parse_cursor(cursor)
            page = page.where(tuple_(listing.c.at, listing.c.id) < tuple_(at, conversation_id))
        limited = (
            page.order_by(listing.c.at.desc(), listing.c.id.desc()).limit(limit + 1).subquery()
        )
        statement = select(limited, _last_message_id(limited).label("last_message_id")).order_by(
            limited.c.at.desc(), limited.c.id.desc()
        )
        async with self._db.reading() as session:
            rows = (await session.execute(statement)).all()
            rows, has_more = rows[:limit], len(rows) > limit
            last_ids = [r.last_message_id for r in rows if r.last_message_id is not None]
            messages = list(
                (await session.scalars(select(Message).where(Message.id.in_(last_ids)))).all()
            )
            last = {m.id: m for m in await messages_public(session, messages)}
            peer_ids = [r.peer_id for r in rows if r.peer_id is not None]
            peers = {
                u.id: UserPublic.model_validate(u)
                for u in await session.scalars(select(User).where(User.id.in_(peer_ids)))
            }
        items = [_summary(r, last, peers) for r in rows]
        next_cursor = f"{rows[-1].at.isoformat()}|{rows[-1].id}" if has_more and rows else None
        return ConversationPage(items=items, has_more=has_more, next_cursor=next_cursor)

    async def counts_for_admin(self, principal: Principal) -> MessagingCounts:
        """Single chats, groups and messages (deleted ones included), for admins.
        The counters on the conversation rows make this two small scans, not a
        count of the messages table."""
        if principal.role is not Role.admin:
            raise Forbidden("Only admins see the system's counts.")
        async with self._db.reading() as session:
            singles, single_messages = (
                await session.execute(
                    select(func.count(), func.coalesce(func.sum(SingleChat.message_count), 0))
                )
            ).one()
            groups, group_messages = (
                await session.execute(
                    select(func.count(), func.coalesce(func.sum(Group.message_count), 0))
                )
            ).one()
        return MessagingCounts(
            single_chats=singles, groups=groups, messages=int(single_messages + group_messages)
        )

    async def update_settings(
        self, principal: Principal, address: str, changes: UpdateSettings
    ) -> SettingsPublic:
        """Archive or unarchive, mute until a time or unmute (``muted_until: null``).
        Only the caller's own view changes; their other devices hear of it on
        ``user:<id>`` (``conversation:settings``)."""
        fields = changes.model_fields_set
        async with self._work.transaction() as work:
            session = work.session
            grant = await self._access.grant(session, principal, address)
            if "archived" in fields and changes.archived is None:
                raise ValidationFailed("archived is true or false.")
            settings = await settings_for_update(session, grant.ref, principal.user_id)
            if changes.archived is not None:
                settings.archived = changes.archived
            if "muted_until" in fields:
                settings.muted_until = changes.muted_until
            public = SettingsPublic(
                conversation=grant.ref.address,
                archived=settings.archived,
                muted_until=settings.muted_until,
            )
            work.announce(RoomEvent.of(public, user_room(principal.user_id)))
        return public


def _listing(me: uuid.UUID) -> CompoundSelect[Any]:
    """Both kinds of conversation of ``me`` as rows of one shape (UNION ALL)."""
    single_settings = aliased(ConversationSettings)
    group_settings = aliased(ConversationSettings)
    singles = (
        select(
            literal("single").label("kind"),
            SingleChat.id.label("id"),
            SingleChat.last_activity_at.label("at"),
            SingleChat.last_seq.label("last_seq"),
            SingleChat.message_count.label("message_count"),
            func.coalesce(single_settings.archived, false()).label("archived"),
            single_settings.muted_until.label("muted_until"),
            func.coalesce(single_settings.last_read_seq, 0).label("last_read_seq"),
            func.coalesce(single_settings.read_count, 0).label("read_count"),
            case((SingleChat.user1_id == me, SingleChat.user2_id), else_=SingleChat.user1_id).label(
                "peer_id"
            ),
            cast(null(), String(8)).label("role"),
            cast(null(), String(128)).label("title"),
            cast(null(), String(2048)).label("avatar_url"),
        )
        .outerjoin(
            single_settings,
            and_(single_settings.single_chat_id == SingleChat.id, single_settings.user_id == me),
        )
        .where(or_(SingleChat.user1_id == me, SingleChat.user2_id == me))
    )
    groups = (
        select(
            literal("group"),
            Group.id,
            Group.last_activity_at,
            Group.last_seq,
            Group.message_count,
            func.coalesce(group_settings.archived, false()),
            group_settings.muted_until,
            func.coalesce(group_settings.last_read_seq, 0),
            func.coalesce(group_settings.read_count, 0),
            cast(null(), Uuid()),
            GroupMember.role,
            Group.title,
            Group.avatar_url,
        )
        .select_from(GroupMember)
        .join(Group, Group.id == GroupMember.group_id)
        .outerjoin(
            group_settings,
            and_(group_settings.group_id == Group.id, group_settings.user_id == me),
        )
        .where(GroupMember.user_id == me, GroupMember.left_at.is_(None))
    )
    return union_all(singles, groups)


def _last_message_id(listing: Subquery) -> ColumnElement[Any]:
    """Per row of the page: its newest message (one index probe each)."""
    in_single = (
        select(Message.id)
        .where(Message.single_chat_id == listing.c.id)
        .order_by(Message.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    in_group = (
        select(Message.id)
        .where(Message.group_id == listing.c.id)
        .order_by(Message.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    return case((listing.c.kind == "single", in_single), else_=in_group)


def _parse_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    at_text, _, id_text = cursor.rpartition("|")
    try:
        at = datetime.fromisoformat(at_text)
        conversation_id = uuid.UUID(id_text)
    except ValueError as error:
        raise ValidationFailed("The cursor is not valid.") from error
    if at.tzinfo is None:
        raise ValidationFailed("The cursor is not valid.")
    return at, conversation_id


def _summary(
    row: Row[Any], last: dict[uuid.UUID, MessagePublic], peers: dict[uuid.UUID, UserPublic]
) -> ConversationSummary:
    return ConversationSummary(
        conversation=f"{row.kind}:{row.id}",
        kind=row.kind,
        title=row.title,
        avatar_url=row.avatar_url,
        peer=peers.get(row.peer_id) if row.peer_id else None,
        role=GroupRole(row.role) if row.role else None,
        last_message=last.get(row.last_message_id) if row.last_message_id else None,
        last_activity_at=row.at,
        last_seq=row.last_seq,
        last_read_seq=row.last_read_seq,
        unread_count=max(0, row.message_count - row.read_count),
        archived=bool(row.archived),
        muted_until=row.muted_until,
    )
