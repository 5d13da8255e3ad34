"""The outbox and its relay, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal

import pytest
from sqlalchemy import select

from goftogu.queueing import QueueMessage
from goftogu.queueing.memory import MemoryQueue
from goftogu.queueing.outbox import OutboxMessage, RelationalOutbox, add_to_outbox
from goftogu.queueing.rabbitmq import RabbitQueue
from goftogu.queueing.relay import OutboxRelay
from goftogu.storage.database import Database
from tests.e2e.servers import free_port
from tests.helpers.private_rabbit import PrivateRabbit
from tests.helpers.queues import Recorder, outbox_writer
from tests.helpers.waiting import eventually


class ChatOpened(QueueMessage):
    type: Literal["chat_opened"] = "chat_opened"
    chat_id: str


async def _rows(database: Database) -> list[OutboxMessage]:
    async with database.transaction() as session:
        return list((await session.scalars(select(OutboxMessage))).all())


async def test_the_relay_publishes_committed_rows_and_never_rolled_back_ones(
    database: Database,
) -> None:
    queue = MemoryQueue()
    relay = OutboxRelay(queue, [RelationalOutbox(database)])
    async with outbox_writer(database).transaction() as work:
        await add_to_outbox(work, "support.routing", ChatOpened(chat_id="kept"), message_id="a")

    async def failing_change() -> None:
        async with outbox_writer(database).transaction() as work:
            await add_to_outbox(work, "support.routing", ChatOpened(chat_id="gone"), message_id="b")
            raise RuntimeError("the change fails: the row goes with it")

    with pytest.raises(RuntimeError):
        await failing_change()

    assert await relay.run_once() == 1
    received = Recorder()
    await queue.consume("support.routing", received)
    await eventually(lambda: len(received.deliveries) == 1)
    assert received.deliveries[0].message_id == "a"
    assert received.deliveries[0].parse(ChatOpened) == ChatOpened(chat_id="kept")
    [row] = await _rows(database)
    assert row.message_id == "a"
    assert row.published_at is not None
    assert await relay.run_once() == 0  # published rows are not published again


async def test_a_message_id_is_written_to_the_outbox_once(database: Database) -> None:
    for _ in range(2):
        async with outbox_writer(database).transaction() as work:
            await add_to_outbox(work, "notify", {"type": "ticket"}, message_id="notify:t1")

    rows = await _rows(database)
    assert [row.message_id for row in rows] == ["notify:t1"]


async def test_a_delayed_row_is_not_published_before_it_is_due(database: Database) -> None:
    queue = MemoryQueue()
    relay = OutboxRelay(queue, [RelationalOutbox(database)])
    async with outbox_writer(database).transaction() as work:
        await add_to_outbox(work, "notify", {"type": "digest"}, delay=3600)

    assert await relay.run_once() == 0
    assert await queue.depth("notify") == 0
    [row] = await _rows(database)
    assert row.published_at is None


async def test_rows_are_published_in_the_order_they_were_written(database: Database) -> None:
    queue = MemoryQueue()
    relay = OutboxRelay(queue, [RelationalOutbox(database)], batch_size=7)
    for number in range(20):
        async with outbox_writer(database).transaction() as work:
            await add_to_outbox(work, "notify", {"n": number}, message_id=f"m{number:02}")

    assert await relay.run_once() == 20
    received = Recorder()
    await queue.consume("notify", received, prefetch=1)
    await eventually(lambda: len(received.deliveries) == 20)
    assert [d.message_id for d in received.deliveries] == [f"m{n:02}" for n in range(20)]


async def test_a_commit_of_outbox_rows_wakes_the_running_relay(database: Database) -> None:
    queue = MemoryQueue()
    # A sweep every hour: only the commit can make it publish during this test.
    relay = OutboxRelay(queue, [RelationalOutbox(database)], sweep_seconds=3600)
    relay.start()
    try:
        await eventually(lambda: relay.passes == 1)  # its first sweep found nothing
        async with outbox_writer(database, relay).transaction() as work:
            await add_to_outbox(work, "notify", {"type": "x"}, message_id="woken")
        await eventually(lambda: relay.published == 1)
        assert await queue.depth("notify") == 1
    finally:
        await relay.stop()


async def test_a_broker_that_cannot_be_reached_leaves_the_row_pending_with_the_error(
    database: Database,
) -> None:
    unreachable = RabbitQueue(f"amqp://guest:guest@127.0.0.1:{free_port()}/")
    relay = OutboxRelay(unreachable, [RelationalOutbox(database)])
    async with outbox_writer(database).transaction() as work:
        await add_to_outbox(work, "notify", {"type": "x"}, message_id="stuck")

    with pytest.raises(ConnectionError):
        await relay.run_once()

    [row] = await _rows(database)
    assert row.published_at is None
    assert row.attempts == 1
    assert row.last_error is not None
    assert "connect" in row.last_error
    await unreachable.close()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_relays_on_postgresql_share_the_rows_without_publishing_one_twice(
    database_url: str,
) -> None:
    writer = Database(database_url)
    async with outbox_writer(writer).transaction() as work:
        for number in range(300):
            await add_to_outbox(work, "notify", {"n": number}, message_id=f"row-{number}")
    await writer.close()
    queue = MemoryQueue()
    # Two processes' worth: each relay on its own engine and connections.
    databases = [Database(database_url), Database(database_url)]
    relays = [OutboxRelay(queue, [RelationalOutbox(db)], batch_size=10) for db in databases]
    try:
        counts = await asyncio.gather(*(relay.run_once() for relay in relays))
    finally:
        for db in databases:
            await db.close()

    received = Recorder()
    await queue.consume("notify", received, prefetch=50)
    await eventually(lambda: len(received.deliveries) == 300)
    ids = [delivery.message_id for delivery in received.deliveries]
    assert sorted(ids) == sorted(f"row-{n}" for n in range(300))
    assert sum(counts) == 300
    assert all(count > 0 for count in counts)  # both took part


@pytest.mark.slow
@pytest.mark.rabbitmq
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_the_relay_survives_the_broker_going_down_and_publishes_when_it_is_back(
    database: Database, tmp_path: Path
) -> None:
    if not PrivateRabbit.available():
        pytest.skip("rabbitmq-server is not installed (scripts/services up installs it)")
    rabbit = PrivateRabbit(tmp_path / "rabbit")
    await asyncio.to_thread(rabbit.start)
    queue, worker_queue = RabbitQueue(rabbit.url), RabbitQueue(rabbit.url)
    relay = OutboxRelay(
        queue,
        [RelationalOutbox(database)],
        sweep_seconds=0.2,
        retry_base_seconds=0.1,
        retry_max_seconds=1.0,
    )
    received = Recorder()
    try:
        await worker_queue.consume("notify", received)
        relay.start()
        async with outbox_writer(database).transaction() as work:
            await add_to_outbox(work, "notify", {"when": "before"}, message_id="before")
        await eventually(lambda: len(received.deliveries) == 1)

        await asyncio.to_thread(rabbit.stop)
        async with outbox_writer(database).transaction() as work:
            await add_to_outbox(work, "notify", {"when": "during"}, message_id="during")
        await eventually(lambda: _attempts_of(database, "during", at_least=1), timeout=90)
        [during] = [row for row in await _rows(database) if row.message_id == "during"]
        assert during.published_at is None

        await asyncio.to_thread(rabbit.start)
        await eventually(lambda: relay.published == 2, timeout=120)
        # The worker's consumer came back with the connection and takes it.
        await eventually(lambda: len(received.deliveries) == 2, timeout=60)
        assert [d.message_id for d in received.deliveries] == ["before", "during"]
        assert all(row.published_at is not None for row in await _rows(database))
    finally:
        await relay.stop()
        await queue.close()
        await worker_queue.close()
        await asyncio.to_thread(rabbit.stop)


async def _attempts_of(database: Database, message_id: str, *, at_least: int) -> bool:
    rows = [row for row in await _rows(database) if row.message_id == message_id]
    return bool(rows) and rows[0].attempts >= at_least
