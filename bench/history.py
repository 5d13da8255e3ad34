"""History page latency on a conversation of 1,000,000 messages (PostgreSQL).

    .venv/bin/python bench/history.py [--messages 1000000] [--requests 1000] [--http]
                                      [--out DIR]

Seeds a group conversation in a database of its own (``goftogu_bench``, or
``GOFTOGU_BENCH_NAMESPACE``, on the server of ``GOFTOGU_DATABASE_URL``, default:
the PostgreSQL of ``scripts/services``) with ``generate_series`` (once; later
runs reuse it),
then asks for a 50-message page at the oldest end (``after_seq=0``), in the
middle (``before_seq=N/2``) and at the newest end, ``--requests`` times each,
through the service layer (and with ``--http`` through the REST API, in
process), and prints p50 / p99 per kind (``--out``: also as history.json there).
Target: p99 under 10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from goftogu.bus import Handlers
from goftogu.gateway import create_gateway
from goftogu.identity.models import Role
from goftogu.identity.tokens import Principal
from goftogu.ids import new_id
from goftogu.messaging.access import Access
from goftogu.messaging.service import build_messaging
from goftogu.settings import Settings
from goftogu.storage.database import Database, create_engine
from goftogu.storage.schema import upgrade_to_head
from goftogu.storage.work import UnitsOfWork

DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:55432/goftogu"
BENCH_DATABASE = os.environ.get("GOFTOGU_BENCH_NAMESPACE", "goftogu_bench")
assert BENCH_DATABASE.startswith("goftogu_bench"), "GOFTOGU_BENCH_NAMESPACE: goftogu_bench..."
PAGE = 50


def _asyncpg_args(url: str, database: str) -> dict[str, Any]:
    parsed = make_url(url)
    return {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "password": parsed.password,
        "database": database,
    }


async def _prepare_database(server_url: str, messages: int) -> tuple[str, str, str]:
    """The bench database URL, the group id and a member's id, seeding when needed."""
    url = make_url(server_url).set(database=BENCH_DATABASE).render_as_string(hide_password=False)
    admin = await asyncpg.connect(**_asyncpg_args(server_url, "postgres"))
    try:
        exists = await admin.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", BENCH_DATABASE
        )
        if not exists:
            await admin.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    finally:
        await admin.close()
    engine = create_engine(url)
    await upgrade_to_head(engine)
    await engine.dispose()

    connection = await asyncpg.connect(**_asyncpg_args(url, BENCH_DATABASE))
    try:
        row = await connection.fetchrow(
            "SELECT g.id, m.user_id FROM groups g JOIN group_members m ON m.group_id = g.id"
            " WHERE g.title = 'bench' AND g.message_count = $1 AND m.role = 'member'",
            messages,
        )
        if row is None:
            row = await _seed(connection, messages)
        return url, str(row[0]), str(row[1])
    finally:
        await connection.close()


async def _seed(connection: asyncpg.Connection, messages: int) -> tuple[Any, Any]:
    print(f"seeding {messages:,} messages (once) ...", flush=True)
    started = time.perf_counter()
    await connection.execute(
        "TRUNCATE conversation_events, reactions, message_reads, message_edits, pins,"
        " attachments, messages, conversation_settings, group_members, groups, single_chats,"
        " refresh_tokens, auth_sessions, users CASCADE"
    )
    owner, member, group = new_id(), new_id(), new_id()
    async with connection.transaction():
        for user_id, name in ((owner, "bench_owner"), (member, "bench_member")):
            await connection.execute(
                "INSERT INTO users (id, username, username_key, role, is_visitor, status,"
                " password_hash) VALUES ($1, $2, $2, 'customer', false, 'offline', 'unused')",
                user_id,
                name,
            )
        await connection.execute(
            "INSERT INTO groups (id, owner_id, title, last_seq, message_count)"
            " VALUES ($1, $2, 'bench', $3, $3)",
            group,
            owner,
            messages,
        )
        for user_id, role in ((owner, "owner"), (member, "member")):
            await connection.execute(
                "INSERT INTO group_members (id, group_id, user_id, role) VALUES ($1, $2, $3, $4)",
                new_id(),
                group,
                user_id,
                role,
            )
            await connection.execute(
                "INSERT INTO conversation_settings (id, user_id, group_id) VALUES ($1, $2, $3)",
                new_id(),
                user_id,
                group,
            )
        await connection.execute(
            "INSERT INTO messages (id, group_id, sender_id, client_id, seq, ordinal, message_type,"
            " content, created_at, updated_at)"
            " SELECT gen_random_uuid(), $1, CASE WHEN i % 2 = 0 THEN $2::uuid ELSE $3::uuid END,"
            "  'bench-' || i, i, i, 'text',"
            "  'message number ' || i || ': the quick brown fox jumps over the lazy dog',"
            "  now() - make_interval(secs => $4 - i), now() - make_interval(secs => $4 - i)"
            " FROM generate_series(1, $4) AS i",
            group,
            owner,
            member,
            messages,
        )
        # A reaction on every tenth message, so pages carry some.
        await connection.execute(
            "INSERT INTO reactions (id, message_id, user_id, emoji)"
            " SELECT gen_random_uuid(), id, $2, '👍' FROM messages"
            " WHERE group_id = $1 AND seq % 10 = 0",
            group,
            owner,
        )
    await connection.execute("VACUUM ANALYZE")
    print(f"seeded in {time.perf_counter() - started:.1f} s", flush=True)
    return group, member


