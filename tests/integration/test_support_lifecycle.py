"""A conversation's lifecycle by hand over REST (issue 18, item 6), on SQLite and
PostgreSQL: reopen (by staff, and by the customer's message within the window),
snooze until a time or the customer's message (the slot given back meanwhile),
assign to an operator or a team; each in the routing log, authorised, and bad
input refused with a stable code and nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from goftogu.gateway import Gateway
from goftogu.settings import Settings
from tests.conftest import make_settings
from tests.helpers.api import API, SignedIn, staff, visitor
from tests.helpers.desk import available_operator, chat_of, routed, start_chat
from tests.helpers.waiting import eventually
from tests.integration.test_support_teams import join, new_team

WINDOW = 3600


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, support_reopen_window_seconds=WINDOW)


async def post(client: httpx.AsyncClient, user: SignedIn, path: str, **body: Any) -> httpx.Response:
    return await client.post(f"{API}/support/chats/{path}", json=body, headers=user.headers)


def refused(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def load_of(client: httpx.AsyncClient, operator: SignedIn) -> int:
    presence = await client.get(f"{API}/support/presence", headers=operator.headers)
    load: int = presence.json()["load"]
    return load


def decisions(chat: dict[str, Any]) -> list[str]:
    return [entry["decision"] for entry in chat["routing"]]


async def taken_chat(
    gateway: Gateway, client: httpx.AsyncClient, operator: SignedIn | None = None
) -> tuple[SignedIn, SignedIn, dict[str, Any]]:
    operator = operator or await available_operator(gateway, client)
    customer = await visitor(client)
    chat = await routed(client, customer, (await start_chat(client, customer))["id"])
    assert (chat["status"], chat["operator_id"]) == ("OPEN", operator.id)
    return operator, customer, chat


async def test_an_operator_reopens_a_closed_conversation_and_it_is_theirs(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator, customer, chat = await taken_chat(gateway, client)
    still_open = await post(client, operator, f"{chat['id']}/reopen")
    assert refused(still_open) == (409, "chat_not_closed")
    assert (await post(client, operator, f"{chat['id']}/close")).status_code == 200
    assert await load_of(client, operator) == 0

    assert refused(await post(client, customer, f"{chat['id']}/reopen")) == (403, "not_allowed")
    reopened = await post(client, operator, f"{chat['id']}/reopen")
    assert reopened.status_code == 200, reopened.text
    body = reopened.json()
    assert (body["status"], body["operator_id"], body["closed_at"]) == ("OPEN", operator.id, None)
    assert decisions(body)[-2:] == ["closed", "reopened"]
    assert body["routing"][-1]["by"] == {"kind": "operator", "id": operator.id}
    assert await load_of(client, operator) == 1
    # The operator writes in it again.
    answer = await post(client, operator, f"{chat['id']}/messages", client_id="r1", body="Back")
    assert answer.status_code == 201, answer.text


async def test_only_staff_of_its_team_or_admins_reopen_a_teams_conversation(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    admin = await staff(gateway, client, "admin")
    team = await new_team(client, admin, "billing")
    member = await available_operator(gateway, client)
    await join(client, admin, team, member)
    customer = await visitor(client)
    chat = await routed(
        client, customer, (await start_chat(client, customer, team="billing"))["id"]
    )
    assert chat["operator_id"] == member.id
    assert (await post(client, member, f"{chat['id']}/close")).status_code == 200

    outsider = await staff(gateway, client, "operator")
    assert refused(await post(client, outsider, f"{chat['id']}/reopen")) == (403, "not_allowed")
    assert (await chat_of(client, admin, chat["id"]))["status"] == "CLOSED"  # nothing stored
    reopened = await post(client, admin, f"{chat['id']}/reopen")
    assert (reopened.status_code, reopened.json()["operator_id"]) == (200, admin.id)


async def test_a_customers_message_soon_after_the_close_reopens_the_same_conversation(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator, customer, chat = await taken_chat(gateway, client)
    assert (await post(client, operator, f"{chat['id']}/close")).status_code == 200
    written = await post(client, customer, f"{chat['id']}/messages", client_id="m2", body="Hi?")
    assert written.status_code == 201, written.text
    answer = written.json()
    assert (answer["chat_id"], answer["reopened"], answer["new_conversation"]) == (
        chat["id"],
        True,
        False,
    )
    assert answer["message"]["seq"] == 2
    # Waiting again, routed again: the operator online takes it.
    again = await routed(client, operator, chat["id"])
    assert (again["status"], again["operator_id"]) == ("OPEN", operator.id)
    assert decisions(again)[-3:] == ["closed", "reopened", "assigned"]
    assert again["routing"][-2]["by"] == {"kind": "customer", "id": customer.id}
    retry = await post(client, customer, f"{chat['id']}/messages", client_id="m2", body="Hi?")
    assert (retry.status_code, retry.json()["message"]["seq"]) == (200, 2)
    listed = await client.get(f"{API}/support/chats", headers=customer.headers)
    assert [c["id"] for c in listed.json()["items"]] == [chat["id"]]


async def test_a_snooze_frees_the_slot_until_the_customer_writes(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator, customer, chat = await taken_chat(gateway, client)
    snoozed = await post(client, operator, f"{chat['id']}/snooze")
    assert snoozed.status_code == 200, snoozed.text
    assert snoozed.json()["snooze"]["until"] is None
    assert snoozed.json()["snooze"]["frees_slot"] is True
    assert decisions(snoozed.json())[-1] == "snoozed"
    assert await load_of(client, operator) == 0
    mine = await chat_of(client, customer, chat["id"])
    assert mine["snooze"] is None  # staff only
    listed = await client.get(
        f"{API}/support/chats", params={"snoozed": "true"}, headers=operator.headers
    )
    assert [c["id"] for c in listed.json()["items"]] == [chat["id"]]
    assert listed.json()["items"][0]["snooze"]["frees_slot"] is True
    theirs = await client.get(
        f"{API}/support/chats", params={"snoozed": "true"}, headers=customer.headers
    )
    assert refused(theirs) == (403, "not_allowed")

    written = await post(client, customer, f"{chat['id']}/messages", client_id="m2", body="Back")
    assert written.status_code == 201, written.text
    woken = await chat_of(client, operator, chat["id"])
    assert (woken["snooze"], woken["status"], woken["operator_id"]) == (None, "OPEN", operator.id)
    assert woken["routing"][-1]["decision"] == "woken"
    assert woken["routing"][-1]["reason"] == "reply"
    assert await load_of(client, operator) == 1


async def test_a_snooze_until_a_time_is_woken_by_the_sweep(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator, _, chat = await taken_chat(gateway, client)
    soon = datetime.now(UTC) + timedelta(seconds=1)
    snoozed = await post(client, operator, f"{chat['id']}/snooze", until=soon.isoformat())
    assert snoozed.status_code == 200, snoozed.text

    async def woken() -> dict[str, Any] | None:
        await gateway.container.router.sweep()
        current = await chat_of(client, operator, chat["id"])
        return current if current["snooze"] is None else None

    done = await eventually(woken, what="the snooze to end")
    assert (done["routing"][-1]["decision"], done["routing"][-1]["reason"]) == ("woken", "time")
    assert await load_of(client, operator) == 1


async def test_bad_or_unauthorised_snoozes_are_refused_with_nothing_stored(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator, customer, chat = await taken_chat(gateway, client)
    other = await staff(gateway, client, "operator")
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    far = (datetime.now(UTC) + timedelta(days=91)).isoformat()
    for until in (past, far):
        answer = await post(client, operator, f"{chat['id']}/snooze", until=until)
        assert refused(answer) == (422, "validation_error")
    naive = await post(client, operator, f"{chat['id']}/snooze", until="2030-01-01T10:00:00")
    assert refused(naive) == (422, "validation_error")
    assert refused(await post(client, other, f"{chat['id']}/snooze")) == (403, "not_allowed")
    assert refused(await post(client, customer, f"{chat['id']}/snooze")) == (403, "not_allowed")
    assert refused(await post(client, operator, f"{chat['id']}/wake")) == (409, "not_snoozed")
    unchanged = await chat_of(client, operator, chat["id"])
    assert (unchanged["snooze"], decisions(unchanged)) == (None, ["queued", "assigned"])

    assert (await post(client, operator, f"{chat['id']}/snooze")).status_code == 200
    twice = await post(client, operator, f"{chat['id']}/snooze")
    assert refused(twice) == (409, "chat_snoozed")
    moved = await post(client, operator, f"{chat['id']}/assign", operator_id=other.id)
    assert refused(moved) == (409, "chat_snoozed")
    transferred = await post(client, operator, f"{chat['id']}/transfer", operator_id=other.id)
    assert refused(transferred) == (409, "chat_snoozed")
    woken = await post(client, operator, f"{chat['id']}/wake")
    assert woken.status_code == 200
    assert woken.json()["snooze"] is None
    assert woken.json()["routing"][-1]["reason"] == "operator"


async def test_a_setting_keeps_the_slot_while_snoozed(database_url: str, tmp_path: Path) -> None:
    from goftogu.gateway import create_gateway

    keeping = make_settings(database_url, tmp_path, support_snooze_frees_slot=False)
    gw = create_gateway(keeping)
    async with gw.api.router.lifespan_context(gw.api):
        transport = httpx.ASGITransport(app=gw.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            operator, _, chat = await taken_chat(gw, http)
            snoozed = await post(http, operator, f"{chat['id']}/snooze")
            assert snoozed.json()["snooze"]["frees_slot"] is False
            assert await load_of(http, operator) == 1
            await gw.container.router.sweep()  # reconciling loads keeps it counted
            assert await load_of(http, operator) == 1


async def test_an_admin_assigns_a_waiting_ticket_to_an_operator_by_hand(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    admin = await staff(gateway, client, "admin")
    customer = await visitor(client)
    ticket = await routed(client, customer, (await start_chat(client, customer))["id"])
    assert ticket["type"] == "TICKET"
    operator = await staff(gateway, client, "operator")
    path = f"{ticket['id']}/assign"
    assert refused(await post(client, admin, path)) == (422, "validation_error")
    both = await post(client, admin, path, operator_id=operator.id, team_id=None)
    assert refused(both) == (422, "validation_error")
    nobody = await post(client, admin, path, operator_id=customer.id)
    assert refused(nobody) == (404, "not_found")
    assert refused(await post(client, customer, path, operator_id=operator.id)) == (
        403,
        "not_allowed",
    )
    assert (await chat_of(client, admin, ticket["id"]))["operator_id"] is None

    assigned = await post(client, admin, path, operator_id=operator.id)
    assert assigned.status_code == 200, assigned.text
    body = assigned.json()
    assert (body["status"], body["operator_id"], body["type"]) == ("OPEN", operator.id, "TICKET")
    assert (body["routing"][-1]["decision"], body["routing"][-1]["reason"]) == (
        "assigned",
        "by hand",
    )
    assert body["routing"][-1]["by"]["id"] == admin.id
    assert await load_of(client, operator) == 1
    # Open now: assigning it again is a transfer, by its operator or an admin.
    other = await staff(gateway, client, "operator")
    moved = await post(client, operator, path, operator_id=other.id)
    assert (moved.status_code, moved.json()["operator_id"]) == (200, other.id)
    assert decisions(moved.json())[-1] == "transferred"


async def test_an_operator_sends_a_conversation_to_a_team_and_lets_it_go(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    admin = await staff(gateway, client, "admin")
    team = await new_team(client, admin, "refunds")
    operator, customer, chat = await taken_chat(gateway, client)
    path = f"{chat['id']}/assign"
    unknown = await post(client, operator, path, team_id="no-such-team")
    assert refused(unknown) == (422, "unknown_team")
    stranger = await staff(gateway, client, "operator")
    assert refused(await post(client, stranger, path, team_id=team["id"])) == (403, "not_allowed")
    assert (await chat_of(client, admin, chat["id"]))["operator_id"] == operator.id

    sent = await post(client, operator, path, team_id="refunds")
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert (body["team_id"], body["operator_id"]) == (team["id"], None)
    assert (body["routing"][-1]["decision"], body["routing"][-1]["reason"]) == (
        "team_changed",
        "to team refunds",
    )
    assert await load_of(client, operator) == 0
    # The team has no members: routing makes it a ticket of the team.
    ticket = await routed(client, customer, chat["id"])
    assert (ticket["team_id"], ticket["type"]) == (team["id"], "TICKET")
    # Waiting in a team: a member of it (or an admin) may move it; others may not.
    assert refused(await post(client, operator, path, team_id=None)) == (403, "not_allowed")
    member = await staff(gateway, client, "operator")
    await join(client, admin, team, member)
    back = await post(client, member, path, team_id=None)
    assert (back.status_code, back.json()["team_id"]) == (200, None)
