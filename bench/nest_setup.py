"""The ``nest`` target of the fan-out benchmark: the NestJS + Socket.IO + TypeORM
peer of ``bench/peers/nest`` (the stack document 004 was written for) on a
PostgreSQL database of its own, with users and groups made through its REST API
and clients connected with its tokens."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from bench import gateway, harness, services
from bench.fanout import Target
from bench.harness import BENCH, NODE

PEER = BENCH / "peers" / "nest"


def ensure_built() -> None:
    """``npm ci`` (the lockfile's versions) and ``npm run build`` (tsc) when stale."""
    installed = PEER / "node_modules" / ".installed"
    lock = PEER / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEER, check=True
        )
        installed.touch()
    built = PEER / "dist" / "main.js"
    sources = [*(PEER / "src").rglob("*.ts"), PEER / "tsconfig.json", installed]
    if not built.exists() or built.stat().st_mtime < max(p.stat().st_mtime for p in sources):
        subprocess.run(["npm", "run", "--silent", "build"], cwd=PEER, check=True)
        built.touch()


async def prepare(
    base_url: str, rooms: int, per_room: int, prefix: str = "n"
) -> list[dict[str, Any]]:
    """``rooms`` groups of ``per_room`` users (POST /users, POST /groups)."""
    semaphore = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:

        async def user(index: int) -> dict[str, Any]:
            name = f"{prefix}{index:05d}"
            async with semaphore:
                response = await http.post(
                    "/users", json={"username": name, "email": f"{name}@bench.example"}
                )
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            return body

        people = await asyncio.gather(*(user(i) for i in range(rooms * per_room)))
        members = [people[i * per_room : (i + 1) * per_room] for i in range(rooms)]

        async def group(index: int, room: list[dict[str, Any]]) -> str:
            body = {"title": f"bench {index}", "member_ids": [p["id"] for p in room[1:]]}
            async with semaphore:
                response = await http.post(
                    "/groups", json=body, headers={"Authorization": f"Bearer {room[0]['token']}"}
                )
            response.raise_for_status()
            group_id: str = response.json()["id"]
            return group_id

        group_ids = await asyncio.gather(*(group(i, m) for i, m in enumerate(members)))
    return [
        {
            "conversation": f"group:{group_id}",
            "clients": [{"token": p["token"]} for p in room],
            "user_ids": [p["id"] for p in room],
        }
        for group_id, room in zip(group_ids, members, strict=True)
    ]


async def start_peer(database_url: str, logs: Path) -> harness.Server:
    """The peer on a fresh database (named in ``database_url``), once /healthz answers."""
    ensure_built()
    await gateway.recreate_database(database_url)
    port = harness.free_port()
    env = {
        "DATABASE_URL": database_url.replace("postgresql+asyncpg://", "postgresql://"),
        "TOKEN_SECRET": secrets.token_urlsafe(32),
        "NODE_ENV": "production",
    }
    return harness.start_server(
        "nest-peer",
        [NODE, str(PEER / "dist" / "main.js"), str(port)],
        port=port,
        log_dir=logs,
        env=env,
        ready_path="/healthz",
    )


async def start_target(args: argparse.Namespace, logs: Path) -> Target:
    database_url = services.with_path(args.database_url, services.database_name("nest"))
    server = await start_peer(database_url, logs)
    started = time.monotonic()
    try:
        rooms = await prepare(server.url, args.rooms, args.clients_per_room)
    except BaseException:
        server.stop()
        raise
    notes = [
        f"{args.rooms * args.clients_per_room} users and {args.rooms} groups created through "
        f"its REST API in {time.monotonic() - started:.1f} s",
        "NestJS 12 + @nestjs/platform-socket.io + TypeORM 1.1 (pg, pool of 20), one Node process",
    ]
    return Target(
        "nest",
        "NestJS + Socket.IO + TypeORM peer, message:send (PostgreSQL)",
        "message:send",
        True,
        server,
        rooms,
        notes,
    )
