"""Webhooks on real processes: `goftogu serve`, `goftogu worker` and `goftogu notifier`
over PostgreSQL, FerretDB, Redis and RabbitMQ, to a real receiver on 127.0.0.1. The
notifier is killed with SIGKILL while the receiver holds a delivery, then started
again: the receiver takes in every event exactly once."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from goftogu.storage.database import Database
from goftogu.webhooks.models import WebhookDelivery
from tests.conftest import service_url
from tests.e2e.servers import Process, goftogu_process
from tests.e2e.support_stack import (
    client_of,
    drop_postgres,
    drop_queues,
    fresh_postgres,
    running_desk,
    stack_env,
)
from tests.helpers.api import API, login, visitor
from tests.helpers.desk import start_chat
from tests.helpers.waiting import eventually
from tests.helpers.webhook_receiver import Received, Receiver

pytestmark = [pytest.mark.redis, pytest.mark.rabbitmq, pytest.mark.mongodb, pytest.mark.postgres]

CHATS = 6  # each: conversation.created, then one more message (message.created)
KILL_AT = 5  # the notifier dies while the receiver holds the 5th delivery


async def _drop_mongo(url: str, name: str) -> None:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    await client.drop_database(name)
    await client.close()


async def finished(database: Database, count: int) -> list[WebhookDelivery] | None:
    async with database.sessions() as session:
        rows = list(await session.scalars(select(WebhookDelivery)))
    return rows if len(rows) == count and all(r.status == "delivered" for r in rows) else None


@pytest.mark.slow
async def test_a_receiver_takes_in_every_event_exactly_once_across_a_notifier_kill(
    tmp_path: Path,
) -> None:
    redis_url, broker_url = service_url("redis"), service_url("rabbitmq")
    postgres_url = await fresh_postgres("webhooks")
    mongo_name = f"goftogu_e2e_{uuid.uuid4().hex[:8]}"
    mongo_url = service_url("mongodb").rstrip("/").rsplit("/", 1)[0] + f"/{mongo_name}"
    env = stack_env(
        postgres_url,
        redis_url,
        broker_url,
        mongo_url,
        GOFTOGU_WEBHOOK_ALLOW_PRIVATE_ADDRESSES="true",
        GOFTOGU_WEBHOOK_SEND_LEASE_SECONDS="2",
        GOFTOGU_WEBHOOK_RETRY_BASE_SECONDS="0.2",
        GOFTOGU_WEBHOOK_RETRY_MAX_SECONDS="1",
        GOFTOGU_WEBHOOK_TIMEOUT_SECONDS="10",
        # One send at a time, so that every delivery before the kill is settled.
        GOFTOGU_QUEUE_PREFETCH="1",
        GOFTOGU_OUTBOX_SWEEP_SECONDS="0.2",
    )
    database = Database(postgres_url)
    first: Process | None = None

    def kill_mid_run(got: Received) -> int | None:
        if first is not None and first.popen.poll() is None and len(receiver.received) == KILL_AT:
            first.kill()  # SIGKILL while the notifier waits for this answer
            return 503  # and this one is not taken in (nobody would read the answer)
        return None

    try:
        async with Receiver(on_delivery=kill_mid_run) as receiver:
            with running_desk(env, tmp_path) as desk:
                async with client_of(desk) as http:
                    admin = await login(http, desk.admin)
                    hook = await http.post(
                        f"{API}/admin/webhooks",
                        json={
                            "url": receiver.url,
                            "events": ["conversation.created", "message.created"],
                        },
                        headers=admin.headers,
                    )
                    assert hook.status_code == 201, hook.text
                    receiver.secret = hook.json()["secret"]
                    with goftogu_process(
                        "notifier", env=env, cwd=tmp_path, name="notifier-1"
                    ) as first:
                        for n in range(CHATS):
                            customer = await visitor(http, name=f"C{n}")
                            chat = await start_chat(http, customer, f"hello {n}")
                            more = await http.post(
                                f"{API}/support/chats/{chat['id']}/messages",
                                json={"client_id": f"more-{n}", "body": f"more {n}"},
                                headers=customer.headers,
                            )
                            assert more.status_code in (200, 201), more.text
                        await eventually(
                            lambda: first is not None and first.popen.poll() is not None,
                            timeout=60,
                            what="the notifier to be killed",
                        )
                        assert first.popen.returncode == -9
                    assert len(receiver.received) == KILL_AT
                    with goftogu_process(
                        "notifier", env=env, cwd=tmp_path, name="notifier-2"
                    ) as second:
                        rows = await eventually(
                            lambda: finished(database, 2 * CHATS),
                            timeout=90,
                            what="every delivery to be delivered",
                        )
                        assert second.popen.poll() is None, second.log()
    finally:
        await database.close()
        await drop_postgres(postgres_url)
        await _drop_mongo(mongo_url, mongo_name)
        await drop_queues(
            broker_url, env["GOFTOGU_QUEUE_PREFIX"], ["support.routing", "notify", "webhooks"]
        )

    accepted = receiver.accepted()
    events = {str(row.event_id) for row in rows}
    assert len(events) == 2 * CHATS
    assert set(accepted) == events  # every event taken in...
    assert set(accepted.values()) == {1}  # ...exactly once
    assert all(r.signed for r in receiver.received)
    # The one the kill interrupted came again, with the same ids, on its second try.
    interrupted = [r for r in rows if r.attempts > 1]
    assert len(interrupted) == 1
    again = [r for r in receiver.received if r.delivery_id == str(interrupted[0].id)]
    assert [(r.attempt, r.answered) for r in again] == [(1, 503), (2, 200)]
    assert len(receiver.received) == 2 * CHATS + 1
    types = sorted(r.event_type for r in receiver.received if r.answered == 200)
    assert types == ["conversation.created"] * CHATS + ["message.created"] * CHATS
