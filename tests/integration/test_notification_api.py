"""Notification preferences and Web Push subscriptions over the REST API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from goftogu.gateway import Gateway, create_gateway
from goftogu.notifications.models import PushSubscription
from goftogu.settings import Settings
from goftogu.vapid import generate_vapid_keys
from tests.conftest import make_settings
from tests.helpers.api import API, sign_up
from tests.helpers.webpush import Browser

PUBLIC_KEY, PRIVATE_KEY = generate_vapid_keys()
FCM = "https://fcm.googleapis.com/fcm/send/"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url, tmp_path, vapid_public_key=PUBLIC_KEY, vapid_private_key=PRIVATE_KEY
    )


def browser(device: str = "device-1") -> dict[str, object]:
    return Browser(FCM + device).subscription


async def count_subscriptions(gateway: Gateway) -> int:
    async with gateway.container.database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(PushSubscription)) or 0)


async def test_preferences_default_to_everything_on(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    response = await client.get(f"{API}/users/me/notification-settings", headers=user.headers)
    assert response.status_code == 200
    assert response.json() == {"email": True, "push": True, "language": None}


async def test_a_preference_change_keeps_the_fields_left_out(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    url = f"{API}/users/me/notification-settings"
    await client.put(url, headers=user.headers, json={"email": False, "language": "fa"})
    response = await client.put(url, headers=user.headers, json={"push": False})
    assert response.json() == {"email": False, "push": False, "language": "fa"}
    response = await client.put(url, headers=user.headers, json={"language": None})
    assert response.json() == {"email": False, "push": False, "language": None}
    other = await sign_up(client)
    assert (await client.get(url, headers=other.headers)).json()["email"] is True


async def test_a_bad_preference_is_refused_and_changes_nothing(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    url = f"{API}/users/me/notification-settings"
    response = await client.put(url, headers=user.headers, json={"email": False, "language": "de"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert (await client.get(url, headers=user.headers)).json()["email"] is True
    assert (await client.get(url)).status_code == 401


async def test_the_vapid_public_key_is_served(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    response = await client.get(f"{API}/push/vapid-public-key", headers=user.headers)
    assert response.json() == {"public_key": PUBLIC_KEY}


async def test_a_browser_subscribes_once_and_lists_it(
    client: httpx.AsyncClient, gateway: Gateway
) -> None:
    user = await sign_up(client)
    url = f"{API}/push/subscriptions"
    first = await client.post(
        url, headers={**user.headers, "User-Agent": "Firefox/140"}, json=browser()
    )
    assert first.status_code == 201
    assert first.json()["endpoint"] == FCM + "device-1"
    assert first.json()["user_agent"] == "Firefox/140"
    again = await client.post(url, headers=user.headers, json=browser())
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    listed = (await client.get(url, headers=user.headers)).json()["items"]
    assert [s["id"] for s in listed] == [first.json()["id"]]
    assert await count_subscriptions(gateway) == 1


async def test_only_the_owner_deletes_a_subscription(
    client: httpx.AsyncClient, gateway: Gateway
) -> None:
    owner, other = await sign_up(client), await sign_up(client)
    created = await client.post(f"{API}/push/subscriptions", headers=owner.headers, json=browser())
    path = f"{API}/push/subscriptions/{created.json()['id']}"

    refused = await client.delete(path, headers=other.headers)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "not_found"
    assert await count_subscriptions(gateway) == 1

    assert (await client.delete(path, headers=owner.headers)).status_code == 204
    assert await count_subscriptions(gateway) == 0
    assert (await client.delete(path, headers=owner.headers)).status_code == 404


async def test_a_browser_that_signs_in_as_someone_else_moves_to_them(
    client: httpx.AsyncClient,
) -> None:
    first, second = await sign_up(client), await sign_up(client)
    url = f"{API}/push/subscriptions"
    await client.post(url, headers=first.headers, json=browser("shared"))
    moved = await client.post(url, headers=second.headers, json=browser("shared"))
    assert moved.status_code == 201
    assert (await client.get(url, headers=first.headers)).json()["items"] == []
    assert len((await client.get(url, headers=second.headers)).json()["items"]) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("p256dh", "AAAA", "P-256"),
        ("p256dh", "not base64 at all!", "base64url"),
        ("auth", "c2hvcnQ", "16 bytes"),
        ("endpoint", "https://10.0.0.5/internal/admin", "push service"),
        ("endpoint", "http://fcm.googleapis.com/fcm/send/x", "push service"),
    ],
)
async def test_a_subscription_with_bad_keys_or_endpoint_is_refused(
    client: httpx.AsyncClient, gateway: Gateway, field: str, value: str, message: str
) -> None:
    user = await sign_up(client)
    body = Browser(FCM + "device").subscription
    if field == "endpoint":
        body["endpoint"] = value
    else:
        body["keys"][field] = value
    response = await client.post(f"{API}/push/subscriptions", headers=user.headers, json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_push_subscription"
    assert message in response.json()["error"]["message"]
    assert await count_subscriptions(gateway) == 0


@pytest.fixture
async def gateway_without_push(database_url: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    gw = create_gateway(make_settings(database_url, tmp_path))
    async with gw.api.router.lifespan_context(gw.api):
        yield gw


async def test_without_vapid_keys_push_is_reported_as_not_configured(
    gateway_without_push: Gateway,
) -> None:
    transport = httpx.ASGITransport(app=gateway_without_push.asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        user = await sign_up(client)
        key = await client.get(f"{API}/push/vapid-public-key", headers=user.headers)
        subscribed = await client.post(
            f"{API}/push/subscriptions", headers=user.headers, json=browser()
        )
    for response in (key, subscribed):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "push_not_configured"
