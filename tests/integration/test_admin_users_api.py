"""Admins manage accounts: the users list, roles, disabling and re-enabling, counts."""

import asyncio
import uuid

import httpx
import pytest

from goftogu.errors import Conflict
from goftogu.gateway import Gateway
from goftogu.identity.models import Role
from goftogu.identity.schemas import AdminUpdateUserRequest
from goftogu.identity.tokens import Principal
from tests.helpers.api import API, PASSWORD, SignedIn, login, register, sign_up, staff, visitor


async def _patch(
    client: httpx.AsyncClient, admin_headers: dict[str, str], user_id: str, **body: object
) -> httpx.Response:
    return await client.patch(f"{API}/admin/users/{user_id}", headers=admin_headers, json=body)


async def test_admins_list_every_account_by_username_in_pages(
    client: httpx.AsyncClient, gateway: Gateway
) -> None:
    admin = await staff(gateway, client, "admin", "zadmin")
    for name in ("mina1", "mina2", "mina3"):
        await register(client, name)
    await visitor(client, name="Mina the visitor")
    first = (
        await client.get(
            f"{API}/admin/users", params={"q": "MIN", "limit": 2}, headers=admin.headers
        )
    ).json()
    assert [u["username"] for u in first["items"]] == ["mina1", "mina2"]
    assert first["has_more"] is True
    assert first["items"][0]["email"] == "mina1@example.com"
    assert first["items"][0]["disabled"] is False
    rest = (
        await client.get(
            f"{API}/admin/users",
            params={"q": "min", "limit": 2, "cursor": first["next_cursor"]},
            headers=admin.headers,
        )
    ).json()
    assert [u["username"] for u in rest["items"]] == ["mina3"]
    assert (rest["has_more"], rest["next_cursor"]) == (False, None)
    everyone = (await client.get(f"{API}/admin/users", headers=admin.headers)).json()
    assert [u["username"] for u in everyone["items"]] == ["mina1", "mina2", "mina3", "zadmin"]
    admins = (
        await client.get(f"{API}/admin/users", params={"role": "admin"}, headers=admin.headers)
    ).json()
    assert [u["username"] for u in admins["items"]] == ["zadmin"]
    with_visitors = (
        await client.get(
            f"{API}/admin/users", params={"q": "mina the", "visitors": True}, headers=admin.headers
        )
    ).json()
    assert [u["display_name"] for u in with_visitors["items"]] == ["Mina the visitor"]


@pytest.mark.parametrize("caller_role", ["customer", "operator"])
async def test_only_admins_list_change_or_count_accounts(
    client: httpx.AsyncClient, gateway: Gateway, caller_role: str
) -> None:
    caller = await sign_up(client) if caller_role == "customer" else await staff(gateway, client)
    target = await sign_up(client)
    answers = [
        await client.get(f"{API}/admin/users", headers=caller.headers),
        await _patch(client, caller.headers, target.id, role="admin"),
        await _patch(client, caller.headers, target.id, disabled=True),
        await client.get(f"{API}/admin/stats", headers=caller.headers),
    ]
    assert [(a.status_code, a.json()["error"]["code"]) for a in answers] == [(403, "forbidden")] * 4
    assert (await login(client, target.username)).user["role"] == "customer"
    assert (await client.get(f"{API}/admin/users")).status_code == 401


async def test_an_admin_changes_a_role(client: httpx.AsyncClient, gateway: Gateway) -> None:
    admin = await staff(gateway, client, "admin")
    target = await sign_up(client)
    response = await _patch(client, admin.headers, target.id, role="operator")
    assert response.status_code == 200
    assert response.json()["role"] == "operator"
    assert (await login(client, target.username)).user["role"] == "operator"


async def test_a_disabled_user_is_signed_out_everywhere_and_refused_at_login(
    client: httpx.AsyncClient, gateway: Gateway
) -> None:
    admin = await staff(gateway, client, "admin")
    target = await sign_up(client)
    second_device = await login(client, target.username)
    response = await _patch(client, admin.headers, target.id, disabled=True)
    assert response.status_code == 200
    assert response.json()["disabled"] is True
    assert response.json()["disabled_at"] is not None
    for device in (target, second_device):
        refreshed = await client.post(
            f"{API}/auth/refresh", json={"refresh_token": device.refresh_token}
        )
        assert (refreshed.status_code, refreshed.json()["error"]["code"]) == (
            403,
            "account_disabled",
        )
    refused = await client.post(
        f"{API}/auth/login", json={"login": target.username, "password": PASSWORD}
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "account_disabled")
    wrong_password = await client.post(
        f"{API}/auth/login", json={"login": target.username, "password": "not it at all"}
    )
    assert wrong_password.json()["error"]["code"] == "invalid_credentials"
    sessions = await gateway.container.auth.sessions_of(_principal_of(gateway, target))
    assert sessions == []


async def test_a_re_enabled_user_signs_in_again(
    client: httpx.AsyncClient, gateway: Gateway
) -> None:
    admin = await staff(gateway, client, "admin")
    target = await sign_up(client)
    await _patch(client, admin.headers, target.id, disabled=True)
    response = await _patch(client, admin.headers, target.id, disabled=False)
    assert (response.json()["disabled"], response.json()["disabled_at"]) == (False, None)
    assert (await login(client, target.username)).id == target.id


