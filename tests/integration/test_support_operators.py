"""GET /support/operators (the transfer picker) and the operator's name in the
conversation a customer reads."""

import httpx

from goftogu.gateway import Gateway
from tests.helpers.api import API, sign_up, staff, visitor
from tests.helpers.desk import available_operator, chat_of, routed, start_chat


async def test_staff_see_every_operator_and_admin_with_availability_and_load(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    online = await available_operator(gateway, client)
    offline = await staff(gateway, client, "operator")
    admin = await staff(gateway, client, "admin")
    customer = await visitor(client, name="Mina")
    await routed(client, customer, (await start_chat(client, customer))["id"])

    response = await client.get(f"{API}/support/operators", headers=offline.headers)
    assert response.status_code == 200, response.text
    by_id = {item["operator_id"]: item for item in response.json()["items"]}
    assert set(by_id) == {online.id, offline.id, admin.id}
    assert response.json()["items"][0]["operator_id"] == online.id  # connected first
    first = by_id[online.id]
    assert (first["status"], first["accepting"], first["connected"]) == ("online", True, True)
    assert (first["load"], first["capacity"]) == (1, 3)
    assert first["username"] == online.username
    assert (by_id[offline.id]["status"], by_id[offline.id]["connected"]) == ("offline", False)
    assert by_id[admin.id]["load"] == 0


async def test_customers_and_visitors_may_not_list_operators(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    for user in (await sign_up(client), await visitor(client)):
        response = await client.get(f"{API}/support/operators", headers=user.headers)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "not_allowed"
    assert (await client.get(f"{API}/support/operators")).status_code == 401


async def test_the_customer_reads_the_name_of_the_operator_who_answers(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator = await available_operator(gateway, client)
    renamed = await client.patch(
        f"{API}/users/me", json={"display_name": "Sara"}, headers=operator.headers
    )
    assert renamed.status_code == 200
    customer = await visitor(client)
    waiting = await start_chat(client, customer)
    # In process the routing may already have run when the intake answers: the name
    # is there exactly when an operator is.
    assert waiting.get("operator_name") == ("Sara" if waiting.get("operator_id") else None)
    chat = await routed(client, customer, waiting["id"])
    assert chat["operator_id"] == operator.id
    assert (await chat_of(client, customer, chat["id"]))["operator_name"] == "Sara"
