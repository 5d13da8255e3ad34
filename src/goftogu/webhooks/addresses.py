"""Which endpoint URLs a subscription may have, and where a delivery may connect.

Decision on private addresses: by default an endpoint may not be, or resolve
to, a loopback, private (RFC 1918, unique-local), link-local (cloud metadata
at 169.254.169.254 included), multicast, reserved or unspecified address, nor
be named ``localhost`` / ``*.localhost``: a webhook must not become a way for
an admin's typo, or a hostile admin, to reach the server's own network
(SSRF). The check runs when the URL is saved (literal addresses and names)
and again at every connection (``PublicOnlyResolver``: what DNS answers then,
so a name re-pointed at 10.0.0.1 later is refused too, and the connection goes
to the address that was checked). ``GOFTOGU_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true``
lifts both checks, for integrations on the same network (and the tests, whose
receiver listens on 127.0.0.1).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from goftogu.errors import InvalidWebhookUrl

MAX_URL_LENGTH = 2048


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_url(url: str, *, allow_private: bool) -> str:
    """``url`` as stored, or ``invalid_webhook_url`` with ``details.reason``."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidWebhookUrl(reason="too_long")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise InvalidWebhookUrl(reason="malformed") from error
    if parts.scheme not in ("http", "https"):
        raise InvalidWebhookUrl("A webhook URL starts with https:// or http://.", reason="scheme")
    if not parts.hostname:
        raise InvalidWebhookUrl("A webhook URL names a host.", reason="no_host")
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhookUrl(
            "Put no credentials in a webhook URL: the body is signed.", reason="credentials"
        )
    if parts.fragment:
        raise InvalidWebhookUrl(reason="fragment")
    if port == 0:
        raise InvalidWebhookUrl(reason="port")
    host = parts.hostname.rstrip(".").lower()
    if not allow_private:
        if host == "localhost" or host.endswith(".localhost"):
            raise InvalidWebhookUrl("This address is not reachable from outside.", reason="private")
        try:
            literal = is_public(host)
        except ValueError:
            literal = True  # a name: checked again at every connection
        if not literal:
            raise InvalidWebhookUrl("This address is not reachable from outside.", reason="private")
    return parts.geturl()


class PrivateAddress(OSError):
    """A webhook host resolved to an address deliveries may not connect to."""


def public_only_resolver() -> Any:
    """An aiohttp resolver that refuses hosts resolving to non-public addresses."""
    from aiohttp.abc import ResolveResult
    from aiohttp.resolver import ThreadedResolver

    class PublicOnlyResolver(ThreadedResolver):
        async def resolve(
            self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
        ) -> list[ResolveResult]:
            answers = await super().resolve(host, port, family)
            for answer in answers:
                if not is_public(str(answer["host"])):
                    raise PrivateAddress(f"{host} resolves to a non-public address")
            return answers

    return PublicOnlyResolver()
