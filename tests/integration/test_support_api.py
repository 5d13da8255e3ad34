"""The support desk over REST on the embedded defaults (in-process queue and
presence), on SQLite and PostgreSQL: intake, routing, tickets, operators."""

import uuid
from pathlib import Path
from typing import Any

import httpx

from goftogu.gateway import Gateway, create_gateway
from tests.conftest import make_settings
from tests.helpers.api import API, sign_up, staff, visitor
from tests.helpers.desk import available_operator, chat_of, routed, start_chat
from tests.helpers.waiting import eventually


async def test_a_customers_first_message_opens_a_pending_conversation_holding_it(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    customer = await visitor(client, name="Sara")
    chat = await start_chat(client, customer, "My parcel is late")
    assert (chat["status"], chat["operator_id"]) == ("PENDING", None)
    # Opened as a chat; the in-process router may already have made it a ticket (no
    # operator is online), so the routing log, not the type, tells how it began; the
    # log is the desk's own: staff read it, the customer does not.
    assert chat["routing"] is None
    desk_view = await chat_of(client, await staff(gateway, client), chat["id"])
    assert desk_view["routing"][0]["decision"] == "queued"
    assert chat["conversation"] == f"support:{chat['id']}"
    assert chat["customer"]["name"] == "Sara"
    assert [(m["body"], m["sender"]["kind"], m["seq"]) for m in chat["messages"]] == [
        ("My parcel is late", "customer", 1)
    ]


async def test_a_retried_intake_answers_the_same_conversation(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    customer = await sign_up(client)
    request = {"client_id": "first-message", "body": "Hello"}
    first = await client.post(f"{API}/support/chats", json=request, headers=customer.headers)
    again = await client.post(f"{API}/support/chats", json=request, headers=customer.headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    listed = await client.get(f"{API}/support/chats", headers=customer.headers)
    assert len(listed.json()["items"]) == 1


async def test_with_nobody_online_the_conversation_becomes_a_pending_ticket(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    customer = await visitor(client)
    chat = await routed(client, customer, (await start_chat(client, customer))["id"])
    assert (chat["status"], chat["type"], chat["operator_id"]) == ("PENDING", "TICKET", None)
    assert chat["queue_position"] == 1
    assert chat["routing"] is None  # the desk's log, not the customer's
    desk_view = await chat_of(client, await staff(gateway, client), chat["id"])
    assert [entry["decision"] for entry in desk_view["routing"]] == ["queued", "ticketed"]


async def test_with_an_operator_online_the_conversation_is_assigned_as_a_live_chat(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator = await available_operator(gateway, client)
    customer = await visitor(client)
    chat = await routed(client, customer, (await start_chat(client, customer))["id"])
    assert (chat["status"], chat["type"], chat["operator_id"]) == ("OPEN", "CHAT", operator.id)
    assert chat["assigned_at"] is not None
    assert chat["queue_position"] is None


async def test_an_operator_who_is_online_but_not_connected_is_not_offered_chats(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator = await staff(gateway, client)
    await client.put(f"{API}/support/presence", json={"status": "online"}, headers=operator.headers)
    customer = await visitor(client)
    chat = await routed(client, customer, (await start_chat(client, customer))["id"])
    assert chat["type"] == "TICKET"


async def test_the_assigned_operator_and_the_customer_talk_in_one_document(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator = await available_operator(gateway, client)
    customer = await visitor(client)
    chat_id = (await routed(client, customer, (await start_chat(client, customer))["id"]))["id"]
    reply = await client.post(
        f"{API}/support/chats/{chat_id}/messages",
        json={"client_id": "o-1", "body": "Hi, I am on it"},
        headers=operator.headers,
    )
    assert reply.status_code == 201, reply.text
    assert (reply.json()["message"]["seq"], reply.json()["message"]["sender"]["kind"]) == (
        2,
        "operator",
    )
    await client.post(
        f"{API}/support/chats/{chat_id}/messages",
        json={"client_id": "c-2", "body": "Thanks!"},
        headers=customer.headers,
    )
    chat = await chat_of(client, customer, chat_id)
    assert [m["body"] for m in chat["messages"]] == [
        "Hello, I need help",
        "Hi, I am on it",
        "Thanks!",
    ]
    assert chat["first_response_at"] == reply.json()["message"]["created_at"]


async def test_a_retried_message_is_stored_once(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    customer = await visitor(client)
    chat = await start_chat(client, customer)
    message = {"client_id": "retry-me", "body": "Are you there?"}
    url = f"{API}/support/chats/{chat['id']}/messages"
    first = await client.post(url, json=message, headers=customer.headers)
    again = await client.post(url, json=message, headers=customer.headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["message"]["id"] == again.json()["message"]["id"]
    assert len((await chat_of(client, customer, chat["id"]))["messages"]) == 2


async def test_a_customer_can_write_while_waiting_and_sees_their_place_in_the_queue(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    first, second = await visitor(client), await visitor(client)
    await routed(client, first, (await start_chat(client, first))["id"])
    waiting = await routed(client, second, (await start_chat(client, second))["id"])
    assert waiting["queue_position"] == 2
    written = await client.post(
        f"{API}/support/chats/{waiting['id']}/messages",
        json={"client_id": "more", "body": "More details: order 1234"},
        headers=second.headers,
    )
    assert written.status_code == 201
    assert written.json()["status"] == "PENDING"


async def test_an_empty_or_oversized_message_is_refused_and_changes_nothing(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    customer = await visitor(client)
    chat = await start_chat(client, customer)
    url = f"{API}/support/chats/{chat['id']}/messages"
    limit = gateway.settings.max_message_length
    empty = await client.post(
        url, json={"client_id": "a", "body": "  \n"}, headers=customer.headers
    )
    huge = await client.post(
        url, json={"client_id": "b", "body": "x" * (limit + 1)}, headers=customer.headers
    )
    assert (empty.status_code, empty.json()["error"]["code"]) == (422, "validation_error")
    assert (huge.status_code, huge.json()["error"]["code"]) == (413, "payload_too_large")
    assert len((await chat_of(client, customer, chat["id"]))["messages"]) == 1
    first = await client.post(
        f"{API}/support/chats", json={"client_id": "c", "body": ""}, headers=customer.headers
    )
    assert first.json()["error"]["code"] == "validation_error"
    assert (
        len((await client.get(f"{API}/support/chats", headers=customer.headers)).json()["items"])
        == 1
    )


async def test_an_unknown_conversation_is_not_found(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    customer = await visitor(client)
    for chat_id in (str(uuid.uuid4()), "not-an-id"):
        response = await client.get(f"{API}/support/chats/{chat_id}", headers=customer.headers)
        assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    posted = await client.post(
        f"{API}/support/chats/{uuid.uuid4()}/messages",
        json={"client_id": "x", "body": "hi"},
        headers=customer.headers,
    )
    assert posted.json()["error"]["code"] == "not_found"


async def test_a_customer_cannot_read_or_write_another_customers_conversation(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    owner, stranger = await visitor(client), await sign_up(client)
    chat = await start_chat(client, owner)
    read = await client.get(f"{API}/support/chats/{chat['id']}", headers=stranger.headers)
    write = await client.post(
        f"{API}/support/chats/{chat['id']}/messages",
        json={"client_id": "x", "body": "let me in"},
        headers=stranger.headers,
    )
    close = await client.post(f"{API}/support/chats/{chat['id']}/close", headers=stranger.headers)
    assert {r.json()["error"]["code"] for r in (read, write, close)} == {"not_found"}
    listed = await client.get(f"{API}/support/chats", headers=stranger.headers)
    assert listed.json()["items"] == []
    assert len((await chat_of(client, owner, chat["id"]))["messages"]) == 1


async def test_an_operator_cannot_write_in_or_close_a_conversation_that_is_not_theirs(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    assigned = await available_operator(gateway, client)
    customer = await visitor(client)
    chat = await routed(client, customer, (await start_chat(client, customer))["id"])
    assert chat["operator_id"] == assigned.id
    other = await staff(gateway, client)
    close = await client.post(f"{API}/support/chats/{chat['id']}/close", headers=other.headers)
    write = await client.post(
        f"{API}/support/chats/{chat['id']}/messages",
        json={"client_id": "x", "body": "hijack"},
        headers=other.headers,
    )
    assert (close.status_code, close.json()["error"]["code"]) == (403, "not_allowed")
    assert (write.status_code, write.json()["error"]["code"]) == (403, "not_allowed")
    after = await chat_of(client, customer, chat["id"])
    assert (after["status"], len(after["messages"])) == ("OPEN", 1)


async def test_an_admin_may_close_any_conversation(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    await available_operator(gateway, client)
    customer = await visitor(client)
    chat = await routed(client, customer, (await start_chat(client, customer))["id"])
    admin = await staff(gateway, client, "admin")
    closed = await client.post(f"{API}/support/chats/{chat['id']}/close", headers=admin.headers)
    assert closed.status_code == 200
    assert closed.json()["status"] == "CLOSED"


async def test_operators_see_the_queue_oldest_first_with_wait_times(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    customers = [await visitor(client) for _ in range(3)]
    ids = [(await start_chat(client, c))["id"] for c in customers]
    for customer, chat_id in zip(customers, ids, strict=True):
        await routed(client, customer, chat_id)
    operator = await staff(gateway, client)
    queue = await client.get(
        f"{API}/support/chats", params={"status": "PENDING", "limit": 2}, headers=operator.headers
    )
    page = queue.json()
    assert [item["id"] for item in page["items"]] == sorted(ids)[:2]
    assert page["has_more"]
    assert all(item["waiting_seconds"] >= 0 for item in page["items"])
    assert page["items"][0]["last_message"]["body"] == "Hello, I need help"
    rest = await client.get(
        f"{API}/support/chats",
        params={"status": "PENDING", "cursor": page["next_cursor"]},
        headers=operator.headers,
    )
    assert [item["id"] for item in rest.json()["items"]] == sorted(ids)[2:]


async def test_an_operator_claims_a_ticket_which_stays_a_ticket_and_nobody_else_can(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    customer = await visitor(client)
    chat = await routed(client, customer, (await start_chat(client, customer))["id"])
    first, second = await staff(gateway, client), await staff(gateway, client)
    claimed = await client.post(f"{API}/support/chats/{chat['id']}/claim", headers=first.headers)
    assert claimed.status_code == 200, claimed.text
    assert (claimed.json()["status"], claimed.json()["type"], claimed.json()["operator_id"]) == (
        "OPEN",
        "TICKET",
        first.id,
    )
    late = await client.post(f"{API}/support/chats/{chat['id']}/claim", headers=second.headers)
    assert (late.status_code, late.json()["error"]["code"]) == (409, "conflict")


async def test_claiming_beyond_capacity_is_refused(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator = await staff(gateway, client)
    capacity = gateway.settings.operator_capacity
    chats = []
    for _ in range(capacity + 1):
        customer = await visitor(client)
        chats.append(await routed(client, customer, (await start_chat(client, customer))["id"]))
    for chat in chats[:capacity]:
        ok = await client.post(f"{API}/support/chats/{chat['id']}/claim", headers=operator.headers)
        assert ok.status_code == 200
    full = await client.post(
        f"{API}/support/chats/{chats[-1]['id']}/claim", headers=operator.headers
    )
    assert (full.status_code, full.json()["error"]["code"]) == (409, "capacity_reached")


async def test_customers_cannot_claim_or_set_presence_and_staff_cannot_start_chats(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    customer = await visitor(client)
    chat = await start_chat(client, customer)
    claim = await client.post(f"{API}/support/chats/{chat['id']}/claim", headers=customer.headers)
    presence = await client.put(
        f"{API}/support/presence", json={"status": "online"}, headers=customer.headers
    )
    operator = await staff(gateway, client)
    start = await client.post(
        f"{API}/support/chats", json={"client_id": "x", "body": "hi"}, headers=operator.headers
    )
    assert {r.json()["error"]["code"] for r in (claim, presence, start)} == {"not_allowed"}


async def test_transfer_hands_the_chat_over_within_the_targets_capacity(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    first = await available_operator(gateway, client)
    customer = await visitor(client)
    chat = await routed(client, customer, (await start_chat(client, customer))["id"])
    assert chat["operator_id"] == first.id
    second = await staff(gateway, client)
    url = f"{API}/support/chats/{chat['id']}/transfer"
    moved = await client.post(url, json={"operator_id": second.id}, headers=first.headers)
    assert moved.status_code == 200, moved.text
    assert moved.json()["operator_id"] == second.id
    assert moved.json()["routing"][-1]["decision"] == "transferred"
    back = await client.post(url, json={"operator_id": first.id}, headers=first.headers)
    assert back.json()["error"]["code"] == "not_allowed"  # no longer theirs
    nobody = await client.post(url, json={"operator_id": customer.id}, headers=second.headers)
    assert nobody.json()["error"]["code"] == "not_found"  # not an operator


async def test_closing_archives_the_conversation_and_a_later_message_opens_a_linked_one(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator = await available_operator(gateway, client)
    customer = await visitor(client)
    chat = await routed(client, customer, (await start_chat(client, customer))["id"])
    closed = await client.post(f"{API}/support/chats/{chat['id']}/close", headers=operator.headers)
    assert closed.json()["status"] == "CLOSED"
    assert closed.json()["closed_at"] is not None
    url = f"{API}/support/chats/{chat['id']}/messages"
    late = {"client_id": "after-close", "body": "One more question"}
    posted = await client.post(url, json=late, headers=customer.headers)
    again = await client.post(url, json=late, headers=customer.headers)
    assert posted.status_code == 201, posted.text
    body = posted.json()
    assert body["new_conversation"]
    assert body["previous_chat_id"] == chat["id"]
    assert body["chat_id"] != chat["id"]
    assert again.json()["chat_id"] == body["chat_id"]  # a retry opens nothing more
    archived = await chat_of(client, customer, chat["id"])
    assert (archived["status"], len(archived["messages"])) == ("CLOSED", 1)
    operator_write = await client.post(
        url, json={"client_id": "o", "body": "late"}, headers=operator.headers
    )
    assert operator_write.json()["error"]["code"] == "chat_closed"


async def test_a_slot_freed_by_closing_goes_to_the_oldest_waiting_ticket(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, operator_capacity=1)
    gateway = create_gateway(settings)
    async with (
        gateway.api.router.lifespan_context(gateway.api),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=gateway.asgi), base_url="http://testserver"
        ) as client,
    ):
        operator = await available_operator(gateway, client)
        first, second = await visitor(client), await visitor(client)
        live = await routed(client, first, (await start_chat(client, first))["id"])
        ticket = await routed(client, second, (await start_chat(client, second))["id"])
        assert (live["operator_id"], ticket["type"]) == (operator.id, "TICKET")
        await client.post(f"{API}/support/chats/{live['id']}/close", headers=operator.headers)

        async def taken() -> dict[str, Any] | None:
            chat = await chat_of(client, second, ticket["id"])
            return chat if chat["status"] == "OPEN" else None

        picked = await eventually(taken, what="the ticket to be taken up")
    assert (picked["operator_id"], picked["type"]) == (operator.id, "TICKET")


async def test_an_operator_coming_online_takes_up_waiting_tickets_oldest_first(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    customers = [await visitor(client) for _ in range(4)]
    tickets = []
    for customer in customers:
        tickets.append(await routed(client, customer, (await start_chat(client, customer))["id"]))
    operator = await available_operator(gateway, client)  # capacity 3

    async def three_taken() -> list[str] | None:
        chats = [await chat_of(client, c, t["id"]) for c, t in zip(customers, tickets, strict=True)]
        taken = [chat["id"] for chat in chats if chat["status"] == "OPEN"]
        return taken if len(taken) == 3 else None

    taken = await eventually(three_taken, what="three tickets to be taken up")
    assert sorted(taken) == sorted(t["id"] for t in tickets)[:3]
    presence = await client.get(f"{API}/support/presence", headers=operator.headers)
    assert (presence.json()["load"], presence.json()["capacity"]) == (3, 3)


async def test_a_returning_visitor_with_the_same_email_gets_a_session_and_a_new_conversation(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    first = await visitor(client, name="Sara", email="sara@example.com")
    old = await start_chat(client, first, "My parcel is late")
    # Back another day (new browser, no tokens), giving the same email: not a bare 409.
    again = await client.post(
        f"{API}/auth/visitor", json={"name": "Sara", "email": "SARA@example.com"}
    )
    assert again.status_code == 201, again.text
    returning = again.json()
    headers = {"Authorization": f"Bearer {returning['access_token']}"}
    # A typed address proves nothing: the old conversation is not handed over...
    assert returning["user"]["id"] != first.id
    assert returning["user"]["email"] is None
    listed = await client.get(f"{API}/support/chats", headers=headers)
    assert listed.json()["items"] == []
    refused = await client.get(f"{API}/support/chats/{old['id']}", headers=headers)
    assert refused.status_code in (403, 404)
    # ...the way back is a new conversation, at once.
    response = await client.post(
        f"{API}/support/chats",
        json={"client_id": uuid.uuid4().hex, "body": "It is still late"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    # The same for the email of a registered account.
    customer = await sign_up(client)
    theirs = await client.post(f"{API}/auth/visitor", json={"email": customer.user["email"]})
    assert theirs.status_code == 201
    assert theirs.json()["user"]["email"] is None
