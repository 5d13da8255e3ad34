"""Liveness, readiness and metrics endpoints (at the root, outside /api/v1)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from goftogu import __version__
from goftogu.api.deps import ProbesDep
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
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
