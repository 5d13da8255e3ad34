"""Password hashing (argon2id) and the strength rule.

Hashing runs in a worker thread: at OWASP's parameters it takes tens of
milliseconds of CPU that must not stall the event loop.
"""

from __future__ import annotations

import asyncio
import unicodedata

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from goftogu.errors import WeakPassword

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256

# The most common passwords of the public breach corpora that pass the length rule.
_COMMON = frozenset(
    [
        "password",
        "12345678",
        "123456789",
        "1234567890",
        "qwertyuiop",
        "password1",
        "iloveyou",
        "11111111",
        "00000000",
        "abcd1234",
        "qwerty123",
        "1q2w3e4r",
        "1qaz2wsx",
        "sunshine",
        "princess",
        "football",
        "baseball",
        "welcome1",
        "passw0rd",
        "password123",
        "admin123",
        "letmein1",
        "trustno1",
        "superman",
        "whatever",
        "starwars",
        "dragon123",
        "monkey123",
        "qwertyui",
        "asdfghjkl",
        "zxcvbnm123",
        "87654321",
        "12341234",
        "11223344",
        "123123123",
    ]
)


def check_strength(password: str, *, username: str = "", email: str | None = None) -> None:
    """Raise ``WeakPassword`` naming the rule the password breaks (NIST SP 800-63B:
    length and a blocklist, no composition rules)."""
    length = len(password)
    if length < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"Use at least {MIN_PASSWORD_LENGTH} characters.", rule="min_length")
    if length > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"Use at most {MAX_PASSWORD_LENGTH} characters.", rule="max_length")
    folded = password.casefold()
    if folded in _COMMON or len(set(folded)) <= 2:
        raise WeakPassword("This password is too common.", rule="common")
    for identifier in (username, (email or "").split("@")[0]):
        if len(identifier) >= 3 and identifier.casefold() in folded:
            raise WeakPassword("The password must not contain your username.", rule="personal")


class PasswordHashes:
    """argon2id with parameters from settings."""

    def __init__(self, *, memory_kib: int, time_cost: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            memory_cost=memory_kib, time_cost=time_cost, parallelism=parallelism, type=Type.ID
        )
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, _normalise(password))

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; an absent hash costs the same time as a
        wrong password, so the answer does not reveal which accounts exist."""
        if password_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = await self.hash("timing-equaliser-password")
            password_hash = self._dummy_hash
            await asyncio.to_thread(self._verify, password_hash, password)
            return False
        return await asyncio.to_thread(self._verify, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, _normalise(password))
        except (VerificationError, InvalidHashError):
            return False


def _normalise(password: str) -> str:
    # The same password typed on two keyboards may differ in Unicode form.
    return unicodedata.normalize("NFKC", password)
