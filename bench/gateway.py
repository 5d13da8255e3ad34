"""A real goftogu gateway (``goftogu serve``) for the benchmarks, on a database of
their own, and the REST calls that prepare its users."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import httpx

from bench import harness
from bench.harness import PYTHON, Server

# Argon2 at its cheapest: setting up a thousand accounts is not what is measured.
FAST_SETUP_ENV = {
    "GOFTOGU_PASSWORD_HASH_MEMORY_KIB": "8",
    "GOFTOGU_PASSWORD_HASH_TIME_COST": "1",
    "GOFTOGU_RATE_REGISTER_PER_IP": "1000000/1",
    "GOFTOGU_RATE_VISITOR_PER_IP": "1000000/1",
    "GOFTOGU_RATE_LOGIN_PER_IP": "1000000/1",
    "GOFTOGU_RATE_LOGIN_PER_ACCOUNT": "1000000/1",
    # The per-socket event limit (60 per 10 s by default) would turn a load test
    # into a rate-limit test; the limiter still runs on every event.
    "GOFTOGU_RATE_SOCKET_EVENTS": "1000000/10",
    # Likewise per user (across their sockets) and their number of sockets.
    "GOFTOGU_RATE_SOCKET_EVENTS_PER_USER": "1000000/10",
    "GOFTOGU_MAX_SOCKETS_PER_USER": "100000",
    "GOFTOGU_SOCKET_EVENTS_IN_FLIGHT_PER_USER": "100000",
    "GOFTOGU_ACCESS_TOKEN_TTL_SECONDS": "7200",
    "GOFTOGU_LOG_LEVEL": "WARNING",
}


async def recreate_database(database_url: str) -> None:
    """Drop and create the benchmark's PostgreSQL database (named in the URL)."""
    import asyncpg

    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
    base, name = dsn.rsplit("/", 1)
    assert name.startswith("goftogu_bench_"), f"refusing to recreate {name!r}"
    conn = await asyncpg.connect(base + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def goftogu_env(
    args: Any, *, redis: bool = True, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """Every ``GOFTOGU_*`` setting of a run's goftogu processes, and nothing else:
    each process gets ``harness.environment(<these>)``, so the gateway, its
    workers and the migrations all read the same backends."""
    env = dict(FAST_SETUP_ENV)
    env["GOFTOGU_DATABASE_URL"] = args.database_url
    env["GOFTOGU_DATA_DIR"] = str(harness.RESULTS / "var")
    if redis and args.redis_url:
        env["GOFTOGU_REDIS_URL"] = args.redis_url
    # Redis pub/sub channels ignore the database number: a channel of the run's own
    # keeps its fan-out apart from any other goftogu on the same Redis.
    env["GOFTOGU_FANOUT_CHANNEL"] = channel()
    env.update(extra or {})
    return env


def channel() -> str:
    return f"goftogu-bench-{os.getpid()}"


def goftogu_argv(*command: str) -> list[str]:
    """``goftogu <command>``; GOFTOGU_BENCH_SERVER_PYTHON runs another installation's
    goftogu (another checkout's .venv/bin/python)."""
    python = os.environ.get("GOFTOGU_BENCH_SERVER_PYTHON", PYTHON)
    return [python, "-m", "goftogu", *command]


def migrate(env: dict[str, str], logs: Path) -> None:
    harness.run_command(goftogu_argv("migrate"), env, logs / "migrate.log")


def start_gateway(name: str, env: dict[str, str], logs: Path, *, workers: int = 1) -> Server:
    """``goftogu serve`` on a free port (``--workers`` processes), once /healthz answers."""
    port = harness.free_port()
    argv = goftogu_argv("serve", "--port", str(port))
    if workers > 1:
        argv += ["--workers", str(workers)]
    return harness.start_server(
        name,
        argv,
        port=port,
        log_dir=logs,
        env=env,
        ready_path="/healthz",
    )


async def _many(calls: list[Any], concurrency: int) -> list[Any]:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(call: Any) -> Any:
        async with semaphore:
            return await call()

    return await asyncio.gather(*(one(c) for c in calls))


async def visitors(base_url: str, count: int, concurrency: int = 16) -> list[dict[str, Any]]:
    """``count`` anonymous customers (POST /auth/visitor): their token pairs."""
    async with httpx.AsyncClient(base_url=f"{base_url}/api/v1", timeout=60) as client:

        async def one() -> dict[str, Any]:
            response = await client.post("/auth/visitor", json={})
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            return body

        return await _many([one] * count, concurrency)


async def accounts(
    base_url: str, usernames: list[str], password: str, concurrency: int = 16
) -> list[dict[str, Any]]:
    """Register each user (POST /auth/register) and log in: the login answers."""
    async with httpx.AsyncClient(base_url=f"{base_url}/api/v1", timeout=60) as client:

        async def one(username: str) -> dict[str, Any]:
            body = {
                "username": username,
                "email": f"{username}@bench.example",
                "password": password,
            }
            (await client.post("/auth/register", json=body)).raise_for_status()
            response = await client.post(
                "/auth/login", json={"login": username, "password": password}
            )
            response.raise_for_status()
            answer: dict[str, Any] = response.json()
            return answer

        return await _many([lambda u=u: one(u) for u in usernames], concurrency)
