"""Support conversations in the conversation API (SQLite and PostgreSQL): history
by seq, read state both ways, files through messaging's upload path."""

import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from goftogu.gateway import Gateway
from goftogu.messaging.models import Attachment
from goftogu.storage.models import utcnow
from tests.helpers.api import API, SignedIn, sign_up, visitor
from tests.helpers.desk import available_operator, routed, start_chat

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HTML = b"<html><script>alert(1)</script></html>"


async def talking(gateway: Gateway, client: httpx.AsyncClient) -> tuple[SignedIn, SignedIn, str]:
    """An operator and a customer in an open conversation (its id)."""
    operator = await available_operator(gateway, client)
    customer = await visitor(client, name="Sara")
    chat = await routed(client, customer, (await start_chat(client, customer, "m1"))["id"])
    assert chat["operator_id"] == operator.id
    return operator, customer, chat["id"]


async def say(
    client: httpx.AsyncClient, who: SignedIn, chat_id: str, content: str = "", **extra: Any
) -> httpx.Response:
    return await client.post(
        f"{API}/conversations/support:{chat_id}/messages",
        json={"client_id": uuid.uuid4().hex, "content": content, **extra},
        headers=who.headers,
    )


async def page(
    client: httpx.AsyncClient, who: SignedIn, chat_id: str, **params: int
) -> dict[str, Any]:
    answer = await client.get(
        f"{API}/conversations/support:{chat_id}/messages", params=params, headers=who.headers
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_support_history_pages_by_seq_like_any_conversation(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator, customer, chat_id = await talking(gateway, client)
    for n in range(2, 7):
        sent = await say(client, customer if n % 2 else operator, chat_id, f"m{n}")
        assert sent.status_code == 201, sent.text
        assert sent.json()["message"]["seq"] == n
    newest = await page(client, customer, chat_id, limit=2)
    assert [m["seq"] for m in newest["items"]] == [6, 5]
    assert newest["has_more"]
    older = await page(client, customer, chat_id, before_seq=5, limit=3)
    assert [m["body"] for m in older["items"]] == ["m4", "m3", "m2"]
    assert older["has_more"]
    forward = await page(client, operator, chat_id, after_seq=4)
    assert [m["seq"] for m in forward["items"]] == [5, 6]
    assert not forward["has_more"]
    between = await page(client, operator, chat_id, after_seq=1, before_seq=4)
    assert [m["seq"] for m in between["items"]] == [3, 2]
    stranger = await visitor(client)
    hidden = await client.get(
        f"{API}/conversations/support:{chat_id}/messages", headers=stranger.headers
    )
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "not_found")
    malformed = await client.get(
        f"{API}/conversations/support:nope/messages", headers=customer.headers
    )
    assert malformed.json()["error"]["code"] == "not_found"


async def test_each_side_sees_what_the_other_has_read(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator, customer, chat_id = await talking(gateway, client)
    await say(client, operator, chat_id, "Hello Sara")
    await say(client, operator, chat_id, "How can I help?")
    read = f"{API}/conversations/support:{chat_id}/read"
    before = (await client.get(read, headers=customer.headers)).json()
    assert (before["last_read_seq"], before["unread_count"]) == (0, 2)
    marked = await client.post(read, json={"up_to_seq": 99}, headers=customer.headers)
    assert marked.status_code == 200, marked.text
    assert (marked.json()["last_read_seq"], marked.json()["unread_count"]) == (3, 0)
    # The operator sees the customer read everything ("seen"), and reads in turn.
    seen = (await client.get(read, headers=operator.headers)).json()
    assert (seen["peer_last_read_seq"], seen["unread_count"]) == (3, 1)
    await client.post(read, json={"up_to_seq": 1}, headers=operator.headers)
    mine = (await client.get(read, headers=customer.headers)).json()
    assert mine["peer_last_read_seq"] == 1
    chat = (await client.get(f"{API}/support/chats/{chat_id}", headers=customer.headers)).json()
    assert (chat["customer_read_seq"], chat["operator_read_seq"]) == (3, 1)
    # Someone else on staff cannot move the assigned operator's watermark.
    other = await available_operator(gateway, client)
    refused = await client.post(read, json={"up_to_seq": 3}, headers=other.headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_allowed")


async def upload(client: httpx.AsyncClient, who: SignedIn, data: bytes = PNG) -> str:
    answer = await client.post(
        f"{API}/attachments", headers=who.headers, files={"file": ("p.png", data, "image/png")}
    )
    assert answer.status_code == 201, answer.text
    attachment_id: str = answer.json()["id"]
    return attachment_id


async def test_a_visitor_sends_a_file_through_the_same_upload_path(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator, customer, chat_id = await talking(gateway, client)
    file_id = await upload(client, customer)
    sent = await say(client, customer, chat_id, "", attachment_ids=[file_id])
    assert sent.status_code == 201, sent.text
    [attached] = sent.json()["message"]["attachments"]
    assert (attached["id"], attached["content_type"]) == (file_id, "image/png")
    path = f"{API}/support/chats/{chat_id}/attachments/{file_id}"
    for reader in (operator, customer):
        download = await client.get(path, headers=reader.headers)
        assert download.status_code == 200
        assert download.content == PNG
        assert download.headers["x-content-type-options"] == "nosniff"
    stranger = await visitor(client)
    assert (await client.get(path, headers=stranger.headers)).status_code == 404
    # The history carries it too, and an HTML file stays text, never a page.
    last = (await page(client, operator, chat_id, limit=1))["items"][0]
    assert last["attachments"][0]["id"] == file_id
    html_id = await upload(client, operator, HTML)
    posted = await client.post(
        f"{API}/support/chats/{chat_id}/messages",
        json={"client_id": "with-html", "body": "see", "attachment_ids": [html_id]},
        headers=operator.headers,
    )
    assert posted.status_code == 201, posted.text
    assert posted.json()["message"]["attachments"][0]["content_type"] == "text/plain"


async def test_a_file_not_yours_or_sent_elsewhere_stores_nothing(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator, customer, chat_id = await talking(gateway, client)
    operators_file = await upload(client, operator)
    theirs = await say(client, customer, chat_id, "look", attachment_ids=[operators_file])
    assert (theirs.status_code, theirs.json()["error"]["code"]) == (404, "not_found")
    unknown = await say(client, customer, chat_id, "look", attachment_ids=[str(uuid.uuid4())])
    assert unknown.json()["error"]["code"] == "not_found"
    mine = await upload(client, customer)
    assert (await say(client, customer, chat_id, "one", attachment_ids=[mine])).status_code == 201
    # Held by this conversation: a second message cannot take it elsewhere...
    other_customer = await sign_up(client)
    elsewhere = await start_chat(client, other_customer)
    stolen = await say(client, other_customer, elsewhere["id"], "x", attachment_ids=[mine])
    assert stolen.json()["error"]["code"] == "not_found"
    # ...and messaging refuses it as already sent.
    peer = await sign_up(client)
    registered = await sign_up(client)
    registered_file = await upload(client, registered)
    chat = await start_chat(client, registered)
    await say(client, registered, chat["id"], "mine", attachment_ids=[registered_file])
    single = await client.post(
        f"{API}/chats/single", json={"user_id": peer.id}, headers=registered.headers
    )
    reuse = await client.post(
        f"{API}/conversations/{single.json()['conversation']}/messages",
        json={"client_id": "again", "attachment_ids": [registered_file]},
        headers=registered.headers,
    )
    assert reuse.json()["error"]["code"] == "conflict"
    empty = await say(client, customer, chat_id, "   ")
    assert empty.json()["error"]["code"] == "validation_error"
    bodies = [m["body"] for m in (await page(client, customer, chat_id))["items"]]
    assert bodies == ["one", "m1"]


async def test_files_held_by_a_support_conversation_are_never_discarded_as_unsent(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    _operator, customer, chat_id = await talking(gateway, client)
    held = await upload(client, customer)
    unsent = await upload(client, customer)
    await say(client, customer, chat_id, "", attachment_ids=[held])
    database = gateway.container.database
    async with database.transaction() as session:
        await session.execute(update(Attachment).values(created_at=utcnow() - timedelta(days=2)))
    attachments = gateway.container.messaging.attachments
    assert await attachments.discard_unsent(timedelta(days=1)) == 1
    path = f"{API}/support/chats/{chat_id}/attachments/{held}"
    assert (await client.get(path, headers=customer.headers)).status_code == 200
    assert unsent != held
