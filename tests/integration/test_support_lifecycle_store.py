"""The lifecycle's store contract (issue 18, item 6) on MongoDB (FerretDB), SQLite and
PostgreSQL: reopen, snooze and wake, change of team; each one conditional write that
logs itself, and a snooze that frees the slot leaves the operator's load."""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from goftogu.ids import new_id
from goftogu.support.documents import (
    ChatStatus,
    ChatType,
    Decision,
    RoutingEntry,
    Snooze,
    SupportChat,
    now,
)
from goftogu.support.store import ChatQuery, ChatStore, OutboxKind
from tests.helpers.chats import STORE_BACKENDS, customer_message, new_chat, open_chat_store

LEASE = timedelta(seconds=30)


@pytest.fixture(params=STORE_BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ChatStore]:
    async for opened in open_chat_store(request, request.param, tmp_path):
        yield opened


def entry(decision: Decision, operator_id: str | None = None) -> RoutingEntry:
    return RoutingEntry(at=now(), decision=decision, operator_id=operator_id)


async def owed(store: ChatStore, chat_id: str) -> set[OutboxKind]:
    jobs = [job for job in await store.claim_jobs(100, LEASE) if job.chat_id == chat_id]
    await store.finish_jobs(jobs, published=True)
    return {job.kind for job in jobs}


async def open_chat(store: ChatStore, operator_id: str) -> SupportChat:
    chat = new_chat()
    await store.create(chat)
    assigned = await store.assign(chat.id, operator_id, entry(Decision.assigned, operator_id))
    assert assigned is not None
    await owed(store, chat.id)
    return assigned


async def closed_chat(store: ChatStore, operator_id: str) -> SupportChat:
    chat = await open_chat(store, operator_id)
    closed = await store.close(chat.id, operator_id, entry(Decision.closed))
    assert closed is not None
    await owed(store, chat.id)
    return closed


async def test_a_closed_conversation_reopens_to_an_operator_once(store: ChatStore) -> None:
    operator_id, other = str(new_id()), str(new_id())
    chat = await closed_chat(store, operator_id)
    reopened = await store.reopen(chat.id, entry(Decision.reopened, other), operator_id=other)
    assert reopened is not None
    assert (reopened.status, reopened.operator_id, reopened.closed_at) == (
        ChatStatus.OPEN,
        other,
        None,
    )
    assert reopened.routing[-1].decision is Decision.reopened
    assert await store.get(chat.id) == reopened
    assert await owed(store, chat.id) == {OutboxKind.assigned_notice}
    # Not closed any more: a second reopen changes nothing.
    assert await store.reopen(chat.id, entry(Decision.reopened), operator_id=other) is None
    assert await store.open_chats_by_operator() == {other: {chat.id}}


async def test_a_customers_message_reopens_within_the_window_in_one_write(
    store: ChatStore,
) -> None:
    operator_id = str(new_id())
    chat = await closed_chat(store, operator_id)
    message = customer_message(chat.customer.id, "One more thing", client_id="again")
    assert chat.closed_at is not None
    too_late = chat.closed_at + timedelta(milliseconds=1)
    refused = await store.reopen(
        chat.id, entry(Decision.reopened), operator_id=None, closed_since=too_late, message=message
    )
    assert refused is None
    unchanged = await store.get(chat.id)
    assert unchanged is not None
    assert unchanged.status is ChatStatus.CLOSED
    assert len(unchanged.messages) == 1  # nothing stored half way

    reopened = await store.reopen(
        chat.id,
        entry(Decision.reopened),
        operator_id=None,
        closed_since=chat.closed_at,
        message=message,
    )
    assert reopened is not None
    assert (reopened.status, reopened.operator_id, reopened.type) == (
        ChatStatus.PENDING,
        None,
        ChatType.CHAT,
    )
    assert [m.body for m in reopened.messages] == ["Hello?", "One more thing"]
    assert reopened.is_waiting
    assert await owed(store, chat.id) == {OutboxKind.route}
    # The retry of that message now finds it (the conversation is open again).
    retried = await store.append_message(chat.id, message, statuses=frozenset({ChatStatus.PENDING}))
    assert retried is not None
    assert not retried.created
    assert retried.seq == 2


