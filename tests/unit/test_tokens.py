import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from goftogu.errors import TokenExpired, TokenInvalid, Unauthenticated
from goftogu.identity.models import Role
from goftogu.identity.tokens import AccessTokens, Principal, hash_refresh_token, new_refresh_token

SECRET = "s" * 64
tokens = AccessTokens(SECRET, ttl_seconds=60)
principal = Principal(uuid.uuid4(), Role.operator, uuid.uuid4(), is_visitor=False)


def test_an_issued_token_verifies_to_the_same_principal_with_its_expiry() -> None:
    issued_at = datetime.now(UTC).replace(microsecond=0)
    verified = tokens.verify(tokens.issue(principal, now=issued_at))
    assert verified == replace(principal, expires_at=issued_at + timedelta(seconds=60))


def test_a_missing_token_is_unauthenticated() -> None:
    with pytest.raises(Unauthenticated) as raised:
        tokens.verify(None)
    assert raised.value.code == "unauthenticated"


def test_an_expired_token_is_token_expired() -> None:
    old = tokens.issue(principal, now=datetime.now(UTC) - timedelta(minutes=5))
    with pytest.raises(TokenExpired):
        tokens.verify(old)


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_tokens_signed_with_another_algorithm_are_refused(algorithm: str) -> None:
    claims = jwt.decode(tokens.issue(principal), options={"verify_signature": False})
    other = jwt.encode(claims, SECRET, algorithm=algorithm)
    with pytest.raises(TokenInvalid):
        tokens.verify(other)


def test_a_token_with_a_missing_claim_is_refused() -> None:
    claims = jwt.decode(tokens.issue(principal), options={"verify_signature": False})
    del claims["sid"]
    with pytest.raises(TokenInvalid):
        tokens.verify(jwt.encode(claims, SECRET, algorithm="HS256"))


def test_a_token_of_another_type_is_refused() -> None:
    claims = jwt.decode(tokens.issue(principal), options={"verify_signature": False})
    claims["typ"] = "refresh"
    with pytest.raises(TokenInvalid):
        tokens.verify(jwt.encode(claims, SECRET, algorithm="HS256"))


def test_refresh_tokens_are_random_and_stored_as_a_digest() -> None:
    first, second = new_refresh_token(), new_refresh_token()
    assert first != second
    assert len(first) >= 43
    assert hash_refresh_token(first) != first
    assert len(hash_refresh_token(first)) == 64
