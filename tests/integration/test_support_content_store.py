"""The store contract for a conversation's staff-only content (private notes,
labels) and for canned replies, on MongoDB (FerretDB), SQLite and PostgreSQL."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from goftogu.errors import ShortcodeTaken
from goftogu.ids import new_id
from goftogu.storage.database import Database
from goftogu.support.canned import CannedReply, CannedReplyStore, CannedScope
from goftogu.support.documents import Note, now
from goftogu.support.store import ChatQuery, ChatStore
from tests.helpers.chats import STORE_BACKENDS, new_chat, open_chat_store, relational_url


@pytest.fixture(params=STORE_BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ChatStore]:
    async for opened in open_chat_store(request, request.param, tmp_path):
        yield opened


@pytest.fixture(params=STORE_BACKENDS)
async def canned(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CannedReplyStore]:
    if request.param == "mongodb":
        from pymongo import AsyncMongoClient

        from goftogu.support.canned_mongo import MongoCannedReplyStore

        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            request.getfixturevalue("mongodb_url"), tz_aware=True
        )
        mongo_store = MongoCannedReplyStore(client)
        await mongo_store.prepare()
        yield mongo_store
        await client.close()
        return
    from goftogu.support.canned_sql import SqlCannedReplyStore

    database = Database(relational_url(request, request.param, tmp_path))
    yield SqlCannedReplyStore(database)
    await database.close()


def note(author_id: str, body: str = "VIP: be gentle", client_id: str = "n1") -> Note:
    return Note(
        id=str(new_id()), client_id=client_id, author_id=author_id, body=body, created_at=now()
    )


async def test_a_note_is_kept_beside_the_messages_never_among_them(store: ChatStore) -> None:
    chat = new_chat()
    await store.create(chat)
    operator = str(new_id())
    added = await store.add_note(chat.id, note(operator))
    assert added is not None
    assert added.created
    loaded = await store.get(chat.id)
    assert loaded is not None
    assert [n.body for n in loaded.notes] == ["VIP: be gentle"]
    assert [m.body for m in loaded.messages] == ["Hello?"]


async def test_a_retried_note_answers_the_first_one(store: ChatStore) -> None:
    chat = new_chat()
    await store.create(chat)
    operator = str(new_id())
    first = await store.add_note(chat.id, note(operator, "first"))
    again = await store.add_note(chat.id, note(operator, "first, sent again"))
    assert first is not None
    assert again is not None
    assert not again.created
    assert again.note == first.note
    other = await store.add_note(chat.id, note(str(new_id()), "another operator, same id"))
    assert other is not None
    assert other.created
    loaded = await store.get(chat.id)
    assert loaded is not None
    assert len(loaded.notes) == 2


async def test_a_note_on_a_conversation_that_does_not_exist_is_nothing(store: ChatStore) -> None:
    assert await store.add_note(str(new_id()), note(str(new_id()))) is None
    assert await store.add_note("not-an-id", note(str(new_id()))) is None


async def test_labels_are_added_once_removed_and_filter_the_list(store: ChatStore) -> None:
    refund, other = new_chat(), new_chat()
    await store.create(refund)
    await store.create(other)
    await store.add_label(refund.id, "refund")
    twice = await store.add_label(refund.id, "refund")
    assert twice is not None
    assert twice.labels == ["refund"]
    await store.add_label(refund.id, "vip")
    await store.add_label(other.id, "vip")
    assert await store.find_ids(ChatQuery(label="refund")) == [refund.id]
    assert set(await store.find_ids(ChatQuery(label="vip"))) == {refund.id, other.id}
    removed = await store.remove_label(refund.id, "vip")
    assert removed is not None
    assert removed.labels == ["refund"]
    assert await store.find_ids(ChatQuery(label="vip")) == [other.id]
    assert [c.id for c in await store.find(ChatQuery(label="refund"))] == [refund.id]
    again = await store.remove_label(refund.id, "vip")  # not there: unchanged
    assert again is not None
    assert again.labels == ["refund"]
    assert await store.add_label(str(new_id()), "vip") is None
    assert await store.remove_label(str(new_id()), "vip") is None


def reply(
    shortcode: str = "refund",
    scope: CannedScope = CannedScope.global_,
    owner: str = "",
    body: str = "Hello {{customer.name}}",
) -> CannedReply:
    at = now()
    return CannedReply(
        id=str(new_id()),
        scope=scope,
        owner_id=owner,
        shortcode=shortcode,
        title=shortcode.title(),
        body=body,
        created_by=str(new_id()),
        created_at=at,
        updated_at=at,
    )


async def test_a_canned_reply_reads_back_as_written(canned: CannedReplyStore) -> None:
    written = reply()
    await canned.create(written)
    assert await canned.get(written.id) == written
    assert await canned.get(str(new_id())) is None
    assert await canned.get("not-an-id") is None


async def test_a_shortcode_is_unique_within_its_scope_and_owner(canned: CannedReplyStore) -> None:
    sara, omid = str(new_id()), str(new_id())
    await canned.create(reply("hi", CannedScope.personal, sara))
    await canned.create(reply("hi", CannedScope.personal, omid))  # another operator's
    await canned.create(reply("hi", CannedScope.global_))
    with pytest.raises(ShortcodeTaken):
        await canned.create(reply("hi", CannedScope.personal, sara))
    with pytest.raises(ShortcodeTaken):
        await canned.create(reply("hi", CannedScope.global_))


async def test_each_operator_sees_theirs_their_teams_and_the_global_ones(
    canned: CannedReplyStore,
) -> None:
    sara, omid, billing, sales = (str(new_id()) for _ in range(4))
    await canned.create(reply("a-mine", CannedScope.personal, sara))
    await canned.create(reply("b-omids", CannedScope.personal, omid))
    await canned.create(reply("c-billing", CannedScope.team, billing))
    await canned.create(reply("d-sales", CannedScope.team, sales))
    await canned.create(reply("e-everyone", CannedScope.global_))
    seen = await canned.visible(sara, frozenset({billing}))
    assert [r.shortcode for r in seen] == ["a-mine", "c-billing", "e-everyone"]
    assert [r.shortcode for r in await canned.visible(sara, frozenset())] == [
        "a-mine",
        "e-everyone",
    ]
    exact = await canned.visible(sara, frozenset({billing}), shortcode="c-billing")
    assert [r.shortcode for r in exact] == ["c-billing"]
    assert await canned.visible(sara, frozenset(), shortcode="c-billing") == []


async def test_a_prefix_finds_the_shortcodes_starting_with_it(canned: CannedReplyStore) -> None:
    for code in ("refund", "refund-late", "return", "بازگشت"):
        await canned.create(reply(code))
    found = await canned.visible(str(new_id()), frozenset(), prefix="ref")
    assert [r.shortcode for r in found] == ["refund", "refund-late"]
    persian = await canned.visible(str(new_id()), frozenset(), prefix="باز")
    assert [r.shortcode for r in persian] == ["بازگشت"]
    assert len(await canned.visible(str(new_id()), frozenset(), limit=2)) == 2


async def test_a_canned_reply_is_replaced_and_deleted(canned: CannedReplyStore) -> None:
    first, second = reply("one"), reply("two")
    await canned.create(first)
    await canned.create(second)
    changed = first.model_copy(update={"title": "Changed", "body": "Bye {{operator.name}}"})
    assert await canned.replace(changed)
    assert await canned.get(first.id) == changed
    with pytest.raises(ShortcodeTaken):
        await canned.replace(changed.model_copy(update={"shortcode": "two"}))
    assert await canned.get(first.id) == changed  # nothing stored half way
    assert not await canned.replace(reply("ghost"))
    assert await canned.delete(first.id)
    assert not await canned.delete(first.id)
    assert await canned.get(first.id) is None


async def test_read_watermarks_move_up_only_each_side_its_own(store: ChatStore) -> None:
    chat = new_chat()
    await store.create(chat)
    moved = await store.mark_read(chat.id, "operator", 3)
    assert moved is not None
    assert (moved.operator_read_seq, moved.customer_read_seq) == (3, 0)
    back = await store.mark_read(chat.id, "operator", 1)  # never down
    assert back is not None
    assert back.operator_read_seq == 3
    await store.mark_read(chat.id, "customer", 2)
    loaded = await store.get(chat.id)
    assert loaded is not None
    assert (loaded.operator_read_seq, loaded.customer_read_seq) == (3, 2)
    assert await store.mark_read(str(new_id()), "customer", 1) is None


async def test_a_closed_conversation_is_rated_once(store: ChatStore) -> None:
    from goftogu.support.documents import Csat, CsatSource, Decision, RoutingEntry

    chat = new_chat()
    await store.create(chat)
    first = Csat(score=5, comment="great", at=now(), source=CsatSource.widget)
    assert await store.rate(chat.id, first) is None  # not closed yet
    await store.close(chat.id, None, RoutingEntry(at=now(), decision=Decision.closed))
    rated = await store.rate(chat.id, first)
    assert rated is not None
    assert rated.csat == first
    again = Csat(score=1, at=now(), source=CsatSource.email)
    assert await store.rate(chat.id, again) is None
    loaded = await store.get(chat.id)
    assert loaded is not None
    assert loaded.csat == first
    assert await store.rate(str(new_id()), first) is None
