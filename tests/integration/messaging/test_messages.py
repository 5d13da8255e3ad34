"""Messages (M3, M11): send, retry, reply, forward, edit with versions, soft delete."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from goftogu.errors import (
    Conflict,
    MessageDeleted,
    NotAllowed,
    NotAMember,
    ParentNotInConversation,
    PayloadTooLarge,
    ValidationFailed,
)
from goftogu.identity.tokens import Principal
from goftogu.messaging.models import GroupRole
from goftogu.messaging.schemas import CreateGroup, SendMessage
from goftogu.messaging.service import Messaging
from tests.helpers.api import API, sign_up
from tests.helpers.messaging import error_code, history, open_chat, send
from tests.integration.messaging.conftest import NewUser


async def say(
    messaging: Messaging, who: Principal, address: str, content: str = "hi", **extra: object
) -> str:
    """Send through the service; the new message's id."""
    message, created = await messaging.messages.send_message(
        who, address, SendMessage(client_id=uuid.uuid4().hex, content=content, **extra)
    )
    assert created
    return str(message.id)


async def chat_of(messaging: Messaging, a: Principal, b: Principal) -> str:
    chat, _ = await messaging.chats.open_chat(a, b.user_id)
    return chat.conversation


async def group_of(messaging: Messaging, owner: Principal, *members: Principal) -> str:
    group = await messaging.groups.create_group(
        owner, CreateGroup(title="g", member_ids=[m.user_id for m in members])
    )
    return group.conversation


# --- sending -----------------------------------------------------------------------


async def test_a_sent_message_is_in_the_history_of_both_users(client: httpx.AsyncClient) -> None:
    a, b = await sign_up(client), await sign_up(client)
    chat = await open_chat(client, a, b)
    sent = await send(client, a, chat, "سلام")
    assert (sent["seq"], sent["sender_id"], sent["message_type"]) == (1, a.id, "text")
    for reader in (a, b):
        page = await history(client, reader, chat)
        assert [m["content"] for m in page["items"]] == ["سلام"]
        assert page["has_more"] is False


async def test_a_retry_with_the_same_client_id_returns_the_first_message(
    client: httpx.AsyncClient,
) -> None:
    a, b = await sign_up(client), await sign_up(client)
    chat = await open_chat(client, a, b)
    path = f"{API}/conversations/{chat}/messages"
    first = await client.post(path, headers=a.headers, json={"client_id": "k1", "content": "one"})
    retry = await client.post(path, headers=a.headers, json={"client_id": "k1", "content": "one"})
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert len((await history(client, b, chat))["items"]) == 1