async def _measure(
    name: str, requests: int, call: Callable[[], Awaitable[int]]
) -> dict[str, float | int | str]:
    for _ in range(min(100, requests)):  # warm caches and the connection pool
        await call()
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        count = await call()
        timings.append((time.perf_counter() - started) * 1000)
        assert count == PAGE, f"{name}: a page of {count}"
    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[max(0, int(len(timings) * 0.99) - 1)]
    verdict = "ok" if p99 < 10 else "OVER TARGET"
    print(
        f"{name:<34} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   max {timings[-1]:6.2f} ms   {verdict}"
    )
    return {
        "case": name,
        "requests": requests,
        "page": PAGE,
        "p50_ms": round(p50, 3),
        "p99_ms": round(p99, 3),
        "max_ms": round(timings[-1], 3),
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--http", action="store_true", help="also through the REST API")
    parser.add_argument("--out", type=Path, default=None, help="write history.json there")
    args = parser.parse_args()

    server = os.environ.get("GOFTOGU_DATABASE_URL", DEFAULT_SERVER)
    # The in-process gateway of --http reads its settings from the environment:
    # nothing else the caller exported (a Redis, a MongoDB) may reach it.
    for key in [k for k in os.environ if k.startswith("GOFTOGU_")]:
        del os.environ[key]
    url, group_id, member_id = await _prepare_database(server, args.messages)
    address = f"group:{group_id}"
    principal = Principal(
        user_id=__import__("uuid").UUID(member_id), role=Role.customer, session_id=new_id()
    )
    settings = Settings(_env_file=None, database_url=url, data_dir=Path("var/bench"))  # type: ignore[call-arg]
    middle = args.messages // 2
    print(f"{args.messages:,} messages in {address}; {args.requests} requests per kind")

    database = Database(url)
    # Reads only: nothing is announced, so the bus needs no handlers.
    work = UnitsOfWork(database, Handlers().build())
    messaging = build_messaging(work, Access(database), settings)

    async def page(**cursor: int) -> int:
        items, _ = await messaging.messages.history(principal, address, limit=PAGE, **cursor)
        return len(items)

    rows = []
    try:
        rows.append(
            await _measure(
                "service: oldest page (after_seq=0)", args.requests, lambda: page(after_seq=0)
            )
        )
        rows.append(
            await _measure(
                "service: middle page (before_seq)", args.requests, lambda: page(before_seq=middle)
            )
        )
        rows.append(await _measure("service: newest page", args.requests, lambda: page()))
    finally:
        await database.close()

    if args.http:
        rows += await _measure_http(settings, principal, address, args.requests, middle)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        report = {"scenario": "history", "messages": args.messages, "runs": rows}
        (args.out / "history.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


async def _measure_http(
    settings: Settings, principal: Principal, address: str, requests: int, middle: int
) -> list[dict[str, float | int | str]]:
    gateway = create_gateway(settings)
    async with gateway.api.router.lifespan_context(gateway.api):
        token = gateway.container.auth.tokens.issue(principal)
        headers = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=gateway.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def get(**params: int) -> int:
                response = await client.get(
                    f"/api/v1/conversations/{address}/messages",
                    params={"limit": PAGE, **params},
                    headers=headers,
                )
                return len(response.json()["items"])

            return [
                await _measure(
                    "http: oldest page (after_seq=0)", requests, lambda: get(after_seq=0)
                ),
                await _measure(
                    "http: middle page (before_seq)", requests, lambda: get(before_seq=middle)
                ),
                await _measure("http: newest page", requests, lambda: get()),
            ]


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
