"""Logins and support intakes past their admission bounds are refused at once with
503 ``overloaded`` and ``Retry-After``; what was refused was not done, and what
was accepted was done whole (never silently lost)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from goftogu.gateway import create_gateway
from tests.conftest import make_settings
from tests.helpers.api import API, PASSWORD, register, visitor


@pytest.fixture
def gate_settings() -> dict[str, Any]:
    """One at a time, nobody waiting: the second concurrent request is refused."""
    return {
        "admit_login_in_flight": 1,
        "admit_login_queue": 0,
        "admit_intake_in_flight": 1,
        "admit_intake_queue": 0,
    }


async def client_for(settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    gateway = create_gateway(settings)
    async with gateway.api.router.lifespan_context(gateway.api):
        transport = httpx.ASGITransport(app=gateway.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
async def busy(
    database_url: str, tmp_path: Path, gate_settings: dict[str, Any]
) -> AsyncIterator[httpx.AsyncClient]:
    async for client in client_for(make_settings(database_url, tmp_path, **gate_settings)):
        yield client


def refused_for_overload(response: httpx.Response) -> bool:
    return (
        response.status_code == 503
        and response.headers.get("Retry-After") == "1"
        and response.json()["error"]["code"] == "overloaded"
    )


async def test_logins_past_the_gate_are_refused_at_once_and_can_simply_retry(
    busy: httpx.AsyncClient,
) -> None:
    user = await register(busy)
    body = {"login": user["username"], "password": PASSWORD}
    answers = await asyncio.gather(*(busy.post(f"{API}/auth/login", json=body) for _ in range(5)))
    signed_in = [a for a in answers if a.status_code == 200]
    assert signed_in
    assert len(signed_in) < 5
    assert all(a.status_code == 200 or refused_for_overload(a) for a in answers)
    sessions = await busy.get(
        f"{API}/auth/sessions",
        headers={"Authorization": f"Bearer {signed_in[0].json()['access_token']}"},
    )
    assert len(sessions.json()["items"]) == len(signed_in)  # one session per login let in, no more
    again = await busy.post(f"{API}/auth/login", json=body)
    assert again.status_code == 200


async def intakes_past_the_gate(client: httpx.AsyncClient) -> None:
    customers = [await visitor(client) for _ in range(5)]

    def start(n: int) -> Any:
        return client.post(
            f"{API}/support/chats",
            headers=customers[n].headers,
            json={"client_id": f"first-{n}", "body": f"help {n}"},
        )

    answers = await asyncio.gather(*(start(n) for n in range(5)))
    opened = [n for n, a in enumerate(answers) if a.status_code == 201]
    refused = [n for n, a in enumerate(answers) if refused_for_overload(a)]
    assert opened
    assert refused
    assert sorted(opened + refused) == list(range(5))
    for n in opened:  # stored whole
        listed = await client.get(f"{API}/support/chats", headers=customers[n].headers)
        assert [c["last_message"]["body"] for c in listed.json()["items"]] == [f"help {n}"]
    for n in refused:  # nothing stored: the retry opens it (201, not "the same one")
        listed = await client.get(f"{API}/support/chats", headers=customers[n].headers)
        assert listed.json()["items"] == []
        assert (await start(n)).status_code == 201


async def test_support_intakes_past_the_gate_are_refused_and_nothing_of_them_is_kept(
    busy: httpx.AsyncClient,
) -> None:
    await intakes_past_the_gate(busy)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_same_on_the_mongodb_protocol_store(
    database_url: str, mongodb_url: str, tmp_path: Path, gate_settings: dict[str, Any]
) -> None:
    settings = make_settings(database_url, tmp_path, mongodb_url=mongodb_url, **gate_settings)
    async for client in client_for(settings):
        await intakes_past_the_gate(client)
