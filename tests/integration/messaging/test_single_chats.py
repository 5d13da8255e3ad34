"""Single chats (M4): one per pair, whichever side opens it, race-safe."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select

from goftogu.gateway import Gateway
from goftogu.messaging.models import SingleChat
from goftogu.messaging.service import Messaging
from tests.helpers.api import API, sign_up, visitor
from tests.helpers.broadcast import RecordingBroadcaster
from tests.helpers.messaging import error_code
from tests.integration.messaging.conftest import NewUser


async def test_opening_a_chat_from_either_side_gives_the_one_chat(
    client: httpx.AsyncClient,
) -> None:
    a, b = await sign_up(client), await sign_up(client)
    first = await client.post(f"{API}/chats/single", headers=a.headers, json={"user_id": b.id})
    again = await client.post(f"{API}/chats/single", headers=b.headers, json={"user_id": a.id})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["conversation"] == f"single:{first.json()['id']}"
    assert sorted(first.json()["user_ids"]) == sorted([a.id, b.id])


async def test_a_chat_with_oneself_is_refused(client: httpx.AsyncClient) -> None:
    a = await sign_up(client)
    response = await client.post(f"{API}/chats/single", headers=a.headers, json={"user_id": a.id})
    assert response.status_code == 422
    assert error_code(response) == "validation_error"


async def test_a_chat_with_an_unknown_user_or_a_visitor_is_not_found(
    client: httpx.AsyncClient,
) -> None:
    a, guest = await sign_up(client), await visitor(client)
    for user_id in ("01234567-89ab-7def-8123-456789abcdef", guest.id):
        response = await client.post(
            f"{API}/chats/single", headers=a.headers, json={"user_id": user_id}
        )
        assert response.status_code == 404
        assert error_code(response) == "not_found"


async def test_visitors_of_the_support_widget_cannot_use_messaging(
    client: httpx.AsyncClient,
) -> None:
    guest, a = await visitor(client), await sign_up(client)
    for method, path, body in [
        ("POST", "/chats/single", {"user_id": a.id}),
        ("GET", "/conversations", None),
        ("POST", "/groups", {"title": "g"}),
    ]:
        response = await client.request(method, f"{API}{path}", headers=guest.headers, json=body)
        assert response.status_code == 403, path
        assert error_code(response) == "not_allowed"


async def test_a_new_chat_joins_both_users_to_its_room_and_tells_them(
    messaging: Messaging, new_user: NewUser, broadcasts: RecordingBroadcaster
) -> None:
    a, b = await new_user(), await new_user()
    chat, created = await messaging.chats.open_chat(a, b.user_id)
    assert created
    assert sorted(broadcasts.moves) == sorted(
        [("join", str(a.user_id), chat.conversation), ("join", str(b.user_id), chat.conversation)]
    )
    joined = broadcasts.events("conversation:joined")
    assert {e.room for e in joined} == {f"user:{a.user_id}", f"user:{b.user_id}"}
    assert all(e.data["conversation"] == chat.conversation for e in joined)
    broadcasts.clear()
    _, created_again = await messaging.chats.open_chat(b, a.user_id)
    assert not created_again
    assert broadcasts.emitted == []
    assert broadcasts.moves == []


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_twenty_parallel_opens_from_both_sides_create_one_chat(
    client: httpx.AsyncClient, gateway: Gateway
) -> None:
    a, b = await sign_up(client), await sign_up(client)

    async def open_from(side: int) -> httpx.Response:
        me, other = (a, b) if side % 2 == 0 else (b, a)
        return await client.post(
            f"{API}/chats/single", headers=me.headers, json={"user_id": other.id}
        )

    responses = await asyncio.gather(*(open_from(i) for i in range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 19 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    async with gateway.container.database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SingleChat)) == 1
