"""Direct and group conversations over Socket.IO with the official clients (M9, M10):
send with ack, receive on the other side, edit, delete, react, read receipts,
typing, presence, and membership moving sockets live."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.clients import connect
from tests.e2e.servers import Process
from tests.helpers.api import API, SignedIn, sign_up

KINDS = ["js", "python"]


async def group_of(http: httpx.AsyncClient, owner: SignedIn, *members: SignedIn) -> str:
    response = await http.post(
        f"{API}/groups",
        headers=owner.headers,
        json={"title": "گروه", "member_ids": [m.id for m in members]},
    )
    assert response.status_code == 201, response.text
    conversation: str = response.json()["conversation"]
    return conversation


async def single_chat(http: httpx.AsyncClient, me: SignedIn, peer: SignedIn) -> str:
    response = await http.post(f"{API}/chats/single", headers=me.headers, json={"user_id": peer.id})
    assert response.status_code in (200, 201), response.text
    conversation: str = response.json()["conversation"]
    return conversation


def send(conversation: str, content: str, **extra: Any) -> dict[str, Any]:
    return {
        "conversation": conversation,
        "client_id": uuid.uuid4().hex,
        "content": content,
        **extra,
    }


@pytest.mark.parametrize(("sender_kind", "receiver_kind"), [("js", "python"), ("python", "js")])
async def test_a_message_sent_with_ack_arrives_on_the_other_side(
    embedded_gateway: Process,
    http: httpx.AsyncClient,
    alice: SignedIn,
    bob: SignedIn,
    sender_kind: str,
    receiver_kind: str,
) -> None:
    conversation = await single_chat(http, alice, bob)
    sender = await connect(sender_kind, embedded_gateway.base_url, {"token": alice.access_token})
    receiver = await connect(receiver_kind, embedded_gateway.base_url, {"token": bob.access_token})
    try:
        ack = await sender.emit("message:send", send(conversation, "سلام باب"))
        assert ack["ok"] is True
        message = ack["data"]["message"]
        got = await receiver.wait_for("message:new", lambda d: d["message"]["id"] == message["id"])
        assert (got["conversation"], got["seq"]) == (conversation, message["seq"])
        assert got["message"]["content"] == "سلام باب"
        assert got["message"]["sender_id"] == alice.id
    finally:
        await sender.close()
        await receiver.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_retried_send_is_stored_once(
    embedded_gateway: Process, http: httpx.AsyncClient, alice: SignedIn, bob: SignedIn, kind: str
) -> None:
    conversation = await single_chat(http, alice, bob)
    client = await connect(kind, embedded_gateway.base_url, {"token": alice.access_token})
    try:
        payload = send(conversation, "once")
        first, second = (
            await client.emit("message:send", payload),
            await client.emit("message:send", payload),
        )
        assert first["data"]["message"]["id"] == second["data"]["message"]["id"]
        assert (first["data"]["created"], second["data"]["created"]) == (True, False)
        history = await http.get(
            f"{API}/conversations/{conversation}/messages", headers=alice.headers
        )
        assert [m["content"] for m in history.json()["items"]] == ["once"]
    finally:
        await client.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_edits_deletes_reactions_and_reads_reach_the_group_in_seq_order(
    embedded_gateway: Process, http: httpx.AsyncClient, alice: SignedIn, bob: SignedIn, kind: str
) -> None:
    carol = await sign_up(http)
    conversation = await group_of(http, alice, bob, carol)
    writer = await connect(kind, embedded_gateway.base_url, {"token": alice.access_token})
    reader = await connect("python", embedded_gateway.base_url, {"token": bob.access_token})
    try:
        sent = (await writer.emit("message:send", send(conversation, "draft")))["data"]["message"]
        edited = await writer.emit("message:edit", {"message_id": sent["id"], "content": "final"})
        assert edited["data"]["message"]["content"] == "final"
        react = await reader.emit("reaction:add", {"message_id": sent["id"], "emoji": "👍"})
        assert react["ok"] is True
        read = await reader.emit(
            "message:read", {"conversation": conversation, "up_to_seq": sent["seq"]}
        )
        assert read["ok"] is True
        gone = await writer.emit("message:delete", {"message_id": sent["id"]})
        assert gone["ok"] is True
        await writer.wait_for("message:deleted", lambda d: d["conversation"] == conversation)
        names = [
            name
            for name, data in writer.received
            if isinstance(data, dict) and data.get("conversation") == conversation and "seq" in data
        ]
        seqs = [
            data["seq"]
            for _name, data in writer.received
            if isinstance(data, dict) and data.get("conversation") == conversation and "seq" in data
        ]
        assert names == [
            "message:new",
            "message:edited",
            "reaction:added",
            "message:read",
            "message:deleted",
        ]
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == len(seqs)
        deleted = writer.events("message:deleted")[-1]
        assert "final" not in str(deleted)
    finally:
        await writer.close()
        await reader.close()


async def test_typing_reaches_the_others_but_not_the_typist_and_stops_by_itself(
    embedded_gateway: Process, http: httpx.AsyncClient, alice: SignedIn, bob: SignedIn
) -> None:
    conversation = await single_chat(http, alice, bob)
    typist = await connect("js", embedded_gateway.base_url, {"token": alice.access_token})
    watcher = await connect("python", embedded_gateway.base_url, {"token": bob.access_token})
    try:
        assert (await typist.emit("typing:start", {"conversation": conversation}))["ok"] is True
        start = await watcher.wait_for("typing", lambda d: d["state"] == "start")
        assert (start["conversation"], start["user_id"]) == (conversation, alice.id)
        # Never stopped by the client: the server stops it (typing TTL is 1 s here).
        await watcher.wait_for("typing", lambda d: d["state"] == "stop", timeout=5)
        assert typist.events("typing") == []
    finally:
        await typist.close()
        await watcher.close()


async def test_presence_changes_reach_contacts(
    embedded_gateway: Process, http: httpx.AsyncClient, alice: SignedIn, bob: SignedIn
) -> None:
    await single_chat(http, alice, bob)
    watcher = await connect("python", embedded_gateway.base_url, {"token": bob.access_token})
    try:
        friend = await connect("js", embedded_gateway.base_url, {"token": alice.access_token})
        online = await watcher.wait_for("presence", lambda d: d["user_id"] == alice.id)
        assert online["status"] == "online"
        await friend.close()
        offline = await watcher.wait_for(
            "presence", lambda d: d["user_id"] == alice.id and d["status"] == "offline", timeout=5
        )
        assert offline["last_seen"]
    finally:
        await watcher.close()


async def test_a_member_added_receives_at_once_and_a_removed_one_stops_receiving(
    embedded_gateway: Process, http: httpx.AsyncClient, alice: SignedIn, bob: SignedIn
) -> None:
    conversation = await group_of(http, alice)
    group_id = conversation.split(":", 1)[1]
    owner = await connect("python", embedded_gateway.base_url, {"token": alice.access_token})
    phone = await connect("js", embedded_gateway.base_url, {"token": bob.access_token})
    laptop = await connect("python", embedded_gateway.base_url, {"token": bob.access_token})
    try:
        added = await http.post(
            f"{API}/groups/{group_id}/members", headers=alice.headers, json={"user_id": bob.id}
        )
        assert added.status_code == 201
        await phone.wait_for("conversation:joined", lambda d: d["conversation"] == conversation)
        hello = (await owner.emit("message:send", send(conversation, "welcome")))["data"]["message"]
        for device in (phone, laptop):  # every connection, no reconnect
            await device.wait_for("message:new", lambda d: d["message"]["id"] == hello["id"])
        removed = await http.delete(
            f"{API}/groups/{group_id}/members/{bob.id}", headers=alice.headers
        )
        assert removed.status_code == 204
        await laptop.wait_for("conversation:left", lambda d: d["conversation"] == conversation)
        after = (await owner.emit("message:send", send(conversation, "secret")))["data"]["message"]
        await owner.wait_for("message:new", lambda d: d["message"]["id"] == after["id"])
        # A witness sent after the secret, to a chat bob is still in: each socket gets
        # its events in order, so once the witness is there the secret would be too.
        direct = await single_chat(http, alice, bob)
        for device in (phone, laptop):
            await device.wait_for("conversation:joined", lambda d: d["conversation"] == direct)
        witness = (await owner.emit("message:send", send(direct, "ping")))["data"]["message"]
        for device in (phone, laptop):
            await device.wait_for("message:new", lambda d: d["message"]["id"] == witness["id"])
        for device in (phone, laptop):
            assert all(e["message"]["id"] != after["id"] for e in device.events("message:new"))
        refused = await laptop.emit("message:send", send(conversation, "still here?"))
        assert refused["error"]["code"] == "not_a_member"
    finally:
        for client in (owner, phone, laptop):
            await client.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_bad_messages_get_error_acks_store_nothing_and_keep_the_socket(
    embedded_gateway: Process, http: httpx.AsyncClient, alice: SignedIn, bob: SignedIn, kind: str
) -> None:
    conversation = await single_chat(http, alice, bob)
    stranger = await sign_up(http)
    client = await connect(kind, embedded_gateway.base_url, {"token": alice.access_token})
    outsider = await connect(kind, embedded_gateway.base_url, {"token": stranger.access_token})
    try:
        too_big = await client.emit("message:send", send(conversation, "x" * 16_001))
        assert too_big["error"]["code"] == "payload_too_large"
        wrong = await client.emit("message:send", {"conversation": conversation, "content": 5})
        assert wrong["error"]["code"] == "validation_error"
        unknown = await client.emit("message:send", send(f"group:{uuid.uuid4()}", "hi"))
        assert unknown["error"]["code"] == "not_found"
        intruder = await outsider.emit("message:send", send(conversation, "let me in"))
        assert intruder["error"]["code"] == "not_a_member"
        history = await http.get(
            f"{API}/conversations/{conversation}/messages", headers=alice.headers
        )
        assert history.json()["items"] == []
        fine = await client.emit("message:send", send(conversation, "still fine"))
        assert fine["ok"] is True
    finally:
        await client.close()
        await outsider.close()
