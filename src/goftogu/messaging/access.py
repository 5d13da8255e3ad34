"""Who may read and write a conversation.

The rule, the same on every path (REST, Socket.IO, replay):

- an unknown conversation (or a malformed address) is ``404 not_found``;
- an existing one the caller is not in is ``403 not_a_member``;
- a *former* group member (left or removed) keeps read access to what happened
  up to their departure (``visible_up_to``, the seq of their leaving;
  ``left_at``, its time) and nothing after it: the history and the event log up
  to that seq, the pins and read receipts made before it; the group's current
  state (details, members) is for members only (``not_a_member``), since it
  changes after the leave; they cannot write (``not_a_member``);
- anonymous visitors of the support widget do not use messaging (``not_allowed``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from goftogu.errors import NotAllowed, NotAMember, NotFound
from goftogu.identity.tokens import Principal
from goftogu.messaging.addresses import ConversationRef, parse_address
from goftogu.messaging.models import Group, GroupMember, GroupRole, SingleChat
from goftogu.storage.database import Database

# Checked on every request: built once.
_SINGLE_GRANT = select(SingleChat.user1_id, SingleChat.user2_id).where(
    SingleChat.id == bindparam("chat")
)
_GROUP_AUDIENCE = (
    select(GroupMember.user_id, Group.title)
    .join(Group, Group.id == GroupMember.group_id)
    .where(GroupMember.group_id == bindparam("group"), GroupMember.left_at.is_(None))
)
# Read at every connect (M9), so one round trip: single chats, then active groups.
_ROOMS = union_all(
    select(SingleChat.id, literal(False)).where(
        or_(SingleChat.user1_id == bindparam("user"), SingleChat.user2_id == bindparam("user"))
    ),
    select(GroupMember.group_id, literal(True)).where(
        GroupMember.user_id == bindparam("user"), GroupMember.left_at.is_(None)
    ),
)
# The active membership if any, else the latest departure.
_GROUP_GRANT = (
    select(GroupMember.id, GroupMember.role, GroupMember.left_seq, GroupMember.left_at)
    .select_from(Group)
    .outerjoin(
        GroupMember,
        and_(GroupMember.group_id == Group.id, GroupMember.user_id == bindparam("user")),
    )
    .where(Group.id == bindparam("group"))
    .order_by(GroupMember.left_seq.desc().nulls_first())
    .limit(1)
)


@dataclass(frozen=True)
class Grant:
    """What the caller may do in one conversation."""

    ref: ConversationRef
    user_id: uuid.UUID
    active: bool
    role: GroupRole | None = None  # groups, while a member
    visible_up_to: int | None = None  # former members: the last seq they may read
    left_at: datetime | None = None  # former members: nothing later is theirs to see
    peer_id: uuid.UUID | None = None  # single chats: the other user

    def sees(self, seq: int) -> bool:
        return self.visible_up_to is None or seq <= self.visible_up_to

    def require_active(self) -> Grant:
        if not self.active:
            raise NotAMember(
                "You are no longer a member of this conversation.",
                conversation=self.ref.address,
            )
        return self

    def require_role(self, *roles: GroupRole) -> GroupRole:
        self.require_active()
        if self.role is None or self.role not in roles:
            raise NotAllowed(
                f"Only the group's {' or '.join(r.value for r in roles)} may do this.",
                conversation=self.ref.address,
            )
        return self.role


def require_messaging_user(principal: Principal) -> None:
    if principal.is_visitor:
        raise NotAllowed("Messaging is for registered accounts; sign up first.")


class Access:
    """Membership checks; ``check_can_read`` / ``check_can_write`` for transports,
    ``grant`` inside a service's own session."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def check_can_read(self, principal: Principal, address: str) -> Grant:
        """The caller's grant on ``address``: ``not_found`` / ``not_a_member``."""
        async with self._db.reading() as session:
            return await self.grant(session, principal, address)

    async def check_can_write(self, principal: Principal, address: str) -> Grant:
        """Like ``check_can_read``, and the caller must be a current member."""
        return (await self.check_can_read(principal, address)).require_active()

    async def grant(
        self, session: AsyncSession, principal: Principal, address: str | ConversationRef
    ) -> Grant:
        """Read access to a conversation, within ``session``."""
        require_messaging_user(principal)
        ref = parse_address(address) if isinstance(address, str) else address
        if ref.is_group:
            return await self._group_grant(session, principal.user_id, ref)
        return await self._single_grant(session, principal.user_id, ref)

    async def rooms_of(self, user_id: uuid.UUID) -> list[str]:
        """Addresses of the user's single chats and *active* group memberships:
        the rooms a connection joins (M9)."""
        async with self._db.reading() as session:
            rows = (await session.execute(_ROOMS, {"user": user_id})).all()
        return [
            (ConversationRef.group(i) if is_group else ConversationRef.single(i)).address
            for i, is_group in rows
        ]

    async def contacts_of(self, user_id: uuid.UUID | str) -> set[str]:
        """Ids of the users who share a conversation with ``user_id`` now: the other
        side of each single chat and the active co-members of each active group."""
        user = uuid.UUID(str(user_id))
        peers = select(SingleChat.user1_id, SingleChat.user2_id).where(
            or_(SingleChat.user1_id == user, SingleChat.user2_id == user)
        )
        mine = select(GroupMember.group_id).where(
            GroupMember.user_id == user, GroupMember.left_at.is_(None)
        )
        co_members = (
            select(GroupMember.user_id)
            .where(GroupMember.group_id.in_(mine), GroupMember.left_at.is_(None))
            .distinct()
        )
        async with self._db.reading() as session:
            pairs = (await session.execute(peers)).all()
            members = (await session.scalars(co_members)).all()
        contacts = {str(u) for pair in pairs for u in pair} | {str(u) for u in members}
        contacts.discard(str(user))
        return contacts

    async def audience_of(
        self, session: AsyncSession, ref: ConversationRef
    ) -> tuple[list[uuid.UUID], str | None]:
        """Who is in the conversation now (single chats: both users), and a group's
        title, in one query."""
        if ref.is_group:
            rows = (await session.execute(_GROUP_AUDIENCE, {"group": ref.id})).all()
            return [user_id for user_id, _title in rows], (rows[0][1] if rows else None)
        pair = (await session.execute(_SINGLE_GRANT, {"chat": ref.id})).one_or_none()
        return (list(pair) if pair is not None else []), None

    async def _single_grant(
        self, session: AsyncSession, user_id: uuid.UUID, ref: ConversationRef
    ) -> Grant:
        row = (await session.execute(_SINGLE_GRANT, {"chat": ref.id})).one_or_none()
        if row is None:
            raise NotFound("No such conversation.", conversation=ref.address)
        user1, user2 = row
        if user_id not in (user1, user2):
            raise NotAMember(conversation=ref.address)
        return Grant(ref, user_id, active=True, peer_id=user2 if user_id == user1 else user1)

    async def _group_grant(
        self, session: AsyncSession, user_id: uuid.UUID, ref: ConversationRef
    ) -> Grant:
        row = (
            await session.execute(_GROUP_GRANT, {"group": ref.id, "user": user_id})
        ).one_or_none()
        if row is None:
            raise NotFound("No such conversation.", conversation=ref.address)
        membership_id, role, left_seq, left_at = row
        if membership_id is None:
            raise NotAMember(conversation=ref.address)
        if left_seq is not None:
            return Grant(ref, user_id, active=False, visible_up_to=left_seq, left_at=left_at)
        return Grant(ref, user_id, active=True, role=GroupRole(role))
