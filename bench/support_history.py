"""Scenario 3 (second part): one support conversation of 500 messages read whole
(the document model: one read, no join) against the same 500 messages paged
from the relational message tables.

    .venv/bin/python -m bench.support_history [--messages 500] [--reads 200]

(The first part, pages of a 1,000,000-message conversation, is the messaging
benchmark: ``.venv/bin/python bench/history.py``; ``make bench-history`` runs both.)

Through a real ``goftogu serve`` over HTTP, as a client reads them: a customer's
support chat with ``--messages`` messages (POST /support/chats, then
/support/chats/{id}/messages), read whole with GET /support/chats/{id}, with the
documents in FerretDB (MongoDB protocol) and in PostgreSQL (JSON column); and a
group conversation with the same messages (POST /conversations/{address}/messages),
read whole by paging GET /conversations/{address}/messages?before_seq=&limit= from
the newest end, 50 and 200 (the maximum) per page. Each read is timed ``--reads``
times; reported: requests per read and p50/p99 of the whole read.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import numpy as np

from bench import gateway, harness, services
from bench.messaging_setup import PASSWORD
from bench.support import DATABASE, drop_mongo_database

Reader = Callable[[httpx.AsyncClient], Awaitable[int]]


def body(i: int) -> str:
    return f"message {i}: " + "the quick brown fox jumps over the lazy dog. " * 3


async def time_reads(http: httpx.AsyncClient, read: Reader, reads: int) -> dict[str, Any]:
    for _ in range(5):  # warm-up
        await read(http)
    samples, at, requests = [], [], 0
    origin = time.perf_counter_ns()
    for _ in range(reads):
        started = time.perf_counter_ns()
        requests = await read(http)
        samples.append((time.perf_counter_ns() - started) / 1000)
        at.append((time.perf_counter_ns() - origin) / 1e9)
    return {
        "requests_per_read": requests,
        **harness.latency_summary(np.array(samples)),
        "_samples_ms": [s / 1000 for s in samples],
        "_at_s": at,
    }


async def support_case(http: httpx.AsyncClient, messages: int, reads: int) -> dict[str, Any]:
    customer = (await http.post("/auth/visitor", json={})).json()
    headers = {"Authorization": f"Bearer {customer['access_token']}"}
    started = await http.post(
        "/support/chats", json={"client_id": str(uuid.uuid4()), "body": body(0)}, headers=headers
    )
    started.raise_for_status()
    chat_id = started.json()["id"]
    for i in range(1, messages):
        posted = await http.post(
            f"/support/chats/{chat_id}/messages",
            json={"client_id": str(uuid.uuid4()), "body": body(i)},
            headers=headers,
        )
        posted.raise_for_status()

    async def read(client: httpx.AsyncClient) -> int:
        response = await client.get(f"/support/chats/{chat_id}", headers=headers)
        response.raise_for_status()
        assert len(response.json()["messages"]) == messages
        return 1

    return await time_reads(http, read, reads)


async def messaging_case(
    http: httpx.AsyncClient, server_url: str, messages: int, reads: int, page: int
) -> dict[str, Any]:
    name = f"h{uuid.uuid4().hex[:8]}"
    [login] = await gateway.accounts(server_url, [name], PASSWORD)
    headers = {"Authorization": f"Bearer {login['access_token']}"}
    group = await http.post("/groups", json={"title": "history"}, headers=headers)
    group.raise_for_status()
    address = f"group:{group.json()['id']}"
    for i in range(messages):
        sent = await http.post(
            f"/conversations/{address}/messages",
            json={"client_id": str(uuid.uuid4()), "content": body(i)},
            headers=headers,
        )
        sent.raise_for_status()

    async def read(client: httpx.AsyncClient) -> int:
        got, requests, params = 0, 0, {"limit": page}
        while True:
            response = await client.get(
                f"/conversations/{address}/messages", params=params, headers=headers
            )
            response.raise_for_status()
            requests += 1
            data = response.json()
            got += len(data["items"])
            if not data["has_more"] or not data["items"]:
                break
            params = {"limit": page, "before_seq": min(item["seq"] for item in data["items"])}
        assert got == messages, got
        return requests

    return await time_reads(http, read, reads)


async def with_gateway(
    args: argparse.Namespace,
    store: str,
    work: Callable[[httpx.AsyncClient, str], Awaitable[list[dict[str, Any]]]],
) -> list[dict[str, Any]]:
    logs = harness.results_dir(args.out) / "logs"
    database_url = services.with_path(args.database_url, DATABASE + "_history")
    await gateway.recreate_database(database_url)
    extra = {"GOFTOGU_DATABASE_URL": database_url}
    mongo_url = None
    if store == "mongodb":
        mongo_url = services.with_path(args.mongodb_url, DATABASE + "_history")
        await drop_mongo_database(mongo_url)
        extra["GOFTOGU_MONGODB_URL"] = mongo_url
    env = gateway.goftogu_env(args, redis=False, extra=extra)
    gateway.migrate(env, logs)
    server = gateway.start_gateway(f"history-{store}", env, logs)
    try:
        async with httpx.AsyncClient(base_url=f"{server.url}/api/v1", timeout=60) as http:
            return await work(http, server.url)
    finally:
        server.stop()
        if mongo_url:
            await drop_mongo_database(mongo_url)


COLUMNS = [
    ("case", "read"),
    ("requests_per_read", "requests"),
    ("p50_ms", "p50 ms"),
    ("p99_ms", "p99 ms"),
    ("max_ms", "max ms"),
]


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    services.fill_defaults(args)
    rows: list[dict[str, Any]] = []

    async def support_only(http: httpx.AsyncClient, _url: str) -> list[dict[str, Any]]:
        return [
            {
                "case": f"support document, {store_name} (one GET)",
                **await support_case(http, args.messages, args.reads),
            }
        ]

    async def postgres_all(http: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
        found = [
            {
                "case": "support document, PostgreSQL JSON column (one GET)",
                **await support_case(http, args.messages, args.reads),
            }
        ]
        for page in (50, 200):
            found.append(
                {
                    "case": f"messages table, pages of {page}",
                    **await messaging_case(http, url, args.messages, args.reads, page),
                }
            )
        return found

    store_name = "FerretDB (MongoDB protocol)"
    rows += await with_gateway(args, "mongodb", support_only)
    rows += await with_gateway(args, "postgres", postgres_all)
    out = harness.results_dir(args.out)
    plots = [
        {
            "label": r["case"],
            "latencies_ms": r.pop("_samples_ms"),
            "throughput": (r.pop("_at_s"), []),
            "rate_unit": "ms per read",
        }
        for r in rows
    ]
    for plot in plots:
        plot["throughput"] = (plot["throughput"][0], plot["latencies_ms"])
    harness.plot_runs(
        out / "support_history.png",
        f"Reading a {args.messages}-message conversation whole",
        plots,
        latency_title="time to read all messages (CDF)",
        series_title="each read over the run",
    )
    report = {
        "scenario": "support_history",
        "machine": harness.machine(),
        "parameters": {k: v for k, v in vars(args).items() if not k.endswith("_url")},
        "runs": rows,
    }
    harness.save_json(out / f"support_history-{time.strftime('%Y%m%d-%H%M%S')}.json", report)
    harness.save_json(out / "support_history.json", report)
    print(harness.table(rows, COLUMNS))
    print(f"\nJSON: {out / 'support_history.json'}")
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.support_history", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--reads", type=int, default=200)
    for name in ("redis", "database", "mongodb"):
        parser.add_argument(f"--{name}-url", default=None)
    parser.add_argument("--out", default="history")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    main()
