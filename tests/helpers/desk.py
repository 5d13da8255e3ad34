"""Helpers for support desk tests: operators made available, waiting on routing."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import httpx

from goftogu.identity.models import Role
from goftogu.identity.tokens import Principal
from tests.helpers.api import API, SignedIn, staff
from tests.helpers.waiting import eventually

T = TypeVar("T")


def principal_of(user: SignedIn, role: Role = Role.operator) -> Principal:
    return Principal(user_id=uuid.UUID(user.id), role=role, session_id=uuid.uuid4())


async def available_operator(
    gateway: Any, client: httpx.AsyncClient, role: str = "operator"
) -> SignedIn:
    """An operator online, accepting, with one live socket (as the realtime layer
    reports it on connect)."""
    operator = await staff(gateway, client, role)
    response = await client.put(
        f"{API}/support/presence",
        json={"status": "online", "accepting": True},
        headers=operator.headers,
    )
    assert response.status_code == 200, response.text
    await gateway.container.support.operator_connected(
        principal_of(operator, Role(role)), f"socket-{operator.id}"
    )
    return operator


async def start_chat(
    client: httpx.AsyncClient, customer: SignedIn, body: str = "Hello, I need help", **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        f"{API}/support/chats",
        json={"client_id": extra.pop("client_id", uuid.uuid4().hex), "body": body, **extra},
        headers=customer.headers,
    )
    assert response.status_code == 201, response.text
    chat: dict[str, Any] = response.json()
    return chat


async def chat_of(client: httpx.AsyncClient, user: SignedIn, chat_id: str) -> dict[str, Any]:
    response = await client.get(f"{API}/support/chats/{chat_id}", headers=user.headers)
    assert response.status_code == 200, response.text
    chat: dict[str, Any] = response.json()
    return chat


async def routed(client: httpx.AsyncClient, user: SignedIn, chat_id: str) -> dict[str, Any]:
    """The conversation once routing decided: assigned (OPEN) or a ticket."""

    async def decided() -> dict[str, Any] | None:
        chat = await chat_of(client, user, chat_id)
        return chat if chat["status"] == "OPEN" or chat["type"] == "TICKET" else None

    return await eventually(decided, what=f"chat {chat_id} to be routed")
