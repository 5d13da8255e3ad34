"""Signing users up and in through the public API, as a client would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

API = "/api/v1"
PASSWORD = "correct horse battery staple"


@dataclass
class SignedIn:
    """A user with tokens, and headers for calling the API as them."""

    id: str
    username: str
    access_token: str
    refresh_token: str
    user: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def unique_name(prefix: str = "user") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


async def register(
    client: httpx.AsyncClient, username: str | None = None, password: str = PASSWORD
) -> dict[str, Any]:
    username = username or unique_name()
    response = await client.post(
        f"{API}/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": password},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def login(client: httpx.AsyncClient, login: str, password: str = PASSWORD) -> SignedIn:
    response = await client.post(f"{API}/auth/login", json={"login": login, "password": password})
    assert response.status_code == 200, response.text
    return _signed_in(response.json())


async def sign_up(client: httpx.AsyncClient, username: str | None = None) -> SignedIn:
    """Register a customer and sign them in."""
    user = await register(client, username)
    return await login(client, user["username"])


async def visitor(client: httpx.AsyncClient, **details: str) -> SignedIn:
    response = await client.post(f"{API}/auth/visitor", json=details)
    assert response.status_code == 201, response.text
    return _signed_in(response.json())


def _signed_in(pair: dict[str, Any]) -> SignedIn:
    return SignedIn(
        id=pair["user"]["id"],
        username=pair["user"]["username"],
        access_token=pair["access_token"],
        refresh_token=pair["refresh_token"],
        user=pair["user"],
    )


async def staff(
    gateway: Any, client: httpx.AsyncClient, role: str = "operator", username: str | None = None
) -> SignedIn:
    """An operator or admin, created the way `goftogu create-admin` does, then signed in."""
    from goftogu.identity.accounts import NewAccount
    from goftogu.identity.models import Role

    username = username or unique_name(role)
    await gateway.container.accounts.register(
        NewAccount(username, f"{username}@example.com", PASSWORD, Role(role))
    )
    return await login(client, username)
