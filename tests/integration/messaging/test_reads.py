"""Read state (M7): a watermark per user, unread counts by subtraction, receipts."""

from __future__ import annotations

import uuid

import httpx
import pytest

from goftogu.errors import NotAMember
from goftogu.identity.tokens import Principal
from goftogu.messaging.models import GroupRole
from goftogu.messaging.schemas import CreateGroup, SendMessage
from goftogu.messaging.service import Messaging
from tests.helpers.api import API, sign_up
from tests.helpers.messaging import open_chat, send
from tests.integration.messaging.conftest import NewUser


async def say(messaging: Messaging, who: Principal, address: str) -> int:
    message, _ = await messaging.messages.send_message(
        who, address, SendMessage(client_id=uuid.uuid4().hex, content="x")
    )
    return message.seq


async def unread(messaging: Messaging, who: Principal, address: str) -> int:
    return (await messaging.reads.read_state(who, address)).unread_count


async def test_unread_counts_messages_from_others_after_the_watermark(
    client: httpx.AsyncClient,
) -> None:
    a, b = await sign_up(client), await sign_up(client)
    chat = await open_chat(client, a, b)
    for n in range(3):
        await send(client, b, chat, f"b{n}")
    response = await client.post(
        f"{API}/conversations/{chat}/read", headers=a.headers, json={"up_to_seq": 2}
    )
    assert response.status_code == 200
    assert response.json() == {"conversation": chat, "last_read_seq": 2, "unread_count": 1}
    listing = (await client.get(f"{API}/conversations", headers=a.headers)).json()["items"]
    assert (listing[0]["unread_count"], listing[0]["last_read_seq"]) == (1, 2)
    # b's own messages are never unread for b.
    mine = (await client.get(f"{API}/conversations", headers=b.headers)).json()["items"]
    assert mine[0]["unread_count"] == 0


async def test_sending_reads_everything_before_ones_own_message(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b = await new_user(), await new_user()
    chat, _ = await messaging.chats.open_chat(a, b.user_id)
    first, _ = await messaging.messages.send_message(
        b, chat.conversation, SendMessage(client_id="first", content="x")
    )
    for _ in range(3):
        await say(messaging, b, chat.conversation)
    assert await unread(messaging, a, chat.conversation) == 4
    await say(messaging, a, chat.conversation)
    assert await unread(messaging, a, chat.conversation) == 0
    receipts = await messaging.reads.receipts_of(b, str(first.id))
    assert [r.user_id for r in receipts] == [a.user_id]


async def test_the_watermark_never_moves_back_and_stops_at_the_latest_change(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b = await new_user(), await new_user()
    chat = (await messaging.chats.open_chat(a, b.user_id))[0].conversation
    for _ in range(3):
        await say(messaging, b, chat)
    high = await messaging.reads.mark_read(a, chat, 1_000)
    assert (high.last_read_seq, high.unread_count) == (3, 0)
    low = await messaging.reads.mark_read(a, chat, 1)
    assert (low.last_read_seq, low.unread_count) == (3, 0)
    events = await messaging.events.events_after(b, chat, 3)
    assert [(e.type, e.payload["user_id"], e.payload["up_to_seq"]) for e in events] == [
        ("message:read", str(a.user_id), 3)
    ]


async def test_receipts_record_who_read_each_message_of_others(
    client: httpx.AsyncClient,
) -> None:
    a, b = await sign_up(client), await sign_up(client)
    chat = await open_chat(client, a, b)
    first, second = await send(client, a, chat, "1"), await send(client, a, chat, "2")
    await client.post(f"{API}/conversations/{chat}/read", headers=b.headers, json={"up_to_seq": 1})
    reads_first = (
        await client.get(f"{API}/messages/{first['id']}/reads", headers=a.headers)
    ).json()["items"]
    reads_second = (
        await client.get(f"{API}/messages/{second['id']}/reads", headers=a.headers)
    ).json()["items"]
    assert [r["user_id"] for r in reads_first] == [b.id]
    assert reads_first[0]["read_at"]
    assert reads_second == []


async def test_a_new_member_does_not_inherit_the_groups_backlog_as_unread(
    messaging: Messaging, new_user: NewUser
) -> None:
    owner, late = await new_user(), await new_user()
    group = await messaging.groups.create_group(owner, CreateGroup(title="g"))
    for _ in range(5):
        await say(messaging, owner, group.conversation)
    await messaging.groups.add_member(owner, str(group.id), late.user_id, GroupRole.member)
    assert await unread(messaging, late, group.conversation) == 0
    await say(messaging, owner, group.conversation)
    assert await unread(messaging, late, group.conversation) == 1


async def test_a_former_member_cannot_mark_read(messaging: Messaging, new_user: NewUser) -> None:
    owner, member = await new_user(), await new_user()
    group = await messaging.groups.create_group(
        owner, CreateGroup(title="g", member_ids=[member.user_id])
    )
    await say(messaging, owner, group.conversation)
    await messaging.groups.remove_member(member, str(group.id), member.user_id)
    with pytest.raises(NotAMember):
        await messaging.reads.mark_read(member, group.conversation, 1)


async def test_a_long_catch_up_writes_receipts_for_the_newest_messages_only(
    messaging: Messaging, new_user: NewUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("goftogu.messaging.reads.RECEIPTS_PER_READ", 2)
    a, b = await new_user(), await new_user()
    chat = (await messaging.chats.open_chat(a, b.user_id))[0].conversation
    ids = []
    for n in range(5):
        message, _ = await messaging.messages.send_message(
            b, chat, SendMessage(client_id=f"c{n}", content="x")
        )
        ids.append(str(message.id))
    state = await messaging.reads.mark_read(a, chat, 5)
    assert state.unread_count == 0
    receipts = [len(await messaging.reads.receipts_of(b, i)) for i in ids]
    assert receipts == [0, 0, 0, 1, 1]
