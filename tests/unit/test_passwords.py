import pytest

from goftogu.errors import WeakPassword
from goftogu.identity.passwords import PasswordHashes, check_strength

hashes = PasswordHashes(memory_kib=1024, time_cost=1, parallelism=1)


async def test_a_hash_verifies_only_its_password() -> None:
    digest = await hashes.hash("a long enough passphrase")
    assert digest.startswith("$argon2id$")
    assert await hashes.verify(digest, "a long enough passphrase")
    assert not await hashes.verify(digest, "a long enough passphrasE")


async def test_unicode_forms_of_one_password_are_the_same_password() -> None:
    composed, decomposed = "caf\u00e9-passphrase", "cafe\u0301-passphrase"
    assert await hashes.verify(await hashes.hash(composed), decomposed)


async def test_a_missing_hash_never_verifies() -> None:
    assert not await hashes.verify(None, "anything at all")


async def test_a_corrupt_hash_does_not_verify() -> None:
    assert not await hashes.verify("$argon2id$garbage", "anything at all")


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("1234567", "min_length"),
        ("x" * 257, "max_length"),
        ("Password", "common"),
        ("abababababab", "common"),
        ("i-am-rostam!", "personal"),
    ],
)
def test_weak_passwords_name_the_rule(password: str, rule: str) -> None:
    with pytest.raises(WeakPassword) as raised:
        check_strength(password, username="Rostam", email="r@example.com")
    assert raised.value.details == {"rule": rule}


def test_a_long_uncommon_passphrase_is_fine() -> None:
    check_strength("گربه روی دیوار نشسته", username="rostam")
