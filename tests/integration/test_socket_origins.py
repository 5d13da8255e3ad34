"""Which pages may open a socket (issue 17, item 6): the gateway's own origin, the
public URL's and an explicit list; any other browser origin is refused, on the
long-polling handshake and the websocket alike."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from goftogu.gateway import create_gateway
from goftogu.settings import Settings
from tests.conftest import make_settings

HANDSHAKE = "/socket.io/?EIO=4&transport=polling"
SHOP = "https://shop.example"


async def _gateway(
    database_url: str, tmp_path: Path, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    gateway = create_gateway(make_settings(database_url, tmp_path, **overrides))
    async with gateway.api.router.lifespan_context(gateway.api):
        transport = httpx.ASGITransport(app=gateway.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            yield http


@pytest.fixture
async def http(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _gateway(
        database_url,
        tmp_path,
        public_url="https://chat.example",
        cors_origins=["https://app.example"],
        widget_origins=[SHOP],
    ):
        yield client


async def _status(http: httpx.AsyncClient, origin: str | None) -> int:
    headers = {"Origin": origin} if origin else {}
    return (await http.get(HANDSHAKE, headers=headers)).status_code


async def test_a_page_of_another_origin_cannot_open_a_socket(http: httpx.AsyncClient) -> None:
    for foreign in ("https://evil.example", "http://gateway.test.evil.example", "null"):
        assert await _status(http, foreign) == 400, foreign


async def test_the_gateway_own_pages_and_the_widget_iframe_can(http: httpx.AsyncClient) -> None:
    # The console and the widget's iframe (/widget/) are served by the gateway itself.
    assert await _status(http, "http://gateway.test") == 200
    assert (
        await _status(http, "HTTP://Gateway.Test:80") == 200
    )  # the same origin, spelled otherwise


async def test_the_public_url_and_the_listed_origins_can(http: httpx.AsyncClient) -> None:
    assert await _status(http, "https://chat.example") == 200  # behind a proxy rewriting Host
    assert await _status(http, "https://app.example") == 200


async def test_the_widget_host_page_itself_opens_no_socket(http: httpx.AsyncClient) -> None:
    """The host page embeds the widget's iframe (frame-ancestors); the socket is the
    iframe's, on the gateway's origin, so the shop's own origin is not let in."""
    assert await _status(http, SHOP) == 400


async def test_clients_that_are_not_browser_pages_are_not_checked(http: httpx.AsyncClient) -> None:
    assert await _status(http, None) == 200


async def test_forwarded_host_counts_only_behind_a_trusted_proxy(
    database_url: str, tmp_path: Path
) -> None:
    headers = {
        "Origin": "https://proxied.example",
        "X-Forwarded-Host": "proxied.example",
        "X-Forwarded-Proto": "https",
    }
    async for http in _gateway(database_url, tmp_path):
        assert (await http.get(HANDSHAKE, headers=headers)).status_code == 400
    async for http in _gateway(database_url, tmp_path / "trusted", trust_forwarded_for=True):
        assert (await http.get(HANDSHAKE, headers=headers)).status_code == 200


async def test_any_origin_only_when_asked_for(database_url: str, tmp_path: Path) -> None:
    async for http in _gateway(database_url, tmp_path, cors_origins=["*"]):
        assert await _status(http, "https://anywhere.example") == 200


def test_listed_socket_origins_must_be_origins() -> None:
    for wrong in ("https://a.example/path", "a.example", "javascript:alert(1)"):
        with pytest.raises(ValidationError):
            Settings(_env_file=None, cors_origins=[wrong])  # type: ignore[call-arg]
