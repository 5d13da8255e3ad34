"""The process's Redis client under a burst: a reconnect storm makes hundreds of
sockets connect or leave at once, each with presence and rate-limit commands."""

import asyncio
from pathlib import Path

import pytest

from goftogu.bootstrap import build_container
from tests.conftest import make_settings


@pytest.mark.redis
async def test_a_burst_of_commands_larger_than_the_pool_waits_for_connections_instead_of_failing(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    container = await build_container(make_settings(database_url, tmp_path, redis_url=redis_url))
    try:
        redis = container.redis
        assert redis is not None
        await asyncio.gather(*(redis.incr("goftogu:burst") for _ in range(500)))
        assert await redis.get("goftogu:burst") == "500"
    finally:
        await container.aclose()
