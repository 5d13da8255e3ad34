"""Where the queues run: the runner, the gateway's lifespan and its readiness probe."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from goftogu.gateway import Gateway, create_gateway
from goftogu.notifications.jobs import NOTIFY
from goftogu.queueing import Subscription
from goftogu.queueing.memory import MemoryQueue
from goftogu.queueing.outbox import RelationalOutbox, add_to_outbox
from goftogu.queueing.relay import OutboxRelay
from goftogu.queueing.runner import Runner
from goftogu.settings import Settings
from goftogu.storage.database import Database
from tests.conftest import make_settings
from tests.e2e.servers import free_port
from tests.helpers.queues import Recorder, outbox_writer
from tests.helpers.waiting import eventually

# The embedded gateway consumes its domains' queues (`notify` has the notifier):
# jobs that must stay queued for these tests go to a queue nobody consumes.
UNCONSUMED = "test.unconsumed"


async def test_a_runner_hands_outbox_jobs_to_its_subscriptions_until_it_stops(
    database: Database,
) -> None:
    queue = MemoryQueue()
    received = Recorder()
    relay = OutboxRelay(queue, [RelationalOutbox(database)], sweep_seconds=3600)
    runner = Runner(queue, [Subscription(NOTIFY, received, prefetch=4)], relay)
    await runner.start()
    async with outbox_writer(database, relay).transaction() as work:
        await add_to_outbox(work, NOTIFY, {"type": "ticket"}, message_id="job-1")
    await eventually(lambda: len(received.deliveries) == 1)

    await runner.stop()
    await queue.publish(NOTIFY, {"type": "ticket"}, message_id="job-2")

    assert [d.message_id for d in received.deliveries] == ["job-1"]
    assert await queue.depth(NOTIFY) == 1  # waits for the next start


async def test_the_embedded_gateway_relays_committed_jobs_into_its_queue(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    container = gateway.container
    async with container.work.transaction() as work:
        await add_to_outbox(work, UNCONSUMED, {"type": "ticket"}, message_id="from-request")

    await eventually(lambda: _depth(gateway, UNCONSUMED, 1))
    metrics = (await client.get("/metrics")).text
    assert 'goftogu_outbox_published_total{source="outbox"}' in metrics


async def test_an_embedded_gateway_that_restarts_replays_jobs_its_queue_lost(
    settings: Settings,
) -> None:
    first = create_gateway(settings)
    async with first.api.router.lifespan_context(first.api):
        async with first.container.work.transaction() as work:
            await add_to_outbox(work, UNCONSUMED, {"type": "ticket"}, message_id="lost")
        await eventually(lambda: _depth(first, UNCONSUMED, 1))
    # The process stopped with the message still in its in-process queue.

    second = create_gateway(settings)
    async with second.api.router.lifespan_context(second.api):
        await eventually(lambda: _depth(second, UNCONSUMED, 1))


async def _depth(gateway: Gateway, queue: str, expected: int) -> bool:
    return await gateway.container.queue.depth(queue) == expected


async def _readyz(settings: Settings) -> httpx.Response:
    gateway = create_gateway(settings)
    async with gateway.api.router.lifespan_context(gateway.api):
        transport = httpx.ASGITransport(app=gateway.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/readyz")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_readyz_reports_a_reachable_broker_as_ready(
    database_url: str, broker_url: str, tmp_path: Path
) -> None:
    response = await _readyz(make_settings(database_url, tmp_path, broker_url=broker_url))

    assert response.status_code == 200
    assert response.json()["backends"]["queue"]["status"] == "ok"
    assert response.json()["backends"]["queue"]["backend"] == "rabbitmq"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_readyz_names_the_queue_when_the_broker_cannot_be_reached(
    database_url: str, tmp_path: Path
) -> None:
    unreachable = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    response = await _readyz(make_settings(database_url, tmp_path, broker_url=unreachable))

    assert response.status_code == 503
    assert response.json()["failing"] == ["queue"]
