"""A seq per change of a conversation, gap-free and distinct, and replay by cursor."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from goftogu.errors import NotAllowed
from goftogu.identity.tokens import Principal
from goftogu.messaging.models import Message
from goftogu.messaging.schemas import CreateGroup, SendMessage
from goftogu.messaging.service import Messaging
from goftogu.storage.database import Database
from tests.helpers.broadcast import RecordingBroadcaster
from tests.integration.messaging.conftest import NewUser


async def chat_of(messaging: Messaging, a: Principal, b: Principal) -> str:
    chat, _ = await messaging.chats.open_chat(a, b.user_id)
    return chat.conversation


async def say(messaging: Messaging, who: Principal, address: str, content: str = "x") -> str:
    message, _ = await messaging.messages.send_message(
        who, address, SendMessage(client_id=uuid.uuid4().hex, content=content)
    )
    return str(message.id)


async def test_every_change_takes_the_next_seq_of_its_conversation(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b = await new_user(), await new_user()
    chat = await chat_of(messaging, a, b)
    message = await say(messaging, a, chat, "hello")
    await messaging.messages.edit_message(a, message, "hello!")
    await messaging.reactions.add_reaction(b, message, "👍")
    await messaging.reactions.remove_reaction(b, message, "👍")
    await messaging.reads.mark_read(b, chat, 4)
    await messaging.pins.pin_message(b, chat, message)
    await messaging.pins.unpin_message(a, chat, message)
    await messaging.messages.delete_message(a, message)
    events = await messaging.events.events_after(a, chat, 0)
    assert [(e.seq, e.type) for e in events] == [
        (1, "message:new"),
        (2, "message:edited"),
        (3, "reaction:added"),
        (4, "reaction:removed"),
        (5, "message:read"),
        (6, "message:pinned"),
        (7, "message:unpinned"),
        (8, "message:deleted"),
    ]
    assert all(e.payload["conversation"] == chat and e.payload["seq"] == e.seq for e in events)
    # Another conversation counts on its own.
    other = await chat_of(messaging, a, await new_user())
    await say(messaging, a, other)
    assert [e.seq for e in await messaging.events.events_after(a, other, 0)] == [1]


async def test_changes_that_change_nothing_or_are_refused_use_no_seq(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b = await new_user(), await new_user()
    chat = await chat_of(messaging, a, b)
    message = await say(messaging, a, chat, "x")
    await messaging.messages.edit_message(a, message, "x")  # same content
    await messaging.reactions.remove_reaction(b, message, "👍")  # never there
    await messaging.reads.mark_read(a, chat, 1)  # the sender has read it already
    with pytest.raises(NotAllowed):
        await messaging.messages.edit_message(b, message, "not yours")
    second = await say(messaging, b, chat, "y")
    assert (await messaging.messages.get_message(a, second)).seq == 2


async def test_replay_serves_what_came_after_a_cursor_in_order_and_in_pages(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b = await new_user(), await new_user()
    chat = await chat_of(messaging, a, b)
    for n in range(6):
        await say(messaging, a if n % 2 else b, chat, f"m{n}")
    after_two = await messaging.events.events_after(b, chat, 2, limit=3)
    assert [e.seq for e in after_two] == [3, 4, 5]
    rest = await messaging.events.events_after(b, chat, after_two[-1].seq)
    assert [e.payload["message"]["content"] for e in rest] == ["m5"]
    assert await messaging.events.events_after(b, chat, 6) == []


async def test_what_is_broadcast_is_exactly_what_replay_serves(
    messaging: Messaging, new_user: NewUser, broadcasts: RecordingBroadcaster
) -> None:
    a, b = await new_user(), await new_user()
    group = await messaging.groups.create_group(a, CreateGroup(title="g", member_ids=[b.user_id]))
    address = group.conversation
    message = await say(messaging, a, address)
    await messaging.reactions.add_reaction(b, message, "🎉")
    await messaging.reads.mark_read(b, address, 2)
    live = [(e.event, e.data) for e in broadcasts.events(room=address)]
    replayed = [(e.type, e.payload) for e in await messaging.events.events_after(b, address, 0)]
    assert live == replayed
    assert await messaging.events.events_in_room(address, 0) == replayed  # sockets in the room
    assert await messaging.events.events_in_room(address, 1, limit=1) == replayed[1:2]
    assert [event for event, _ in live] == ["message:new", "reaction:added", "message:read"]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_twenty_parallel_sends_with_one_client_id_store_one_message(
    messaging: Messaging, new_user: NewUser, database: Database
) -> None:
    a, b = await new_user(), await new_user()
    chat = await chat_of(messaging, a, b)
    sends = [
        messaging.messages.send_message(a, chat, SendMessage(client_id="once", content="x"))
        for _ in range(20)
    ]
    results = await asyncio.gather(*sends)
    assert sum(created for _, created in results) == 1
    assert len({message.id for message, _ in results}) == 1
    async with database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 1
    assert [e.seq for e in await messaging.events.events_after(b, chat, 0)] == [1]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_parallel_changes_get_distinct_gap_free_seqs(
    messaging: Messaging, new_user: NewUser
) -> None:
    a, b = await new_user(), await new_user()
    group = await messaging.groups.create_group(a, CreateGroup(title="g", member_ids=[b.user_id]))
    address = group.conversation
    first = await say(messaging, a, address)
    sends = [say(messaging, a if n % 2 else b, address, f"m{n}") for n in range(20)]
    reactions = [messaging.reactions.add_reaction(b, first, e) for e in "😀😁😂🤣😃😄😅😆😉😊"]
    await asyncio.gather(*sends, *reactions)
    events = await messaging.events.events_after(a, address, 0)
    assert [e.seq for e in events] == list(range(1, 32))
    page, _ = await messaging.messages.history(a, address, limit=200)
    seqs = sorted(m.seq for m in page)
    assert len(seqs) == 21
    assert len(set(seqs)) == 21
    assert {e.seq for e in events if e.type == "message:new"} == set(seqs)
