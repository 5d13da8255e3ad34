"""The gateway serves the web app: client routes, cacheable assets, the widget's
page framed only by allowed origins, /docs with nothing from another host."""

import gzip
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from goftogu.gateway import create_gateway
from goftogu.settings import Settings
from tests.conftest import make_settings

SHOP = "https://shop.example"
INDEX = '<!doctype html><meta name="goftogu-config" content="__GOFTOGU_CONFIG__"><div id="app">'


def build(dist: Path) -> Path:
    """A build directory shaped like `npm run build`'s output."""
    (dist / "assets").mkdir(parents=True)
    (dist / "widget").mkdir()
    (dist / "index.html").write_text(INDEX)
    (dist / "widget" / "index.html").write_text(INDEX.replace("app", "widget"))
    script = b"console.log('the app');" * 50
    (dist / "assets" / "console-abc123.js").write_bytes(script)
    (dist / "assets" / "console-abc123.js.gz").write_bytes(gzip.compress(script))
    (dist / "widget.js").write_text("/* loader */")
    (dist / "favicon.svg").write_text("<svg/>")
    (dist / "assets" / "ui-1.css").write_text("body{}")
    (dist / "assets" / "ui-1.js").write_text("ui()")
    docs = {"js": "/assets/ui-1.js", "css": "/assets/ui-1.css", "favicon": "/favicon.svg"}
    (dist / "docs.json").write_text(json.dumps(docs))
    return dist


async def serve(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    gateway = create_gateway(settings)
    async with gateway.api.router.lifespan_context(gateway.api):
        transport = httpx.ASGITransport(app=gateway.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


@pytest.fixture
async def web(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        database_url,
        tmp_path,
        web_dist_dir=build(tmp_path / "dist"),
        widget_origins=[SHOP],
        max_message_length=500,
    )
    async for http in serve(settings):
        yield http


async def test_client_routes_get_the_app_with_the_servers_config_and_never_cached(
    web: httpx.AsyncClient,
) -> None:
    for path in (
        "/",
        "/console",
        "/console/chats/abc",
        "/support/chats/abc",
        "/chat/group:abc",
        "/admin/users",
        "/settings/x",
    ):
        response = await web.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
        content = re.search(r'content="([^"]*)"', response.text)
        assert content is not None
        config = json.loads(content.group(1).replace("&quot;", '"'))
        assert config == {
            "maxMessageLength": 500,
            "widgetOrigins": [SHOP],
            "maxAttachmentBytes": 20 * 1024 * 1024,
            "pushConfigured": False,
        }


async def test_api_health_assets_and_file_like_paths_keep_the_json_404(
    web: httpx.AsyncClient,
) -> None:
    for path in (
        "/api/v1/nothing",
        "/api/nothing",
        "/socket.io.js",
        "/healthz/x",
        "/assets/missing.js",
        "/assets/..%2Findex.html",
        "/robots.txt",
        "/console/app.js",
        "/index.html",
    ):
        response = await web.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found", path
    posted = await web.post("/console")
    assert posted.status_code == 404
    assert posted.json()["error"]["code"] == "not_found"


async def test_hashed_assets_are_immutable_and_sent_gzipped_to_who_takes_it(
    web: httpx.AsyncClient,
) -> None:
    packed = await web.get("/assets/console-abc123.js", headers={"Accept-Encoding": "gzip"})
    assert packed.status_code == 200
    assert packed.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert "javascript" in packed.headers["content-type"]
    assert packed.text.startswith("console.log")  # httpx undid the gzip
    plain = await web.get("/assets/console-abc123.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == b"console.log('the app');" * 50
    loader = await web.get("/widget.js")
    assert (loader.status_code, loader.headers["cache-control"]) == (200, "no-cache")
    icon = await web.get("/favicon.svg")
    assert (icon.status_code, icon.headers["cache-control"]) == (200, "no-cache")


async def test_the_widget_page_may_be_framed_only_by_the_allowed_origins(
    web: httpx.AsyncClient,
) -> None:
    response = await web.get("/widget/")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == f"frame-ancestors 'self' {SHOP}"
    assert "&quot;widgetOrigins&quot;: [&quot;https://shop.example&quot;]" in response.text
    moved = await web.get("/widget?x=1")
    assert (moved.status_code, moved.headers["location"]) == (308, "/widget/?x=1")


async def test_docs_load_their_files_from_this_server_only(web: httpx.AsyncClient) -> None:
    page = (await web.get("/docs")).text
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert "/assets/ui-1.js" in urls
    assert "/assets/ui-1.css" in urls
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert "'/openapi.json'" in page or '"/openapi.json"' in page


async def test_without_a_build_the_app_says_how_to_build_it(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, web_dist_dir=tmp_path / "empty")
    async for http in serve(settings):
        response = await http.get("/console")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "web_app_not_built"
        docs = await http.get("/docs")
        assert docs.status_code == 200
        assert 'href="/openapi.json"' in docs.text
        assert "http" not in docs.text.replace('href="/openapi.json"', "")


def test_widget_origins_must_be_origins() -> None:
    Settings(_env_file=None, widget_origins=["https://a.example:8443", "*"])  # type: ignore[call-arg]
    for wrong in ("https://a.example/path", "a.example", "javascript:alert(1)", "https://a b"):
        with pytest.raises(ValidationError):
            Settings(_env_file=None, widget_origins=[wrong])  # type: ignore[call-arg]


async def test_sockets_accept_the_same_origin_and_refuse_another_by_default(
    client: httpx.AsyncClient,
) -> None:
    handshake = "/socket.io/?EIO=4&transport=polling"
    same = await client.get(handshake, headers={"Origin": "http://testserver"})
    assert same.status_code == 200
    other = await client.get(handshake, headers={"Origin": "https://evil.example"})
    assert other.status_code == 400
    without = await client.get(handshake)  # not a browser: no Origin, nothing to check
    assert without.status_code == 200
