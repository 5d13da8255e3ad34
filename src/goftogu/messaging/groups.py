"""Groups (M5): create, edit, members and roles, leave and rejoin, ownership transfer.

Roles rank owner > admin > member. The owner and admins edit the group and
add members (only the owner adds admins); one removes only members ranked
below oneself; only the owner changes roles and hands ownership over (the old
owner becomes an admin). The owner cannot leave before handing over. Leaving
or removal closes the membership row (``left_at``, ``left_seq``); being added
again opens a new one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from goftogu.bus import Transaction
from goftogu.errors import AlreadyMember, NotAllowed, NotFound, ValidationFailed
from goftogu.identity.models import User
from goftogu.identity.schemas import UserPublic
from goftogu.identity.tokens import Principal
from goftogu.ids import parse_id
from goftogu.messaging.access import Grant, require_messaging_user
from goftogu.messaging.addresses import ConversationRef
from goftogu.messaging.common import MessagingContext, Unchanged
from goftogu.messaging.events import Counters, announce_move, record_event
from goftogu.messaging.models import (
    ConversationEvent,
    ConversationSettings,
    Group,
    GroupMember,
    GroupRole,
)
from goftogu.messaging.preamble import lock_conversation
from goftogu.messaging.schemas import (
    ConversationJoinedEvent,
    ConversationLeftEvent,
    CreateGroup,
    GroupDetails,
    GroupMemberEvent,
    GroupPublic,
    GroupUpdatedEvent,
    MemberChange,
    MemberPublic,
    UpdateGroup,
)
from goftogu.storage.models import utcnow


def _group_ref(group_id: str | uuid.UUID) -> ConversationRef:
    parsed = group_id if isinstance(group_id, uuid.UUID) else parse_id(group_id)
    if parsed is None:
        raise NotFound("No such group.")
    return ConversationRef.group(parsed)


class Groups:
    def __init__(self, context: MessagingContext) -> None:
        self._db = context.database
        self._work = context.work
        self._access = context.access

    async def create_group(self, principal: Principal, group: CreateGroup) -> GroupDetails:
        """A group owned by the caller (owner row in the same transaction), with the
        given members; each is joined to its room and told."""
        require_messaging_user(principal)
        member_ids = [m for m in dict.fromkeys(group.member_ids) if m != principal.user_id]
        now = utcnow()
        async with self._work.transaction() as work:
            session = work.session
            await _existing_users(session, member_ids)
            row = Group(
                owner_id=principal.user_id,
                title=group.title,
                description=group.description,
                avatar_url=str(group.avatar_url) if group.avatar_url else None,
                last_activity_at=now,
            )
            session.add(row)
            await session.flush()
            ref = ConversationRef.group(row.id)
            start = Counters(seq=0, message_count=0)
            await _open_membership(session, ref, principal.user_id, GroupRole.owner, None, start)
            for member in member_ids:
                await _open_membership(
                    session, ref, member, GroupRole.member, principal.user_id, start
                )
            details = await _details(session, row, GroupRole.owner)
            body = ConversationJoinedEvent(
                conversation=ref.address, kind="group", by=principal.user_id
            )
            for member in (principal.user_id, *member_ids):
                announce_move(work, member, body)
        return details

    async def get_group(self, principal: Principal, group_id: str) -> GroupDetails:
        """Details for a member. A former one gets ``not_a_member``: the details are
        the group as it is now, and nothing after their leave is theirs to read."""
        ref = _group_ref(group_id)
        async with self._db.reading() as session:
            grant = (await self._access.grant(session, principal, ref)).require_active()
            group = await _group(session, ref)
            return await _details(session, group, grant.role)

    async def update_group(
        self, principal: Principal, group_id: str, changes: UpdateGroup
    ) -> GroupDetails:
        """Change title, description or avatar (owner, admin); emits ``group:updated``."""
        ref = _group_ref(group_id)
        fields = changes.model_fields_set
        try:
            async with self._work.transaction() as work:
                session = work.session
                locked = await lock_conversation(session, self._access, principal, ref)
                grant = locked.grant
                grant.require_role(GroupRole.owner, GroupRole.admin)
                if "title" in fields and changes.title is None:
                    raise ValidationFailed("A group keeps a title.")
                group = await _group(session, ref)
                if not fields:
                    raise Unchanged(await _details(session, group, grant.role))
                if changes.title is not None:
                    group.title = changes.title
                if "description" in fields:
                    group.description = changes.description
                if "avatar_url" in fields:
                    group.avatar_url = str(changes.avatar_url) if changes.avatar_url else None
                await session.flush()
                details = await _details(session, group, grant.role)
                body = GroupUpdatedEvent(
                    conversation=ref.address,
                    seq=locked.seq,
                    group=GroupPublic(**details.model_dump(include=set(GroupPublic.model_fields))),
                    by=principal.user_id,
                )
                record_event(work, body)
        except Unchanged as unchanged:
            same: GroupDetails = unchanged.result
            return same
        return details

    async def members_of(self, principal: Principal, group_id: str) -> list[MemberPublic]:
        """The active members with their roles, owner first, then by joining time."""
        ref = _group_ref(group_id)
        rank = {GroupRole.owner.value: 0, GroupRole.admin.value: 1, GroupRole.member.value: 2}
        async with self._db.reading() as session:
            (await self._access.grant(session, principal, ref)).require_active()
            rows = (
                await session.execute(
                    select(GroupMember, User)
                    .join(User, User.id == GroupMember.user_id)
                    .where(GroupMember.group_id == ref.id, GroupMember.left_at.is_(None))
                    .order_by(GroupMember.joined_at, GroupMember.id)
                )
            ).all()
        members = [_member_public(membership, user) for membership, user in rows]
        return sorted(members, key=lambda m: rank[m.role.value])

    async def add_member(
        self, principal: Principal, group_id: str, user_id: uuid.UUID, role: GroupRole
    ) -> MemberPublic:
        """Add (or re-add) a user: owner or admin; only the owner adds admins.
        ``already_member`` when they are in; emits ``group:member`` (added)."""
        ref = _group_ref(group_id)
        async with self._work.transaction() as work:
            session = work.session
            locked = await lock_conversation(session, self._access, principal, ref)
            actor_role = locked.grant.require_role(GroupRole.owner, GroupRole.admin)
            if role is GroupRole.admin and actor_role is not GroupRole.owner:
                raise NotAllowed("Only the owner adds admins.")
            if role is GroupRole.owner:
                raise ValidationFailed("Hand ownership over with POST /groups/{id}/owner.")
            (user,) = await _existing_users(session, [user_id])
            if await _active_membership(session, ref, user_id) is not None:
                raise AlreadyMember(user_id=str(user_id))
            membership = await _open_membership(
                session, ref, user_id, role, principal.user_id, locked.counters
            )
            # Into the room first: the new member's sockets hear their own arrival.
            joined = ConversationJoinedEvent(
                conversation=ref.address, kind="group", by=principal.user_id
            )
            announce_move(work, user_id, joined)
            _member_event(work, ref, locked.counters, "added", user_id, role, principal)
            return _member_public(membership, user)

    async def change_role(
        self, principal: Principal, group_id: str, user_id: uuid.UUID, role: GroupRole
    ) -> MemberPublic:
        """Make a member an admin or an admin a member (owner only);
        emits ``group:member`` (role_changed)."""
        ref = _group_ref(group_id)
        if role is GroupRole.owner:
            raise ValidationFailed("Hand ownership over with POST /groups/{id}/owner.")
        try:
            async with self._work.transaction() as work:
                session = work.session
                locked = await lock_conversation(session, self._access, principal, ref)
                locked.grant.require_role(GroupRole.owner)
                membership = await _required_membership(session, ref, user_id)
                if membership.role == GroupRole.owner:
                    raise NotAllowed("The owner's role changes only by handing ownership over.")
                user = await session.get(User, user_id)
                assert user is not None
                if membership.role == role:
                    raise Unchanged(_member_public(membership, user))
                membership.role = role
                await session.flush()
                _member_event(work, ref, locked.counters, "role_changed", user_id, role, principal)
                public = _member_public(membership, user)
        except Unchanged as unchanged:
            same: MemberPublic = unchanged.result
            return same
        return public

    async def remove_member(self, principal: Principal, group_id: str, user_id: uuid.UUID) -> None:
        """Remove a member ranked below the caller, or leave when it is the caller;
        emits ``group:member`` (removed / left), then takes the user out of the room
        and tells them (``conversation:left``)."""
        ref = _group_ref(group_id)
        leaving = user_id == principal.user_id
        async with self._work.transaction() as work:
            session = work.session
            locked = await lock_conversation(session, self._access, principal, ref)
            membership = await _required_membership(session, ref, user_id)
            _check_may_remove(locked.grant, GroupRole(membership.role), leaving)
            membership.left_at = utcnow()
            membership.left_seq = locked.seq
            membership.removed_by_id = None if leaving else principal.user_id
            await session.flush()
            change: Literal["left", "removed"] = "left" if leaving else "removed"
            # The room hears of it before the user's sockets leave it.
            _member_event(work, ref, locked.counters, change, user_id, None, principal)
            left = ConversationLeftEvent(
                conversation=ref.address, reason=change, by=principal.user_id
            )
            announce_move(work, user_id, left)

    async def transfer_ownership(
        self, principal: Principal, group_id: str, user_id: uuid.UUID
    ) -> GroupDetails:
        """Hand the group to another active member (owner only); the old owner stays
        as an admin. Emits ``group:member`` (owner_changed)."""
        ref = _group_ref(group_id)
        async with self._work.transaction() as work:
            session = work.session
            locked = await lock_conversation(session, self._access, principal, ref)
            locked.grant.require_role(GroupRole.owner)
            if user_id == principal.user_id:
                raise ValidationFailed("You already own this group.")
            await _required_membership(session, ref, user_id)
            # Demote first: the database allows one active owner at a time.
            for member, role in ((principal.user_id, GroupRole.admin), (user_id, GroupRole.owner)):
                await session.execute(
                    update(GroupMember)
                    .where(
                        GroupMember.group_id == ref.id,
                        GroupMember.user_id == member,
                        GroupMember.left_at.is_(None),
                    )
                    .values(role=role, updated_at=utcnow())
                    .execution_options(synchronize_session=False)
                )
            group = await _group(session, ref)
            group.owner_id = user_id
            await session.flush()
            details = await _details(session, group, GroupRole.admin)
            _member_event(
                work, ref, locked.counters, "owner_changed", user_id, GroupRole.owner, principal
            )
        return details


def _check_may_remove(grant: Grant, target_role: GroupRole, leaving: bool) -> None:
    if leaving:
        if target_role is GroupRole.owner:
            raise NotAllowed("The owner hands ownership over before leaving.")
        return
    actor_role = grant.require_role(GroupRole.owner, GroupRole.admin)
    if actor_role.rank <= target_role.rank:
        raise NotAllowed("You may remove only members ranked below you.")


async def _group(session: AsyncSession, ref: ConversationRef) -> Group:
    group = await session.get(Group, ref.id, populate_existing=True)
    if group is None:
        raise NotFound("No such group.")
    return group


async def _details(session: AsyncSession, group: Group, role: GroupRole | None) -> GroupDetails:
    count = await session.scalar(
        select(func.count()).where(GroupMember.group_id == group.id, GroupMember.left_at.is_(None))
    )
    return GroupDetails(
        id=group.id,
        conversation=ConversationRef.group(group.id).address,
        title=group.title,
        description=group.description,
        avatar_url=group.avatar_url,
        owner_id=group.owner_id,
        created_at=group.created_at,
        updated_at=group.updated_at,
        my_role=role,
        member_count=count or 0,
    )


async def _existing_users(session: AsyncSession, user_ids: Sequence[uuid.UUID]) -> list[User]:
    """The users, in order; ``not_found`` naming the first that does not exist (or
    is an anonymous visitor, who cannot use messaging)."""
    if not user_ids:
        return []
    found = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(user_ids)))}
    for user_id in user_ids:
        user = found.get(user_id)
        if user is None or user.is_visitor:
            raise NotFound("No such user.", user_id=str(user_id))
    return [found[user_id] for user_id in user_ids]


async def _active_membership(
    session: AsyncSession, ref: ConversationRef, user_id: uuid.UUID
) -> GroupMember | None:
    membership: GroupMember | None = await session.scalar(
        select(GroupMember)
        .where(
            GroupMember.group_id == ref.id,
            GroupMember.user_id == user_id,
            GroupMember.left_at.is_(None),
        )
        .execution_options(populate_existing=True)
    )
    return membership


async def _required_membership(
    session: AsyncSession, ref: ConversationRef, user_id: uuid.UUID
) -> GroupMember:
    membership = await _active_membership(session, ref, user_id)
    if membership is None:
        raise NotFound("This user is not a member of the group.", user_id=str(user_id))
    return membership


async def _open_membership(
    session: AsyncSession,
    ref: ConversationRef,
    user_id: uuid.UUID,
    role: GroupRole,
    added_by: uuid.UUID | None,
    counters: Counters,
) -> GroupMember:
    """A new membership row; the member's watermark starts at the present, so what
    was said before they (re)joined does not count as unread."""
    membership = GroupMember(group_id=ref.id, user_id=user_id, role=role, added_by_id=added_by)
    session.add(membership)
    settings = await session.scalar(
        select(ConversationSettings).where(
            ConversationSettings.user_id == user_id, ConversationSettings.group_id == ref.id
        )
    )
    if settings is None:
        settings = ConversationSettings(user_id=user_id, group_id=ref.id)
        session.add(settings)
    settings.last_read_seq = counters.seq
    settings.read_count = counters.message_count
    await session.flush()
    return membership


def _member_event(
    work: Transaction,
    ref: ConversationRef,
    counters: Counters,
    change: MemberChange,
    user_id: uuid.UUID,
    role: GroupRole | None,
    principal: Principal,
) -> ConversationEvent:
    body = GroupMemberEvent(
        conversation=ref.address,
        seq=counters.seq,
        change=change,
        user_id=user_id,
        role=role,
        by=principal.user_id,
    )
    return record_event(work, body)


def _member_public(membership: GroupMember, user: User) -> MemberPublic:
    return MemberPublic(
        user=UserPublic.model_validate(user),
        role=GroupRole(membership.role),
        joined_at=membership.joined_at,
        added_by_id=membership.added_by_id,
    )
