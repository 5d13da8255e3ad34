"""The routing worker's job on every chat store, with in-process presence (and
Redis presence where it matters): idempotent, safe when raced, tickets, sweeps,
and the document outbox publishing routing jobs and ticket notices."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from goftogu.ids import new_id
from goftogu.notifications.jobs import NOTIFY
from goftogu.presence.operators import (
    AvailabilitySeed,
    MemoryOperatorAvailability,
    OperatorAvailability,
    OperatorStatus,
)
from goftogu.queueing import Delivery
from goftogu.queueing.memory import MemoryQueue
from goftogu.queueing.relay import OutboxRelay
from goftogu.support.documents import ChatStatus, ChatType, Decision, RoutingEntry, now
from goftogu.support.jobs import SUPPORT_ROUTING
from goftogu.support.outbox import SupportOutbox
from goftogu.support.routing import Outcome, Router
from goftogu.support.store import ChatStore
from tests.helpers.broadcast import RecordingBroadcaster, announcements
from tests.helpers.chats import STORE_BACKENDS, new_chat, open_chat_store, operator_message


@dataclass
class Routing:
    store: ChatStore
    availability: OperatorAvailability
    router: Router
    told: RecordingBroadcaster
    woken: list[int]

    async def operator(self, name: str | None = None) -> str:
        operator_id = name or str(new_id())
        await self.availability.set_status(operator_id, OperatorStatus.online, True)
        await self.availability.connection_opened(operator_id, f"{operator_id}-socket")
        return operator_id

    async def chat(self) -> str:
        chat = new_chat(client_id=str(new_id()))
        await self.store.create(chat)
        return chat.id


def routing_on(store: ChatStore) -> Routing:
    async def seed() -> AvailabilitySeed:
        return AvailabilitySeed(open_chats=await store.open_chats_by_operator())

    availability = MemoryOperatorAvailability(seed)
    told = RecordingBroadcaster()
    woken: list[int] = []
    router = Router(store, availability, announcements(told, woken=woken), capacity=2)
    return Routing(store, availability, router, told, woken)


@pytest.fixture(params=STORE_BACKENDS)
async def routing(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Routing]:
    async for store in open_chat_store(request, request.param, tmp_path):
        yield routing_on(store)


async def test_an_available_operator_is_assigned_and_told_to_join(routing: Routing) -> None:
    operator = await routing.operator()
    chat_id = await routing.chat()
    assert await routing.router.route(chat_id) is Outcome.assigned
    chat = await routing.store.get(chat_id)
    assert chat is not None
    assert (chat.status, chat.type, chat.operator_id) == (ChatStatus.OPEN, ChatType.CHAT, operator)
    assert [d["chat_id"] for d in routing.told.to(f"operator:{operator}", "support:assigned")] == [
        chat_id
    ]
    assert routing.told.to(f"support:{chat_id}", "support:assigned")  # the customer hears too
    assert ("join", operator, f"support:{chat_id}") in routing.told.moves
    assert (await routing.availability.state(operator)).chats == {chat_id}


async def test_nobody_available_makes_a_ticket_once_and_tells_the_customer(
    routing: Routing,
) -> None:
    chat_id = await routing.chat()
    assert await routing.router.route(chat_id) is Outcome.ticketed
    assert await routing.router.route(chat_id) is Outcome.still_waiting  # a redelivery
    [ticket] = routing.told.to(f"support:{chat_id}", "support:ticket")
    assert (ticket["status"], ticket["type"], ticket["queue_position"]) == (
        "PENDING",
        "TICKET",
        1,
    )
    assert routing.woken  # the relay was told a notice is owed


async def test_the_same_job_delivered_twice_at_once_assigns_once_and_holds_one_slot(
    routing: Routing,
) -> None:
    operator = await routing.operator()
    chat_id = await routing.chat()
    outcomes = await asyncio.gather(*(routing.router.route(chat_id) for _ in range(5)))
    assert outcomes.count(Outcome.assigned) == 1
    chat = await routing.store.get(chat_id)
    assert chat is not None
    assert [e.decision for e in chat.routing].count(Decision.assigned) == 1
    state = await routing.availability.state(operator)
    assert (state.chats, state.holds) == (frozenset({chat_id}), 0)


async def test_many_chats_at_once_never_exceed_any_operators_capacity(routing: Routing) -> None:
    operators = [await routing.operator() for _ in range(3)]
    chats = [await routing.chat() for _ in range(10)]
    outcomes = await asyncio.gather(*(routing.router.route(c) for c in chats))
    assert outcomes.count(Outcome.assigned) == 6
    assert outcomes.count(Outcome.ticketed) == 4
    loads = await routing.store.open_chats_by_operator()
    assert sorted(len(loads[op]) for op in operators) == [2, 2, 2]


async def test_a_redelivery_after_a_worker_died_past_the_write_counts_the_slot(
    routing: Routing,
) -> None:
    operator = await routing.operator()
    chat_id = await routing.chat()
    await routing.router.route(chat_id)
    await routing.availability.release(operator, chat_id)  # as if never confirmed
    assert await routing.router.route(chat_id) is Outcome.settled
    assert (await routing.availability.state(operator)).chats == {chat_id}


async def test_the_sweep_offers_free_slots_to_the_oldest_waiting_tickets(
    routing: Routing,
) -> None:
    chats = sorted([await routing.chat() for _ in range(3)])
    for chat_id in chats:
        await routing.router.route(chat_id)
    for job in await routing.store.claim_jobs(100, timedelta(seconds=30)):
        await routing.store.finish_jobs([job], published=True)
    await routing.operator()  # capacity 2
    offered = await routing.router.sweep()
    assert offered == chats[:2]


async def test_the_outbox_publishes_routing_jobs_and_ticket_notices(routing: Routing) -> None:
    queue = MemoryQueue()
    relay = OutboxRelay(queue, [SupportOutbox(routing.store)])
    chat_id = await routing.chat()
    assert await relay.run_once() == 1
    await routing.router.route(chat_id)  # nobody online: a ticket, and a notice owed
    assert await relay.run_once() == 1
    assert await relay.run_once() == 0  # each published once
    received: dict[str, list[Delivery]] = {SUPPORT_ROUTING: [], NOTIFY: []}
    done = asyncio.Event()

    async def keep(delivery: Delivery) -> None:
        received[delivery.queue].append(delivery)
        if all(received.values()):
            done.set()

    consumers = [await queue.consume(name, keep) for name in received]
    await asyncio.wait_for(done.wait(), 10)
    for consumer in consumers:
        await consumer.stop()
    assert received[SUPPORT_ROUTING][0].json() == {"type": "support.route", "chat_id": chat_id}
    notice = received[NOTIFY][0].json()
    assert (notice["type"], notice["chat_id"]) == ("support.ticket_created", chat_id)
    assert notice["preview"] == "Hello?"
    assert notice["customer_name"] == "Sara"
    assert received[NOTIFY][0].message_id == f"ticket_created:{chat_id}"


async def test_an_assignment_and_an_operator_reply_each_owe_the_notifier_a_job(
    routing: Routing,
) -> None:
    queue = MemoryQueue()
    relay = OutboxRelay(queue, [SupportOutbox(routing.store)])
    operator = await routing.operator()
    chat_id = await routing.chat()
    await routing.router.route(chat_id)
    reply = operator_message(operator, "We are on it", "o-1")
    await routing.store.append_message(
        chat_id, reply, statuses=frozenset({ChatStatus.OPEN}), operator_id=operator
    )
    assert await relay.run_once() == 2  # two notices; the routing job went with the assignment
    received: list[Delivery] = []
    both = asyncio.Event()

    async def keep(delivery: Delivery) -> None:
        received.append(delivery)
        if len(received) == 2:
            both.set()

    consumer = await queue.consume(NOTIFY, keep)
    await asyncio.wait_for(both.wait(), 10)
    await consumer.stop()
    jobs = {delivery.json()["type"]: delivery.json() for delivery in received}
    assigned = jobs["support.chat_assigned"]
    replied = jobs["support.operator_replied"]
    assert (assigned["chat_id"], assigned["operator_id"]) == (chat_id, operator)
    assert (replied["message_id"], replied["preview"]) == (reply.id, "We are on it")
    chat = await routing.store.get(chat_id)
    assert chat is not None
    assert replied["customer_id"] == chat.customer.id


async def test_the_sweep_brings_presence_loads_back_to_what_the_store_says(
    routing: Routing,
) -> None:
    operator = await routing.operator()
    kept, closed = await routing.chat(), await routing.chat()
    await routing.router.route(kept)
    await routing.router.route(closed)
    await routing.store.close(
        closed, operator, RoutingEntry(at=now(), decision=Decision.closed)
    )  # closed, but the process died before giving the slot back
    await routing.availability.release(operator, kept)  # and a slot lost the other way
    assert await routing.router.reconcile_loads() == 2
    assert (await routing.availability.state(operator)).chats == {kept}
    assert await routing.router.reconcile_loads() == 0
