"""Connecting to the realtime gateway with the official clients (P2, M9)."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from goftogu.identity.models import Role
from goftogu.identity.tokens import AccessTokens, Principal
from tests.e2e.clients import ConnectRefused, connect
from tests.e2e.conftest import E2E_SECRET
from tests.e2e.servers import Process
from tests.helpers.api import API, SignedIn
from tests.helpers.waiting import eventually

KINDS = ["js", "python"]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_connection_without_a_token_is_refused_naming_the_code(
    embedded_gateway: Process, kind: str
) -> None:
    with pytest.raises(ConnectRefused) as refused:
        await connect(kind, embedded_gateway.base_url, {})
    assert refused.value.data["code"] == "unauthenticated"


@pytest.mark.parametrize("kind", KINDS)
async def test_a_forged_token_is_refused_as_invalid(embedded_gateway: Process, kind: str) -> None:
    with pytest.raises(ConnectRefused) as refused:
        await connect(kind, embedded_gateway.base_url, {"token": "not.a.token"})
    assert refused.value.data["code"] == "token_invalid"


@pytest.mark.parametrize("kind", KINDS)
async def test_an_expired_token_is_refused_as_expired(
    embedded_gateway: Process, alice: SignedIn, kind: str
) -> None:
    principal = Principal(uuid.UUID(alice.id), Role.customer, uuid.uuid4())
    old = AccessTokens(E2E_SECRET, 60).issue(principal, now=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(ConnectRefused) as refused:
        await connect(kind, embedded_gateway.base_url, {"token": old})
    assert refused.value.data["code"] == "token_expired"


def short_lived_token(user: SignedIn, seconds: int) -> str:
    principal = Principal(uuid.UUID(user.id), Role.customer, uuid.uuid4())
    return AccessTokens(E2E_SECRET, seconds).issue(principal)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_silent_socket_is_closed_when_its_token_expires(
    embedded_gateway: Process, alice: SignedIn, kind: str
) -> None:
    client = await connect(kind, embedded_gateway.base_url, {"token": short_lived_token(alice, 2)})
    try:
        await client.wait_for("presence", lambda d: d["user_id"] == alice.id)
        assert client.events("disconnect") == []
        await client.wait_for("disconnect", timeout=6)
    finally:
        await client.close()


async def test_auth_refresh_keeps_a_socket_open_past_its_first_tokens_expiry(
    embedded_gateway: Process, alice: SignedIn
) -> None:
    url = embedded_gateway.base_url
    refreshed = await connect("python", url, {"token": short_lived_token(alice, 2)})
    left_alone = await connect("python", url, {"token": short_lived_token(alice, 2)})
    # A witness whose token outlives the others' by a second: once a sweep closed it,
    # the sweeps after the first token's expiry have run.
    witness = await connect("python", url, {"token": short_lived_token(alice, 3)})
    try:
        answer = await refreshed.emit("auth:refresh", {"token": alice.access_token})
        assert answer["ok"], answer
        await left_alone.wait_for("disconnect", timeout=6)
        await witness.wait_for("disconnect", timeout=8)
        assert refreshed.events("disconnect") == []
        assert (await refreshed.emit("sync", {"cursors": {}}))["ok"]
    finally:
        for client in (refreshed, left_alone, witness):
            await client.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_valid_token_connects_and_the_user_is_announced_online(
    embedded_gateway: Process, alice: SignedIn, kind: str
) -> None:
    client = await connect(kind, embedded_gateway.base_url, {"token": alice.access_token})
    try:
        presence = await client.wait_for("presence", lambda d: d["user_id"] == alice.id)
        assert presence["status"] == "online"
    finally:
        await client.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_bad_payloads_get_error_acks_and_the_socket_stays_usable(
    embedded_gateway: Process, alice: SignedIn, kind: str
) -> None:
    client = await connect(kind, embedded_gateway.base_url, {"token": alice.access_token})
    try:
        wrong_type = await client.emit("typing:start", {"conversation": 5})
        assert wrong_type["error"]["code"] == "validation_error"
        not_a_dict = await client.emit("typing:start", "hello")
        assert not_a_dict["error"]["code"] == "validation_error"
        unknown = await client.emit("typing:start", {"conversation": f"group:{uuid.uuid4()}"})
        assert unknown["error"]["code"] == "not_a_member"
        away = await client.emit("presence:set", {"status": "away"})
        assert away == {"ok": True, "data": {"status": "away"}}
    finally:
        await client.close()


async def test_a_flood_is_rate_limited_and_the_socket_recovers(
    embedded_gateway: Process, alice: SignedIn
) -> None:
    client = await connect("python", embedded_gateway.base_url, {"token": alice.access_token})
    try:
        answers = await asyncio.gather(
            *(client.emit("presence:set", {"status": "online"}) for _ in range(120))
        )
        codes = {a["error"]["code"] for a in answers if not a["ok"]}
        assert codes == {"rate_limited"}
        assert sum(a["ok"] for a in answers) >= 50

        async def accepted_again() -> bool:
            return bool((await client.emit("presence:set", {"status": "online"}))["ok"])

        await eventually(accepted_again, timeout=15, what="the socket's limit to recover")
    finally:
        await client.close()


async def test_a_user_stays_online_while_any_connection_is_alive(
    embedded_gateway: Process, http: httpx.AsyncClient, alice: SignedIn, bob: SignedIn
) -> None:
    opened = await http.post(f"{API}/chats/single", headers=alice.headers, json={"user_id": bob.id})
    assert opened.status_code == 201  # bob is alice's contact: she hears of his presence
    watcher = await connect("python", embedded_gateway.base_url, {"token": alice.access_token})
    phone = await connect("js", embedded_gateway.base_url, {"token": alice.access_token})
    witness = await connect("python", embedded_gateway.base_url, {"token": bob.access_token})
    await phone.close()
    await witness.close()
    # Bob left after alice's phone did, with the same grace period: once he is
    # announced offline, alice would have been too.
    await watcher.wait_for(
        "presence", lambda p: p["user_id"] == bob.id and p["status"] == "offline"
    )
    statuses = [p["status"] for p in watcher.events("presence") if p["user_id"] == alice.id]
    assert "offline" not in statuses
    await watcher.close()
