"""Revoking a session takes effect at once (issue 17, item 2): its access token is
refused by the next request, whatever ended it, on the embedded and the Redis set."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from goftogu.gateway import Gateway, create_gateway
from goftogu.identity.revocations import MemorySessionRevocations, SessionRevocations
from goftogu.identity.revocations_redis import RedisSessionRevocations
from tests.conftest import make_settings
from tests.helpers.api import API, PASSWORD, SignedIn, login, sign_up
from tests.helpers.messaging import history, open_chat, send


@pytest.fixture(params=["embedded", "redis"])
async def gateway(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> AsyncIterator[Gateway]:
    extra = {"redis_url": request.getfixturevalue("redis_url")} if request.param == "redis" else {}
    gw = create_gateway(make_settings(database_url, tmp_path, **extra))
    async with gw.api.router.lifespan_context(gw.api):
        yield gw


async def _refused(client: httpx.AsyncClient, user: SignedIn) -> str:
    response = await client.get(f"{API}/users/me", headers=user.headers)
    assert response.status_code == 401, response.text
    code: str = response.json()["error"]["code"]
    return code


async def test_after_logout_the_access_token_is_refused_at_once(
    client: httpx.AsyncClient,
) -> None:
    user = await sign_up(client)
    assert (await client.get(f"{API}/users/me", headers=user.headers)).status_code == 200
    out = await client.post(
        f"{API}/auth/logout", json={"refresh_token": user.refresh_token}, headers=user.headers
    )
    assert out.status_code == 204
    assert await _refused(client, user) == "session_revoked"


async def test_a_logged_out_token_can_send_nothing(client: httpx.AsyncClient) -> None:
    user, other = await sign_up(client), await sign_up(client)
    address = await open_chat(client, user, other)
    await send(client, user, address, "before")
    await client.post(
        f"{API}/auth/logout", json={"refresh_token": user.refresh_token}, headers=user.headers
    )
    refused = await client.post(
        f"{API}/conversations/{address}/messages",
        headers=user.headers,
        json={"client_id": "after-logout", "content": "after"},
    )
    assert refused.status_code == 401
    assert [m["content"] for m in (await history(client, other, address))["items"]] == ["before"]


async def test_a_session_deleted_from_another_device_is_refused_at_once(
    client: httpx.AsyncClient,
) -> None:
    laptop = await sign_up(client)
    phone = await login(client, laptop.username)
    sessions = (await client.get(f"{API}/auth/sessions", headers=laptop.headers)).json()["items"]
    phone_session = next(s for s in sessions if not s["current"])
    await client.delete(f"{API}/auth/sessions/{phone_session['id']}", headers=laptop.headers)
    assert await _refused(client, phone) == "session_revoked"
    assert (await client.get(f"{API}/users/me", headers=laptop.headers)).status_code == 200


async def test_a_reused_refresh_token_ends_the_access_token_of_its_family(
    client: httpx.AsyncClient,
) -> None:
    user = await sign_up(client)
    rotated = await client.post(f"{API}/auth/refresh", json={"refresh_token": user.refresh_token})
    newest = SignedIn(user.id, user.username, rotated.json()["access_token"], "", user.user)
    await client.post(f"{API}/auth/refresh", json={"refresh_token": user.refresh_token})
    assert await _refused(client, newest) == "session_revoked"


async def test_a_new_password_ends_every_other_session_but_this_one(
    client: httpx.AsyncClient,
) -> None:
    here = await sign_up(client)
    elsewhere = await login(client, here.username)
    changed = await client.post(
        f"{API}/auth/password",
        headers=here.headers,
        json={"current_password": PASSWORD, "new_password": "a brand new long passphrase"},
    )
    assert changed.status_code == 204
    assert await _refused(client, elsewhere) == "session_revoked"
    assert (await client.get(f"{API}/users/me", headers=here.headers)).status_code == 200


async def test_revoking_all_sessions_of_a_user_ends_them_with_the_reason(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    user = await sign_up(client)
    second = await login(client, user.username)
    bystander = await sign_up(client)
    ended = await gateway.container.auth.revoke_all_sessions(
        uuid.UUID(user.id), reason="account_disabled"
    )
    assert ended == 2
    for token in (user, second):
        response = await client.get(f"{API}/users/me", headers=token.headers)
        assert response.status_code == 401
        assert response.json()["error"]["details"] == {"reason": "account_disabled"}
    assert (await client.get(f"{API}/users/me", headers=bystander.headers)).status_code == 200
    again = await client.post(f"{API}/auth/refresh", json={"refresh_token": second.refresh_token})
    assert again.status_code == 401


# --- one contract for both sets ---------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
async def revocations(request: pytest.FixtureRequest) -> AsyncIterator[SessionRevocations]:
    if request.param == "memory":
        yield MemorySessionRevocations(token_ttl_seconds=900)
        return
    client = Redis.from_url(request.getfixturevalue("redis_url"), decode_responses=True)
    yield RedisSessionRevocations(client, token_ttl_seconds=900)
    await client.aclose()


async def test_a_revoked_session_is_told_apart_with_its_reason(
    revocations: SessionRevocations,
) -> None:
    assert await revocations.revoked(["a", "b"]) == {}
    await revocations.revoke(["a"], "logout")
    assert await revocations.revoked(["a", "b"]) == {"a": "logout"}
    await revocations.revoke(["b", "c"], "account_disabled")
    assert await revocations.revoked(["a", "b", "c", "d"]) == {
        "a": "logout",
        "b": "account_disabled",
        "c": "account_disabled",
    }


async def test_a_revocation_made_by_one_node_is_seen_by_another(redis_url: str) -> None:
    clients = [Redis.from_url(redis_url, decode_responses=True) for _ in range(2)]
    one, other = (RedisSessionRevocations(c, token_ttl_seconds=900) for c in clients)
    assert await other.revoked(["s"]) == {}  # asked before: "not revoked" is not cached
    await one.revoke(["s"], "logout")
    assert await other.revoked(["s"]) == {"s": "logout"}
    ttl = await clients[0].ttl("goftogu:revoked:s")
    assert 900 < ttl <= 960  # kept as long as a token of the session could live
    for c in clients:
        await c.aclose()