async def test_a_snooze_holds_until_woken_and_a_freed_slot_leaves_the_load(
    store: ChatStore,
) -> None:
    operator_id, stranger = str(new_id()), str(new_id())
    chat = await open_chat(store, operator_id)
    kept = await open_chat(store, operator_id)
    at = now()
    snooze = Snooze(until=at + timedelta(hours=1), frees_slot=True, at=at, by=operator_id)
    assert await store.snooze(chat.id, stranger, snooze, entry(Decision.snoozed)) is None
    snoozed = await store.snooze(chat.id, operator_id, snooze, entry(Decision.snoozed))
    assert snoozed is not None
    assert snoozed.snooze == snooze
    assert snoozed.status is ChatStatus.OPEN
    assert snoozed.operator_id == operator_id
    assert await store.snooze(chat.id, operator_id, snooze, entry(Decision.snoozed)) is None
    assert await store.open_chats_by_operator() == {operator_id: {kept.id}}
    assert await store.find_ids(ChatQuery(snoozed=True)) == [chat.id]

    woken = await store.wake(chat.id, entry(Decision.woken))
    assert woken is not None
    assert woken.snooze is None
    assert [e.decision for e in woken.routing][-2:] == [Decision.snoozed, Decision.woken]
    assert await store.wake(chat.id, entry(Decision.woken)) is None
    assert await store.open_chats_by_operator() == {operator_id: {chat.id, kept.id}}
    assert await store.find_ids(ChatQuery(snoozed=True)) == []


async def test_a_snooze_keeping_the_slot_stays_in_the_load_and_ends_on_close(
    store: ChatStore,
) -> None:
    operator_id = str(new_id())
    chat = await open_chat(store, operator_id)
    snooze = Snooze(until=None, frees_slot=False, at=now(), by=operator_id)
    assert await store.snooze(chat.id, operator_id, snooze, entry(Decision.snoozed))
    assert await store.open_chats_by_operator() == {operator_id: {chat.id}}
    closed = await store.close(chat.id, operator_id, entry(Decision.closed))
    assert closed is not None
    assert closed.snooze is None
    assert await store.wake(chat.id, entry(Decision.woken)) is None


async def test_a_change_of_team_sends_it_back_to_routing_only_from_its_operator(
    store: ChatStore,
) -> None:
    operator_id, team_id = str(new_id()), str(new_id())
    chat = await open_chat(store, operator_id)
    changed = entry(Decision.team_changed)
    assert await store.change_team(chat.id, team_id, str(new_id()), changed) is None
    moved = await store.change_team(chat.id, team_id, operator_id, changed)
    assert moved is not None
    assert (moved.team_id, moved.status, moved.operator_id) == (
        team_id,
        ChatStatus.PENDING,
        None,
    )
    assert await owed(store, chat.id) == {OutboxKind.route}
    assert await store.find_ids(ChatQuery(team_id=team_id)) == [chat.id]
    assert await store.open_chats_by_operator() == {}
    # Waiting now: from nobody, to no team.
    back = await store.change_team(chat.id, None, None, changed)
    assert back is not None
    assert back.team_id is None


async def test_a_snoozed_or_closed_conversation_changes_no_team(store: ChatStore) -> None:
    operator_id = str(new_id())
    chat = await open_chat(store, operator_id)
    snooze = Snooze(until=None, frees_slot=True, at=now(), by=operator_id)
    await store.snooze(chat.id, operator_id, snooze, entry(Decision.snoozed))
    changed = entry(Decision.team_changed)
    assert await store.change_team(chat.id, str(new_id()), operator_id, changed) is None
    closed = await closed_chat(store, operator_id)
    assert await store.change_team(closed.id, str(new_id()), operator_id, changed) is None
