"""SLA timers end to end (issue 18, item 4): `goftogu serve` and `goftogu worker`
over PostgreSQL, FerretDB (documents), Redis and RabbitMQ. A team's first-response
warning reaches its operators' console once, and stays once across a worker
killed and replaced (the marks are in the document); the breach follows, once."""

from __future__ import annotations

import signal
import uuid
from collections.abc import AsyncIterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import service_url
from tests.e2e.clients import connect
from tests.e2e.support_stack import (
    client_of,
    drop_postgres,
    drop_queues,
    fresh_postgres,
    running_desk,
    stack_env,
    wait_for_log,
)
from tests.e2e.test_support_desk import _drop_mongo, _reset_redis, about
from tests.helpers.api import API, login, visitor
from tests.helpers.desk import start_chat

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis, pytest.mark.rabbitmq]


@pytest.fixture
async def database_of_test() -> AsyncIterator[str]:
    url = await fresh_postgres("sla")
    yield url
    await drop_postgres(url)


@pytest.mark.mongodb
async def test_an_sla_warning_fires_once_across_a_worker_restart_and_the_breach_follows(
    database_of_test: str, tmp_path: Path
) -> None:
    redis_url, broker_url = service_url("redis"), service_url("rabbitmq")
    await _reset_redis(redis_url)
    mongo_name = f"goftogu_e2e_sla_{uuid.uuid4().hex[:8]}"
    mongo_url = service_url("mongodb").rstrip("/").rsplit("/", 1)[0] + f"/{mongo_name}"
    env = stack_env(
        database_of_test,
        redis_url,
        broker_url,
        mongo_url,
        GOFTOGU_SUPPORT_SLA_SWEEP_SECONDS="0.5",
    )
    try:
        with running_desk(env, tmp_path, workers=1) as desk, ExitStack() as later:
            [first] = desk.workers
            async with client_of(desk, timeout=30) as http:
                admin = await login(http, desk.admin)
                created = await http.post(
                    f"{API}/support/teams",
                    json={
                        "name": "Priority",
                        "topic": "priority",
                        # Warned from 3 s, breached at 9 s, whatever the hour.
                        "sla": {
                            "first_response_s": 9,
                            "warn_before_s": 6,
                            "business_hours": False,
                        },
                    },
                    headers=admin.headers,
                )
                assert created.status_code == 201, created.text
                team = created.json()
                operator = await desk.operator(http)
                joined = await http.put(
                    f"{API}/support/teams/{team['id']}/members/{operator.id}",
                    headers=admin.headers,
                )
                assert joined.status_code == 200, joined.text
                # Not online: the conversation waits; the team's room hears its SLA.
                console = await connect("python", desk.base_url, {"token": operator.access_token})
                try:
                    await wait_for_log(first, '"consuming"')
                    customer = await visitor(http, name="Arash")
                    chat = await start_chat(http, customer, "Urgent!", team="priority")

                    warned = await console.wait_for(
                        "support:sla",
                        lambda d: about(chat["id"])(d) and d["state"] == "warning",
                        timeout=30,
                    )
                    assert (warned["kind"], warned["team_id"]) == ("first_response", team["id"])
                    first.kill(signal.SIGKILL)
                    desk.start_worker(later, "second-worker")
                    other = await visitor(http, name="Bahar")
                    witness = await start_chat(http, other, "Also urgent", team="priority")

                    def fired(chat_id: str, state: str) -> Any:
                        return lambda d: about(chat_id)(d) and d["state"] == state

                    breached = await console.wait_for(
                        "support:sla", fired(chat["id"], "breached"), timeout=30
                    )
                    assert (breached["kind"], breached["sla_state"]) == (
                        "first_response",
                        "breached",
                    )
                    # The witness breaching later means the new worker swept the first
                    # conversation many times after its breach: still once each.
                    await console.wait_for("support:sla", fired(witness["id"], "breached"), 30)
                    told = [e for e in console.events("support:sla") if e["chat_id"] == chat["id"]]
                    assert [e["state"] for e in told] == ["warning", "breached"]

                    listed = await http.get(
                        f"{API}/support/chats", params={"sla": "breached"}, headers=admin.headers
                    )
                    assert {c["id"] for c in listed.json()["items"]} == {chat["id"], witness["id"]}
                    document: dict[str, Any] = (
                        await http.get(f"{API}/support/chats/{chat['id']}", headers=admin.headers)
                    ).json()
                    assert document["sla"]["marks"] == [
                        "first_response:breached",
                        "first_response:warning",
                    ]
                    mine = await http.get(
                        f"{API}/support/chats/{chat['id']}", headers=customer.headers
                    )
                    assert mine.json()["sla"] is None  # staff only
                finally:
                    await console.close()
    finally:
        await _drop_mongo(mongo_url, mongo_name)
        await drop_queues(broker_url, env["GOFTOGU_QUEUE_PREFIX"], ["support.routing", "notify"])