async def test_a_session_refreshed_after_the_disable_is_refused(
    client: httpx.AsyncClient, gateway: Gateway
) -> None:
    """A refresh racing with the disable: whichever commits last, the account's
    tokens end (the refresh itself checks the account)."""
    target = await sign_up(client)
    await gateway.container.accounts.update_for_admin(
        _admin_principal(), target.id, AdminUpdateUserRequest(disabled=True)
    )
    refreshed = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": target.refresh_token}
    )
    assert (refreshed.status_code, refreshed.json()["error"]["code"]) == (403, "account_disabled")
    await gateway.container.accounts.update_for_admin(
        _admin_principal(), target.id, AdminUpdateUserRequest(disabled=False)
    )
    again = await client.post(f"{API}/auth/refresh", json={"refresh_token": target.refresh_token})
    assert again.status_code == 401  # enabled again, but that session stays ended


async def test_an_admin_cannot_disable_or_demote_themself(
    client: httpx.AsyncClient, gateway: Gateway
) -> None:
    admin = await staff(gateway, client, "admin")
    await staff(gateway, client, "admin")  # not the last admin: still refused
    for body in ({"disabled": True}, {"role": "operator"}):
        response = await _patch(client, admin.headers, admin.id, **body)
        assert (response.status_code, response.json()["error"]["code"]) == (403, "not_allowed")
    assert (await login(client, admin.username)).user["role"] == "admin"


async def test_the_last_enabled_admin_stays(client: httpx.AsyncClient, gateway: Gateway) -> None:
    first = await staff(gateway, client, "admin")
    second = await staff(gateway, client, "admin")
    assert (await _patch(client, first.headers, second.id, disabled=True)).status_code == 200
    # second is disabled: its token is refused at once (issue 17)...
    ended = await _patch(client, second.headers, first.id, role="operator")
    assert (ended.status_code, ended.json()["error"]["code"]) == (401, "session_revoked")
    assert ended.json()["error"]["details"] == {"reason": "account_disabled"}
    # ...and even an admin's principal (as second's token carried it) cannot take the
    # last enabled admin away.
    as_second = Principal(user_id=uuid.UUID(second.id), role=Role.admin, session_id=uuid.uuid4())
    with pytest.raises(Conflict):
        await gateway.container.accounts.update_for_admin(
            as_second, first.id, AdminUpdateUserRequest(role=Role.operator)
        )
    assert (await login(client, first.username)).user["role"] == "admin"


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    client: httpx.AsyncClient, gateway: Gateway
) -> None:
    first = await staff(gateway, client, "admin")
    second = await staff(gateway, client, "admin")
    answers = await asyncio.gather(
        _patch(client, first.headers, second.id, role="operator"),
        _patch(client, second.headers, first.id, role="operator"),
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    admins = (
        await client.get(
            f"{API}/admin/users",
            params={"role": "admin"},
            headers=(first if answers[0].status_code == 200 else second).headers,
        )
    ).json()
    assert len(admins["items"]) == 1


async def test_unknown_users_and_bad_changes_are_refused(
    client: httpx.AsyncClient, gateway: Gateway
) -> None:
    admin = await staff(gateway, client, "admin")
    target = await sign_up(client)
    guest = await visitor(client)
    for user_id in ("01234567-89ab-7def-8123-456789abcdef", "nope"):
        response = await _patch(client, admin.headers, user_id, role="operator")
        assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    for body in ({"role": "king"}, {"disabled": "maybe"}, {"nickname": "x"}):
        response = await _patch(client, admin.headers, target.id, **body)
        assert response.status_code == 422
    response = await _patch(client, admin.headers, guest.id, role="operator")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "not_allowed")
    assert (await login(client, target.username)).user["role"] == "customer"


async def test_admins_see_counts_and_the_version(
    client: httpx.AsyncClient, gateway: Gateway
) -> None:
    admin = await staff(gateway, client, "admin")
    ali, sara = await sign_up(client), await sign_up(client)
    await staff(gateway, client, "operator")
    await visitor(client)
    chat = (
        await client.post(f"{API}/chats/single", headers=ali.headers, json={"user_id": sara.id})
    ).json()
    for n in range(3):
        sent = await client.post(
            f"{API}/conversations/single:{chat['id']}/messages",
            headers=ali.headers,
            json={"content": f"hello {n}", "client_id": f"c{n}"},
        )
        assert sent.status_code == 201, sent.text
    await _patch(client, admin.headers, sara.id, disabled=True)
    stats = (await client.get(f"{API}/admin/stats", headers=admin.headers)).json()
    assert stats["version"]
    assert stats["users"] == {
        "customers": 2,
        "visitors": 1,
        "operators": 1,
        "admins": 1,
        "disabled": 1,
        "live_sessions": 4,  # admin, ali, the operator, the visitor (sara's was revoked)
    }
    assert stats["messaging"] == {"single_chats": 1, "groups": 0, "messages": 3}


def _principal_of(gateway: Gateway, user: SignedIn) -> Principal:
    return gateway.container.auth.tokens.verify(user.access_token)


def _admin_principal() -> Principal:
    """An admin as the token would carry it (the disable alone, without the route)."""
    return Principal(user_id=uuid.uuid4(), role=Role.admin, session_id=uuid.uuid4())
