"""The gateway's health endpoints and its one error shape."""

from pathlib import Path

import httpx

from goftogu.gateway import create_gateway
from tests.conftest import make_settings


async def test_healthz_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_readyz_lists_every_backend_and_the_embedded_ones_as_ready(
    client: httpx.AsyncClient, database_url: str
) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    backends = body["backends"]
    assert set(backends) == {"database", "documents", "presence", "queue", "mail"}
    assert all(backend["status"] == "ok" for backend in backends.values())
    assert (backends["presence"]["backend"], backends["presence"]["embedded"]) == (
        "in-process",
        True,
    )
    expected_kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    assert backends["database"]["backend"] == expected_kind


async def test_readyz_names_the_backend_that_fails(database_url: str, tmp_path: Path) -> None:
    # Nothing listens on port 9: the Redis probe must fail and be named.
    settings = make_settings(database_url, tmp_path, redis_url="redis://127.0.0.1:9/0")
    gateway = create_gateway(settings)
    async with gateway.api.router.lifespan_context(gateway.api):
        transport = httpx.ASGITransport(app=gateway.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["presence"]
    assert body["backends"]["presence"]["status"] == "failing"
    assert body["backends"]["database"]["status"] == "ok"


async def test_an_unknown_route_gets_the_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "No such resource."}}


async def test_a_wrong_method_gets_the_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.delete("/healthz")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    fresh = await client.get("/healthz")
    assert len(fresh.headers["x-request-id"]) == 32
    kept = await client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert kept.headers["x-request-id"] == "trace-42"
    replaced = await client.get("/healthz", headers={"X-Request-ID": "bad id\n"})
    assert replaced.headers["x-request-id"] != "bad id\n"


async def test_metrics_are_exposed_for_prometheus(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    response = await client.get("/metrics")
    assert response.status_code == 200
    sample = 'goftogu_http_requests_total{method="GET",route="/healthz",status="200"}'
    assert sample in response.text


async def test_the_openapi_document_is_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "goftogu"
