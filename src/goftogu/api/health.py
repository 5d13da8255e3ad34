"""Liveness, readiness and metrics endpoints (at the root, outside /api/v1)."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from goftogu import __version__
from goftogu.api.deps import ProbesDep, SettingsDep
from goftogu.errors import NotFound, Unauthenticated
from goftogu.health import readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/readyz", summary="Readiness: every configured backend answers")
async def readyz(probes: ProbesDep) -> JSONResponse:
    ready, report = await readiness(list(probes))
    return JSONResponse(report, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request, settings: SettingsDep) -> Response:
    """With ``GOFTOGU_METRICS_TOKEN``: only for ``Authorization: Bearer <token>``.
    Without: only for a loopback peer on a request no proxy forwarded (a scraper on
    the host itself); anyone else gets 404, as if there were nothing here."""
    if settings.metrics_token is not None:
        expected = f"Bearer {settings.metrics_token.get_secret_value()}"
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Unauthenticated("/metrics needs its token (GOFTOGU_METRICS_TOKEN).")
    elif not _local_and_direct(request):
        raise NotFound("No such resource.")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _local_and_direct(request: Request) -> bool:
    if "x-forwarded-for" in request.headers or "forwarded" in request.headers:
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