async def test_the_same_client_id_from_two_senders_is_two_messages(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b = await new_user(), await new_user()
    chat = await chat_of(messaging, a, b)
    for who in (a, b):
        _, created = await messaging.messages.send_message(
            who, chat, SendMessage(client_id="same", content="x")
        )
        assert created


async def test_a_client_id_reused_in_another_conversation_is_a_conflict(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b, c = await new_user(), await new_user(), await new_user()
    first, second = await chat_of(messaging, a, b), await chat_of(messaging, a, c)
    await messaging.messages.send_message(a, first, SendMessage(client_id="k", content="x"))
    with pytest.raises(Conflict):
        await messaging.messages.send_message(a, second, SendMessage(client_id="k", content="x"))


async def test_content_over_the_limit_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient,
) -> None:
    a, b = await sign_up(client), await sign_up(client)
    chat = await open_chat(client, a, b)
    response = await client.post(
        f"{API}/conversations/{chat}/messages",
        headers=a.headers,
        json={"client_id": "big", "content": "x" * 16_001},
    )
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"
    assert (await history(client, b, chat))["items"] == []
    assert (await send(client, a, chat, "x" * 16_000))["seq"] == 1  # no seq was used up


@pytest.mark.parametrize(
    "body",
    [
        {"content": ""},
        {"content": "   "},
        {"content": "a\x00b"},
        {"content": "x", "message_type": "image"},
        {"content": "x", "message_type": "video"},
        {"content": "x", "client_id": ""},
        {"content": "x", "unexpected": 1},
    ],
    ids=["empty", "blank", "nul", "image-without-file", "unknown-type", "no-client-id", "extra"],
)
async def test_a_malformed_message_is_refused_with_validation_error(
    client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    a, b = await sign_up(client), await sign_up(client)
    chat = await open_chat(client, a, b)
    response = await client.post(
        f"{API}/conversations/{chat}/messages", headers=a.headers, json={"client_id": "c", **body}
    )
    assert response.status_code == 422, response.text
    assert error_code(response) == "validation_error"
    assert (await history(client, a, chat))["items"] == []


# --- replies ---------------------------------------------------------------------------


async def test_a_reply_points_at_its_parent_in_the_same_conversation(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b = await new_user(), await new_user()
    chat = await chat_of(messaging, a, b)
    parent = await say(messaging, a, chat, "question")
    reply = await say(messaging, b, chat, "answer", parent_message_id=parent)
    message = await messaging.messages.get_message(a, reply)
    assert str(message.parent_message_id) == parent


async def test_a_reply_to_a_message_elsewhere_or_nowhere_is_refused(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b = await new_user(), await new_user()
    chat, group = await chat_of(messaging, a, b), await group_of(messaging, a, b)
    elsewhere = await say(messaging, a, group, "in the group")
    for parent in (elsewhere, "01234567-89ab-7def-8123-456789abcdef"):
        with pytest.raises(ParentNotInConversation):
            await say(messaging, b, chat, "reply", parent_message_id=parent)
    page, _ = await messaging.messages.history(a, chat)
    assert page == []


async def test_a_reply_to_a_deleted_message_is_refused(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b = await new_user(), await new_user()
    chat = await chat_of(messaging, a, b)
    parent = await say(messaging, a, chat, "oops")
    await messaging.messages.delete_message(a, parent)
    with pytest.raises(MessageDeleted):
        await say(messaging, b, chat, "reply", parent_message_id=parent)


# --- forwarding ------------------------------------------------------------------------


async def test_a_forward_copies_the_message_and_keeps_a_reference_to_the_original(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b, c = await new_user(), await new_user(), await new_user()
    source, target, third = (
        await chat_of(messaging, a, b),
        await group_of(messaging, b, c),
        await chat_of(messaging, c, a),
    )
    original = await say(messaging, a, source, "news")
    forwarded, created = await messaging.messages.forward_message(b, original, target, "fw-1")
    assert created
    assert forwarded.content == "news"
    assert forwarded.sender_id == b.user_id
    assert forwarded.forwarded_from is not None
    assert (str(forwarded.forwarded_from.message_id), forwarded.forwarded_from.sender_id) == (
        original,
        a.user_id,
    )
    again, created_again = await messaging.messages.forward_message(b, original, target, "fw-1")
    assert not created_again
    assert again.id == forwarded.id
    # A forward of the forward still names the first origin.
    onward, _ = await messaging.messages.forward_message(c, str(forwarded.id), third)
    assert onward.forwarded_from is not None
    assert str(onward.forwarded_from.message_id) == original


async def test_forwarding_needs_read_access_to_the_source_and_write_access_to_the_target(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b, outsider = await new_user(), await new_user(), await new_user()
    chat = await chat_of(messaging, a, b)
    own = await chat_of(messaging, outsider, a)
    message = await say(messaging, a, chat, "private")
    with pytest.raises(NotAMember):
        await messaging.messages.forward_message(outsider, message, own)
    with pytest.raises(NotAMember):
        await messaging.messages.forward_message(b, message, own)


async def test_a_deleted_message_cannot_be_forwarded(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b = await new_user(), await new_user()
    chat = await chat_of(messaging, a, b)
    message = await say(messaging, a, chat, "gone")
    await messaging.messages.delete_message(a, message)
    with pytest.raises(MessageDeleted):
        await messaging.messages.forward_message(b, message, chat)


# --- editing ---------------------------------------------------------------------------


async def test_editing_replaces_the_content_and_keeps_the_previous_versions(
    client: httpx.AsyncClient,
) -> None:
    a, b = await sign_up(client), await sign_up(client)
    chat = await open_chat(client, a, b)
    message = await send(client, a, chat, "first")
    for content in ("second", "third"):
        response = await client.patch(
            f"{API}/messages/{message['id']}", headers=a.headers, json={"content": content}
        )
        assert response.status_code == 200
    current = (await history(client, b, chat))["items"][0]
    assert current["content"] == "third"
    assert current["edited_at"] is not None
    versions = (
        await client.get(f"{API}/messages/{message['id']}/edits", headers=b.headers)
    ).json()["items"]
    assert [(v["version"], v["content"]) for v in versions] == [(1, "first"), (2, "second")]


async def test_only_the_sender_edits_a_message(messaging: Messaging, new_user: NewUser) -> None:
    a, b = await new_user(), await new_user()
    group = await group_of(messaging, a, b)
    message = await say(messaging, b, group, "mine")
    with pytest.raises(NotAllowed):
        await messaging.messages.edit_message(a, message, "owner rewrites")
    assert (await messaging.messages.get_message(a, message)).content == "mine"


async def test_an_edit_over_the_limit_or_blank_changes_nothing(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b = await new_user(), await new_user()
    chat = await chat_of(messaging, a, b)
    message = await say(messaging, a, chat, "keep")
    with pytest.raises(PayloadTooLarge):
        await messaging.messages.edit_message(a, message, "x" * 101)
    with pytest.raises(ValidationFailed):
        await messaging.messages.edit_message(a, message, " ")
    assert (await messaging.messages.get_message(b, message)).content == "keep"
    assert await messaging.messages.versions_of(b, message) == []


# --- deleting --------------------------------------------------------------------------


async def test_a_deleted_message_keeps_its_place_without_its_content(
    client: httpx.AsyncClient,
) -> None:
    a, b = await sign_up(client), await sign_up(client)
    chat = await open_chat(client, a, b)
    await send(client, a, chat, "before")
    secret = await send(client, a, chat, "secret")
    await send(client, b, chat, "after")
    response = await client.delete(f"{API}/messages/{secret['id']}", headers=a.headers)
    assert response.status_code == 204
    items = (await history(client, b, chat))["items"]
    assert [m["content"] for m in items] == ["after", None, "before"]
    assert items[1]["deleted_at"] is not None
    # Deleting again is not an error and changes nothing.
    assert (
        await client.delete(f"{API}/messages/{secret['id']}", headers=a.headers)
    ).status_code == 204


async def test_a_deleted_message_can_no_longer_be_edited_or_reacted_to(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b = await new_user(), await new_user()
    chat = await chat_of(messaging, a, b)
    message = await say(messaging, a, chat, "bye")
    await messaging.messages.delete_message(a, message)
    with pytest.raises(MessageDeleted):
        await messaging.messages.edit_message(a, message, "again")
    with pytest.raises(MessageDeleted):
        await messaging.reactions.add_reaction(b, message, "👍")


async def test_deleted_content_never_comes_back_in_replay_or_versions(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b = await new_user(), await new_user()
    chat = await chat_of(messaging, a, b)
    message = await say(messaging, a, chat, "password is hunter2")
    await messaging.messages.edit_message(a, message, "typo: hunter3")
    await messaging.reactions.add_reaction(b, message, "😮")
    await messaging.messages.delete_message(a, message)
    events = await messaging.events.events_after(b, chat, 0)
    assert [e.type for e in events] == [
        "message:new",
        "message:edited",
        "reaction:added",
        "message:deleted",
    ]
    everything = json.dumps([e.payload for e in events])
    assert "hunter" not in everything
    assert events[0].payload["message"]["deleted_at"] is not None
    assert await messaging.messages.versions_of(b, message) == []


async def test_in_a_group_owners_and_admins_delete_messages_of_those_ranked_below(
    messaging: Messaging, new_user: NewUser
) -> None:
    owner, admin, member, other = [await new_user() for _ in range(4)]
    group = await group_of(messaging, owner, member, other)
    group_id = group.split(":")[1]
    await messaging.groups.add_member(owner, group_id, admin.user_id, GroupRole.admin)
    by_member = await say(messaging, member, group, "m")
    by_owner = await say(messaging, owner, group, "o")
    by_admin = await say(messaging, admin, group, "a")
    with pytest.raises(NotAllowed):
        await messaging.messages.delete_message(other, by_member)
    with pytest.raises(NotAllowed):
        await messaging.messages.delete_message(admin, by_owner)
    await messaging.messages.delete_message(admin, by_member)
    await messaging.messages.delete_message(owner, by_admin)
    page, _ = await messaging.messages.history(member, group)
    assert {m.content for m in page} == {None, "o"}


async def test_in_a_single_chat_only_the_sender_deletes(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b = await new_user(), await new_user()
    chat = await chat_of(messaging, a, b)
    message = await say(messaging, a, chat, "mine")
    with pytest.raises(NotAllowed):
        await messaging.messages.delete_message(b, message)


# --- history -----------------------------------------------------------------------------


async def test_history_pages_back_from_the_newest_and_forward_from_a_cursor(
    client: httpx.AsyncClient,
) -> None:
    a, b = await sign_up(client), await sign_up(client)
    chat = await open_chat(client, a, b)
    for n in range(1, 8):
        await send(client, a if n % 2 else b, chat, f"m{n}")
    newest = await history(client, b, chat, limit=3)
    assert [m["content"] for m in newest["items"]] == ["m7", "m6", "m5"]
    assert newest["has_more"]
    older = await history(client, b, chat, limit=3, before_seq=newest["items"][-1]["seq"])
    assert [m["content"] for m in older["items"]] == ["m4", "m3", "m2"]
    assert older["has_more"]
    last = await history(client, b, chat, limit=3, before_seq=older["items"][-1]["seq"])
    assert [m["content"] for m in last["items"]] == ["m1"]
    assert not last["has_more"]
    forward = await history(client, b, chat, limit=4, after_seq=2)
    assert [m["content"] for m in forward["items"]] == ["m3", "m4", "m5", "m6"]
    assert forward["has_more"]


async def test_history_limits_are_checked(client: httpx.AsyncClient) -> None:
    a, b = await sign_up(client), await sign_up(client)
    chat = await open_chat(client, a, b)
    for params in ({"limit": 0}, {"limit": 201}, {"before_seq": 0}, {"after_seq": -1}):
        response = await client.get(
            f"{API}/conversations/{chat}/messages", headers=a.headers, params=params
        )
        assert response.status_code == 422, params
