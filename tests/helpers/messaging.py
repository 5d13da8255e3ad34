"""Driving messaging through the public API, as a client would."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.helpers.api import API, SignedIn


async def open_chat(client: httpx.AsyncClient, user: SignedIn, other: SignedIn) -> str:
    """The address of the single chat of two users."""
    response = await client.post(
        f"{API}/chats/single", headers=user.headers, json={"user_id": other.id}
    )
    assert response.status_code in (200, 201), response.text
    address: str = response.json()["conversation"]
    return address


async def create_group(
    client: httpx.AsyncClient, owner: SignedIn, *members: SignedIn, title: str = "Team"
) -> str:
    """The address of a new group of ``owner`` with ``members``."""
    response = await client.post(
        f"{API}/groups",
        headers=owner.headers,
        json={"title": title, "member_ids": [m.id for m in members]},
    )
    assert response.status_code == 201, response.text
    address: str = response.json()["conversation"]
    return address


def group_id(address: str) -> str:
    return address.split(":", 1)[1]


async def send(
    client: httpx.AsyncClient, user: SignedIn, address: str, content: str = "hi", **extra: Any
) -> dict[str, Any]:
    """Send a message; returns it (asserting 201)."""
    body = {"client_id": uuid.uuid4().hex, "content": content, **extra}
    response = await client.post(
        f"{API}/conversations/{address}/messages", headers=user.headers, json=body
    )
    assert response.status_code == 201, response.text
    message: dict[str, Any] = response.json()
    return message


async def history(
    client: httpx.AsyncClient, user: SignedIn, address: str, **params: Any
) -> dict[str, Any]:
    response = await client.get(
        f"{API}/conversations/{address}/messages", headers=user.headers, params=params
    )
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code
