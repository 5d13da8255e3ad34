"""Fixtures for end-to-end tests: real gateway processes and signed-in users."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import Process, gateway_process
from tests.helpers.api import SignedIn, sign_up

E2E_SECRET = "e2e-secret-key-that-is-long-enough-for-hs256-signing"


@pytest.fixture(scope="module")
def embedded_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """One `goftogu serve` on embedded defaults for the tests of a module."""
    workdir = tmp_path_factory.mktemp("gateway")
    env = {
        "GOFTOGU_SECRET_KEY": E2E_SECRET,
        "GOFTOGU_RATE_REGISTER_PER_IP": "10000/60",
        "GOFTOGU_RATE_VISITOR_PER_IP": "10000/60",
        "GOFTOGU_RATE_LOGIN_PER_IP": "10000/60",
        "GOFTOGU_PRESENCE_GRACE_SECONDS": "0.5",
        "GOFTOGU_TYPING_TTL_SECONDS": "1",
        "GOFTOGU_SOCKET_EXPIRY_SWEEP_SECONDS": "0.5",
    }
    with gateway_process(env=env, cwd=workdir) as process:
        yield process


@pytest.fixture
async def http(embedded_gateway: Process) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=embedded_gateway.base_url, timeout=15) as client:
        yield client


@pytest.fixture
async def alice(http: httpx.AsyncClient) -> SignedIn:
    return await sign_up(http)


@pytest.fixture
async def bob(http: httpx.AsyncClient) -> SignedIn:
    return await sign_up(http)


def workdir_of(process: Process) -> Path:
    return process.log_path.parent
