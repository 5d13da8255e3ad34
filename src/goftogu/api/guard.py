"""ASGI guards around the whole gateway (REST and Socket.IO): who the client is
behind a trusted proxy, how large a body may be, which headers every answer
carries, and a clean 500 that leaves the connection usable.

Order, outermost first (``gateway.py``): ``Contained`` → ``ForwardedFor`` →
``SecurityHeaders`` → ``BodyLimits`` → Socket.IO / FastAPI.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def _error(status: int, code: str, message: str) -> tuple[dict[str, object], bytes]:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    start: dict[str, object] = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    return start, body


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    start, body = _error(status, code, message)
    await send(start)
    await send({"type": "http.response.body", "body": body})


# --- a clean 500 ------------------------------------------------------------------


class Contained:
    """Nothing raised by the application reaches the server: before the answer
    started, the client gets the API's 500 (``internal_error``); after it, the
    error was answered already (Starlette answers, then re-raises to the server,
    which would close the keep-alive connection and reset the client's next
    request on it). Either way the error is logged once, here or by the handler."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            if started:
                return  # answered (and logged) by the API's error handler
            log.exception("unhandled error", extra={"path": scope.get("path")})
            await _send_error(
                send, 500, "internal_error", "Something went wrong on our side; it has been logged."
            )


# --- the client's address ---------------------------------------------------------


def parse_networks(values: Sequence[str]) -> list[Network]:
    """``127.0.0.1``, ``10.0.0.0/8``, ``::1``... as networks (a bare address is /32, /128)."""
    return [ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip()]


class ForwardedFor:
    """The client address (``scope["client"]``) from ``X-Forwarded-For``, only when
    forwarding is trusted and the peer is one of the trusted proxies; the
    rightmost address that is not itself a trusted proxy is the client. The HTTP
    server's own forwarded-header handling is switched off (``cli.py``), so this
    setting alone decides, for REST and Socket.IO alike."""

    def __init__(self, app: ASGIApp, *, trusted: bool, proxies: Sequence[str]) -> None:
        self.app = app
        self.trusted = trusted
        self.proxies = parse_networks(proxies)

    def _is_proxy(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.trusted and scope["type"] in {"http", "websocket"}:
            client = scope.get("client")
            forwarded = _header(scope, b"x-forwarded-for")
            if client and forwarded and self._is_proxy(client[0]):
                hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
                for hop in reversed(hops):
                    if not self._is_proxy(hop):
                        try:
                            ipaddress.ip_address(hop)
                        except ValueError:
                            break  # not an address: keep the peer
                        scope = {**scope, "client": (hop, 0)}
                        break
        await self.app(scope, receive, send)


# --- body limits ------------------------------------------------------------------


@dataclass(frozen=True)
class BodyRule:
    method: str
    pattern: re.Pattern[str]
    limit: int


class BodyLimits:
    """Refuses a body over its route's limit while it streams, before anything
    parses it: a declared ``Content-Length`` over the limit is answered 413 at
    once without reading a byte; a chunked (or under-declared) body is cut off
    the moment it passes the limit. The first matching rule's limit applies,
    else ``default``."""

    def __init__(self, app: ASGIApp, *, rules: Sequence[BodyRule], default: int) -> None:
        self.app = app
        self.rules = list(rules)
        self.default = default

    def limit_for(self, method: str, path: str) -> int:
        for rule in self.rules:
            if rule.method == method and rule.pattern.fullmatch(path):
                return rule.limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in {"GET", "HEAD", "OPTIONS", "DELETE"}:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await _send_error(send, 413, "payload_too_large", _too_large(limit))
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised into whoever reads the body (FastAPI passes an
                    # HTTPException on): answered 413 by the error handler.
                    raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, counted, send)


def _too_large(limit: int) -> str:
    return f"The request body is over this route's limit of {limit} bytes."


# --- headers every answer carries ------------------------------------------------


class SecurityHeaders:
    """``X-Content-Type-Options: nosniff``, ``Referrer-Policy``, a frame policy
    (``frame-ancestors 'none'`` unless the answer set its own
    ``Content-Security-Policy``, as the widget page does), HSTS in production, and
    ``Cache-Control: no-store`` on API answers that set no caching of their own
    (token answers among them: nothing under ``/api`` is for a shared cache)."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith("/api/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                extra: list[tuple[bytes, bytes]] = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                if b"content-security-policy" not in names:
                    extra += [
                        (b"content-security-policy", b"frame-ancestors 'none'"),
                        (b"x-frame-options", b"DENY"),
                    ]
                if self.hsts:
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                if api and b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                headers += [(name, value) for name, value in extra if name not in names]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
