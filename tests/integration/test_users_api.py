"""Profiles, search, visitors and admin-only account creation (P1, M6)."""

import asyncio
from pathlib import Path

import httpx
import pytest

from goftogu.gateway import Gateway
from tests.helpers.api import API, PASSWORD, login, register, sign_up, staff, visitor


async def test_users_update_their_own_profile(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    response = await client.patch(
        f"{API}/users/me",
        headers=user.headers,
        json={
            "display_name": "سارا",
            "avatar_url": "https://cdn.example.com/a.png",
            "status": "away",
        },
    )
    assert response.status_code == 200
    me = (await client.get(f"{API}/users/me", headers=user.headers)).json()
    assert (me["display_name"], me["avatar_url"], me["status"]) == (
        "سارا",
        "https://cdn.example.com/a.png",
        "away",
    )


async def test_a_profile_update_with_a_bad_field_changes_nothing(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    response = await client.patch(
        f"{API}/users/me", headers=user.headers, json={"display_name": "x", "status": "sleeping"}
    )
    assert response.status_code == 422
    me = (await client.get(f"{API}/users/me", headers=user.headers)).json()
    assert me["display_name"] is None


async def test_an_email_taken_by_someone_else_is_refused(client: httpx.AsyncClient) -> None:
    await register(client, "first")
    second = await sign_up(client)
    response = await client.patch(
        f"{API}/users/me", headers=second.headers, json={"email": "FIRST@example.com"}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "email_taken"


async def test_public_profiles_hide_the_email(client: httpx.AsyncClient) -> None:
    target, reader = await sign_up(client), await sign_up(client)
    profile = (await client.get(f"{API}/users/{target.id}", headers=reader.headers)).json()
    assert profile["username"] == target.username
    assert "email" not in profile


async def test_an_unknown_or_malformed_user_id_is_not_found(client: httpx.AsyncClient) -> None:
    reader = await sign_up(client)
    for user_id in ("01234567-89ab-7def-8123-456789abcdef", "not-an-id"):
        response = await client.get(f"{API}/users/{user_id}", headers=reader.headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


async def test_search_finds_by_username_prefix_and_exact_email_and_pages(
    client: httpx.AsyncClient,
) -> None:
    for name in ("shirin1", "shirin2", "shirin3", "farhad"):
        await register(client, name)
    reader = await sign_up(client)
    first = (
        await client.get(f"{API}/users", params={"q": "SHIR", "limit": 2}, headers=reader.headers)
    ).json()
    assert [u["username"] for u in first["items"]] == ["shirin1", "shirin2"]
    assert first["has_more"] is True
    rest = (
        await client.get(
            f"{API}/users",
            params={"q": "shir", "limit": 2, "cursor": first["next_cursor"]},
            headers=reader.headers,
        )
    ).json()
    assert [u["username"] for u in rest["items"]] == ["shirin3"]
    assert rest["has_more"] is False
    by_email = (
        await client.get(f"{API}/users", params={"q": "farhad@example.com"}, headers=reader.headers)
    ).json()
    assert [u["username"] for u in by_email["items"]] == ["farhad"]


async def test_search_treats_wildcards_literally(client: httpx.AsyncClient) -> None:
    await register(client, "abc_def")
    await register(client, "abcxdef")
    reader = await sign_up(client)
    found = (await client.get(f"{API}/users", params={"q": "abc_"}, headers=reader.headers)).json()
    assert [u["username"] for u in found["items"]] == ["abc_def"]


async def test_visitors_get_tokens_and_can_add_name_and_email_later(
    client: httpx.AsyncClient,
) -> None:
    guest = await visitor(client)
    assert guest.user["is_visitor"] is True
    assert guest.user["role"] == "customer"
    assert guest.username.startswith("visitor-")
    response = await client.patch(
        f"{API}/users/me",
        headers=guest.headers,
        json={"display_name": "Leila", "email": "l@example.com"},
    )
    assert response.json()["email"] == "l@example.com"
    refreshed = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": guest.refresh_token}
    )
    assert refreshed.status_code == 200


async def test_visitors_cannot_sign_in_with_a_password(client: httpx.AsyncClient) -> None:
    guest = await visitor(client, name="Leila")
    response = await client.post(
        f"{API}/auth/login", json={"login": guest.username, "password": PASSWORD}
    )
    assert response.json()["error"]["code"] == "invalid_credentials"


async def test_visitors_are_hidden_from_customers_but_visible_to_operators(
    client: httpx.AsyncClient, gateway: Gateway
) -> None:
    guest = await visitor(client, name="Leila")
    customer = await sign_up(client)
    operator = await staff(gateway, client, "operator")
    assert (
        await client.get(f"{API}/users/{guest.id}", headers=customer.headers)
    ).status_code == 404
    assert (
        await client.get(f"{API}/users/{guest.id}", headers=operator.headers)
    ).status_code == 200
    search = {"q": "visitor-"}
    hidden = (await client.get(f"{API}/users", params=search, headers=customer.headers)).json()
    shown = (await client.get(f"{API}/users", params=search, headers=operator.headers)).json()
    assert hidden["items"] == []
    assert [u["id"] for u in shown["items"]] == [guest.id]


@pytest.mark.parametrize("caller_role", ["customer", "operator"])
async def test_only_admins_create_staff_accounts(
    client: httpx.AsyncClient, gateway: Gateway, caller_role: str
) -> None:
    caller = await sign_up(client) if caller_role == "customer" else await staff(gateway, client)
    body = {
        "username": "newop",
        "email": "newop@example.com",
        "password": PASSWORD,
        "role": "admin",
    }
    response = await client.post(f"{API}/admin/users", headers=caller.headers, json=body)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    taken = await client.post(
        f"{API}/auth/register", json={k: v for k, v in body.items() if k != "role"}
    )
    assert taken.status_code == 201  # nothing was created by the refused call


async def test_an_admin_creates_an_operator_who_can_sign_in(
    client: httpx.AsyncClient, gateway: Gateway
) -> None:
    admin = await staff(gateway, client, "admin")
    body = {
        "username": "opera",
        "email": "opera@example.com",
        "password": PASSWORD,
        "role": "operator",
    }
    response = await client.post(f"{API}/admin/users", headers=admin.headers, json=body)
    assert response.status_code == 201
    assert response.json()["role"] == "operator"
    assert (await login(client, "opera")).user["role"] == "operator"


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_fifty_parallel_registrations_of_one_username_make_one_user(
    client: httpx.AsyncClient,
) -> None:
    async def attempt(i: int) -> httpx.Response:
        return await client.post(
            f"{API}/auth/register",
            json={"username": "Popular", "email": f"p{i}@example.com", "password": PASSWORD},
        )

    answers = await asyncio.gather(*(attempt(i) for i in range(50)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [409] * 49
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {
        "username_taken"
    }


async def test_visitors_look_nobody_up_and_see_no_staff_profile(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    operator = await staff(gateway, client)
    customer = await sign_up(client)
    guest = await visitor(client, name="Guest")

    search = await client.get(f"{API}/users", params={"q": "u"}, headers=guest.headers)
    assert search.status_code == 403
    assert search.json()["error"]["code"] == "not_allowed"
    for someone in (operator, customer):
        # Role, status and last seen of staff (and of anyone) are not a visitor's to watch.
        seen = await client.get(f"{API}/users/{someone.id}", headers=guest.headers)
        assert seen.status_code == 404
    own = await client.get(f"{API}/users/{guest.id}", headers=guest.headers)
    assert own.status_code == 200
    # A registered customer still finds people.
    found = await client.get(
        f"{API}/users", params={"q": customer.username}, headers=customer.headers
    )
    assert found.status_code == 200


async def test_widget_visitors_have_a_rate_limit_of_their_own(
    database_url: str, tmp_path: Path
) -> None:
    from goftogu.gateway import create_gateway
    from tests.conftest import make_settings

    settings = make_settings(
        database_url, tmp_path, rate_register_per_ip="2/3600", rate_visitor_per_ip="12/3600"
    )
    gateway = create_gateway(settings)
    async with gateway.api.router.lifespan_context(gateway.api):
        transport = httpx.ASGITransport(app=gateway.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            # One office behind one address: more visitors than registrations allowed.
            for _ in range(12):
                await visitor(http)
            refused = await http.post(f"{API}/auth/visitor", json={})
            assert refused.status_code == 429
            assert refused.json()["error"]["code"] == "rate_limited"
            # The registration limit is its own too: the visitors took none of it.
            await register(http)
            await register(http)
