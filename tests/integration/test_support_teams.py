"""Teams over REST on SQLite and PostgreSQL (issue 18, item 2): only admins change
them, bad input is refused with nothing stored, intake picks a team, routing
prefers its members with overflow to anyone, capacities per operator and team."""

from __future__ import annotations

from typing import Any

import httpx

from goftogu.gateway import Gateway
from tests.helpers.api import API, SignedIn, staff, visitor
from tests.helpers.desk import available_operator, routed, start_chat


async def new_team(
    client: httpx.AsyncClient, admin: SignedIn, topic: str, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        f"{API}/support/teams",
        json={"name": topic.title(), "topic": topic, **fields},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    team: dict[str, Any] = response.json()
    return team


async def join(
    client: httpx.AsyncClient, admin: SignedIn, team: dict[str, Any], user: SignedIn
) -> None:
    response = await client.put(
        f"{API}/support/teams/{team['id']}/members/{user.id}", headers=admin.headers
    )
    assert response.status_code == 200, response.text


async def teams_listed(client: httpx.AsyncClient, admin: SignedIn) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = (
        await client.get(f"{API}/support/teams", headers=admin.headers)
    ).json()["items"]
    return listed


async def test_an_admin_makes_a_team_and_only_admins_may(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    admin = await staff(gateway, client, "admin")
    operator = await staff(gateway, client, "operator")
    customer = await visitor(client)
    for someone in (operator, customer):
        refused = await client.post(
            f"{API}/support/teams",
            json={"name": "Sales", "topic": "sales"},
            headers=someone.headers,
        )
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_allowed")
    team = await new_team(client, admin, "sales", overflow_seconds=30, capacity=5)
    assert (team["name"], team["topic"], team["overflow_seconds"], team["capacity"]) == (
        "Sales",
        "sales",
        30,
        5,
    )
    assert [t["topic"] for t in await teams_listed(client, admin)] == ["sales"]
    seen = await client.get(f"{API}/support/teams", headers=customer.headers)
    assert seen.status_code == 403
    topics = await client.get(f"{API}/support/topics", headers=customer.headers)
    assert [(t["topic"], t["open_now"]) for t in topics.json()["items"]] == [("sales", True)]


async def test_bad_team_input_is_refused_with_a_code_and_nothing_stored(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    admin = await staff(gateway, client, "admin")
    await new_team(client, admin, "billing")
    bad = [
        {"name": "x", "topic": "Has Spaces"},
        {"name": "", "topic": "ok"},
        {"name": "x", "topic": "ok", "overflow_seconds": -1},
        {"name": "x", "topic": "ok", "capacity": 0},
        {"name": "x", "topic": "ok", "hours": {"timezone": "Mars/Olympus", "weekly": {}}},
        {
            "name": "x",
            "topic": "ok",
            "hours": {
                "timezone": "Asia/Tehran",
                "weekly": {
                    "mon": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]
                },
            },
        },
        {
            "name": "x",
            "topic": "ok",
            "hours": {"timezone": "UTC", "weekly": {"mon": [{"start": "17:00", "end": "09:00"}]}},
        },
        {"name": "x", "topic": "ok", "sla": {"first_response_s": 0}},
        {"name": "x", "topic": "ok", "unknown": 1},
    ]
    for body in bad:
        response = await client.post(f"{API}/support/teams", json=body, headers=admin.headers)
        assert (response.status_code, response.json()["error"]["code"]) == (
            422,
            "validation_error",
        ), body
    taken = await client.post(
        f"{API}/support/teams", json={"name": "Again", "topic": "billing"}, headers=admin.headers
    )
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "topic_taken")
    assert [t["topic"] for t in await teams_listed(client, admin)] == ["billing"]


async def test_members_are_operators_or_admins_and_changes_are_admins_only(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    admin = await staff(gateway, client, "admin")
    operator = await staff(gateway, client, "operator")
    customer = await visitor(client)
    team = await new_team(client, admin, "returns")
    not_staff = await client.put(
        f"{API}/support/teams/{team['id']}/members/{customer.id}", headers=admin.headers
    )
    assert (not_staff.status_code, not_staff.json()["error"]["code"]) == (404, "not_found")
    by_operator = await client.put(
        f"{API}/support/teams/{team['id']}/members/{operator.id}", headers=operator.headers
    )
    assert by_operator.status_code == 403
    await join(client, admin, team, operator)
    await join(client, admin, team, operator)  # again: no change
    members = (await client.get(f"{API}/support/teams/{team['id']}", headers=admin.headers)).json()
    assert members["members"] == [operator.id]
    left = await client.delete(
        f"{API}/support/teams/{team['id']}/members/{operator.id}", headers=admin.headers
    )
    assert left.json()["members"] == []
    patched = await client.patch(
        f"{API}/support/teams/{team['id']}", json={"overflow_seconds": 10}, headers=admin.headers
    )
    assert (patched.json()["overflow_seconds"], patched.json()["name"]) == (10, "Returns")
    cleared = await client.patch(
        f"{API}/support/teams/{team['id']}", json={"overflow_seconds": None}, headers=admin.headers
    )
    assert cleared.json()["overflow_seconds"] is None


async def test_an_intake_for_an_unknown_team_is_refused_and_nothing_is_stored(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    customer = await visitor(client)
    response = await client.post(
        f"{API}/support/chats",
        json={"client_id": "c1", "body": "Hello", "team": "nope"},
        headers=customer.headers,
    )
    assert (response.status_code, response.json()["error"]["code"]) == (422, "unknown_team")
    listed = await client.get(f"{API}/support/chats", headers=customer.headers)
    assert listed.json()["items"] == []


async def test_a_teams_conversation_goes_to_its_member_before_anyone_else(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    admin = await staff(gateway, client, "admin")
    outsider = await available_operator(gateway, client)  # idle longest: first otherwise
    member = await available_operator(gateway, client)
    team = await new_team(client, admin, "sales")
    await join(client, admin, team, member)
    customer = await visitor(client)
    chat = await start_chat(client, customer, "A price, please", team="sales")
    done = await routed(client, admin, chat["id"])
    assert (done["status"], done["operator_id"], done["team_id"]) == ("OPEN", member.id, team["id"])
    assert done["routing"][-1]["reason"] == "team sales"
    assert outsider.id != member.id


async def test_without_overflow_a_busy_team_makes_a_ticket_though_others_are_free(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    admin = await staff(gateway, client, "admin")
    await available_operator(gateway, client)
    team = await new_team(client, admin, "legal")  # no members online, no overflow
    customer = await visitor(client)
    chat = await start_chat(client, customer, "A contract question", team=team["id"])
    done = await routed(client, admin, chat["id"])
    assert (done["status"], done["type"]) == ("PENDING", "TICKET")
    assert done["routing"][-1]["reason"] == "no operator of the team available"


async def test_overflow_lets_anyone_take_it_once_due(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    admin = await staff(gateway, client, "admin")
    anyone = await available_operator(gateway, client)
    await new_team(client, admin, "tech", overflow_seconds=0)
    customer = await visitor(client)
    chat = await start_chat(client, customer, "It does not start", team="tech")
    done = await routed(client, admin, chat["id"])
    assert (done["status"], done["operator_id"]) == ("OPEN", anyone.id)
    assert done["routing"][-1]["reason"] == "overflow after 0s"


async def test_a_team_at_capacity_takes_no_more_until_one_closes(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    admin = await staff(gateway, client, "admin")
    member = await available_operator(gateway, client)
    team = await new_team(client, admin, "vip", capacity=1)
    await join(client, admin, team, member)
    first_customer, second_customer = await visitor(client), await visitor(client)
    first = await routed(
        client, first_customer, (await start_chat(client, first_customer, team="vip"))["id"]
    )
    second = await routed(
        client, second_customer, (await start_chat(client, second_customer, team="vip"))["id"]
    )
    assert (first["status"], second["status"], second["type"]) == ("OPEN", "PENDING", "TICKET")


async def test_an_operators_own_capacity_bounds_their_load(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    admin = await staff(gateway, client, "admin")
    operator = await available_operator(gateway, client)
    refused = await client.put(
        f"{API}/support/operators/{operator.id}/capacity",
        json={"capacity": 1},
        headers=operator.headers,
    )
    assert refused.status_code == 403
    bad = await client.put(
        f"{API}/support/operators/{operator.id}/capacity",
        json={"capacity": 0},
        headers=admin.headers,
    )
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "validation_error")
    capped = await client.put(
        f"{API}/support/operators/{operator.id}/capacity",
        json={"capacity": 1},
        headers=admin.headers,
    )
    assert capped.json()["capacity"] == 1
    customers = [await visitor(client), await visitor(client)]
    chats = [await routed(client, c, (await start_chat(client, c))["id"]) for c in customers]
    assert [c["status"] for c in chats] == ["OPEN", "PENDING"]
    presence = await client.get(f"{API}/support/presence", headers=operator.headers)
    assert (presence.json()["load"], presence.json()["capacity"]) == (1, 1)


def closed_today(timezone: str = "Asia/Tehran") -> dict[str, Any]:
    """Hours open all day every day, but today (in ``timezone``) is a holiday."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo(timezone)).date()
    every_day = {
        day: [{"start": "00:00", "end": "24:00"}]
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }
    return {"timezone": timezone, "weekly": every_day, "holidays": [today.isoformat()]}


async def test_outside_business_hours_a_conversation_is_a_ticket_with_a_reply_naming_the_opening(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    admin = await staff(gateway, client, "admin")
    member = await available_operator(gateway, client)
    team = await new_team(client, admin, "night", hours=closed_today(), overflow_seconds=0)
    await join(client, admin, team, member)
    customer = await visitor(client)
    topics = (await client.get(f"{API}/support/topics", headers=customer.headers)).json()["items"]
    tehran = ZoneInfo("Asia/Tehran")
    tomorrow = datetime.now(tehran).date() + timedelta(days=1)
    [night] = topics
    assert night["open_now"] is False
    assert datetime.fromisoformat(night["next_opening"]).astimezone(tehran).date() == tomorrow

    chat = await start_chat(client, customer, "Are you there?", team="night")
    done = await routed(client, admin, chat["id"])
    # A member is online and overflow is 0, but the team is closed: a ticket at once.
    assert (done["status"], done["type"], done["operator_id"]) == ("PENDING", "TICKET", None)
    assert done["routing"][-1]["reason"].startswith("outside business hours; opens ")
    reply = done["messages"][-1]
    assert reply["sender"] == {"kind": "system", "id": None}
    english, persian = reply["body"].split("\n")
    assert f"{tomorrow:%A} {tomorrow.day} {tomorrow:%B %Y}, 00:00 (Asia/Tehran)" in english
    assert "زمان بازگشایی" in persian
    assert len(done["messages"]) == 2


async def test_a_team_with_hours_open_now_routes_as_usual(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    admin = await staff(gateway, client, "admin")
    member = await available_operator(gateway, client)
    always = {
        "timezone": "UTC",
        "weekly": {
            day: [{"start": "00:00", "end": "24:00"}]
            for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
    }
    team = await new_team(client, admin, "day", hours=always)
    await join(client, admin, team, member)
    customer = await visitor(client)
    done = await routed(client, customer, (await start_chat(client, customer, team="day"))["id"])
    assert (done["status"], done["operator_id"]) == ("OPEN", member.id)
