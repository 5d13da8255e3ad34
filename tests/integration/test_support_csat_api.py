"""CSAT after close over REST (SQLite and PostgreSQL): once per conversation, from
the widget and by a signed emailed link."""

from datetime import UTC, datetime, timedelta

import httpx

from goftogu.gateway import Gateway
from tests.helpers.api import API, SignedIn, visitor
from tests.helpers.desk import available_operator, routed, start_chat


async def closed_chat(gateway: Gateway, client: httpx.AsyncClient) -> tuple[SignedIn, str]:
    await available_operator(gateway, client)
    customer = await visitor(client, name="Sara")
    chat = await routed(client, customer, (await start_chat(client, customer))["id"])
    closed = await client.post(f"{API}/support/chats/{chat['id']}/close", headers=customer.headers)
    assert closed.status_code == 200, closed.text
    return customer, chat["id"]


async def test_the_customer_rates_a_closed_conversation_once_from_the_widget(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    customer, chat_id = await closed_chat(gateway, client)
    rate = f"{API}/support/chats/{chat_id}/csat"
    rated = await client.post(
        rate, json={"score": 4, "comment": " quick, thanks "}, headers=customer.headers
    )
    assert rated.status_code == 201, rated.text
    assert rated.json()["csat"]["score"] == 4
    assert rated.json()["csat"]["comment"] == "quick, thanks"
    assert rated.json()["csat"]["source"] == "widget"
    again = await client.post(rate, json={"score": 1}, headers=customer.headers)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_rated")
    chat = (await client.get(f"{API}/support/chats/{chat_id}", headers=customer.headers)).json()
    assert chat["csat"]["score"] == 4


async def test_bad_ratings_and_other_peoples_conversations_store_nothing(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    customer, chat_id = await closed_chat(gateway, client)
    rate = f"{API}/support/chats/{chat_id}/csat"
    for body in ({"score": 0}, {"score": 6}, {"score": "5"}, {"score": 3.5}, {}):
        bad = await client.post(rate, json=body, headers=customer.headers)
        assert (bad.status_code, bad.json()["error"]["code"]) == (422, "validation_error"), body
    long = await client.post(
        rate, json={"score": 3, "comment": "x" * 2001}, headers=customer.headers
    )
    assert long.json()["error"]["code"] == "validation_error"
    stranger = await visitor(client)
    theirs = await client.post(rate, json={"score": 1}, headers=stranger.headers)
    assert (theirs.status_code, theirs.json()["error"]["code"]) == (404, "not_found")
    waiting = await start_chat(client, customer)
    early = await client.post(
        f"{API}/support/chats/{waiting['id']}/csat", json={"score": 5}, headers=customer.headers
    )
    assert (early.status_code, early.json()["error"]["code"]) == (409, "chat_not_closed")
    chat = (await client.get(f"{API}/support/chats/{chat_id}", headers=customer.headers)).json()
    assert chat["csat"] is None


async def test_an_emailed_link_rates_without_a_session_once_and_only_while_valid(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    customer, chat_id = await closed_chat(gateway, client)
    csat = gateway.container.csat
    chat = await gateway.container.support.store.get(chat_id)
    assert chat is not None
    link = csat.links.link(chat)
    assert link.startswith(f"{gateway.settings.public_url}/csat?token=")
    token = link.split("token=", 1)[1]
    survey = await client.get(f"{API}/support/csat", params={"token": token})
    assert survey.status_code == 200, survey.text
    assert (survey.json()["chat_id"], survey.json()["csat"]) == (chat_id, None)
    rated = await client.post(f"{API}/support/csat", json={"token": token, "score": 2})
    assert rated.status_code == 201, rated.text
    assert rated.json()["csat"]["source"] == "email"
    twice = await client.post(f"{API}/support/csat", json={"token": token, "score": 5})
    assert twice.json()["error"]["code"] == "already_rated"

    expired = csat.links.token(chat, at=datetime.now(UTC) - timedelta(days=31))
    old = await client.post(f"{API}/support/csat", json={"token": expired, "score": 5})
    assert (old.status_code, old.json()["error"]["code"]) == (401, "token_expired")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    bad = await client.post(f"{API}/support/csat", json={"token": forged, "score": 5})
    assert (bad.status_code, bad.json()["error"]["code"]) == (401, "token_invalid")
    # An access token is not a rating link.
    wrong = await client.post(
        f"{API}/support/csat", json={"token": customer.access_token, "score": 5}
    )
    assert wrong.json()["error"]["code"] == "token_invalid"
