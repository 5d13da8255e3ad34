"""The support desk end to end on real processes (S3-S7): `goftogu serve` and
`goftogu worker` over PostgreSQL, FerretDB (documents), Redis and RabbitMQ, with
operators and customers on Socket.IO (the official JavaScript client too)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import run_blocking, service_url
from tests.e2e.clients import connect
from tests.e2e.support_stack import (
    Desk,
    client_of,
    drop_postgres,
    drop_queues,
    fresh_postgres,
    queued_messages,
    running_desk,
    stack_env,
)
from tests.helpers.api import API, visitor
from tests.helpers.desk import start_chat
from tests.helpers.waiting import eventually

pytestmark = [pytest.mark.redis, pytest.mark.rabbitmq, pytest.mark.mongodb, pytest.mark.postgres]


async def _reset_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    await client.flushdb()
    await client.aclose()


async def _drop_mongo(url: str, name: str) -> None:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    await client.drop_database(name)
    await client.close()


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    redis_url, broker_url = service_url("redis"), service_url("rabbitmq")
    run_blocking(_reset_redis(redis_url))
    postgres_url = run_blocking(fresh_postgres("desk"))
    mongo_name = f"goftogu_e2e_{uuid.uuid4().hex[:8]}"
    mongo_url = service_url("mongodb").rstrip("/").rsplit("/", 1)[0] + f"/{mongo_name}"
    env = stack_env(postgres_url, redis_url, broker_url, mongo_url)
    workdir: Path = tmp_path_factory.mktemp("support-desk")
    try:
        with running_desk(env, workdir) as running:
            yield running
    finally:
        run_blocking(drop_postgres(postgres_url))
        run_blocking(_drop_mongo(mongo_url, mongo_name))
        run_blocking(
            drop_queues(broker_url, env["GOFTOGU_QUEUE_PREFIX"], ["support.routing", "notify"])
        )


@pytest.fixture
async def http(desk: Desk) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(desk, timeout=20) as client:
        yield client


def about(chat_id: str) -> Any:
    return lambda data: data.get("chat_id") == chat_id


async def test_an_online_operator_gets_the_chat_live_over_socketio(
    desk: Desk, http: httpx.AsyncClient
) -> None:
    operator = await desk.operator(http)
    online = await http.put(
        f"{API}/support/presence",
        json={"status": "online", "accepting": True},
        headers=operator.headers,
    )
    assert online.status_code == 200
    console = await connect("js", desk.base_url, {"token": operator.access_token})
    customer = await visitor(http, name="Sara")
    widget = await connect("python", desk.base_url, {"token": customer.access_token})
    try:
        chat = await start_chat(http, customer, "My order never arrived")
        assigned = await console.wait_for("support:assigned", about(chat["id"]), timeout=30)
        assert assigned["operator_id"] == operator.id
        assert assigned["conversation"] == f"support:{chat['id']}"
        assert [m["body"] for m in assigned["chat"]["messages"]] == ["My order never arrived"]
        told = await widget.wait_for("support:assigned", about(chat["id"]), timeout=30)
        assert told["operator_id"] == operator.id
        queued = await console.wait_for("support:queue", about(chat["id"]), timeout=15)
        assert queued["change"] == "added"

        document = await http.get(f"{API}/support/chats/{chat['id']}", headers=customer.headers)
        assert (document.json()["status"], document.json()["type"]) == ("OPEN", "CHAT")

        # Both sides talk in the conversation's room from here on.
        sent = await widget.emit(
            "support:message", {"chat_id": chat["id"], "client_id": "c-2", "body": "Order 77"}
        )
        assert sent["ok"], sent
        heard = await console.wait_for(
            "support:message", lambda d: d["message"]["client_id"] == "c-2", timeout=15
        )
        assert (heard["seq"], heard["message"]["body"]) == (2, "Order 77")
        reply = await console.emit(
            "support:message", {"chat_id": chat["id"], "client_id": "o-1", "body": "Found it"}
        )
        assert reply["ok"], reply
        answer = await widget.wait_for(
            "support:message", lambda d: d["message"]["client_id"] == "o-1", timeout=15
        )
        assert answer["message"]["sender"] == {"kind": "operator", "id": operator.id}

        closed = await http.post(
            f"{API}/support/chats/{chat['id']}/close", headers=operator.headers
        )
        assert closed.json()["status"] == "CLOSED"
        await widget.wait_for("support:closed", about(chat["id"]), timeout=15)
    finally:
        await console.close()
        await widget.close()


async def test_with_nobody_online_the_chat_becomes_a_ticket_taken_up_when_an_operator_comes(
    desk: Desk, http: httpx.AsyncClient
) -> None:
    customer = await visitor(http, name="Dara", email="dara@example.com")
    widget = await connect("js", desk.base_url, {"token": customer.access_token})
    console = None
    try:
        chat = await start_chat(http, customer, "Is anyone there?")
        ticket = await widget.wait_for("support:ticket", about(chat["id"]), timeout=30)
        assert (ticket["status"], ticket["type"]) == ("PENDING", "TICKET")
        document = await http.get(f"{API}/support/chats/{chat['id']}", headers=customer.headers)
        assert (document.json()["status"], document.json()["type"]) == ("PENDING", "TICKET")

        seen: list[dict[str, Any]] = []

        async def notice_queued() -> dict[str, Any] | None:
            seen.extend(
                await queued_messages(desk.env["GOFTOGU_BROKER_URL"], desk.queue_prefix + "notify")
            )
            return next((n for n in seen if n.get("chat_id") == chat["id"]), None)

        # The relay publishes the notice for the operators right after the write.
        notice = await eventually(notice_queued, what="the ticket notice on the notify queue")
        assert notice["type"] == "support.ticket_created"
        assert (notice["customer_id"], notice["customer_name"]) == (customer.id, "Dara")
        assert notice["preview"] == "Is anyone there?"

        # S6b: it waits as a ticket until an operator takes it at the first chance.
        operator = await desk.operator(http)
        await http.put(
            f"{API}/support/presence", json={"status": "online"}, headers=operator.headers
        )
        console = await connect("python", desk.base_url, {"token": operator.access_token})
        taken = await console.wait_for("support:assigned", about(chat["id"]), timeout=30)
        assert taken["chat"]["type"] == "TICKET"
        await widget.wait_for("support:assigned", about(chat["id"]), timeout=15)
        await http.post(f"{API}/support/chats/{chat['id']}/close", headers=operator.headers)
    finally:
        await widget.close()
        if console is not None:
            await console.close()


async def test_bad_socket_input_is_answered_with_codes_and_the_socket_stays(
    desk: Desk, http: httpx.AsyncClient
) -> None:
    customer, stranger = await visitor(http), await visitor(http)
    chat = await start_chat(http, customer)
    theirs = await start_chat(http, stranger)
    widget = await connect("js", desk.base_url, {"token": customer.access_token})
    try:
        sent = [
            await widget.emit("support:message", payload)
            for payload in (
                {"chat_id": chat["id"], "client_id": "a", "body": "   "},
                {"chat_id": chat["id"], "client_id": "b", "body": "x" * 16_001},
                {"chat_id": str(uuid.uuid4()), "client_id": "c", "body": "hello"},
                {"chat_id": theirs["id"], "client_id": "d", "body": "let me in"},
                {"chat_id": chat["id"]},
            )
        ]
        assert [answer["error"]["code"] for answer in sent] == [
            "validation_error",
            "payload_too_large",
            "not_found",
            "not_found",
            "validation_error",
        ]
        fine = await widget.emit(
            "support:message", {"chat_id": chat["id"], "client_id": "e", "body": "still here"}
        )
        assert fine["ok"]
        assert fine["data"]["message"]["seq"] == 2
        mine = await http.get(f"{API}/support/chats/{chat['id']}", headers=customer.headers)
        others = await http.get(f"{API}/support/chats/{theirs['id']}", headers=stranger.headers)
        assert [m["body"] for m in mine.json()["messages"]] == ["Hello, I need help", "still here"]
        assert len(others.json()["messages"]) == 1
    finally:
        await widget.close()


async def test_a_customer_reconnecting_gets_the_messages_it_missed_once(
    desk: Desk, http: httpx.AsyncClient
) -> None:
    customer = await visitor(http)
    chat = await start_chat(http, customer)
    for index in (2, 3):
        posted = await http.post(
            f"{API}/support/chats/{chat['id']}/messages",
            json={"client_id": f"offline-{index}", "body": f"message {index}"},
            headers=customer.headers,
        )
        assert posted.json()["message"]["seq"] == index
    widget = await connect(
        "python",
        desk.base_url,
        {"token": customer.access_token, "cursors": {chat["conversation"]: 1}},
    )
    try:
        await widget.wait_for("support:message", lambda d: d["seq"] == 3, timeout=15)
        replayed = [
            e["seq"] for e in widget.events("support:message") if e["chat_id"] == chat["id"]
        ]
        assert replayed == [2, 3]
    finally:
        await widget.close()


async def test_waiting_customers_hear_their_queue_position_on_connect_and_when_it_moves(
    desk: Desk, http: httpx.AsyncClient
) -> None:
    customers = [await visitor(http, name=f"Waiting {i}") for i in range(3)]
    chats = [
        await start_chat(http, customer, f"In line {i}") for i, customer in enumerate(customers)
    ]
    widgets = [
        await connect("python", desk.base_url, {"token": customer.access_token})
        for customer in customers
    ]
    try:
        # On connect each widget hears where its conversation stands.
        first = [
            await widget.wait_for("support:queue_position", about(chat["id"]), timeout=15)
            for widget, chat in zip(widgets, chats, strict=True)
        ]
        positions = [told["position"] for told in first]
        assert positions[1] == positions[0] + 1
        assert positions[2] == positions[1] + 1
        for told in first:
            assert set(told) >= {"position", "estimated_wait_s", "estimate"}
            if told["estimated_wait_s"] is None:
                assert told["estimate"] in ("no_recent_service", "no_operator_available")
        document = await http.get(
            f"{API}/support/chats/{chats[2]['id']}", headers=customers[2].headers
        )
        assert document.json()["queue_position"] == positions[2]

        # The first one is taken: the two behind it move up, and only they are told.
        operator = await desk.operator(http)
        claimed = await http.post(
            f"{API}/support/chats/{chats[0]['id']}/claim", headers=operator.headers
        )
        assert claimed.status_code == 200, claimed.text
        for index in (1, 2):
            moved = await widgets[index].wait_for(
                "support:queue_position",
                lambda d, i=index: (
                    d["chat_id"] == chats[i]["id"] and d["position"] == positions[i] - 1
                ),
                timeout=15,
            )
            assert moved["position"] == positions[index] - 1
        await widgets[0].wait_for("support:assigned", about(chats[0]["id"]), timeout=15)
        assert len(widgets[0].events("support:queue_position")) == 1  # only on connect
        await http.post(f"{API}/support/chats/{chats[0]['id']}/close", headers=operator.headers)
    finally:
        for widget in widgets:
            await widget.close()


async def test_a_socket_support_message_with_unencodable_text_is_refused_and_not_stored(
    desk: Desk, http: httpx.AsyncClient
) -> None:
    customer = await visitor(http)
    chat = await start_chat(http, customer)
    widget = await connect("python", desk.base_url, {"token": customer.access_token})
    try:
        sent = [
            await widget.emit(
                "support:message", {"chat_id": chat["id"], "client_id": f"c{n}", "body": body}
            )
            for n, body in enumerate(["x\ud800", "x\x00y", "x\x1by"])
        ]
        assert [answer["error"]["code"] for answer in sent] == ["validation_error"] * 3
        page = await http.get(f"{API}/support/chats/{chat['id']}", headers=customer.headers)
        assert page.status_code == 200, page.text
        assert [m["body"] for m in page.json()["messages"]] == ["Hello, I need help"]
    finally:
        await widget.close()


async def test_a_team_closed_now_makes_a_ticket_at_once_with_the_bilingual_auto_reply(
    desk: Desk, http: httpx.AsyncClient
) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from tests.helpers.api import login

    admin = await login(http, desk.admin)
    tehran = ZoneInfo("Asia/Tehran")
    today = datetime.now(tehran).date()
    every_day = {
        day: [{"start": "00:00", "end": "24:00"}]
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }
    created = await http.post(
        f"{API}/support/teams",
        json={
            "name": "Night desk",
            "topic": f"night-{uuid.uuid4().hex[:6]}",
            "overflow_seconds": 0,
            "hours": {
                "timezone": "Asia/Tehran",
                "weekly": every_day,
                "holidays": [today.isoformat()],
            },
        },
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text
    team = created.json()
    # An operator is online and overflow is immediate: only the hours keep it a ticket.
    operator = await desk.operator(http)
    await http.put(
        f"{API}/support/presence",
        json={"status": "online", "accepting": True},
        headers=operator.headers,
    )
    console = await connect("python", desk.base_url, {"token": operator.access_token})
    customer = await visitor(http, name="Nima")
    widget = await connect("js", desk.base_url, {"token": customer.access_token})
    try:
        chat = await start_chat(http, customer, "سلام، کسی هست؟", team=team["topic"])
        ticket = await widget.wait_for("support:ticket", about(chat["id"]), timeout=30)
        assert (ticket["status"], ticket["type"]) == ("PENDING", "TICKET")
        reply = await widget.wait_for(
            "support:message",
            lambda d: d["chat_id"] == chat["id"] and d["message"]["sender"]["kind"] == "system",
            timeout=15,
        )
        english, persian = reply["message"]["body"].split("\n")
        tomorrow = today + timedelta(days=1)
        assert f"{tomorrow.day} {tomorrow:%B %Y}, 00:00 (Asia/Tehran)" in english
        assert "زمان بازگشایی" in persian
        document = await http.get(f"{API}/support/chats/{chat['id']}", headers=customer.headers)
        body = document.json()
        assert (body["type"], body["operator_id"], body["team_id"]) == ("TICKET", None, team["id"])
        assert [m["sender"]["kind"] for m in body["messages"]] == ["customer", "system"]
        assert body["routing"] is None  # the desk's own log: not the customer's to read
        desk = await http.get(f"{API}/support/chats/{chat['id']}", headers=admin.headers)
        assert desk.json()["routing"][-1]["reason"].startswith("outside business hours; opens ")
        assert not [e for e in console.events("support:assigned") if e["chat_id"] == chat["id"]]
        await http.post(f"{API}/support/chats/{chat['id']}/close", headers=admin.headers)
    finally:
        await widget.close()
        await console.close()
