"""Text no store can hold is refused at every entry point before anything is
written, and a stored document holding such text never fails its readers —
on SQLite, PostgreSQL and FerretDB (MongoDB protocol)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from goftogu.gateway import Gateway, create_gateway
from goftogu.support.documents import SupportChat
from goftogu.support.store import OPEN_STATUSES, ChatQuery, ChatStore
from tests.conftest import make_settings
from tests.helpers.api import API, PASSWORD, sign_up, staff, unique_name, visitor
from tests.helpers.chats import (
    STORE_BACKENDS,
    new_chat,
    open_chat_store,
    operator_message,
    relational_url,
)
from tests.helpers.desk import start_chat

# What a careless or hostile client sends, as JSON escapes (httpx would not even
# encode a lone surrogate): a lone surrogate, NUL, and another control character.
BAD_TEXTS = [
    pytest.param("x\\ud800", id="lone-surrogate"),
    pytest.param("x\\u0000y", id="nul"),
    pytest.param("x\\u001by", id="escape"),
]


def raw_json(template: dict[str, Any], bad: str) -> bytes:
    """``template`` as JSON with each ``"BAD"`` value replaced by the raw escape ``bad``."""
    return json.dumps(template).replace('"BAD"', f'"{bad}"').encode()


async def post_raw(
    client: httpx.AsyncClient, path: str, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await client.post(
        f"{API}{path}",
        content=body,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def refused(response: httpx.Response) -> bool:
    return response.status_code == 422 and response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("bad", BAD_TEXTS)
async def test_a_support_message_with_unencodable_text_is_refused_and_nothing_is_stored(
    gateway: Gateway, client: httpx.AsyncClient, bad: str
) -> None:
    customer = await visitor(client)
    intake = await post_raw(
        client,
        "/support/chats",
        raw_json({"client_id": "c1", "body": "BAD"}, bad),
        customer.headers,
    )
    assert refused(intake), intake.text
    chat = await start_chat(client, customer, "a clean first message")
    reply = await post_raw(
        client,
        f"/support/chats/{chat['id']}/messages",
        raw_json({"client_id": "c2", "body": "BAD"}, bad),
        customer.headers,
    )
    assert refused(reply), reply.text
    listed = await client.get(f"{API}/support/chats", headers=customer.headers)
    assert [item["message_count"] for item in listed.json()["items"]] == [1]


@pytest.mark.parametrize("bad", BAD_TEXTS)
async def test_every_text_field_of_the_rest_api_refuses_unencodable_text(
    gateway: Gateway, client: httpx.AsyncClient, bad: str
) -> None:
    user = await sign_up(client)
    other = await sign_up(client)
    group = await client.post(
        f"{API}/groups", json={"title": "Team", "member_ids": [other.id]}, headers=user.headers
    )
    assert group.status_code == 201, group.text
    address = group.json()["conversation"]
    name = unique_name()
    attempts = [
        ("/auth/register", {"username": "BAD", "email": f"{name}@example.com", "password": "p"}),
        ("/auth/register", {"username": name, "email": "a@example.com", "password": "BAD"}),
        ("/auth/login", {"login": "BAD", "password": PASSWORD}),
        ("/auth/visitor", {"name": "BAD"}),
        ("/groups", {"title": "BAD"}),
        ("/groups", {"title": "ok", "description": "BAD"}),
        (f"/conversations/{address}/messages", {"client_id": "m1", "content": "BAD"}),
        (f"/conversations/{address}/messages", {"client_id": "BAD", "content": "hi"}),
    ]
    for path, template in attempts:
        response = await post_raw(client, path, raw_json(template, bad), user.headers)
        assert refused(response), (path, template, response.text)
    me = await client.patch(
        f"{API}/users/me",
        content=raw_json({"display_name": "BAD"}, bad),
        headers={"Content-Type": "application/json", **user.headers},
    )
    assert refused(me), me.text
    history = await client.get(f"{API}/conversations/{address}/messages", headers=user.headers)
    assert history.json()["items"] == []


async def test_query_and_path_parameters_refuse_nul_too(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    user = await sign_up(client)
    for path in ("/users?q=ab%00c", "/groups/ab%00c", "/support/chats/ab%00c"):
        response = await client.get(f"{API}{path}", headers=user.headers)
        assert refused(response), (path, response.text)


# --- stored documents that break the rule ------------------------------------------

# What each store can be made to hold. SQLite keeps any JSON escape, a lone surrogate
# included (the case). PostgreSQL's jsonb, and FerretDB (on PostgreSQL's
# jsonb), refuse NUL and lone surrogates themselves, and PyMongo cannot encode a
# surrogate into BSON at all: there a control character they do accept stands for
# the corruption (it breaks the same rule and is repaired the same way).
CORRUPTION = {"sqlite": "x\ud800y", "postgres": "x\x1by", "mongodb": "x\x1by"}
REPAIRED = "x\ufffdy"


async def store_bypassing_the_rule(store: ChatStore, chat: SupportChat) -> None:
    """Write ``chat`` as it is: the stores themselves do not check text."""
    await store.create(chat)


@pytest.fixture(params=STORE_BACKENDS)
async def backend_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, ChatStore]]:
    async for opened in open_chat_store(request, request.param, tmp_path):
        yield request.param, opened


async def test_a_stored_document_with_refused_text_reads_repaired_alone_and_in_lists(
    backend_store: tuple[str, ChatStore],
) -> None:
    backend, store = backend_store
    good = new_chat(body="a clean message")
    bad = new_chat(body=CORRUPTION[backend])
    await store.create(good)
    await store_bypassing_the_rule(store, bad)

    alone = await store.get(bad.id)
    assert alone is not None
    assert alone.messages[0].body == REPAIRED
    listed = {chat.id: chat for chat in await store.find(ChatQuery())}
    assert listed.keys() >= {good.id, bad.id}
    assert listed[bad.id].messages[0].body == REPAIRED
    # A write of the conversation goes on from the repaired document.
    appended = await store.append_message(
        bad.id, operator_message(str(uuid.uuid4())), statuses=OPEN_STATUSES
    )
    assert appended is not None
    assert appended.chat.messages[0].body == REPAIRED


@pytest.fixture(params=STORE_BACKENDS)
async def desk_gateway(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, Gateway]]:
    """A gateway whose support desk keeps its documents in each store in turn."""
    backend: str = request.param
    if backend == "mongodb":
        settings = make_settings(
            relational_url(request, "sqlite", tmp_path),
            tmp_path,
            mongodb_url=request.getfixturevalue("mongodb_url"),
        )
    else:
        settings = make_settings(relational_url(request, backend, tmp_path), tmp_path)
    gateway = create_gateway(settings)
    async with gateway.api.router.lifespan_context(gateway.api):
        yield backend, gateway


async def test_a_stored_bad_conversation_never_fails_the_operators_list_its_page_or_its_close(
    desk_gateway: tuple[str, Gateway],
) -> None:
    backend, gateway = desk_gateway
    transport = httpx.ASGITransport(app=gateway.asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        admin = await staff(gateway, client, "admin")
        customer = await visitor(client)
        clean = await start_chat(client, customer, "a clean conversation")
        bad = new_chat(customer_id=customer.id, body=CORRUPTION[backend], client_id="bad")
        await store_bypassing_the_rule(gateway.container.support.store, bad)

        listed = await client.get(f"{API}/support/chats", headers=admin.headers)
        assert listed.status_code == 200, listed.text
        bodies = {item["id"]: item["last_message"]["body"] for item in listed.json()["items"]}
        assert bodies == {clean["id"]: "a clean conversation", bad.id: REPAIRED}
        page = await client.get(f"{API}/support/chats/{bad.id}", headers=customer.headers)
        assert page.status_code == 200, page.text
        assert page.json()["messages"][0]["body"] == REPAIRED
        closed = await client.post(f"{API}/support/chats/{bad.id}/close", headers=admin.headers)
        assert closed.status_code == 200, closed.text
        assert closed.json()["status"] == "CLOSED"
