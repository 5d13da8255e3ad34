"""Registering, signing in, staying signed in and signing out (P1), over REST."""

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest

from goftogu.gateway import Gateway, create_gateway
from goftogu.identity.models import Role
from goftogu.identity.tokens import AccessTokens, Principal
from tests.conftest import make_settings
from tests.helpers.api import API, PASSWORD, login, register, sign_up, unique_name, visitor
from tests.helpers.waiting import eventually


async def test_registering_returns_the_user_without_any_password_material(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client, "Sara_1")
    assert user["username"] == "Sara_1"
    assert user["email"] == "Sara_1@example.com"
    assert user["role"] == "customer"
    assert user["status"] == "offline"
    assert not {"password", "password_hash"} & set(user)


async def test_usernames_are_unique_whatever_their_case(client: httpx.AsyncClient) -> None:
    await register(client, "Dariush")
    response = await client.post(
        f"{API}/auth/register",
        json={"username": "dARIUSH", "email": "other@example.com", "password": PASSWORD},
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "username_taken"


async def test_emails_are_unique_whatever_their_case(client: httpx.AsyncClient) -> None:
    await register(client, "mina")
    response = await client.post(
        f"{API}/auth/register",
        json={"username": "mina2", "email": "MINA@Example.com", "password": PASSWORD},
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "email_taken"


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short", "min_length"),
        ("password123", "common"),
        ("aaaaaaaaaaaa", "common"),
        ("kourosh-is-me", "personal"),
    ],
)
async def test_weak_passwords_are_refused_with_the_rule_they_break(
    client: httpx.AsyncClient, password: str, rule: str
) -> None:
    response = await client.post(
        f"{API}/auth/register",
        json={"username": "kourosh", "email": "k@example.com", "password": password},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["details"]["rule"]) == ("weak_password", rule)


async def test_a_rejected_registration_stores_nothing(client: httpx.AsyncClient) -> None:
    bad = await client.post(
        f"{API}/auth/register",
        json={"username": "nima", "email": "nima@example.com", "password": "short"},
    )
    assert bad.status_code == 422
    await register(client, "nima")  # the name is still free


