"""A production-shaped support desk on real processes: `goftogu serve` and
`goftogu worker` over PostgreSQL, FerretDB, Redis and RabbitMQ."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import E2E_SECRET
from tests.e2e.servers import Process, gateway_process, goftogu_process
from tests.helpers.api import API, PASSWORD, SignedIn, login, unique_name


async def fresh_postgres(label: str) -> str:
    """A migrated PostgreSQL database of the caller's own (dropped with ``drop_postgres``):
    the processes of one desk never see another test's conversations."""
    from tests.conftest import _migrate, _recreate_postgres_database, service_url

    name = f"goftogu_e2e_{label}_{os.getpid()}"
    url = await _recreate_postgres_database(service_url("postgres"), name)
    await _migrate(url)
    return url


async def drop_postgres(url: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database="postgres",
    )
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    finally:
        await connection.close()


def stack_env(
    database_url: str,
    redis_url: str,
    broker_url: str,
    mongodb_url: str | None = None,
    **extra: str,
) -> dict[str, str]:
    env = {
        "GOFTOGU_SECRET_KEY": E2E_SECRET,
        "GOFTOGU_DATABASE_URL": database_url,
        "GOFTOGU_REDIS_URL": redis_url,
        "GOFTOGU_BROKER_URL": broker_url,
        # Queues of this test only, on the shared broker.
        "GOFTOGU_QUEUE_PREFIX": f"test-{uuid.uuid4().hex[:8]}.",
        "GOFTOGU_RATE_REGISTER_PER_IP": "100000/60",
        "GOFTOGU_RATE_VISITOR_PER_IP": "100000/60",
        "GOFTOGU_RATE_LOGIN_PER_IP": "100000/60",
        "GOFTOGU_RATE_LOGIN_PER_ACCOUNT": "100000/60",
        "GOFTOGU_RATE_SOCKET_EVENTS": "100000/10",
        "GOFTOGU_RATE_SOCKET_EVENTS_PER_USER": "100000/10",
        "GOFTOGU_OUTBOX_SWEEP_SECONDS": "1",
        **extra,
    }
    if mongodb_url:
        env["GOFTOGU_MONGODB_URL"] = mongodb_url
    return env


@dataclass
class Desk:
    """The running processes and how to reach them."""

    env: dict[str, str]
    workdir: Path
    gateway: Process
    workers: list[Process] = field(default_factory=list)
    admin: str = ""

    @property
    def base_url(self) -> str:
        return self.gateway.base_url

    @property
    def queue_prefix(self) -> str:
        return self.env["GOFTOGU_QUEUE_PREFIX"]

    def start_worker(self, stack: ExitStack, name: str | None = None) -> Process:
        name = name or f"worker-{len(self.workers) + 1}"
        worker = stack.enter_context(
            goftogu_process("worker", env=self.env, cwd=self.workdir, name=name)
        )
        self.workers.append(worker)
        return worker

    async def operator(self, http: httpx.AsyncClient, role: str = "operator") -> SignedIn:
        admin = await login(http, self.admin)
        username = unique_name(role)
        created = await http.post(
            f"{API}/admin/users",
            json={
                "username": username,
                "email": f"{username}@example.com",
                "password": PASSWORD,
                "role": role,
            },
            headers=admin.headers,
        )
        assert created.status_code == 201, created.text
        return await login(http, username)


def client_of(desk: Desk, *, timeout: float = 30, connections: int = 20) -> httpx.AsyncClient:
    """An HTTP client that drops idle connections before the server does (uvicorn
    closes them after 5 s), so a request never lands on one closing under it."""
    return httpx.AsyncClient(
        base_url=desk.base_url,
        timeout=timeout,
        limits=httpx.Limits(max_connections=connections, keepalive_expiry=1),
    )


def create_admin(env: Mapping[str, str], workdir: Path) -> str:
    username = unique_name("admin")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "goftogu",
            "create-admin",
            "--username",
            username,
            "--email",
            f"{username}@example.com",
            "--password",
            PASSWORD,
        ],
        cwd=workdir,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        timeout=60,
    )
    return username


@contextmanager
def running_desk(env: dict[str, str], workdir: Path, *, workers: int = 1) -> Iterator[Desk]:
    admin = create_admin(env, workdir)
    with ExitStack() as stack:
        gateway = stack.enter_context(gateway_process(env=env, cwd=workdir))
        desk = Desk(env=env, workdir=workdir, gateway=gateway, admin=admin)
        for _ in range(workers):
            desk.start_worker(stack)
        yield desk


async def wait_for_log(process: Process, text: str, timeout: float = 30) -> None:
    """Wait until ``process`` wrote ``text`` to its log (a worker consuming)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while text not in process.log():
        if process.popen.poll() is not None:
            raise AssertionError(f"{process.name} exited:\n{process.log()}")
        if loop.time() > deadline:
            raise AssertionError(f"{process.name} never logged {text!r}:\n{process.log()}")
        await asyncio.sleep(0.1)


async def queued_messages(broker_url: str, queue: str) -> list[dict[str, Any]]:
    """Take every message waiting on ``queue`` (nobody consumes it in the test)."""
    import aio_pika

    connection = await aio_pika.connect(broker_url)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, durable=True)
        bodies = []
        while (message := await declared.get(fail=False)) is not None:
            await message.ack()
            bodies.append(json.loads(message.body))
        return bodies
    finally:
        await connection.close()


async def drop_queues(broker_url: str, prefix: str, names: list[str]) -> None:
    import aio_pika

    connection = await aio_pika.connect(broker_url)
    try:
        for name in names:
            for suffix in ("", ".dead"):
                channel = await connection.channel()
                with contextlib.suppress(aio_pika.exceptions.AMQPError):  # never declared
                    await channel.queue_delete(prefix + name + suffix)
    finally:
        await connection.close()
