"""SMTP connection settings from one URL.

``smtp://user:password@host:587`` upgrades with STARTTLS when the server
offers it; ``smtp://...?starttls=require`` insists on it; ``smtps://host:465``
speaks TLS from the first byte. User and password are URL-decoded.
``?ca_file=/path/ca.pem`` trusts a private certificate authority (a relay
inside the company) instead of the system's; certificates are always checked.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib


def smtp_client_for(url: str, *, timeout: float = 10) -> aiosmtplib.SMTP:
    """An unconnected client for ``url`` (use ``async with`` to connect and quit)."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"}:
        raise ValueError(
            f"GOFTOGU_SMTP_URL must start with smtp:// or smtps://, not {parts.scheme}://"
        )
    implicit_tls = parts.scheme == "smtps"
    query = parse_qs(parts.query)
    starttls_mode = query.get("starttls", ["auto"])[0]
    start_tls: bool | None = {"auto": None, "require": True, "off": False}.get(starttls_mode)
    ca_file = query.get("ca_file", [None])[0]
    return aiosmtplib.SMTP(
        hostname=parts.hostname or "127.0.0.1",
        port=parts.port or (465 if implicit_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=implicit_tls,
        start_tls=None if implicit_tls else start_tls,
        cert_bundle=ca_file,
        timeout=timeout,
    )
