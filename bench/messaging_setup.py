"""Target (c) of the fan-out benchmark: a real ``goftogu serve`` with users and
groups, clients that send ``message:send`` with their access tokens."""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench import gateway, harness
from bench.fanout import Target

PASSWORD = "bench passphrase, long enough"  # noqa: S105 - a throwaway benchmark account


async def create_groups(
    base_url: str, members: list[list[dict[str, Any]]], concurrency: int = 8
) -> list[str]:
    """One group per list of logged-in members, created by the first (the owner)
    with the others as members: the groups' ids."""
    semaphore = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=f"{base_url}/api/v1", timeout=60) as client:

        async def one(index: int, people: list[dict[str, Any]]) -> str:
            owner, others = people[0], people[1:]
            body = {"title": f"bench {index}", "member_ids": [p["user"]["id"] for p in others]}
            async with semaphore:
                response = await client.post(
                    "/groups", json=body,
                    headers={"Authorization": f"Bearer {owner['access_token']}"},
                )  # fmt: skip
            response.raise_for_status()
            group_id: str = response.json()["id"]
            return group_id

        return await asyncio.gather(*(one(i, p) for i, p in enumerate(members)))


async def prepare(
    base_url: str, rooms: int, per_room: int, prefix: str = "u"
) -> list[dict[str, Any]]:
    """``rooms`` groups of ``per_room`` registered users: fan-out rooms with tokens."""
    names = [f"{prefix}{i:05d}" for i in range(rooms * per_room)]
    logins = await gateway.accounts(base_url, names, PASSWORD)
    members = [logins[i * per_room : (i + 1) * per_room] for i in range(rooms)]
    group_ids = await create_groups(base_url, members)
    return [
        {
            "conversation": f"group:{group_id}",
            "clients": [{"token": login["access_token"]} for login in people],
            "user_ids": [login["user"]["id"] for login in people],
        }
        for group_id, people in zip(group_ids, members, strict=True)
    ]


async def start_target(
    args: argparse.Namespace, logs: Path, *, redis: bool = True, workers: int = 1
) -> Target:
    """A real ``goftogu serve`` (``--workers`` processes) with ``args.rooms`` groups
    of ``args.clients_per_room`` users. Several processes need RabbitMQ: the
    notify jobs the single process runs itself go to a ``goftogu notifier`` then."""
    await gateway.recreate_database(args.database_url)
    extra: dict[str, str] = {}
    if workers > 1:
        if not (redis and args.redis_url and getattr(args, "broker_url", None)):
            raise SystemExit("goftogu-wN needs Redis and RabbitMQ (--redis-url, --broker-url)")
        extra = {
            "GOFTOGU_BROKER_URL": args.broker_url,
            "GOFTOGU_QUEUE_PREFIX": f"bench-{uuid.uuid4().hex[:8]}.",
        }
    env = gateway.goftogu_env(args, redis=redis, extra=extra)
    gateway.migrate(env, logs)
    name = "goftogu" if redis else "goftogu-local"
    if workers > 1:
        name = f"goftogu-w{workers}"
    server = gateway.start_gateway(f"{name}-serve", env, logs, workers=workers)
    helpers = []
    if workers > 1:
        helpers.append(
            harness.spawn(
                f"{name}-notifier", gateway.goftogu_argv("notifier"), log_dir=logs, env=env
            )
        )
    started = time.monotonic()
    try:
        rooms = await prepare(server.url, args.rooms, args.clients_per_room)
    except BaseException:
        server.stop()
        for helper in helpers:
            helper.stop()
        raise
    setup = time.monotonic() - started
    label = "goftogu serve, message:send (PostgreSQL" + (
        " + Redis)" if redis else ", in-process fan-out)"
    )
    if workers > 1:
        label = f"goftogu serve --workers {workers}, message:send (PostgreSQL + Redis + RabbitMQ)"
    notes = [
        f"{args.rooms * args.clients_per_room} users registered and {args.rooms} groups created "
        f"through the REST API in {setup:.1f} s",
        "backends: PostgreSQL" + (" + Redis (presence, rate limits, fan-out)" if redis else ""),
    ]
    if workers > 1:
        notes.append(
            f"{workers} gateway processes (uvicorn workers) and one `goftogu notifier`; "
            "their CPU is the server's"
        )
    return Target(name, label, "message:send", True, server, rooms, notes, helpers=helpers)
