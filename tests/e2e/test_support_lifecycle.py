"""The lifecycle end to end (issue 18, item 6): `goftogu serve` and `goftogu worker`
over PostgreSQL, FerretDB (documents), Redis and RabbitMQ, on Socket.IO. A snooze
until a time is woken by the worker's sweep and the console hears both; the
customer's message soon after the close reopens the same conversation (their
widget hears `support:reopened`, the worker routes it back); sent to a team, the
widget hears `support:team`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

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


@pytest.mark.mongodb
async def test_snooze_wake_reopen_and_team_reach_the_sockets(tmp_path: Path) -> None:
    redis_url, broker_url = service_url("redis"), service_url("rabbitmq")
    await _reset_redis(redis_url)
    database = await fresh_postgres("lifecycle")
    mongo_name = f"goftogu_e2e_life_{uuid.uuid4().hex[:8]}"
    mongo_url = service_url("mongodb").rstrip("/").rsplit("/", 1)[0] + f"/{mongo_name}"
    env = stack_env(
        database,
        redis_url,
        broker_url,
        mongo_url,
        GOFTOGU_SUPPORT_SWEEP_SECONDS="0.5",
        GOFTOGU_SUPPORT_REOPEN_WINDOW_SECONDS="600",
    )
    try:
        with running_desk(env, tmp_path, workers=1) as desk:
            [worker] = desk.workers
            async with client_of(desk, timeout=30) as http:
                admin = await login(http, desk.admin)
                operator = await desk.operator(http)
                online = await http.put(
                    f"{API}/support/presence",
                    json={"status": "online", "accepting": True},
                    headers=operator.headers,
                )
                assert online.status_code == 200
                console = await connect("python", desk.base_url, {"token": operator.access_token})
                customer = await visitor(http, name="Sara")
                widget = await connect("python", desk.base_url, {"token": customer.access_token})
                try:
                    await wait_for_log(worker, '"consuming"')
                    chat = await start_chat(http, customer, "Where is my refund?")
                    first = await console.wait_for(
                        "support:assigned", about(chat["id"]), timeout=30
                    )
                    path = f"{API}/support/chats/{chat['id']}"

                    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
                    snoozed = await http.post(
                        f"{path}/snooze", json={"until": soon}, headers=operator.headers
                    )
                    assert snoozed.status_code == 200, snoozed.text
                    held = await console.wait_for(
                        "support:snoozed",
                        lambda d: about(chat["id"])(d) and d["reason"] == "snoozed",
                        timeout=15,
                    )
                    assert held["snooze"]["frees_slot"] is True
                    woken = await console.wait_for(
                        "support:snoozed",
                        lambda d: about(chat["id"])(d) and d["reason"] == "time",
                        timeout=30,
                    )
                    assert woken["snooze"] is None
                    assert widget.events("support:snoozed") == []  # staff only

                    closed = await http.post(f"{path}/close", headers=operator.headers)
                    assert closed.status_code == 200
                    written = await http.post(
                        f"{path}/messages",
                        json={"client_id": "again", "body": "Still nothing"},
                        headers=customer.headers,
                    )
                    assert written.json()["reopened"] is True, written.text
                    reopened = await widget.wait_for(
                        "support:reopened", about(chat["id"]), timeout=15
                    )
                    assert (reopened["status"], reopened["by"]["kind"]) == ("PENDING", "customer")
                    # The worker routes it again: the operator online takes it back (a
                    # second assignment; the routing log is staff only, read below).
                    again = await console.wait_for(
                        "support:assigned",
                        lambda d: about(chat["id"])(d) and d is not first,
                        timeout=30,
                    )
                    assert again["operator_id"] == operator.id

                    team = await http.post(
                        f"{API}/support/teams",
                        json={"name": "Refunds", "topic": "refunds"},
                        headers=admin.headers,
                    )
                    assert team.status_code == 201, team.text
                    sent = await http.post(
                        f"{path}/assign", json={"team_id": "refunds"}, headers=operator.headers
                    )
                    assert sent.status_code == 200, sent.text
                    moved = await widget.wait_for("support:team", about(chat["id"]), timeout=15)
                    assert (moved["team_id"], moved["previous_operator_id"]) == (
                        team.json()["id"],
                        operator.id,
                    )
                    document = (await http.get(path, headers=admin.headers)).json()
                    assert [e["decision"] for e in document["routing"]][:8] == [
                        "queued",
                        "assigned",
                        "snoozed",
                        "woken",
                        "closed",
                        "reopened",
                        "assigned",
                        "team_changed",
                    ]
                finally:
                    await console.close()
                    await widget.close()
    finally:
        await drop_postgres(database)
        await _drop_mongo(mongo_url, mongo_name)
        await drop_queues(broker_url, env["GOFTOGU_QUEUE_PREFIX"], ["support.routing", "notify"])
