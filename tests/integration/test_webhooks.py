"""Webhooks over REST and to a real receiver on 127.0.0.1 (SQLite and PostgreSQL,
embedded queue): admins subscribe, every support activity arrives signed, once;
a failing endpoint is retried with backoff, then disabled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from goftogu.gateway import Gateway
from goftogu.settings import Settings
from tests.conftest import make_settings
from tests.helpers.api import API, SignedIn, staff, visitor
from tests.helpers.desk import available_operator, routed, start_chat
from tests.helpers.waiting import eventually
from tests.helpers.webhook_receiver import Receiver

HOOKS = f"{API}/admin/webhooks"
EVERY_EVENT = [
    "conversation.created",
    "conversation.assigned",
    "conversation.closed",
    "message.created",
    "csat.received",
    "conversation.reopened",
]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        webhook_allow_private_addresses=True,
        webhook_retry_base_seconds=0.5,
        webhook_retry_max_seconds=1.0,
        webhook_max_attempts=4,
        webhook_disable_after_failures=3,
        webhook_send_lease_seconds=5,
    )


async def subscribe(
    client: httpx.AsyncClient, admin: SignedIn, receiver: Receiver, events: list[str]
) -> dict[str, Any]:
    created = await client.post(
        HOOKS, json={"url": receiver.url, "events": events}, headers=admin.headers
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    receiver.secret = body["secret"]
    return body


async def deliveries(client: httpx.AsyncClient, admin: SignedIn, hook_id: str) -> list[Any]:
    log = await client.get(f"{HOOKS}/{hook_id}/deliveries", headers=admin.headers)
    assert log.status_code == 200, log.text
    items: list[Any] = log.json()["items"]
    return items


async def test_every_support_activity_reaches_the_receiver_signed_and_once(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    admin = await staff(gateway, client, "admin")
    async with Receiver() as receiver:
        hook = await subscribe(client, admin, receiver, EVERY_EVENT)
        assert hook["secret"].startswith("whsec_")
        operator = await available_operator(gateway, client)
        customer = await visitor(client, name="Sara")
        chat = await routed(client, customer, (await start_chat(client, customer))["id"])
        said = await client.post(
            f"{API}/support/chats/{chat['id']}/messages",
            json={"client_id": "m1", "body": "How can I help?"},
            headers=operator.headers,
        )
        assert said.status_code in (200, 201), said.text
        closed = await client.post(
            f"{API}/support/chats/{chat['id']}/close", headers=operator.headers
        )
        assert closed.status_code == 200, closed.text
        rated = await client.post(
            f"{API}/support/chats/{chat['id']}/csat", json={"score": 5}, headers=customer.headers
        )
        assert rated.status_code == 201, rated.text
        again = await client.post(
            f"{API}/support/chats/{chat['id']}/reopen", headers=operator.headers
        )
        assert again.status_code == 200, again.text

        # Reopened to the operator: it is theirs again (a second assignment).
        await eventually(lambda: len(receiver.received) >= 7, what="seven deliveries")
        log = await eventually(
            lambda: _all_delivered(client, admin, hook["id"], 7), what="the log to settle"
        )
        # Sent concurrently: the order of arrival is not the order of the changes.
        assert sorted(r.event_type for r in receiver.received) == sorted(
            [*EVERY_EVENT, "conversation.assigned"]
        )
        assert all(r.signed for r in receiver.received)
        assert set(receiver.counts().values()) == {1}
        assert {r.body["data"]["conversation"]["id"] for r in receiver.received} == {chat["id"]}
        message = receiver.of_type("message.created")[0].body["data"]["message"]
        assert (message["body"], message["seq"]) == ("How can I help?", 2)
        assert receiver.of_type("csat.received")[0].body["data"]["csat"]["score"] == 5
        assert (
            receiver.of_type("conversation.assigned")[0].body["data"]["conversation"]["operator_id"]
            == operator.id
        )
        assert all(r.body["id"] == r.event_id for r in receiver.received)
        assert [(d["status"], d["attempts"], d["response_status"]) for d in log] == [
            ("delivered", 1, 200)
        ] * 7
        listed = (await client.get(HOOKS, headers=admin.headers)).json()
        assert "secret" not in listed["items"][0]


async def _all_delivered(
    client: httpx.AsyncClient, admin: SignedIn, hook_id: str, count: int
) -> list[Any] | None:
    log = await deliveries(client, admin, hook_id)
    done = [d for d in log if d["status"] in ("delivered", "failed", "skipped")]
    return log if len(done) == count == len(log) else None


async def test_an_endpoint_answering_500_is_tried_again_until_it_answers_200(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    admin = await staff(gateway, client, "admin")
    async with Receiver(script=[500, 503]) as receiver:
        hook = await subscribe(client, admin, receiver, ["conversation.created"])
        customer = await visitor(client)
        await start_chat(client, customer)
        log = await eventually(
            lambda: _all_delivered(client, admin, hook["id"], 1), what="the retried delivery"
        )
        assert [r.attempt for r in receiver.received] == [1, 2, 3]
        assert len({r.delivery_id for r in receiver.received}) == 1
        assert len({r.event_id for r in receiver.received}) == 1
        assert (log[0]["status"], log[0]["attempts"], log[0]["response_status"]) == (
            "delivered",
            3,
            200,
        )
        listed = (await client.get(f"{HOOKS}/{hook['id']}", headers=admin.headers)).json()
        assert (listed["active"], listed["consecutive_failures"]) == (True, 0)


async def test_an_endpoint_that_keeps_failing_is_disabled_and_can_be_enabled_again(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    admin = await staff(gateway, client, "admin")
    async with Receiver(always=500) as receiver:
        hook = await subscribe(client, admin, receiver, ["conversation.created"])
        customer = await visitor(client)
        await start_chat(client, customer)

        async def disabled() -> dict[str, Any] | None:
            got = (await client.get(f"{HOOKS}/{hook['id']}", headers=admin.headers)).json()
            return got if not got["active"] else None

        off = await eventually(disabled, what="the subscription to be disabled")
        assert off["consecutive_failures"] == 3
        assert "3 failed tries in a row" in off["disabled_reason"]
        assert len(receiver.received) == 3
        log = await deliveries(client, admin, hook["id"])
        assert (log[0]["status"], log[0]["attempts"], log[0]["response_status"]) == (
            "failed",
            3,
            500,
        )
        # Disabled: new activity is not recorded for it.
        await start_chat(client, await visitor(client))
        assert len(await deliveries(client, admin, hook["id"])) == 1
        again = await client.patch(
            f"{HOOKS}/{hook['id']}", json={"active": True}, headers=admin.headers
        )
        assert again.status_code == 200, again.text
        assert (again.json()["active"], again.json()["consecutive_failures"]) == (True, 0)
        assert again.json()["disabled_reason"] is None


async def test_admins_manage_subscriptions_and_every_refusal_has_its_code(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    admin = await staff(gateway, client, "admin")
    operator = await staff(gateway, client, "operator")
    good = {"url": "https://hooks.example.com/goftogu", "events": ["message.created"]}
    refused = await client.post(HOOKS, json=good, headers=operator.headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_allowed")
    assert (await client.get(HOOKS, headers=operator.headers)).status_code == 403

    for url, reason in [
        ("ftp://hooks.example.com/x", "scheme"),
        ("https:///nohost", "no_host"),
        ("https://user:pw@hooks.example.com/", "credentials"),
        ("https://hooks.example.com/#frag", "fragment"),
        ("https://" + "a" * 2050 + ".com/", "too_long"),
    ]:
        bad = await client.post(HOOKS, json={**good, "url": url}, headers=admin.headers)
        assert bad.json()["error"]["code"] in ("invalid_webhook_url", "validation_error"), url
        if bad.json()["error"]["code"] == "invalid_webhook_url":
            assert bad.json()["error"]["details"]["reason"] == reason, url
    unknown = await client.post(
        HOOKS, json={**good, "events": ["message.deleted"]}, headers=admin.headers
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_webhook_event")
    empty = await client.post(HOOKS, json={**good, "events": []}, headers=admin.headers)
    assert empty.json()["error"]["code"] == "validation_error"
    assert (await client.get(HOOKS, headers=admin.headers)).json()["items"] == []

    ids = []
    for n in range(3):
        made = await client.post(
            HOOKS, json={**good, "description": f"hook {n}"}, headers=admin.headers
        )
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    first = (await client.get(HOOKS, params={"limit": 2}, headers=admin.headers)).json()
    assert [h["id"] for h in first["items"]] == ids[:2]
    assert first["has_more"] is True
    rest = await client.get(
        HOOKS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin.headers
    )
    assert [h["id"] for h in rest.json()["items"]] == ids[2:]
    garbage = await client.get(HOOKS, params={"cursor": "nonsense"}, headers=admin.headers)
    assert (garbage.status_code, garbage.json()["error"]["code"]) == (422, "validation_error")
    assert rest.json()["has_more"] is False
    assert rest.json()["next_cursor"] is None

    changed = await client.patch(
        f"{HOOKS}/{ids[0]}",
        json={"events": ["csat.received", "conversation.closed"], "active": False},
        headers=admin.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["events"] == ["conversation.closed", "csat.received"]
    assert changed.json()["active"] is False
    assert "secret" not in changed.json()
    rotated = await client.patch(
        f"{HOOKS}/{ids[0]}", json={"rotate_secret": True}, headers=admin.headers
    )
    assert rotated.json()["secret"].startswith("whsec_")
    bad_patch = await client.patch(
        f"{HOOKS}/{ids[0]}", json={"url": "gopher://x"}, headers=admin.headers
    )
    assert bad_patch.json()["error"]["code"] == "invalid_webhook_url"

    assert (await client.delete(f"{HOOKS}/{ids[0]}", headers=admin.headers)).status_code == 204
    gone = await client.get(f"{HOOKS}/{ids[0]}", headers=admin.headers)
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "not_found")
    nonsense = await client.delete(f"{HOOKS}/not-a-uuid", headers=admin.headers)
    assert nonsense.json()["error"]["code"] == "not_found"


async def test_private_addresses_are_refused_unless_the_setting_allows_them(
    database_url: str, tmp_path: Path
) -> None:
    from goftogu.errors import InvalidWebhookUrl
    from goftogu.webhooks.addresses import check_url

    for url in (
        "http://127.0.0.1:8080/x",
        "http://localhost/x",
        "http://api.localhost/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://[::ffff:192.168.0.1]/x",
        "http://0.0.0.0/x",
    ):
        with pytest.raises(InvalidWebhookUrl) as refused:
            check_url(url, allow_private=False)
        assert refused.value.details["reason"] == "private", url
        assert check_url(url, allow_private=True) == url
    assert check_url("https://hooks.example.com/x", allow_private=False)
