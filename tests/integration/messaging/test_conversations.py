"""The caller's conversation list: order, last message, unread, settings, bounded queries."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event

from goftogu.identity.tokens import Principal
from goftogu.messaging.schemas import CreateGroup, SendMessage
from goftogu.messaging.service import Messaging
from goftogu.storage.database import Database
from tests.helpers.api import API, sign_up
from tests.helpers.messaging import create_group, error_code, group_id, open_chat, send
from tests.integration.messaging.conftest import NewUser


async def listing(client: httpx.AsyncClient, who: Any, **params: Any) -> dict[str, Any]:
    response = await client.get(f"{API}/conversations", headers=who.headers, params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def test_conversations_come_latest_activity_first_with_their_last_message(
    client: httpx.AsyncClient,
) -> None:
    me, ali, sara = await sign_up(client), await sign_up(client), await sign_up(client)
    with_ali = await open_chat(client, me, ali)
    group = await create_group(client, me, ali, sara, title="Trip")
    with_sara = await open_chat(client, sara, me)  # no message yet: its creation counts
    await send(client, ali, with_ali, "first")
    await send(client, sara, group, "plans?")
    items = (await listing(client, me))["items"]
    assert [i["conversation"] for i in items] == [group, with_ali, with_sara]
    assert items[0]["title"] == "Trip"
    assert items[0]["role"] == "owner"
    assert items[0]["last_message"]["content"] == "plans?"
    assert items[1]["peer"]["id"] == ali.id
    assert items[1]["last_message"]["content"] == "first"
    assert items[2]["last_message"] is None
    assert [i["unread_count"] for i in items] == [1, 1, 0]
    await send(client, me, with_sara, "hi")
    assert (await listing(client, me))["items"][0]["conversation"] == with_sara


async def test_archive_and_mute_are_the_callers_own_and_filter_the_list(
    client: httpx.AsyncClient,
) -> None:
    me, ali, sara = await sign_up(client), await sign_up(client), await sign_up(client)
    quiet, busy = await open_chat(client, me, ali), await open_chat(client, me, sara)
    response = await client.put(
        f"{API}/conversations/{quiet}/settings",
        headers=me.headers,
        json={"archived": True, "muted_until": "2031-01-01T00:00:00Z"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "conversation": quiet,
        "archived": True,
        "muted_until": "2031-01-01T00:00:00Z",
    }
    archived = (await listing(client, me, archived="true"))["items"]
    assert [(i["conversation"], i["muted_until"]) for i in archived] == [
        (quiet, "2031-01-01T00:00:00Z")
    ]
    assert [i["conversation"] for i in (await listing(client, me, archived="false"))["items"]] == [
        busy
    ]
    assert (await listing(client, ali))["items"][0]["archived"] is False
    unmuted = await client.put(
        f"{API}/conversations/{quiet}/settings", headers=me.headers, json={"muted_until": None}
    )
    assert unmuted.json()["muted_until"] is None
    assert unmuted.json()["archived"] is True


async def test_settings_refuse_a_time_without_a_zone(client: httpx.AsyncClient) -> None:
    me, ali = await sign_up(client), await sign_up(client)
    chat = await open_chat(client, me, ali)
    for body in ({"muted_until": "2031-01-01T00:00:00"}, {"archived": None}):
        response = await client.put(
            f"{API}/conversations/{chat}/settings", headers=me.headers, json=body
        )
        assert response.status_code == 422, body
        assert error_code(response) == "validation_error"


async def test_the_list_pages_with_a_cursor_each_conversation_once(
    client: httpx.AsyncClient,
) -> None:
    me = await sign_up(client)
    others = [await sign_up(client) for _ in range(5)]
    addresses = [await open_chat(client, me, other) for other in others]
    seen: list[str] = []
    cursor = None
    for _ in range(3):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await listing(client, me, **params)
        seen += [i["conversation"] for i in page["items"]]
        cursor = page["next_cursor"]
    assert seen == list(reversed(addresses))
    assert cursor is None
    bad = await client.get(f"{API}/conversations", headers=me.headers, params={"cursor": "x|y"})
    assert bad.status_code == 422


async def test_groups_one_has_left_are_not_listed(client: httpx.AsyncClient) -> None:
    owner, member = await sign_up(client), await sign_up(client)
    group = await create_group(client, owner, member)
    response = await client.delete(
        f"{API}/groups/{group_id(group)}/members/{member.id}", headers=member.headers
    )
    assert response.status_code == 204
    assert (await listing(client, member))["items"] == []


@contextmanager
def counting_queries(database: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)


async def _fill(messaging: Messaging, me: Principal, new_user: NewUser, count: int) -> None:
    for n in range(count):
        other = await new_user()
        if n % 2:
            address = (await messaging.chats.open_chat(me, other.user_id))[0].conversation
        else:
            group = await messaging.groups.create_group(
                other, CreateGroup(title=f"g{n}", member_ids=[me.user_id])
            )
            address = group.conversation
        await messaging.messages.send_message(
            other, address, SendMessage(client_id=uuid.uuid4().hex, content=f"m{n}")
        )


async def test_the_list_takes_as_many_queries_for_thirty_conversations_as_for_two(
    messaging: Messaging, new_user: NewUser, database: Database
) -> None:
    few, many = await new_user(), await new_user()
    await _fill(messaging, few, new_user, 2)
    await _fill(messaging, many, new_user, 30)
    with counting_queries(database) as for_few:
        small = await messaging.conversations.list_for(few)
    with counting_queries(database) as for_many:
        large = await messaging.conversations.list_for(many, limit=200)
    assert (len(small.items), len(large.items)) == (2, 30)
    assert all(i.last_message is not None for i in large.items)
    assert len(for_many) == len(for_few) <= 4
