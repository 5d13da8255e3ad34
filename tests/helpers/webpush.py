"""A local Web Push service, and browsers that subscribe to it.

``PushService`` is an HTTP server on loopback (standard library, in a thread)
that does what a real push service and browser do with a push message: it
checks the VAPID ``Authorization`` header (the JWT's ES256 signature against
the server's public key, its audience and expiry; RFC 8292), decrypts the
aes128gcm body with the subscription's private key and auth secret (RFC 8291,
through ``http_ece``), and records the JSON inside. An endpoint can be told to
answer 410 (the browser unsubscribed), 500 or 400.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """One browser's subscription: the keys only it holds, and what it received."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))
    answer: int = 201  # what the push service answers for this endpoint
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)  # names in lower case

    @property
    def subscription(self) -> dict[str, Any]:
        """What ``PushSubscription.toJSON()`` gives the web app."""
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(point), "auth": b64url(self.auth_secret)},
        }


@dataclass
class Refusal:
    endpoint: str
    reason: str


class PushService:
    """Loopback push service; ``vapid_public_key`` is the application server's key."""

    def __init__(self, vapid_public_key: str) -> None:
        self.vapid_public_key = vapid_public_key
        self.browsers: dict[str, Browser] = {}
        self.refusals: list[Refusal] = []
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                status = service.receive(self.path, headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> PushService:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def browser(self, answer: int = 201) -> Browser:
        browser = Browser(f"{self.origin}/push/{uuid.uuid4().hex}", answer=answer)
        self.browsers[browser.endpoint] = browser
        return browser

    def receive(self, path: str, headers: dict[str, str], body: bytes) -> int:
        browser = self.browsers.get(self.origin + path)
        if browser is None:
            return 404
        problem = self._check_vapid(headers.get("authorization", ""))
        if problem is None and headers.get("content-encoding") != "aes128gcm":
            problem = f"content encoding {headers.get('content-encoding')!r}"
        if problem is not None:
            with self.lock:
                self.refusals.append(Refusal(browser.endpoint, problem))
            return 401
        if browser.answer >= 300:
            return browser.answer
        plain = http_ece.decrypt(
            body,
            private_key=browser.private_key,
            auth_secret=browser.auth_secret,
            version="aes128gcm",
        )
        with self.lock:
            browser.received.append(json.loads(plain))
            browser.headers.append(headers)
        return 201

    def _check_vapid(self, authorization: str) -> str | None:
        """Why the VAPID header is not valid, or None (RFC 8292 ``vapid t=..., k=...``)."""
        scheme, _, params = authorization.partition(" ")
        if scheme.lower() != "vapid":
            return f"authorization scheme {scheme!r}"
        values = dict(part.strip().split("=", 1) for part in params.split(","))
        if values.get("k") != self.vapid_public_key:
            return "k is not the application server's key"
        public = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), unb64url(self.vapid_public_key)
        )
        try:
            claims = jwt.decode(
                values.get("t", ""), key=public, algorithms=["ES256"], audience=self.origin
            )
        except jwt.PyJWTError as exc:
            return f"JWT: {exc}"
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            return "sub is not a contact URL"
        if claims["exp"] > time.time() + 24 * 3600:
            return "exp more than 24 hours ahead"
        return None
