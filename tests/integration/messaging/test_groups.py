"""Groups (M5): owner row, roles and what each may do, leave and rejoin, transfer."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select

from goftogu.errors import AlreadyMember, NotAllowed, NotAMember, NotFound, ValidationFailed
from goftogu.identity.tokens import Principal
from goftogu.messaging.models import GroupMember, GroupRole
from goftogu.messaging.schemas import CreateGroup, SendMessage, UpdateGroup
from goftogu.messaging.service import Messaging
from goftogu.storage.database import Database
from tests.helpers.api import API, sign_up
from tests.helpers.broadcast import RecordingBroadcaster
from tests.helpers.messaging import error_code
from tests.integration.messaging.conftest import NewUser

UNKNOWN_USER = uuid.UUID("01234567-89ab-7def-8123-456789abcdef")


async def make_group(messaging: Messaging, owner: Principal, *members: Principal) -> str:
    group = await messaging.groups.create_group(
        owner, CreateGroup(title="g", member_ids=[m.user_id for m in members])
    )
    return str(group.id)


async def roles(messaging: Messaging, viewer: Principal, group: str) -> dict[str, str]:
    members = await messaging.groups.members_of(viewer, group)
    return {str(m.user.id): m.role.value for m in members}


async def test_creating_a_group_makes_the_caller_its_owner_and_member(
    client: httpx.AsyncClient,
) -> None:
    owner, friend = await sign_up(client), await sign_up(client)
    response = await client.post(
        f"{API}/groups",
        headers=owner.headers,
        json={"title": "  Book club ", "description": "monthly", "member_ids": [friend.id]},
    )
    assert response.status_code == 201
    group = response.json()
    assert (group["title"], group["owner_id"], group["my_role"], group["member_count"]) == (
        "Book club",
        owner.id,
        "owner",
        2,
    )
    members = (
        await client.get(f"{API}/groups/{group['id']}/members", headers=friend.headers)
    ).json()["items"]
    assert [(m["user"]["id"], m["role"]) for m in members] == [
        (owner.id, "owner"),
        (friend.id, "member"),
    ]


async def test_a_group_with_an_unknown_member_is_not_created(
    client: httpx.AsyncClient,
) -> None:
    owner = await sign_up(client)
    response = await client.post(
        f"{API}/groups",
        headers=owner.headers,
        json={"title": "g", "member_ids": ["01234567-89ab-7def-8123-456789abcdef"]},
    )
    assert response.status_code == 404
    listing = (await client.get(f"{API}/conversations", headers=owner.headers)).json()
    assert listing["items"] == []


@pytest.mark.parametrize("title", ["", "   ", "x" * 129, "two\nlines"])
async def test_a_group_needs_a_one_line_title(client: httpx.AsyncClient, title: str) -> None:
    owner = await sign_up(client)
    response = await client.post(f"{API}/groups", headers=owner.headers, json={"title": title})
    assert response.status_code == 422
    assert error_code(response) == "validation_error"


async def test_owners_and_admins_edit_the_group_and_members_do_not(
    messaging: Messaging, new_user: NewUser
) -> None:
    owner, admin, member = await new_user(), await new_user(), await new_user()
    group = await make_group(messaging, owner, member)
    await messaging.groups.add_member(owner, group, admin.user_id, GroupRole.admin)
    await messaging.groups.update_group(admin, group, UpdateGroup(title="renamed"))
    with pytest.raises(NotAllowed):
        await messaging.groups.update_group(member, group, UpdateGroup(title="mine now"))
    assert (await messaging.groups.get_group(member, group)).title == "renamed"


async def test_only_the_owner_adds_admins_and_admins_add_members(
    messaging: Messaging, new_user: NewUser
) -> None:
    owner, admin, member, newcomer, other = [await new_user() for _ in range(5)]
    group = await make_group(messaging, owner, member)
    await messaging.groups.add_member(owner, group, admin.user_id, GroupRole.admin)
    with pytest.raises(NotAllowed):
        await messaging.groups.add_member(admin, group, newcomer.user_id, GroupRole.admin)
    with pytest.raises(NotAllowed):
        await messaging.groups.add_member(member, group, newcomer.user_id, GroupRole.member)
    await messaging.groups.add_member(admin, group, newcomer.user_id, GroupRole.member)
    with pytest.raises(AlreadyMember):
        await messaging.groups.add_member(owner, group, newcomer.user_id, GroupRole.member)
    with pytest.raises(NotFound):
        await messaging.groups.add_member(owner, group, UNKNOWN_USER, GroupRole.member)
    assert (await roles(messaging, owner, group)) == {
        str(owner.user_id): "owner",
        str(admin.user_id): "admin",
        str(member.user_id): "member",
        str(newcomer.user_id): "member",
    }
    assert str(other.user_id) not in await roles(messaging, owner, group)


async def test_members_are_removed_only_by_someone_ranked_above_them(
    messaging: Messaging, new_user: NewUser
) -> None:
    owner, admin, admin2, member, member2 = [await new_user() for _ in range(5)]
    group = await make_group(messaging, owner, member, member2)
    for a in (admin, admin2):
        await messaging.groups.add_member(owner, group, a.user_id, GroupRole.admin)
    with pytest.raises(NotAllowed):
        await messaging.groups.remove_member(member, group, member2.user_id)
    with pytest.raises(NotAllowed):
        await messaging.groups.remove_member(admin, group, admin2.user_id)
    with pytest.raises(NotAllowed):
        await messaging.groups.remove_member(admin, group, owner.user_id)
    await messaging.groups.remove_member(admin, group, member.user_id)
    await messaging.groups.remove_member(owner, group, admin2.user_id)
    assert set(await roles(messaging, owner, group)) == {
        str(owner.user_id),
        str(admin.user_id),
        str(member2.user_id),
    }


async def test_only_the_owner_changes_roles_and_never_their_own(
    messaging: Messaging, new_user: NewUser
) -> None:
    owner, admin, member = await new_user(), await new_user(), await new_user()
    group = await make_group(messaging, owner, admin, member)
    promoted = await messaging.groups.change_role(owner, group, admin.user_id, GroupRole.admin)
    assert promoted.role is GroupRole.admin
    with pytest.raises(NotAllowed):
        await messaging.groups.change_role(admin, group, member.user_id, GroupRole.admin)
    with pytest.raises(NotAllowed):
        await messaging.groups.change_role(owner, group, owner.user_id, GroupRole.member)
    with pytest.raises(ValidationFailed):
        await messaging.groups.change_role(owner, group, member.user_id, GroupRole.owner)


async def test_admins_cannot_change_the_owner_over_http(client: httpx.AsyncClient) -> None:
    owner, admin = await sign_up(client), await sign_up(client)
    group = (await client.post(f"{API}/groups", headers=owner.headers, json={"title": "g"})).json()[
        "id"
    ]
    await client.post(
        f"{API}/groups/{group}/members",
        headers=owner.headers,
        json={"user_id": admin.id, "role": "admin"},
    )
    response = await client.patch(
        f"{API}/groups/{group}/members/{owner.id}", headers=admin.headers, json={"role": "member"}
    )
    assert response.status_code == 403
    assert error_code(response) == "not_allowed"
    bad_role = await client.patch(
        f"{API}/groups/{group}/members/{admin.id}", headers=owner.headers, json={"role": "owner"}
    )
    assert bad_role.status_code == 422


async def test_the_owner_hands_over_before_leaving_and_stays_as_an_admin(
    messaging: Messaging, new_user: NewUser
) -> None:
    owner, heir = await new_user(), await new_user()
    group = await make_group(messaging, owner, heir)
    with pytest.raises(NotAllowed):
        await messaging.groups.remove_member(owner, group, owner.user_id)
    details = await messaging.groups.transfer_ownership(owner, group, heir.user_id)
    assert details.owner_id == heir.user_id
    assert await roles(messaging, heir, group) == {
        str(owner.user_id): "admin",
        str(heir.user_id): "owner",
    }
    with pytest.raises(NotAllowed):  # no longer the owner
        await messaging.groups.transfer_ownership(owner, group, heir.user_id)
    await messaging.groups.remove_member(owner, group, owner.user_id)  # now they may leave


async def test_leaving_and_rejoining_keeps_the_old_membership_row(
    messaging: Messaging, new_user: NewUser, database: Database
) -> None:
    owner, member = await new_user(), await new_user()
    group = await make_group(messaging, owner, member)
    await messaging.groups.remove_member(member, group, member.user_id)  # leaves
    await messaging.groups.add_member(owner, group, member.user_id, GroupRole.member)
    await messaging.groups.remove_member(owner, group, member.user_id)  # removed
    await messaging.groups.add_member(owner, group, member.user_id, GroupRole.member)
    async with database.sessions() as session:
        rows = (
            await session.scalars(
                select(GroupMember)
                .where(GroupMember.user_id == member.user_id)
                .order_by(GroupMember.joined_at)
            )
        ).all()
    assert [(r.left_at is not None, r.removed_by_id) for r in rows] == [
        (True, None),
        (True, owner.user_id),
        (False, None),
    ]


async def test_a_left_member_reads_history_up_to_leaving_and_nothing_after(
    messaging: Messaging, new_user: NewUser
) -> None:
    owner, member = await new_user(), await new_user()
    group = await make_group(messaging, owner, member)
    address = f"group:{group}"
    await messaging.messages.send_message(
        owner, address, SendMessage(client_id="1", content="before")
    )
    await messaging.groups.remove_member(owner, group, member.user_id)
    await messaging.messages.send_message(
        owner, address, SendMessage(client_id="2", content="after")
    )
    page, _ = await messaging.messages.history(member, address)
    assert [m.content for m in page] == ["before"]
    events = await messaging.events.events_after(member, address, 0)
    assert [e.payload.get("change") for e in events] == [None, "removed"]
    with pytest.raises(NotAMember):
        await messaging.messages.send_message(
            member, address, SendMessage(client_id="3", content="x")
        )
    with pytest.raises(NotAMember):
        await messaging.groups.members_of(member, group)
    assert address not in await messaging.access.rooms_of(member.user_id)


async def test_membership_changes_move_the_users_rooms_after_commit(
    messaging: Messaging, new_user: NewUser, broadcasts: RecordingBroadcaster
) -> None:
    owner, member = await new_user(), await new_user()
    group = await make_group(messaging, owner, member)
    address = f"group:{group}"
    assert sorted(broadcasts.moves) == sorted(
        [("join", str(owner.user_id), address), ("join", str(member.user_id), address)]
    )
    broadcasts.clear()
    await messaging.groups.remove_member(owner, group, member.user_id)
    assert broadcasts.moves == [("leave", str(member.user_id), address)]
    removed = broadcasts.events("group:member", room=address)
    assert [e.data["change"] for e in removed] == ["removed"]
    left = broadcasts.events("conversation:left", room=f"user:{member.user_id}")
    assert [e.data["reason"] for e in left] == ["removed"]
    # The room heard of the removal before the user was taken out of it.
    assert broadcasts.emitted.index(removed[0]) < broadcasts.emitted.index(left[0])


async def test_a_refused_membership_change_tells_nobody(
    messaging: Messaging, new_user: NewUser, broadcasts: RecordingBroadcaster
) -> None:
    owner, member, outsider = await new_user(), await new_user(), await new_user()
    group = await make_group(messaging, owner, member)
    broadcasts.clear()
    with pytest.raises(NotAllowed):
        await messaging.groups.remove_member(member, group, owner.user_id)
    with pytest.raises(NotAMember):
        await messaging.groups.add_member(outsider, group, outsider.user_id, GroupRole.member)
    assert broadcasts.emitted == []
    assert broadcasts.moves == []
    assert await messaging.events.events_after(owner, f"group:{group}", 0) == []


async def test_group_paths_answer_not_found_for_unknown_or_malformed_ids(
    client: httpx.AsyncClient,
) -> None:
    user = await sign_up(client)
    for group in ("01234567-89ab-7def-8123-456789abcdef", "nope"):
        response = await client.get(f"{API}/groups/{group}", headers=user.headers)
        assert response.status_code == 404
        assert error_code(response) == "not_found"


async def test_a_connection_joins_the_users_single_chats_and_active_groups_only(
    messaging: Messaging, new_user: NewUser
) -> None:
    me, friend, stranger = await new_user(), await new_user(), await new_user()
    chat, _ = await messaging.chats.open_chat(friend, me.user_id)
    kept = await make_group(messaging, friend, me)
    left = await make_group(messaging, friend, me)
    await messaging.groups.remove_member(friend, left, me.user_id)
    await messaging.chats.open_chat(friend, stranger.user_id)
    await make_group(messaging, friend, stranger)

    rooms = await messaging.access.rooms_of(me.user_id)

    assert sorted(rooms) == sorted([f"single:{chat.id}", f"group:{kept}"])
