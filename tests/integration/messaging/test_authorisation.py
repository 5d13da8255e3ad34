"""Every read and write path of messaging refuses those outside the conversation.

The rule (README, "Decisions"): an existing conversation, message or file the
caller is not in is ``403 not_a_member``; an unknown one is ``404 not_found``;
a former group member keeps what they could read up to leaving, and nothing
else. A refused request changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.helpers.api import API, SignedIn, sign_up
from tests.helpers.messaging import create_group, group_id, history, open_chat, send

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@dataclass
class Scene:
    """A conversation with a message (with a file, reacted to and pinned), its
    members, and an outsider with a chat of their own."""

    conversation: str
    member: SignedIn
    other_member: SignedIn
    outsider: SignedIn
    message_id: str
    attachment_id: str
    outsiders_chat: str
    outsiders_message_id: str


async def build_scene(client: httpx.AsyncClient, kind: str) -> Scene:
    member, other, outsider = await sign_up(client), await sign_up(client), await sign_up(client)
    if kind == "single":
        conversation = await open_chat(client, member, other)
    else:
        conversation = await create_group(client, member, other)
    upload = await client.post(
        f"{API}/attachments", headers=member.headers, files={"file": ("p.png", PNG, "image/png")}
    )
    attachment_id = upload.json()["id"]
    message = await send(client, member, conversation, "secret", attachment_ids=[attachment_id])
    await client.post(
        f"{API}/messages/{message['id']}/reactions", headers=other.headers, json={"emoji": "👍"}
    )
    await client.post(
        f"{API}/conversations/{conversation}/pins",
        headers=member.headers,
        json={"message_id": message["id"]},
    )
    outsiders_chat = await open_chat(client, outsider, await sign_up(client))
    outsiders_message = await send(client, outsider, outsiders_chat, "mine")
    return Scene(
        conversation,
        member,
        other,
        outsider,
        message["id"],
        attachment_id,
        outsiders_chat,
        outsiders_message["id"],
    )


def read_paths(s: Scene) -> list[tuple[str, str, Any]]:
    paths: list[tuple[str, str, Any]] = [
        ("GET", f"/conversations/{s.conversation}/messages", None),
        ("GET", f"/conversations/{s.conversation}/read", None),
        ("GET", f"/conversations/{s.conversation}/pins", None),
        ("GET", f"/messages/{s.message_id}", None),
        ("GET", f"/messages/{s.message_id}/edits", None),
        ("GET", f"/messages/{s.message_id}/reads", None),
        ("GET", f"/attachments/{s.attachment_id}", None),
    ]
    if s.conversation.startswith("group:"):
        gid = group_id(s.conversation)
        paths += [("GET", f"/groups/{gid}", None), ("GET", f"/groups/{gid}/members", None)]
    return paths


def write_paths(s: Scene) -> list[tuple[str, str, Any]]:
    c, m = s.conversation, s.message_id
    paths: list[tuple[str, str, Any]] = [
        ("POST", f"/conversations/{c}/messages", {"client_id": "x", "content": "intrude"}),
        ("POST", f"/conversations/{c}/read", {"up_to_seq": 100}),
        ("POST", f"/conversations/{c}/pins", {"message_id": m}),
        ("DELETE", f"/conversations/{c}/pins/{m}", None),
        ("PUT", f"/conversations/{c}/settings", {"archived": True}),
        ("PATCH", f"/messages/{m}", {"content": "rewritten"}),
        ("DELETE", f"/messages/{m}", None),
        ("POST", f"/messages/{m}/reactions", {"emoji": "💩"}),
        ("DELETE", f"/messages/{m}/reactions/👍", None),
        ("POST", f"/messages/{m}/forward", {"to": s.outsiders_chat}),
        ("POST", f"/messages/{s.outsiders_message_id}/forward", {"to": c}),
    ]
    if c.startswith("group:"):
        gid, member = group_id(c), s.other_member.id
        paths += [
            ("PATCH", f"/groups/{gid}", {"title": "taken over"}),
            ("POST", f"/groups/{gid}/members", {"user_id": s.outsider.id}),
            ("PATCH", f"/groups/{gid}/members/{member}", {"role": "admin"}),
            ("DELETE", f"/groups/{gid}/members/{member}", None),
            ("POST", f"/groups/{gid}/owner", {"user_id": s.outsider.id}),
        ]
    return paths


async def state_of(client: httpx.AsyncClient, s: Scene) -> Any:
    """What members can observe of the conversation."""
    page = await history(client, s.member, s.conversation)
    pins = await client.get(f"{API}/conversations/{s.conversation}/pins", headers=s.member.headers)
    listing = await client.get(f"{API}/conversations", headers=s.member.headers)
    return page, pins.json(), listing.json()


async def expect(
    client: httpx.AsyncClient,
    who: SignedIn,
    paths: list[tuple[str, str, Any]],
    status: int,
    code: str,
) -> None:
    for method, path, body in paths:
        response = await client.request(method, f"{API}{path}", headers=who.headers, json=body)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), (
            method,
            path,
            response.text,
        )


@pytest.mark.parametrize("kind", ["single", "group"])
async def test_an_outsider_is_refused_on_every_path_and_changes_nothing(
    client: httpx.AsyncClient, kind: str
) -> None:
    scene = await build_scene(client, kind)
    before = await state_of(client, scene)
    await expect(client, scene.outsider, read_paths(scene), 403, "not_a_member")
    await expect(client, scene.outsider, write_paths(scene), 403, "not_a_member")
    assert await state_of(client, scene) == before
    outsiders_own = await history(client, scene.outsider, scene.outsiders_chat)
    assert [m["content"] for m in outsiders_own["items"]] == ["mine"]


@pytest.mark.parametrize(
    "address",
    [
        "group:01234567-89ab-7def-8123-456789abcdef",
        "single:01234567-89ab-7def-8123-456789abcdef",
        "single:nope",
        "room:01234567-89ab-7def-8123-456789abcdef",
        "nothing",
    ],
)
async def test_an_unknown_conversation_is_not_found_on_every_path(
    client: httpx.AsyncClient, address: str
) -> None:
    user = await sign_up(client)
    paths = [
        ("GET", f"/conversations/{address}/messages", None),
        ("GET", f"/conversations/{address}/pins", None),
        ("POST", f"/conversations/{address}/messages", {"client_id": "x", "content": "x"}),
        ("POST", f"/conversations/{address}/read", {"up_to_seq": 1}),
        ("PUT", f"/conversations/{address}/settings", {"archived": True}),
    ]
    await expect(client, user, paths, 404, "not_found")


async def test_unknown_messages_and_files_are_not_found(client: httpx.AsyncClient) -> None:
    user, other = await sign_up(client), await sign_up(client)
    chat = await open_chat(client, user, other)
    for missing in (str(uuid.uuid4()), "not-an-id"):
        paths = [
            ("GET", f"/messages/{missing}", None),
            ("PATCH", f"/messages/{missing}", {"content": "x"}),
            ("DELETE", f"/messages/{missing}", None),
            ("POST", f"/messages/{missing}/reactions", {"emoji": "👍"}),
            ("POST", f"/messages/{missing}/forward", {"to": chat}),
            ("GET", f"/messages/{missing}/reads", None),
            ("GET", f"/attachments/{missing}", None),
            ("POST", f"/conversations/{chat}/pins", {"message_id": str(uuid.uuid4())}),
        ]
        await expect(client, user, paths, 404, "not_found")


async def test_a_removed_member_keeps_the_past_and_is_refused_everything_else(
    client: httpx.AsyncClient,
) -> None:
    scene = await build_scene(client, "group")
    gone = scene.other_member
    gid = group_id(scene.conversation)
    removed = await client.delete(
        f"{API}/groups/{gid}/members/{gone.id}", headers=scene.member.headers
    )
    assert removed.status_code == 204
    later = await send(client, scene.member, scene.conversation, "after you left")
    # The past stays readable...
    page = await history(client, gone, scene.conversation)
    assert [m["content"] for m in page["items"]] == ["secret"]
    for path in (f"/messages/{scene.message_id}", f"/attachments/{scene.attachment_id}"):
        assert (await client.get(f"{API}{path}", headers=gone.headers)).status_code == 200
    # ...what came after is not, and nothing can be written.
    await expect(
        client,
        gone,
        [("GET", f"/messages/{later['id']}", None), ("GET", f"/groups/{gid}/members", None)],
        403,
        "not_a_member",
    )
    # (Their own archive and mute settings stay theirs to change.)
    writes = [p for p in write_paths(scene) if not p[1].endswith("/settings")]
    await expect(client, gone, writes, 403, "not_a_member")


async def test_a_member_who_left_reads_nothing_that_changed_after_the_leave(
    client: httpx.AsyncClient,
) -> None:
    scene = await build_scene(client, "group")
    owner, gone = scene.member, scene.other_member
    gid = group_id(scene.conversation)
    third = await sign_up(client)
    added = await client.post(
        f"{API}/groups/{gid}/members", headers=owner.headers, json={"user_id": third.id}
    )
    assert added.status_code == 201, added.text
    second = await send(client, owner, scene.conversation, "second, before the leave")
    left = await client.delete(f"{API}/groups/{gid}/members/{gone.id}", headers=gone.headers)
    assert left.status_code == 204

    # After the leave: the group is renamed, another old message is pinned, and the
    # third member reads the first message.
    await client.patch(f"{API}/groups/{gid}", headers=owner.headers, json={"title": "new name"})
    pinned = await client.post(
        f"{API}/conversations/{scene.conversation}/pins",
        headers=owner.headers,
        json={"message_id": second["id"]},
    )
    assert pinned.status_code == 201, pinned.text
    read = await client.post(
        f"{API}/conversations/{scene.conversation}/read",
        headers=third.headers,
        json={"up_to_seq": second["seq"]},
    )
    assert read.status_code in (200, 204), read.text
    reacted = await client.post(
        f"{API}/messages/{second['id']}/reactions", headers=owner.headers, json={"emoji": "🎉"}
    )
    assert reacted.status_code in (200, 201), reacted.text

    # Reactions: those put before the leave (the scene's 👍 is), not the 🎉 after it.
    page = await history(client, gone, scene.conversation)
    emojis = {m["id"]: [r["emoji"] for r in m["reactions"]] for m in page["items"]}
    assert emojis == {scene.message_id: ["👍"], second["id"]: []}
    members_view = await history(client, owner, scene.conversation)
    assert any(r["emoji"] == "🎉" for m in members_view["items"] for r in m["reactions"])

    # The group as it is now is for members only.
    details = await client.get(f"{API}/groups/{gid}", headers=gone.headers)
    assert details.status_code == 403
    assert details.json()["error"]["code"] == "not_a_member"
    assert "new name" not in details.text
    # Pins: those made before the leave, not the one made after.
    pins = await client.get(f"{API}/conversations/{scene.conversation}/pins", headers=gone.headers)
    assert [p["message"]["id"] for p in pins.json()["items"]] == [scene.message_id]
    # Read receipts: who had read it by the leave, not who read it since.
    receipts = await client.get(f"{API}/messages/{second['id']}/reads", headers=gone.headers)
    assert receipts.status_code == 200, receipts.text
    assert third.id not in {r["user_id"] for r in receipts.json()["items"]}
    everyone = await client.get(f"{API}/messages/{second['id']}/reads", headers=owner.headers)
    assert third.id in {r["user_id"] for r in everyone.json()["items"]}
