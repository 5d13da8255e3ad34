"""The support desk under faults, on real processes: a worker killed mid-job,
the broker restarted during intake, Redis restarted under live operators.
Restarted services are private instances of the test (own ports, own data)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from goftogu.storage.database import create_engine
from tests.conftest import service_url
from tests.e2e.clients import connect
from tests.e2e.support_stack import (
    Desk,
    client_of,
    drop_postgres,
    drop_queues,
    fresh_postgres,
    running_desk,
    stack_env,
    wait_for_log,
)
from tests.e2e.test_support_desk import _reset_redis, about
from tests.helpers.api import API, SignedIn, visitor
from tests.helpers.desk import start_chat
from tests.helpers.private_rabbit import PrivateRabbit
from tests.helpers.private_redis import PrivateRedis
from tests.helpers.waiting import eventually

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

HOLDS = "goftogu:{{support}}:op:{}:holds"
CHATS = "goftogu:{{support}}:op:{}:chats"


@pytest.fixture
async def database_of_test(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    url = await fresh_postgres(request.node.name[5:30].replace("-", "_"))
    yield url
    await drop_postgres(url)


@pytest.fixture
async def shared_redis() -> str:
    url = service_url("redis")
    await _reset_redis(url)
    return url


async def online_operator(desk: Desk, http: httpx.AsyncClient) -> tuple[SignedIn, Any]:
    operator = await desk.operator(http)
    answer = await http.put(
        f"{API}/support/presence", json={"status": "online"}, headers=operator.headers
    )
    assert answer.status_code == 200, answer.text
    console = await connect("python", desk.base_url, {"token": operator.access_token})
    return operator, console


async def document(http: httpx.AsyncClient, user: SignedIn, chat_id: str) -> dict[str, Any]:
    answer = await http.get(f"{API}/support/chats/{chat_id}", headers=user.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


@pytest.mark.redis
@pytest.mark.rabbitmq
async def test_a_worker_killed_mid_job_leaves_it_to_another_that_assigns_it_once(
    database_of_test: str, shared_redis: str, tmp_path: Path
) -> None:
    broker_url = service_url("rabbitmq")
    env = stack_env(database_of_test, shared_redis, broker_url)
    engine = create_engine(database_of_test)
    redis = Redis.from_url(shared_redis, decode_responses=True)
    try:
        with running_desk(env, tmp_path, workers=1) as desk, ExitStack() as later:
            [first] = desk.workers
            async with client_of(desk, timeout=30) as http:
                operator, console = await online_operator(desk, http)
                await wait_for_log(first, '"consuming"')
                first.popen.send_signal(signal.SIGSTOP)  # it will take the job, then stall
                customer = await visitor(http)
                chat = await start_chat(http, customer)

                async def published() -> bool:
                    async with engine.connect() as connection:
                        token = await connection.scalar(
                            text("SELECT route_token FROM support_chats WHERE id = :id"),
                            {"id": chat["id"]},
                        )
                    return token is None

                await eventually(published, what="the routing job to be published")
                # Hold the document's row: the worker reserves the slot, then waits
                # on its write; that is where it dies.
                async with engine.connect() as blocker:
                    await blocker.begin()
                    await blocker.execute(
                        text("SELECT id FROM support_chats WHERE id = :id FOR UPDATE"),
                        {"id": chat["id"]},
                    )
                    first.popen.send_signal(signal.SIGCONT)

                    async def slot_held() -> bool:
                        return bool(await redis.zcard(HOLDS.format(operator.id)))

                    await eventually(slot_held, what="the worker to hold the operator's slot")
                    first.kill(signal.SIGKILL)
                    await blocker.rollback()

                desk.start_worker(later, "second-worker")
                told = await console.wait_for("support:assigned", about(chat["id"]), timeout=60)
                assert told["operator_id"] == operator.id
                after = await document(http, operator, chat["id"])  # the routing log is staff only
                assert (after["status"], after["operator_id"]) == ("OPEN", operator.id)
                assert [e["decision"] for e in after["routing"]].count("assigned") == 1
                # One slot, counted once: the dead worker's hold became the load.
                assert await redis.smembers(CHATS.format(operator.id)) == {chat["id"]}
                assert await redis.zcard(HOLDS.format(operator.id)) == 0
                assert len(console.events("support:assigned")) == 1
                await console.close()
    finally:
        await redis.aclose()
        await engine.dispose()
        await drop_queues(broker_url, env["GOFTOGU_QUEUE_PREFIX"], ["support.routing", "notify"])


@pytest.mark.redis
async def test_conversations_started_while_the_broker_restarts_are_all_routed(
    database_of_test: str, shared_redis: str, tmp_path: Path
) -> None:
    if not PrivateRabbit.available():
        pytest.skip("rabbitmq-server is not installed (scripts/services up installs it)")
    rabbit = PrivateRabbit(tmp_path / "rabbit")
    await asyncio.to_thread(rabbit.start)
    try:
        env = stack_env(database_of_test, shared_redis, rabbit.url)
        with running_desk(env, tmp_path, workers=1) as desk:
            async with client_of(desk, timeout=60) as http:
                customers = [await visitor(http) for _ in range(30)]

                async def intake(customer: SignedIn) -> str:
                    return str((await start_chat(http, customer))["id"])

                before = await asyncio.gather(*(intake(c) for c in customers[:10]))
                stopping = asyncio.create_task(asyncio.to_thread(rabbit.stop))
                during = await asyncio.gather(*(intake(c) for c in customers[10:20]))
                await stopping
                down = await asyncio.gather(*(intake(c) for c in customers[20:]))
                await asyncio.to_thread(rabbit.start)
                chats = list(zip(customers, [*before, *during, *down], strict=True))

                async def all_routed() -> bool:
                    documents = [await document(http, c, chat_id) for c, chat_id in chats]
                    return all(d["type"] == "TICKET" for d in documents)

                await eventually(all_routed, timeout=240, what="every conversation to be routed")
    finally:
        await asyncio.to_thread(rabbit.stop)


@pytest.mark.rabbitmq
async def test_after_redis_restarts_presence_and_loads_come_back(
    database_of_test: str, tmp_path: Path
) -> None:
    if not PrivateRedis.available():
        pytest.skip("redis-server is not installed (scripts/services up installs it)")
    private = PrivateRedis(tmp_path / "redis")
    private.start()
    broker_url = service_url("rabbitmq")
    env = stack_env(
        database_of_test,
        private.url,
        broker_url,
        GOFTOGU_OPERATOR_CAPACITY="2",
        GOFTOGU_OPERATOR_LEASE_SECONDS="3",
    )
    try:
        with running_desk(env, tmp_path, workers=1) as desk:
            async with client_of(desk, timeout=30) as http:
                operator, console = await online_operator(desk, http)
                customer = await visitor(http)
                first = await start_chat(http, customer)
                await console.wait_for("support:assigned", about(first["id"]), timeout=60)

                private.stop()
                private.start()  # empty: everything presence knew is gone

                async def rebuilt() -> dict[str, Any] | None:
                    answer = await http.get(f"{API}/support/presence", headers=operator.headers)
                    if answer.status_code != 200:
                        return None  # the gateway reconnecting to Redis
                    state: dict[str, Any] = answer.json()
                    return state if state["connected"] else None

                state = await eventually(rebuilt, timeout=60, what="presence to come back")
                # status from the database, the socket from the gateway's lease
                # renewal, the open chat from the store
                assert (state["status"], state["accepting"], state["load"]) == ("online", True, 1)

                second = await start_chat(http, await visitor(http))
                await console.wait_for("support:assigned", about(second["id"]), timeout=60)
                third_customer = await visitor(http)
                third = await start_chat(http, third_customer)

                async def decided() -> dict[str, Any] | None:
                    chat = await document(http, third_customer, third["id"])
                    return chat if chat["type"] == "TICKET" or chat["status"] == "OPEN" else None

                # Capacity 2 with the rebuilt load of 2: the third waits as a ticket.
                assert (await eventually(decided, timeout=60))["type"] == "TICKET"
                await console.close()
    finally:
        private.stop()
        await drop_queues(broker_url, env["GOFTOGU_QUEUE_PREFIX"], ["support.routing", "notify"])
