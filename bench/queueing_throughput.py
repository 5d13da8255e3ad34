"""Queue throughput: publish with confirms, consume with acks, and the outbox relay.

    set -a; eval "$(scripts/services env)"; set +a
    .venv/bin/python bench/queueing_throughput.py [--messages 5000] [--rows 5000]

Measures, for RabbitMQ (GOFTOGU_BROKER_URL) and the in-process queue:
- publish, one message at a time (each waits for its broker confirm);
- publish, pipelined (up to 100 confirms outstanding);
- consume with manual ack (prefetch 100, a handler that does nothing);
and the relay's rows/s out of PostgreSQL (GOFTOGU_DATABASE_URL; a scratch
database ``goftogu_bench_queue`` is made and dropped) into each queue.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid

import asyncpg
from sqlalchemy.engine import make_url

from goftogu.bus import Handlers
from goftogu.queueing import Delivery, Queue
from goftogu.queueing.memory import MemoryQueue
from goftogu.queueing.outbox import RelationalOutbox, add_to_outbox
from goftogu.queueing.rabbitmq import RabbitQueue
from goftogu.queueing.relay import OutboxRelay
from goftogu.storage.database import Database
from goftogu.storage.schema import upgrade_to_head
from goftogu.storage.work import UnitsOfWork

BODY = {"type": "route_chat", "chat_id": "0190f5a0-0000-7000-8000-000000000000"}
WINDOW = 100


async def publish_sequential(queue: Queue, name: str, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        await queue.publish(name, BODY)
    return count / (time.perf_counter() - started)


async def publish_pipelined(queue: Queue, name: str, count: int) -> float:
    started = time.perf_counter()
    for offset in range(0, count, WINDOW):
        batch = min(WINDOW, count - offset)
        await asyncio.gather(*(queue.publish(name, BODY) for _ in range(batch)))
    return count / (time.perf_counter() - started)


async def consume_all(queue: Queue, name: str, count: int) -> float:
    done = asyncio.Event()
    seen = 0

    async def handle(delivery: Delivery) -> None:
        nonlocal seen
        seen += 1
        if seen == count:
            done.set()

    started = time.perf_counter()
    consumer = await queue.consume(name, handle, prefetch=100)
    await done.wait()
    elapsed = time.perf_counter() - started
    await consumer.stop()
    return count / elapsed


async def bench_queue(label: str, queue: Queue, count: int) -> None:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    sequential = await publish_sequential(queue, name, count)
    pipelined = await publish_pipelined(queue, name, count)
    consumed = await consume_all(queue, name, 2 * count)
    print(
        f"{label:>10}: publish {sequential:9,.0f} msg/s one at a time, "
        f"{pipelined:9,.0f} msg/s pipelined; consume+ack {consumed:9,.0f} msg/s"
    )
    if isinstance(queue, RabbitQueue):
        await delete_rabbit_queues(queue, name)


async def delete_rabbit_queues(queue: RabbitQueue, name: str) -> None:
    import aio_pika

    connection = await aio_pika.connect(os.environ["GOFTOGU_BROKER_URL"])
    channel = await connection.channel()
    for suffix in ("", ".dead"):
        await channel.queue_delete(queue.physical(name) + suffix)
    await connection.close()


async def scratch_database(server_url: str) -> str:
    url = make_url(server_url)
    connection = await asyncpg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database="postgres",
    )
    await connection.execute('DROP DATABASE IF EXISTS "goftogu_bench_queue" WITH (FORCE)')
    await connection.execute('CREATE DATABASE "goftogu_bench_queue"')
    await connection.close()
    return url.set(database="goftogu_bench_queue").render_as_string(hide_password=False)


async def bench_relay(label: str, database: Database, queue: Queue, rows: int) -> None:
    name = f"bench-relay-{uuid.uuid4().hex[:8]}"
    async with UnitsOfWork(database, Handlers().build()).transaction() as work:
        for _ in range(rows):
            await add_to_outbox(work, name, BODY)
    relay = OutboxRelay(queue, [RelationalOutbox(database)], batch_size=100)
    started = time.perf_counter()
    published = await relay.run_once()
    elapsed = time.perf_counter() - started
    assert published == rows, (published, rows)
    print(f"{label:>10}: relay {rows / elapsed:9,.0f} rows/s (PostgreSQL -> queue, batches of 100)")
    if isinstance(queue, RabbitQueue):
        await delete_rabbit_queues(queue, name)


async def main(messages: int, rows: int) -> None:
    broker_url = os.environ["GOFTOGU_BROKER_URL"]
    print(f"{os.cpu_count()} CPUs; {messages} messages, {rows} outbox rows")
    await bench_queue("in-process", MemoryQueue(), messages)
    rabbit = RabbitQueue(broker_url)
    await bench_queue("rabbitmq", rabbit, messages)

    url = await scratch_database(os.environ["GOFTOGU_DATABASE_URL"])
    database = Database(url)
    await upgrade_to_head(database.engine)
    try:
        await bench_relay("in-process", database, MemoryQueue(), rows)
        await bench_relay("rabbitmq", database, rabbit, rows)
    finally:
        await database.close()
        await rabbit.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rows", type=int, default=5000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.messages, arguments.rows))
