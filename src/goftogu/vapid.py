"""VAPID keys (RFC 8292): the server's Web Push identity, read and checked once.

Settings check a configured pair at load (a pair that does not belong together
is refused before anything starts); the notifier signs pushes with it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_vapid_keys() -> tuple[str, str]:
    """A new (public, private) VAPID pair, both base64url: the public key is the
    browser's ``applicationServerKey``, the private key a 32-byte P-256 scalar."""
    private = ec.generate_private_key(ec.SECP256R1())
    return _public_text(private.public_key()), _b64url(
        private.private_numbers().private_value.to_bytes(32, "big")
    )


def _public_text(public: ec.EllipticCurvePublicKey) -> str:
    return _b64url(
        public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )


def _load_private(text: str) -> ec.EllipticCurvePrivateKey:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
    else:
        raw = _unb64url(text.replace("\n", ""))
        if len(raw) == 32:
            return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        key = serialization.load_der_private_key(raw, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("not a P-256 (prime256v1) key")
    return key


@dataclass(frozen=True)
class VapidKeys:
    """Our VAPID identity: the key pair and the contact (``mailto:`` or ``https:``)."""

    public_key: str
    private_key: ec.EllipticCurvePrivateKey
    subject: str

    @classmethod
    def parse(cls, public_key: str, private_key: str, subject: str) -> VapidKeys:
        """Check the pair belongs together; ``ValueError`` naming what is wrong."""
        try:
            private = _load_private(private_key)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"the VAPID private key cannot be read: {exc}") from exc
        derived = _public_text(private.public_key())
        if derived != public_key.strip().rstrip("="):
            raise ValueError("the VAPID public key does not belong to the private key")
        if not subject.startswith(("mailto:", "https:")):
            raise ValueError("the VAPID subject must be a mailto: or https: URL")
        return cls(public_key=derived, private_key=private, subject=subject)
