"""One contract for the support chat store on MongoDB (FerretDB), SQLite and
PostgreSQL: documents read whole, conditional updates, idempotent appends, outbox."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from goftogu.ids import new_id
from goftogu.support.documents import (
    ChatStatus,
    ChatType,
    Decision,
    RoutingEntry,
    SupportChat,
    now,
)
from goftogu.support.store import (
    OPEN_STATUSES,
    ChatQuery,
    ChatStore,
    OutboxKind,
    PendingJob,
)
from tests.helpers.chats import (
    STORE_BACKENDS,
    customer_message,
    new_chat,
    open_chat_store,
    operator_message,
)
from tests.helpers.waiting import after_this_millisecond


@pytest.fixture(params=STORE_BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ChatStore]:
    async for opened in open_chat_store(request, request.param, tmp_path):
        yield opened


LEASE = timedelta(seconds=30)


def by_id(chats: list[SupportChat]) -> list[SupportChat]:
    """In creation order: ids are UUIDv7, ordered by their millisecond."""
    return sorted(chats, key=lambda chat: chat.id)


def entry(decision: Decision, operator_id: str | None = None) -> RoutingEntry:
    return RoutingEntry(at=now(), decision=decision, operator_id=operator_id)


async def test_a_created_conversation_reads_back_whole_in_one_read(store: ChatStore) -> None:
    chat = new_chat(body="My order has not arrived")
    stored, created = await store.create(chat)
    assert created
    assert await store.get(chat.id) == stored == chat
    loaded = await store.get(chat.id)
    assert loaded is not None
    assert (loaded.status, loaded.type, loaded.operator_id) == (
        ChatStatus.PENDING,
        ChatType.CHAT,
        None,
    )
    assert [m.body for m in loaded.messages] == ["My order has not arrived"]


async def test_an_unknown_or_malformed_id_reads_as_nothing(store: ChatStore) -> None:
    assert await store.get(str(new_id())) is None
    assert await store.get("not-an-id") is None


async def test_a_retried_intake_answers_the_first_conversation(store: ChatStore) -> None:
    first = new_chat(customer_id="11111111-1111-7111-8111-111111111111", client_id="x")
    retry = new_chat(customer_id="11111111-1111-7111-8111-111111111111", client_id="x")
    await store.create(first)
    stored, created = await store.create(retry)
    assert not created
    assert stored.id == first.id
    assert await store.get(retry.id) is None


async def pending(store: ChatStore) -> list[PendingJob]:
    """What a relay would publish now (released again at once)."""
    jobs = await store.claim_jobs(100, LEASE)
    for job in jobs:
        await store.finish_jobs([job], published=False)
    return jobs


async def publish_all(store: ChatStore) -> None:
    for job in await store.claim_jobs(100, LEASE):
        await store.finish_jobs([job], published=True)


async def test_a_new_conversation_owes_a_routing_job(store: ChatStore) -> None:
    chat = new_chat()
    await store.create(chat)
    jobs = await store.claim_jobs(10, LEASE)
    assert [(job.kind, job.chat_id) for job in jobs] == [(OutboxKind.route, chat.id)]
    await store.finish_jobs([jobs[0]], published=True)
    assert await pending(store) == []


async def test_a_claimed_job_is_skipped_by_other_relays_until_released(
    store: ChatStore,
) -> None:
    chat = new_chat()
    await store.create(chat)
    [job] = await store.claim_jobs(10, LEASE)
    assert await store.claim_jobs(10, LEASE) == []
    await store.finish_jobs([job], published=False)  # the broker did not confirm it
    [again] = await store.claim_jobs(10, LEASE)
    assert (again.chat_id, again.token) == (chat.id, job.token)


async def test_both_jobs_of_a_conversation_are_finished_together(store: ChatStore) -> None:
    chat = new_chat()
    await store.create(chat)
    await store.mark_ticket(chat.id, entry(Decision.ticketed))
    jobs = await store.claim_jobs(10, LEASE)
    assert {job.kind for job in jobs} == {OutboxKind.route, OutboxKind.ticket_notice}
    await store.finish_jobs(jobs, published=True)
    assert await pending(store) == []


async def test_an_expired_claim_is_taken_over(store: ChatStore) -> None:
    chat = new_chat()
    await store.create(chat)
    await store.claim_jobs(10, timedelta(seconds=-1))  # a relay that died holding it
    assert [job.chat_id for job in await store.claim_jobs(10, LEASE)] == [chat.id]


async def test_appending_a_message_gives_it_the_next_seq(store: ChatStore) -> None:
    chat = new_chat()
    await store.create(chat)
    appended = await store.append_message(
        chat.id,
        customer_message(chat.customer.id, "Anyone?", "c2"),
        statuses=OPEN_STATUSES,
    )
    assert appended is not None
    assert (appended.seq, appended.created, appended.message.body) == (2, True, "Anyone?")
    loaded = await store.get(chat.id)
    assert loaded is not None
    assert [m.body for m in loaded.messages] == ["Hello?", "Anyone?"]


async def test_a_retried_message_is_stored_once_and_answered_with_the_first(
    store: ChatStore,
) -> None:
    chat = new_chat()
    await store.create(chat)
    first = customer_message(chat.customer.id, "once", "c2")
    again = customer_message(chat.customer.id, "once (retry)", "c2")
    await store.append_message(chat.id, first, statuses=OPEN_STATUSES)
    appended = await store.append_message(chat.id, again, statuses=OPEN_STATUSES)
    assert appended is not None
    assert (appended.created, appended.message.id, appended.seq) == (False, first.id, 2)
    loaded = await store.get(chat.id)
    assert loaded is not None
    assert len(loaded.messages) == 2


async def test_concurrent_retries_of_one_message_store_it_once(store: ChatStore) -> None:
    chat = new_chat()
    await store.create(chat)
    results = await asyncio.gather(
        *(
            store.append_message(
                chat.id, customer_message(chat.customer.id, "same", "dup"), statuses=OPEN_STATUSES
            )
            for _ in range(8)
        )
    )
    assert sum(1 for r in results if r is not None and r.created) == 1
    assert len({r.message.id for r in results if r is not None}) == 1
    loaded = await store.get(chat.id)
    assert loaded is not None
    assert len(loaded.messages) == 2


async def test_concurrent_writes_to_one_conversation_lose_nothing(store: ChatStore) -> None:
    chat = new_chat()
    await store.create(chat)
    appends = [
        store.append_message(
            chat.id, customer_message(chat.customer.id, f"m{i}", f"x{i}"), statuses=OPEN_STATUSES
        )
        for i in range(20)
    ]
    relays = [store.claim_jobs(10, LEASE) for _ in range(5)]
    await asyncio.gather(*appends, *relays, store.mark_ticket(chat.id, entry(Decision.ticketed)))
    loaded = await store.get(chat.id)
    assert loaded is not None
    assert len(loaded.messages) == 21
    assert loaded.type is ChatType.TICKET


async def test_the_same_client_id_from_two_senders_is_two_messages(store: ChatStore) -> None:
    chat = new_chat(client_id="1")
    await store.create(chat)
    operator_id = str(new_id())
    await store.assign(chat.id, operator_id, entry(Decision.assigned, operator_id))
    appended = await store.append_message(
        chat.id, operator_message(operator_id, client_id="1"), statuses=OPEN_STATUSES
    )
    assert appended is not None
    assert appended.created


async def test_a_message_to_a_chat_in_another_state_changes_nothing(store: ChatStore) -> None:
    chat = new_chat()
    await store.create(chat)
    appended = await store.append_message(
        chat.id,
        operator_message(str(new_id())),
        statuses=frozenset({ChatStatus.OPEN}),
        operator_id=str(new_id()),
    )
    assert appended is None
    assert await store.get(chat.id) == chat


async def test_the_first_operator_message_sets_the_first_response_time_once(
    store: ChatStore,
) -> None:
    chat = new_chat()
    await store.create(chat)
    operator_id = str(new_id())
    await store.assign(chat.id, operator_id, entry(Decision.assigned, operator_id))
    first = operator_message(operator_id, client_id="o1")
    await store.append_message(chat.id, first, statuses=OPEN_STATUSES, operator_id=operator_id)
    await store.append_message(
        chat.id,
        operator_message(operator_id, client_id="o2"),
        statuses=OPEN_STATUSES,
        operator_id=operator_id,
    )
    loaded = await store.get(chat.id)
    assert loaded is not None
    assert loaded.first_response_at == first.created_at


async def test_assigning_opens_a_waiting_chat_and_records_why(store: ChatStore) -> None:
    chat = new_chat()
    await store.create(chat)
    operator_id = str(new_id())
    assigned = await store.assign(chat.id, operator_id, entry(Decision.assigned, operator_id))
    assert assigned is not None
    assert (assigned.status, assigned.type, assigned.operator_id) == (
        ChatStatus.OPEN,
        ChatType.CHAT,
        operator_id,
    )
    assert assigned.assigned_at is not None
    assert [e.decision for e in assigned.routing] == [Decision.assigned]
    assert await store.get(chat.id) == assigned


async def test_only_one_of_many_racing_assignments_wins(store: ChatStore) -> None:
    chat = new_chat()
    await store.create(chat)
    operators = [str(new_id()) for _ in range(6)]
    results = await asyncio.gather(
        *(store.assign(chat.id, op, entry(Decision.assigned, op)) for op in operators)
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    loaded = await store.get(chat.id)
    assert loaded is not None
    assert loaded.operator_id == winners[0].operator_id
    assert len(loaded.routing) == 1


async def test_two_racing_conditional_updates_never_both_win(store: ChatStore) -> None:
    # Two at a time, many times: the race FerretDB loses without the lock (its
    # update reads, then writes back) shows up in almost every round there.
    for _ in range(20):
        chat = new_chat()
        await store.create(chat)
        a, b = str(new_id()), str(new_id())
        results = await asyncio.gather(
            store.assign(chat.id, a, entry(Decision.assigned, a)),
            store.assign(chat.id, b, entry(Decision.assigned, b)),
        )
        winners = [r.operator_id for r in results if r is not None]
        assert len(winners) == 1
        loaded = await store.get(chat.id)
        assert loaded is not None
        assert loaded.operator_id == winners[0]


async def test_a_chat_nobody_takes_becomes_a_pending_ticket_with_a_notice(
    store: ChatStore,
) -> None:
    chat = new_chat()
    await store.create(chat)
    ticket = await store.mark_ticket(chat.id, entry(Decision.ticketed))
    assert ticket is not None
    assert (ticket.status, ticket.type) == (ChatStatus.PENDING, ChatType.TICKET)
    assert await store.mark_ticket(chat.id, entry(Decision.ticketed)) is None  # once
    kinds = {(job.kind, job.chat_id) for job in await pending(store)}
    assert (OutboxKind.ticket_notice, chat.id) in kinds


async def test_a_ticket_taken_up_is_open_and_stays_a_ticket(store: ChatStore) -> None:
    chat = new_chat()
    await store.create(chat)
    await store.mark_ticket(chat.id, entry(Decision.ticketed))
    operator_id = str(new_id())
    taken = await store.assign(chat.id, operator_id, entry(Decision.claimed, operator_id))
    assert taken is not None
    assert (taken.status, taken.type) == (ChatStatus.OPEN, ChatType.TICKET)


async def test_an_assigned_chat_cannot_be_ticketed_or_assigned_again(store: ChatStore) -> None:
    chat = new_chat()
    await store.create(chat)
    first, second = str(new_id()), str(new_id())
    await store.assign(chat.id, first, entry(Decision.assigned, first))
    assert await store.mark_ticket(chat.id, entry(Decision.ticketed)) is None
    assert await store.assign(chat.id, second, entry(Decision.assigned, second)) is None
    loaded = await store.get(chat.id)
    assert loaded is not None
    assert (loaded.operator_id, loaded.type) == (first, ChatType.CHAT)


async def test_transfer_moves_an_open_chat_only_from_its_operator(store: ChatStore) -> None:
    chat = new_chat()
    await store.create(chat)
    first, second, stranger = str(new_id()), str(new_id()), str(new_id())
    await store.assign(chat.id, first, entry(Decision.assigned, first))
    assert await store.transfer(chat.id, stranger, second, entry(Decision.transferred)) is None
    moved = await store.transfer(chat.id, first, second, entry(Decision.transferred, second))
    assert moved is not None
    assert moved.operator_id == second


async def test_closing_archives_the_document_only_for_its_operator(store: ChatStore) -> None:
    chat = new_chat()
    await store.create(chat)
    operator_id = str(new_id())
    await store.assign(chat.id, operator_id, entry(Decision.assigned, operator_id))
    assert await store.close(chat.id, str(new_id()), entry(Decision.closed)) is None
    closed = await store.close(chat.id, operator_id, entry(Decision.closed))
    assert closed is not None
    assert closed.status is ChatStatus.CLOSED
    assert closed.closed_at is not None
    assert [m.body for m in closed.messages] == ["Hello?"]  # archived in the same document
    assert await store.close(chat.id, operator_id, entry(Decision.closed)) is None


async def test_waiting_conversations_list_oldest_first_and_page_by_id(store: ChatStore) -> None:
    chats = by_id([new_chat(client_id=f"c{i}") for i in range(5)])
    for chat in chats:
        await store.create(chat)
    operator_id = str(new_id())
    await store.assign(chats[1].id, operator_id, entry(Decision.assigned, operator_id))
    query = ChatQuery(status=ChatStatus.PENDING, unassigned=True, oldest_first=True, limit=2)
    first_page = await store.find(query)
    assert [c.id for c in first_page] == [chats[0].id, chats[2].id]
    second_page = await store.find(
        ChatQuery(
            status=ChatStatus.PENDING,
            unassigned=True,
            oldest_first=True,
            limit=2,
            after=first_page[-1].id,
        )
    )
    assert [c.id for c in second_page] == [chats[3].id, chats[4].id]
    assert [c.id for c in await store.find(ChatQuery(operator_id=operator_id))] == [chats[1].id]


async def test_listing_filters_by_customer_and_type_newest_first(store: ChatStore) -> None:
    customer = str(new_id())
    mine = by_id([new_chat(customer, client_id=f"m{i}") for i in range(3)])
    for chat in [*mine, new_chat()]:
        await store.create(chat)
    await store.mark_ticket(mine[0].id, entry(Decision.ticketed))
    listed = await store.find(ChatQuery(customer_id=customer))
    assert [c.id for c in listed] == [c.id for c in reversed(mine)]
    tickets = await store.find(ChatQuery(type=ChatType.TICKET))
    assert [c.id for c in tickets] == [mine[0].id]


async def test_ids_of_a_customers_live_conversations_are_found_without_the_documents(
    store: ChatStore,
) -> None:
    customer = str(new_id())
    waiting, taken, closed = by_id([new_chat(customer, client_id=f"m{i}") for i in range(3)])
    for chat in [waiting, taken, closed, new_chat()]:
        await store.create(chat)
    operator_id = str(new_id())
    for chat in (taken, closed):
        await store.assign(chat.id, operator_id, entry(Decision.assigned, operator_id))
    await store.close(closed.id, operator_id, entry(Decision.closed))

    live = ChatQuery(statuses=OPEN_STATUSES, customer_id=customer)

    assert await store.find_ids(live) == [taken.id, waiting.id]
    assert [c.id for c in await store.find(live)] == [taken.id, waiting.id]
    assert await store.find_ids(ChatQuery(customer_id=customer, limit=1)) == [closed.id]


async def test_queue_position_counts_older_waiting_conversations(store: ChatStore) -> None:
    chats = by_id([new_chat(client_id=f"c{i}") for i in range(4)])
    for chat in chats:
        await store.create(chat)
    operator_id = str(new_id())
    await store.assign(chats[0].id, operator_id, entry(Decision.assigned, operator_id))
    assert await store.count_waiting_before(chats[3]) == 2


async def test_the_line_from_a_conversation_on_lists_the_waiting_oldest_first(
    store: ChatStore,
) -> None:
    chats = by_id([new_chat(client_id=f"c{i}") for i in range(5)])
    for chat in chats:
        await store.create(chat)
    operator_id = str(new_id())
    await store.assign(chats[1].id, operator_id, entry(Decision.assigned, operator_id))
    await store.close(chats[3].id, None, entry(Decision.closed))
    # The one that left is not in the line; those behind it are, in order.
    assert await store.waiting_from(chats[1].id, 10) == [chats[2].id, chats[4].id]
    # A waiting one is included itself; the limit cuts the line.
    assert await store.waiting_from(chats[0].id, 2) == [chats[0].id, chats[2].id]


async def test_service_times_are_the_latest_assigned_to_closed_spans(store: ChatStore) -> None:
    operator_id = str(new_id())
    at = now()
    spans = []
    for minutes in (3, 5, 7):
        chat = new_chat(client_id=f"s{minutes}")
        await store.create(chat)
        assigned = RoutingEntry(
            at=at - timedelta(minutes=minutes), decision=Decision.assigned, operator_id=operator_id
        )
        await store.assign(chat.id, operator_id, assigned)
        closed = RoutingEntry(
            at=at - timedelta(minutes=minutes) + timedelta(seconds=60 * minutes),
            decision=Decision.closed,
        )
        await store.close(chat.id, operator_id, closed)
        spans.append(60.0 * minutes)
    never_assigned = new_chat(client_id="gone")
    await store.create(never_assigned)
    await store.close(never_assigned.id, None, entry(Decision.closed))
    still_open = new_chat(client_id="open")
    await store.create(still_open)
    await store.assign(still_open.id, operator_id, entry(Decision.assigned, operator_id))

    assert sorted(await store.service_times(at - timedelta(hours=1), 10)) == spans
    assert len(await store.service_times(at - timedelta(hours=1), 2)) == 2
    assert await store.service_times(at + timedelta(minutes=1), 10) == []


async def test_a_teams_open_conversations_are_counted_and_its_chats_filtered(
    store: ChatStore,
) -> None:
    team, other = str(new_id()), str(new_id())
    chats = by_id([new_chat(client_id=f"t{i}") for i in range(3)])
    chats = [
        chats[0].model_copy(update={"team_id": team}),
        chats[1].model_copy(update={"team_id": team}),
        chats[2].model_copy(update={"team_id": other}),
    ]
    for chat in chats:
        await store.create(chat)
    operator_id = str(new_id())
    for chat in (chats[0], chats[2]):
        await store.assign(chat.id, operator_id, entry(Decision.assigned, operator_id))
    assert (await store.count_open(team), await store.count_open(str(new_id()))) == (1, 0)
    assert await store.find_ids(ChatQuery(team_id=team, oldest_first=True)) == [
        chats[0].id,
        chats[1].id,
    ]
    loaded = await store.get(chats[1].id)
    assert loaded is not None
    assert loaded.team_id == team


async def test_reoffering_can_be_narrowed_to_teams_and_to_no_team(store: ChatStore) -> None:
    team, other = str(new_id()), str(new_id())
    plain, ours, theirs = by_id([new_chat(client_id=f"r{i}") for i in range(3)])
    ours = ours.model_copy(update={"team_id": team})
    theirs = theirs.model_copy(update={"team_id": other})
    for chat in (plain, ours, theirs):
        await store.create(chat)
    await publish_all(store)
    assert await store.request_routing(10, entry(Decision.reoffered), team_ids=[team]) == [ours.id]
    await publish_all(store)
    assert await store.request_routing(10, entry(Decision.reoffered), team_ids=[None, team]) == [
        plain.id,
        ours.id,
    ]


async def test_an_sla_mark_is_recorded_once_and_keeps_the_others(store: ChatStore) -> None:
    from goftogu.support.documents import SlaStatus

    chat = new_chat()
    await store.create(chat)
    due = now() + timedelta(minutes=5)
    warned = SlaStatus(state="warning", first_response_due=due, marks=["first_response:warning"])
    first = await store.record_sla(chat.id, warned, ["first_response:warning"])
    assert first is not None
    assert first.sla == warned
    # A second writer with the same mark (another worker, a restarted one) loses.
    assert await store.record_sla(chat.id, warned, ["first_response:warning"]) is None
    breached = SlaStatus(state="breached", marks=["first_response:breached", "resolution:warning"])
    both = await store.record_sla(chat.id, breached, ["first_response:breached"])
    assert both is not None
    assert both.sla is not None
    assert both.sla.marks == [
        "first_response:breached",
        "first_response:warning",
        "resolution:warning",
    ]
    loaded = await store.get(chat.id)
    assert loaded == both
    assert await store.find_ids(ChatQuery(sla_state="breached")) == [chat.id]
    assert await store.find_ids(ChatQuery(sla_state="warning")) == []


async def test_no_sla_mark_is_recorded_on_a_closed_conversation(store: ChatStore) -> None:
    from goftogu.support.documents import SlaStatus

    chat = new_chat()
    await store.create(chat)
    await store.close(chat.id, None, entry(Decision.closed))
    status = SlaStatus(state="breached", marks=["resolution:breached"])
    assert await store.record_sla(chat.id, status, ["resolution:breached"]) is None


async def test_reoffering_marks_the_oldest_waiting_not_already_offered(store: ChatStore) -> None:
    chats = by_id([new_chat(client_id=f"c{i}") for i in range(4)])
    for chat in chats:
        await store.create(chat)
    await publish_all(store)
    offered = await store.request_routing(2, entry(Decision.reoffered))
    assert offered == [chats[0].id, chats[1].id]
    again = await store.request_routing(2, entry(Decision.reoffered))
    assert again == [chats[2].id, chats[3].id]
    jobs = await pending(store)
    assert sorted(job.chat_id for job in jobs) == sorted(c.id for c in chats)


async def test_lost_first_routing_jobs_are_found_by_age(store: ChatStore) -> None:
    old, ticket = new_chat(client_id="old"), new_chat(client_id="ticket")
    for chat in (old, ticket):
        await store.create(chat)
    await store.mark_ticket(ticket.id, entry(Decision.ticketed))
    await publish_all(store)  # published into a queue that then lost them
    after_this_millisecond()  # ids and times tell time by the millisecond
    cutoff = now()
    after_this_millisecond()
    young = new_chat(client_id="young")
    await store.create(young)
    await publish_all(store)
    found = await store.request_routing(10, entry(Decision.reoffered), undecided_before=cutoff)
    assert found == [old.id]


async def test_a_job_asked_for_again_survives_clearing_the_older_token(store: ChatStore) -> None:
    chat = new_chat()
    await store.create(chat)
    [old] = await store.claim_jobs(10, LEASE)
    await store.request_routing(1, entry(Decision.reoffered))  # while a relay publishes
    await store.finish_jobs([old], published=True)
    assert [job.chat_id for job in await pending(store)] == [chat.id]


async def test_loads_are_the_open_chats_of_each_operator(store: ChatStore) -> None:
    chats = by_id([new_chat(client_id=f"c{i}") for i in range(4)])
    for chat in chats:
        await store.create(chat)
    a, b = str(new_id()), str(new_id())
    await store.assign(chats[0].id, a, entry(Decision.assigned, a))
    await store.assign(chats[1].id, a, entry(Decision.assigned, a))
    await store.assign(chats[2].id, b, entry(Decision.assigned, b))
    await store.close(chats[2].id, b, entry(Decision.closed))
    assert await store.open_chats_by_operator() == {a: {chats[0].id, chats[1].id}}


@pytest.mark.mongodb
async def test_ferretdb_still_needs_the_per_document_lock(mongodb_url: str) -> None:
    """Why MongoChatStore locks on FerretDB (on every handler, PostgreSQL's too):
    there, an update matches the filter in one statement and writes the
    document back by id in another, so two conditional updates of one document
    both win. If this fails, FerretDB applies updates atomically now and the
    lock (``store_mongo._DocumentLocks``) can go for that version."""
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url)
    try:
        build = await client.admin.command("buildInfo")
        if "ferretdbVersion" not in build:
            pytest.skip("not FerretDB: MongoDB applies each update atomically")
        documents = client.get_default_database()["race"]
        both_won = 0
        for _ in range(20):
            doc_id = str(new_id())
            await documents.insert_one({"_id": doc_id, "owner": None})
            results = await asyncio.gather(
                *(
                    documents.find_one_and_update(
                        {"_id": doc_id, "owner": None}, {"$set": {"owner": who}}
                    )
                    for who in ("a", "b")
                )
            )
            both_won += sum(r is not None for r in results) == 2
        assert both_won > 0
    finally:
        await client.close()
