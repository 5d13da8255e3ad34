"""The HTTP edge as an attacker or a careless client meets it: body limits while
streaming, numbers in range, a clean 500 that keeps the connection, the client
address only from trusted proxies, security headers, and /metrics by setting."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from goftogu.gateway import Gateway, create_gateway
from tests.conftest import make_settings
from tests.e2e.servers import free_port
from tests.helpers.api import API, PASSWORD, sign_up

# --- helpers --------------------------------------------------------------------------


@pytest.fixture
async def started(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Gateway, httpx.AsyncClient]]:
    """A gateway on a fresh SQLite copy, with settings from the test's ``settings`` mark."""
    import shutil

    marker = request.node.get_closest_marker("settings")
    overrides = dict(marker.kwargs) if marker else {}
    path = tmp_path / "goftogu.db"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    settings = make_settings(f"sqlite+aiosqlite:///{path}", tmp_path, **overrides)
    gateway = create_gateway(settings)
    async with gateway.api.router.lifespan_context(gateway.api):
        transport = httpx.ASGITransport(app=gateway.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield gateway, http


def client_from(gateway: Gateway, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=gateway.asgi, client=(address, 4321))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def refused_as(response: httpx.Response, status: int, code: str) -> bool:
    return response.status_code == status and response.json()["error"]["code"] == code


# --- 3. body limits, before parsing -----------------------------------------------------


class Streamed:
    """A chunked body that counts how much of it the server pulled."""

    def __init__(self, total: int, chunk: int = 64 * 1024, head: bytes = b"") -> None:
        self.total, self.chunk, self.head, self.pulled = total, chunk, head, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.head:
            yield self.head
        while self.pulled < self.total:
            self.pulled += self.chunk
            yield b"x" * self.chunk


MULTIPART_HEAD = (
    b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
    b"Content-Type: application/octet-stream\r\n\r\n"
)


async def test_a_declared_oversize_body_is_refused_before_a_byte_is_read(
    started: tuple[Gateway, httpx.AsyncClient],
) -> None:
    _, http = started
    body = Streamed(50 * 1024 * 1024)
    response = await http.post(
        f"{API}/auth/login",
        content=body,
        headers={"Content-Type": "application/json", "Content-Length": str(50 * 1024 * 1024)},
    )
    assert refused_as(response, 413, "payload_too_large"), response.text
    assert body.pulled <= 64 * 1024  # at most the transport's first chunk


async def test_a_chunked_oversize_body_is_cut_off_at_the_routes_limit(
    started: tuple[Gateway, httpx.AsyncClient],
) -> None:
    _, http = started
    login = Streamed(50 * 1024 * 1024)
    response = await http.post(
        f"{API}/auth/login", content=login, headers={"Content-Type": "application/json"}
    )
    assert refused_as(response, 413, "payload_too_large"), response.text
    assert login.pulled <= 8 * 1024 + 64 * 1024  # login: 8 KiB, plus the chunk that crossed


@pytest.mark.settings(max_attachment_bytes=256 * 1024)
async def test_a_chunked_upload_is_cut_off_at_the_attachment_limit_not_spooled_whole(
    started: tuple[Gateway, httpx.AsyncClient],
) -> None:
    _, http = started
    user = await sign_up(http)
    upload = Streamed(20 * 1024 * 1024, head=MULTIPART_HEAD)
    response = await http.post(
        f"{API}/attachments",
        content=upload,
        headers={"Content-Type": "multipart/form-data; boundary=xyz", **user.headers},
    )
    assert refused_as(response, 413, "payload_too_large"), response.text
    assert upload.pulled <= 256 * 1024 + 64 * 1024 + 64 * 1024


async def test_a_message_body_gets_the_message_limit_and_other_routes_the_default(
    started: tuple[Gateway, httpx.AsyncClient],
) -> None:
    gateway, http = started
    user = await sign_up(http)
    group = await http.post(f"{API}/groups", json={"title": "g"}, headers=user.headers)
    address = group.json()["conversation"]
    longest = "x" * gateway.settings.max_message_length
    sent = await http.post(
        f"{API}/conversations/{address}/messages",
        json={"client_id": "m1", "content": longest},
        headers=user.headers,
    )
    assert sent.status_code == 201, sent.text
    padded = await http.post(
        f"{API}/groups",
        json={"title": "g", "description": "x" * (100 * 1024)},
        headers=user.headers,
    )
    assert refused_as(padded, 413, "payload_too_large"), padded.text


# --- 4. numbers in range ----------------------------------------------------------------


async def test_integers_out_of_range_are_validation_errors_not_crashes(
    started: tuple[Gateway, httpx.AsyncClient],
) -> None:
    _, http = started
    user = await sign_up(http)
    group = await http.post(f"{API}/groups", json={"title": "g"}, headers=user.headers)
    address = group.json()["conversation"]
    huge = 9223372036854775808
    for path in (
        f"/conversations/{address}/messages?before_seq={huge}",
        f"/conversations/{address}/messages?after_seq={huge}",
        f"/conversations/{address}/messages?limit={huge}",
        f"/conversations?limit={huge}",
        f"/support/chats?limit={huge}",
    ):
        response = await http.get(f"{API}{path}", headers=user.headers)
        assert refused_as(response, 422, "validation_error"), (path, response.text)
    read = await http.post(
        f"{API}/conversations/{address}/read", json={"up_to_seq": huge}, headers=user.headers
    )
    assert refused_as(read, 422, "validation_error"), read.text


# --- 4. a clean 500, and the keep-alive connection survives --------------------------


@pytest.fixture
async def served_with_a_crash(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A real HTTP server (uvicorn, as `goftogu serve` runs it) over a gateway that has
    one route failing the way an unforeseen bug would."""
    import shutil

    path = tmp_path / "goftogu.db"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    gateway = create_gateway(make_settings(f"sqlite+aiosqlite:///{path}", tmp_path))

    async def crash() -> dict[str, str]:
        raise RuntimeError("an unforeseen bug")

    api: FastAPI = gateway.api
    api.add_api_route(f"{API}/crash", crash, methods=["GET"])
    port = free_port()
    config = uvicorn.Config(
        gateway.asgi, host="127.0.0.1", port=port, log_config=None, proxy_headers=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    await task


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str
) -> tuple[int, dict[str, Any]]:
    """One request on an open connection, and its answer (status, JSON body)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    length = int({k.lower(): v for k, v in headers.items()}["content-length"])
    body = await asyncio.wait_for(reader.readexactly(length), 10)
    return status, json.loads(body)


async def test_an_unhandled_error_is_a_clean_500_and_the_connection_serves_the_next_request(
    served_with_a_crash: str,
) -> None:
    host, port = served_with_a_crash.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        status, body = await exchange(reader, writer, f"{API}/crash")
        assert status == 500
        assert body["error"]["code"] == "internal_error"
        status, body = await exchange(reader, writer, "/healthz")
        assert (status, body["status"]) == (200, "ok")
    finally:
        writer.close()


# --- 5. the client address: only from trusted proxies --------------------------------


async def session_ip(http: httpx.AsyncClient, forwarded: str) -> str:
    """The address a sign-in with ``X-Forwarded-For: forwarded`` is recorded under."""
    user = await sign_up(http)
    await http.post(
        f"{API}/auth/login",
        json={"login": user.username, "password": PASSWORD},
        headers={"X-Forwarded-For": forwarded},
    )
    sessions = (await http.get(f"{API}/auth/sessions", headers=user.headers)).json()["items"]
    [other] = [s for s in sessions if not s["current"]]
    ip: str = other["ip_address"]
    return ip


async def test_x_forwarded_for_is_ignored_unless_trusted(
    started: tuple[Gateway, httpx.AsyncClient],
) -> None:
    _, http = started  # trust_forwarded_for is off
    assert await session_ip(http, "203.0.113.9") == "127.0.0.1"


@pytest.mark.settings(trust_forwarded_for=True, trusted_proxies=["10.0.0.0/8"])
async def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(
    started: tuple[Gateway, httpx.AsyncClient],
) -> None:
    gateway, _ = started
    async with client_from(gateway, "10.1.2.3") as proxied:
        assert await session_ip(proxied, "203.0.113.9, 10.9.9.9") == "203.0.113.9"
    async with client_from(gateway, "198.51.100.7") as direct:
        assert await session_ip(direct, "203.0.113.9") == "198.51.100.7"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    from tests.e2e.servers import gateway_process

    env = {"GOFTOGU_DATA_DIR": str(tmp_path / "data"), "GOFTOGU_RATE_LOGIN_PER_IP": "3/300"}
    with gateway_process(env, tmp_path) as process:
        yield process.base_url


def test_the_http_server_itself_does_not_believe_a_local_peers_x_forwarded_for(
    served: str,
) -> None:
    # uvicorn believes X-Forwarded-For from 127.0.0.1 by default: the per-IP login
    # limit would count each forged address apart.
    answers = [
        httpx.post(
            f"{served}{API}/auth/login",
            json={"login": "nobody", "password": "wrong"},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        ).status_code
        for n in range(5)
    ]
    assert answers[-1] == 429, answers


# --- 11. headers every answer carries, and /metrics -----------------------------------


async def test_every_answer_carries_the_security_headers_and_api_answers_are_not_cached(
    started: tuple[Gateway, httpx.AsyncClient],
) -> None:
    _, http = started
    for path in ("/healthz", f"{API}/auth/sessions", "/docs"):
        response = await http.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "no-referrer", path
        assert "frame-ancestors" in response.headers["content-security-policy"], path
        assert "strict-transport-security" not in response.headers  # not in production
    user = await sign_up(http)
    tokens = await http.post(
        f"{API}/auth/login", json={"login": user.username, "password": PASSWORD}
    )
    assert tokens.headers["cache-control"] == "no-store"
    refreshed = await http.post(
        f"{API}/auth/refresh", json={"refresh_token": tokens.json()["refresh_token"]}
    )
    assert refreshed.headers["cache-control"] == "no-store"


async def test_hsts_is_sent_in_production(tmp_path: Path, sqlite_template: Path) -> None:
    import shutil

    path = tmp_path / "goftogu.db"
    shutil.copyfile(sqlite_template, path)
    settings = make_settings(
        f"sqlite+aiosqlite:///{path}", tmp_path, env="production", secret_key="s" * 48
    )
    gateway = create_gateway(settings)
    transport = httpx.ASGITransport(app=gateway.asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/healthz")
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_metrics_are_only_for_a_direct_local_scraper_without_a_token(
    started: tuple[Gateway, httpx.AsyncClient],
) -> None:
    gateway, http = started
    assert (await http.get("/metrics")).status_code == 200
    forwarded = await http.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert forwarded.status_code == 404
    async with client_from(gateway, "203.0.113.9") as outsider:
        assert (await outsider.get("/metrics")).status_code == 404


@pytest.mark.settings(metrics_token="scrape-me-0123456789")
async def test_metrics_need_the_token_when_one_is_set(
    started: tuple[Gateway, httpx.AsyncClient],
) -> None:
    gateway, http = started
    assert refused_as(await http.get("/metrics"), 401, "unauthenticated")
    wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    async with client_from(gateway, "203.0.113.9") as scraper:
        right = await scraper.get(
            "/metrics", headers={"Authorization": "Bearer scrape-me-0123456789"}
        )
    assert right.status_code == 200
    assert "http_requests" in right.text or "goftogu" in right.text
