"""Routing under load on real processes: 4 `goftogu worker`s, 10 operators with
capacity 3, 300 conversations started at once (P3, S5, S6), over PostgreSQL,
Redis and RabbitMQ.

The documents live in PostgreSQL here (the relational document store, a
supported production setting). FerretDB, the MongoDB-protocol server of the
test services, needs a lock per write (see ``store_mongo``) and took minutes
for the same run on a two-core machine while it kept its data in SQLite (it
runs on its PostgreSQL handler now; not measured here again). The store
contract suite races conversations on FerretDB too.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import run_blocking, service_url
from tests.e2e.clients import PyClient, connect
from tests.e2e.support_stack import (
    Desk,
    client_of,
    drop_postgres,
    drop_queues,
    fresh_postgres,
    running_desk,
    stack_env,
)
from tests.e2e.test_support_desk import _reset_redis
from tests.helpers.api import API, SignedIn, login, visitor
from tests.helpers.waiting import eventually

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.rabbitmq,
    pytest.mark.postgres,
]

OPERATORS, CAPACITY, CHATS, WORKERS = 10, 3, 300, 4


@pytest.fixture(scope="module")
def busy_desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    redis_url, broker_url = service_url("redis"), service_url("rabbitmq")
    run_blocking(_reset_redis(redis_url))
    postgres_url = run_blocking(fresh_postgres("load"))
    env = stack_env(
        postgres_url,
        redis_url,
        broker_url,
        GOFTOGU_OPERATOR_CAPACITY=str(CAPACITY),
        GOFTOGU_SUPPORT_SWEEP_SECONDS="5",
        GOFTOGU_LOG_LEVEL="WARNING",
    )
    workdir: Path = tmp_path_factory.mktemp("busy-desk")
    try:
        with running_desk(env, workdir, workers=WORKERS) as desk:
            yield desk
    finally:
        run_blocking(drop_postgres(postgres_url))
        run_blocking(
            drop_queues(broker_url, env["GOFTOGU_QUEUE_PREFIX"], ["support.routing", "notify"])
        )


async def every_chat(
    http: httpx.AsyncClient, admin: SignedIn, **filters: str
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, str] = {**filters, "limit": "100"}
    while True:
        page = (await http.get(f"{API}/support/chats", params=params, headers=admin.headers)).json()
        items.extend(page["items"])
        if not page["has_more"]:
            return items
        params["cursor"] = page["next_cursor"]


def most_at_once(intervals: list[tuple[datetime, datetime]]) -> int:
    """The most intervals open at one moment (a close and an open at the same
    instant do not overlap: the slot was released before it was taken again)."""
    points = sorted(
        [(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals],
        key=lambda point: (point[0], point[1]),
    )
    current = highest = 0
    for _, step in points:
        current += step
        highest = max(highest, current)
    return highest


async def test_three_hundred_intakes_are_routed_once_within_capacity_and_drained(
    busy_desk: Desk,
) -> None:
    async with client_of(busy_desk, timeout=60, connections=50) as http:
        admin = await login(http, busy_desk.admin)
        operators = [await busy_desk.operator(http) for _ in range(OPERATORS)]
        by_id = {operator.id: operator for operator in operators}
        for operator in operators:
            await http.put(
                f"{API}/support/presence", json={"status": "online"}, headers=operator.headers
            )
        consoles: list[PyClient] = [
            await connect("python", busy_desk.base_url, {"token": o.access_token})  # type: ignore[misc]
            for o in operators
        ]
        try:
            customers = await asyncio.gather(*(visitor(http) for _ in range(CHATS)))

            async def intake(customer: SignedIn) -> str:
                response = await http.post(
                    f"{API}/support/chats",
                    json={"client_id": "first", "body": "Help, please"},
                    headers=customer.headers,
                )
                assert response.status_code == 201, response.text
                chat_id: str = response.json()["id"]
                return chat_id

            chat_ids = await asyncio.gather(*(intake(c) for c in customers))
            assert len(set(chat_ids)) == CHATS

            # Every conversation ends assigned or ticketed; nobody above capacity.
            async def all_decided() -> list[dict[str, Any]] | None:
                chats = await every_chat(http, admin)
                decided = [c for c in chats if c["status"] == "OPEN" or c["type"] == "TICKET"]
                return chats if len(decided) == CHATS else None

            chats = await eventually(all_decided, timeout=180, what="every intake to be routed")
            live = Counter(c["operator_id"] for c in chats if c["status"] == "OPEN")
            assert sum(live.values()) == OPERATORS * CAPACITY
            assert set(live.values()) == {CAPACITY}
            assert sum(1 for c in chats if c["status"] == "PENDING") == CHATS - OPERATORS * CAPACITY

            # Operators close what they have; the waiting tickets are taken up as slots free.
            async def close(chat: dict[str, Any]) -> None:
                operator = by_id[chat["operator_id"]]
                answer = await http.post(
                    f"{API}/support/chats/{chat['id']}/close", headers=operator.headers
                )
                assert answer.status_code == 200, answer.text

            async def drained() -> bool:
                open_now = await every_chat(http, admin, status="OPEN")
                await asyncio.gather(*(close(chat) for chat in open_now))
                closed = await every_chat(http, admin, status="CLOSED")
                return len(closed) == CHATS

            await eventually(drained, timeout=300, what="every ticket to be taken up and closed")

            documents = [
                (await http.get(f"{API}/support/chats/{chat_id}", headers=admin.headers)).json()
                for chat_id in chat_ids
            ]
            for document in documents:
                decisions = [entry["decision"] for entry in document["routing"]]
                assert decisions.count("assigned") == 1, document["routing"]
            intervals: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
            for document in documents:
                intervals[document["operator_id"]].append(
                    (
                        datetime.fromisoformat(document["assigned_at"]),
                        datetime.fromisoformat(document["closed_at"]),
                    )
                )
            assert set(intervals) == set(by_id)
            assert max(most_at_once(spans) for spans in intervals.values()) <= CAPACITY

            async def every_assignment_announced() -> bool:
                told = [e["chat_id"] for c in consoles for e in c.events("support:assigned")]
                return len(told) >= CHATS

            await eventually(every_assignment_announced, what="every support:assigned event")
            told = Counter(e["chat_id"] for c in consoles for e in c.events("support:assigned"))
            assert set(told) == set(chat_ids)
            assert set(told.values()) == {1}
        finally:
            for console in consoles:
                await console.close()
