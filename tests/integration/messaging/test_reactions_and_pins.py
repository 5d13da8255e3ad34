"""Reactions (M8) and pins (M11)."""

from __future__ import annotations

import httpx
import pytest

from goftogu.errors import MessageDeleted, NotAllowed, NotFound
from goftogu.messaging.schemas import CreateGroup, SendMessage
from goftogu.messaging.service import Messaging
from tests.helpers.api import API, sign_up
from tests.helpers.messaging import error_code, history, open_chat, send
from tests.integration.messaging.conftest import NewUser


async def test_reactions_are_counted_per_emoji_with_the_callers_own_marked(
    client: httpx.AsyncClient,
) -> None:
    a, b = await sign_up(client), await sign_up(client)
    chat = await open_chat(client, a, b)
    message = await send(client, a, chat, "news")
    path = f"{API}/messages/{message['id']}/reactions"
    first = await client.post(path, headers=b.headers, json={"emoji": "👍"})
    again = await client.post(path, headers=b.headers, json={"emoji": "👍"})
    assert (first.status_code, again.status_code) == (201, 200)
    await client.post(path, headers=a.headers, json={"emoji": "👍"})
    await client.post(path, headers=a.headers, json={"emoji": "❤️"})
    seen_by_b = (await history(client, b, chat))["items"][0]["reactions"]
    assert seen_by_b == [
        {"emoji": "👍", "count": 2, "reacted": True},
        {"emoji": "❤️", "count": 1, "reacted": False},
    ]
    removed = await client.delete(f"{path}/👍", headers=b.headers)
    assert removed.status_code == 204
    assert (await client.delete(f"{path}/👍", headers=b.headers)).status_code == 204
    after = (await history(client, a, chat))["items"][0]["reactions"]
    assert after == [
        {"emoji": "👍", "count": 1, "reacted": True},
        {"emoji": "❤️", "count": 1, "reacted": True},
    ]


async def test_who_reacted_is_listed_first_reaction_first_for_members_only(
    client: httpx.AsyncClient,
) -> None:
    a, b, stranger = await sign_up(client), await sign_up(client), await sign_up(client)
    chat = await open_chat(client, a, b)
    message = await send(client, a, chat, "news")
    path = f"{API}/messages/{message['id']}/reactions"
    await client.post(path, headers=b.headers, json={"emoji": "👍"})
    await client.post(path, headers=a.headers, json={"emoji": "👍"})
    await client.post(path, headers=a.headers, json={"emoji": "❤️"})
    listed = (await client.get(path, headers=b.headers)).json()["items"]
    assert [(r["emoji"], r["user_id"]) for r in listed] == [
        ("👍", b.id),
        ("👍", a.id),
        ("❤️", a.id),
    ]
    await client.delete(f"{path}/👍", headers=b.headers)
    listed = (await client.get(path, headers=a.headers)).json()["items"]
    assert [(r["emoji"], r["user_id"]) for r in listed] == [
        ("👍", a.id),
        ("❤️", a.id),
    ]
    assert (await client.get(path, headers=stranger.headers)).status_code == 403


@pytest.mark.parametrize("emoji", ["", "ok", "👍 👍", "a" * 40])
async def test_a_reaction_must_be_an_emoji(client: httpx.AsyncClient, emoji: str) -> None:
    a, b = await sign_up(client), await sign_up(client)
    message = await send(client, a, await open_chat(client, a, b))
    response = await client.post(
        f"{API}/messages/{message['id']}/reactions", headers=b.headers, json={"emoji": emoji}
    )
    assert response.status_code == 422
    assert error_code(response) == "validation_error"


async def test_either_user_pins_in_a_single_chat(client: httpx.AsyncClient) -> None:
    a, b = await sign_up(client), await sign_up(client)
    chat = await open_chat(client, a, b)
    first, second = await send(client, a, chat, "one"), await send(client, b, chat, "two")
    for who, message in ((a, second), (b, first)):
        response = await client.post(
            f"{API}/conversations/{chat}/pins",
            headers=who.headers,
            json={"message_id": message["id"]},
        )
        assert response.status_code == 201
    pins = (await client.get(f"{API}/conversations/{chat}/pins", headers=a.headers)).json()["items"]
    assert [p["message"]["content"] for p in pins] == ["one", "two"]  # latest pin first
    unpinned = await client.delete(
        f"{API}/conversations/{chat}/pins/{first['id']}", headers=a.headers
    )
    assert unpinned.status_code == 204
    pins = (await client.get(f"{API}/conversations/{chat}/pins", headers=b.headers)).json()["items"]
    assert [p["message"]["content"] for p in pins] == ["two"]


async def test_in_a_group_owners_and_admins_pin_and_members_do_not(
    messaging: Messaging, new_user: NewUser
) -> None:
    owner, member = await new_user(), await new_user()
    group = await messaging.groups.create_group(
        owner, CreateGroup(title="g", member_ids=[member.user_id])
    )
    message, _ = await messaging.messages.send_message(
        member, group.conversation, SendMessage(client_id="c", content="rules")
    )
    with pytest.raises(NotAllowed):
        await messaging.pins.pin_message(member, group.conversation, message.id)
    pin, created = await messaging.pins.pin_message(owner, group.conversation, message.id)
    assert created
    assert pin.message.content == "rules"
    _, created_again = await messaging.pins.pin_message(owner, group.conversation, message.id)
    assert not created_again


async def test_a_message_is_pinned_only_in_its_own_conversation(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b = await new_user(), await new_user()
    chat = (await messaging.chats.open_chat(a, b.user_id))[0].conversation
    group = (await messaging.groups.create_group(a, CreateGroup(title="g"))).conversation
    message, _ = await messaging.messages.send_message(
        a, group, SendMessage(client_id="c", content="x")
    )
    with pytest.raises(NotFound):
        await messaging.pins.pin_message(a, chat, message.id)


async def test_deleting_a_pinned_message_unpins_it_and_it_cannot_be_pinned_again(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b = await new_user(), await new_user()
    chat = (await messaging.chats.open_chat(a, b.user_id))[0].conversation
    message, _ = await messaging.messages.send_message(
        a, chat, SendMessage(client_id="c", content="x")
    )
    await messaging.pins.pin_message(b, chat, message.id)
    await messaging.messages.delete_message(a, str(message.id))
    assert await messaging.pins.pins_of(b, chat) == []
    with pytest.raises(MessageDeleted):
        await messaging.pins.pin_message(b, chat, message.id)