@pytest.mark.parametrize(
    "body",
    [
        {"username": "ab", "email": "a@example.com", "password": PASSWORD},
        {"username": "has space", "email": "a@example.com", "password": PASSWORD},
        {"username": "visitor-me", "email": "a@example.com", "password": PASSWORD},
        {"username": "okname", "email": "not-an-email", "password": PASSWORD},
        {"username": "okname", "email": "a@example.com"},
        {"username": "okname", "email": "a@example.com", "password": PASSWORD, "role": "admin"},
    ],
)
async def test_invalid_registrations_get_validation_errors_that_do_not_echo_input(
    client: httpx.AsyncClient, body: dict[str, str]
) -> None:
    response = await client.post(f"{API}/auth/register", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert PASSWORD not in response.text


async def test_a_malformed_json_body_gets_the_documented_error_shape(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        f"{API}/auth/login",
        content=b'{"login": "x", ',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"] == "The request body is not valid JSON."


async def test_persian_usernames_are_welcome(client: httpx.AsyncClient) -> None:
    user = await register(client, "سارا_۱")
    assert user["username"] == "سارا_۱"
    assert (await login(client, "سارا_۱")).username == "سارا_۱"


async def test_signing_in_works_with_the_username_or_the_email(client: httpx.AsyncClient) -> None:
    await register(client, "Arash")
    by_name = await login(client, "arash")
    by_email = await login(client, "ARASH@example.com")
    assert by_name.id == by_email.id
    me = await client.get(f"{API}/users/me", headers=by_name.headers)
    assert me.json()["username"] == "Arash"


async def test_an_unknown_user_and_a_wrong_password_get_the_same_answer(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "bahram")
    wrong = await client.post(
        f"{API}/auth/login", json={"login": "bahram", "password": "nope-nope"}
    )
    unknown = await client.post(
        f"{API}/auth/login", json={"login": "ghost", "password": "nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"


async def test_calls_without_a_token_are_unauthenticated(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/users/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


async def test_a_tampered_token_is_refused(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    header, payload, signature = user.access_token.split(".")
    forged = jwt.encode(
        {**jwt.decode(user.access_token, options={"verify_signature": False}), "role": "admin"},
        "not-the-secret-key-but-long-enough-to-be-used",
        algorithm="HS256",
    )
    for token in (f"{header}.{payload}.{signature[:-4]}AAAA", forged, "garbage"):
        response = await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "token_invalid"


async def test_an_alg_none_token_is_refused(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    claims = jwt.decode(user.access_token, options={"verify_signature": False})
    unsigned = jwt.encode(claims, key=None, algorithm="none")  # type: ignore[arg-type]
    response = await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {unsigned}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


async def test_an_expired_access_token_is_refused_as_expired(
    client: httpx.AsyncClient, gateway: Gateway
) -> None:
    user = await sign_up(client)
    secret = gateway.settings.secret_key.get_secret_value()
    principal = Principal(uuid.UUID(user.id), Role.customer, uuid.uuid4())
    old = AccessTokens(secret, 60).issue(principal, now=datetime.now(UTC) - timedelta(hours=1))
    response = await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {old}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"


async def test_refreshing_rotates_the_refresh_token(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    first = await client.post(f"{API}/auth/refresh", json={"refresh_token": user.refresh_token})
    assert first.status_code == 200
    pair = first.json()
    assert pair["refresh_token"] != user.refresh_token
    me = await client.get(
        f"{API}/users/me", headers={"Authorization": f"Bearer {pair['access_token']}"}
    )
    assert me.json()["id"] == user.id
    second = await client.post(f"{API}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert second.status_code == 200


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_session(
    client: httpx.AsyncClient,
) -> None:
    user = await sign_up(client)
    rotated = await client.post(f"{API}/auth/refresh", json={"refresh_token": user.refresh_token})
    newest = rotated.json()["refresh_token"]
    replay = await client.post(f"{API}/auth/refresh", json={"refresh_token": user.refresh_token})
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "token_invalid"
    # The thief's replay also cut off the newest token of that family.
    after = await client.post(f"{API}/auth/refresh", json={"refresh_token": newest})
    assert after.status_code == 401
    # And the access token of that session is refused at once (issue 17).
    sessions = await client.get(f"{API}/auth/sessions", headers=user.headers)
    assert sessions.status_code == 401
    assert sessions.json()["error"]["code"] == "session_revoked"


async def test_concurrent_refreshes_with_one_token_let_at_most_one_through(
    client: httpx.AsyncClient,
) -> None:
    user = await sign_up(client)
    answers = await asyncio.gather(
        *(
            client.post(f"{API}/auth/refresh", json={"refresh_token": user.refresh_token})
            for _ in range(5)
        )
    )
    assert sum(answer.status_code == 200 for answer in answers) <= 1
    assert all(answer.status_code in (200, 401) for answer in answers)


async def test_after_logout_the_refresh_token_is_refused(client: httpx.AsyncClient) -> None:
    user = await sign_up(client)
    out = await client.post(
        f"{API}/auth/logout", json={"refresh_token": user.refresh_token}, headers=user.headers
    )
    assert out.status_code == 204
    again = await client.post(f"{API}/auth/refresh", json={"refresh_token": user.refresh_token})
    assert again.status_code == 401


async def test_nobody_can_log_out_someone_elses_session(client: httpx.AsyncClient) -> None:
    victim, other = await sign_up(client), await sign_up(client)
    response = await client.post(
        f"{API}/auth/logout", json={"refresh_token": victim.refresh_token}, headers=other.headers
    )
    assert response.status_code == 401
    still = await client.post(f"{API}/auth/refresh", json={"refresh_token": victim.refresh_token})
    assert still.status_code == 200


async def test_users_see_and_revoke_their_own_sessions(client: httpx.AsyncClient) -> None:
    laptop = await sign_up(client)
    phone = await login(client, laptop.username)
    sessions = (await client.get(f"{API}/auth/sessions", headers=laptop.headers)).json()["items"]
    assert len(sessions) == 2
    assert [s["current"] for s in sessions].count(True) == 1
    phone_session = next(s for s in sessions if not s["current"])
    revoked = await client.delete(
        f"{API}/auth/sessions/{phone_session['id']}", headers=laptop.headers
    )
    assert revoked.status_code == 204
    refused = await client.post(f"{API}/auth/refresh", json={"refresh_token": phone.refresh_token})
    assert refused.status_code == 401
    remaining = (await client.get(f"{API}/auth/sessions", headers=laptop.headers)).json()["items"]
    assert [s["id"] for s in remaining] != [phone_session["id"]]
    assert len(remaining) == 1


async def test_a_session_of_another_user_cannot_be_revoked(client: httpx.AsyncClient) -> None:
    owner, stranger = await sign_up(client), await sign_up(client)
    session_id = (await client.get(f"{API}/auth/sessions", headers=owner.headers)).json()["items"][
        0
    ]["id"]
    response = await client.delete(f"{API}/auth/sessions/{session_id}", headers=stranger.headers)
    assert response.status_code == 404
    ok = await client.post(f"{API}/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert ok.status_code == 200


async def test_rate_limited_logins_are_answered_429_and_recover(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, rate_login_per_account="3/3")
    gateway = create_gateway(settings)
    async with gateway.api.router.lifespan_context(gateway.api):
        transport = httpx.ASGITransport(app=gateway.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            await register(http, "rostam")
            attempt = {"login": "rostam", "password": "wrong-password"}
            codes = [
                (await http.post(f"{API}/auth/login", json=attempt)).status_code for _ in range(3)
            ]
            assert codes == [401, 401, 401]
            limited = await http.post(
                f"{API}/auth/login", json={"login": "rostam", "password": PASSWORD}
            )
            assert limited.status_code == 429
            assert limited.json()["error"]["code"] == "rate_limited"
            assert int(limited.headers["Retry-After"]) >= 1

            async def signed_in() -> bool:
                response = await http.post(
                    f"{API}/auth/login", json={"login": "rostam", "password": PASSWORD}
                )
                return response.status_code == 200

            await eventually(signed_in, timeout=10, what="the account's limit to recover")


async def test_the_login_limit_is_one_bucket_per_account_whichever_name_is_typed(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, rate_login_per_account="3/3600")
    gateway = create_gateway(settings)
    async with gateway.api.router.lifespan_context(gateway.api):
        transport = httpx.ASGITransport(app=gateway.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            await register(http, "sohrab")
            await register(http, "tahmineh")

            async def attempt(login: str, password: str = "wrong-password") -> int:  # noqa: S107
                body = {"login": login, "password": password}
                return (await http.post(f"{API}/auth/login", json=body)).status_code

            # Guesses spread over the username, the email and their capitals share one bucket.
            assert await attempt("sohrab") == 401
            assert await attempt("SOHRAB@example.com") == 401
            assert await attempt("sohrab@example.com") == 401
            assert await attempt("sohrab", PASSWORD) == 429
            assert await attempt("sohrab@example.com", PASSWORD) == 429
            # Another account is not affected.
            assert await attempt("tahmineh", PASSWORD) == 200


async def test_changing_the_password_signs_every_other_device_out(
    client: httpx.AsyncClient,
) -> None:
    laptop = await sign_up(client)
    phone = await login(client, laptop.username)
    new = "a brand new passphrase for 2027"

    changed = await client.post(
        f"{API}/auth/password",
        headers=laptop.headers,
        json={"current_password": PASSWORD, "new_password": new},
    )

    assert changed.status_code == 204
    stale = await client.post(f"{API}/auth/refresh", json={"refresh_token": phone.refresh_token})
    assert stale.json()["error"]["code"] == "token_invalid"
    kept = await client.post(f"{API}/auth/refresh", json={"refresh_token": laptop.refresh_token})
    assert kept.status_code == 200
    old_way = await client.post(
        f"{API}/auth/login", json={"login": laptop.username, "password": PASSWORD}
    )
    assert old_way.json()["error"]["code"] == "invalid_credentials"
    assert (await login(client, laptop.username, new)).id == laptop.id


async def test_a_password_change_needs_the_current_one_and_a_strong_new_one(
    client: httpx.AsyncClient,
) -> None:
    user = await sign_up(client)
    other_device = await login(client, user.username)

    async def change(current: str, new: str) -> httpx.Response:
        return await client.post(
            f"{API}/auth/password",
            headers=user.headers,
            json={"current_password": current, "new_password": new},
        )

    wrong = await change("not my password at all", "a brand new passphrase")
    weak = await change(PASSWORD, "password")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "invalid_credentials")
    assert (weak.status_code, weak.json()["error"]["code"]) == (422, "weak_password")
    nobody = await client.post(
        f"{API}/auth/password", json={"current_password": PASSWORD, "new_password": "x" * 20}
    )
    assert nobody.json()["error"]["code"] == "unauthenticated"
    assert (await login(client, user.username)).id == user.id  # nothing changed
    refreshed = await client.post(
        f"{API}/auth/refresh", json={"refresh_token": other_device.refresh_token}
    )
    assert refreshed.status_code == 200


async def test_visitors_have_no_password_to_change(client: httpx.AsyncClient) -> None:
    anonymous = await visitor(client)
    refused = await client.post(
        f"{API}/auth/password",
        headers=anonymous.headers,
        json={"current_password": "anything", "new_password": "a brand new passphrase"},
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_allowed")


async def test_password_material_never_reaches_a_response_or_a_log_line(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "my very secret passphrase 42"
    name = unique_name()
    responses = [
        await client.post(
            f"{API}/auth/register",
            json={"username": name, "email": f"{name}@example.com", "password": secret},
        ),
        await client.post(f"{API}/auth/login", json={"login": name, "password": secret}),
        await client.post(f"{API}/auth/login", json={"login": name, "password": "wrong " + secret}),
    ]
    token = responses[1].json()["access_token"]
    responses.append(
        await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {token}"})
    )
    for response in responses:
        assert secret not in response.text
        assert "argon2" not in response.text
    logged = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    assert secret not in logged
    assert "argon2" not in logged
    assert token not in logged
