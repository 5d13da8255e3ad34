"""Scenario 2, support routing: customers' first messages at a fixed rate through
gateway -> RabbitMQ -> worker -> Redis -> store -> ``support:assigned`` at the
operator's socket, with the MongoDB-protocol store (FerretDB) and the
PostgreSQL one.

    .venv/bin/python -m bench.support [--stores mongodb,postgres] [--rate 20]
                                      [--operators 10] [--workers 1]

Per store: a fresh PostgreSQL database (and FerretDB database), queues of the
run's own (GOFTOGU_QUEUE_PREFIX), ``goftogu serve`` and ``--workers`` ``goftogu
worker`` processes, ``--operators`` operators connected (official
socket.io-client) and online with room for every chat
(GOFTOGU_OPERATOR_CAPACITY), and anonymous customers (POST /auth/visitor). The
generator POSTs /api/v1/support/chats at ``--rate`` per second for
``--seconds``; latency is from sending that request to the operator's socket
receiving ``support:assigned`` for the chat. Intakes are counted as created,
refused (HTTP 503), HTTP errors (any other non-2xx) and lost (no answer within
30 s); created chats never assigned by the end of ``--drain`` as not routed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench import gateway, harness, services
from bench.harness import BENCH

GENERATOR = BENCH / "load" / "support.mjs"
PASSWORD = "bench passphrase, long enough"  # noqa: S105 - throwaway benchmark accounts
DATABASE = services.database_name("support")


async def drop_mongo_database(url: str) -> None:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, serverSelectionTimeoutMS=3000)
    try:
        await client.drop_database(url.rsplit("/", 1)[1])
    finally:
        await client.close()


async def operators(base_url: str, admin: str, count: int) -> list[str]:
    """``count`` operators created by the admin (POST /admin/users): their tokens."""
    async with httpx.AsyncClient(base_url=f"{base_url}/api/v1", timeout=60) as http:
        login = await http.post("/auth/login", json={"login": admin, "password": PASSWORD})
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        tokens = []
        for i in range(count):
            name = f"op{i:03d}"
            body = {
                "username": name,
                "email": f"{name}@bench.example",
                "password": PASSWORD,
                "role": "operator",
            }
            (await http.post("/admin/users", json=body, headers=headers)).raise_for_status()
            answer = await http.post("/auth/login", json={"login": name, "password": PASSWORD})
            answer.raise_for_status()
            tokens.append(answer.json()["access_token"])
        return tokens


async def run_store(store: str, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    logs = out / "logs"
    database_url = services.with_path(args.database_url, DATABASE)
    await gateway.recreate_database(database_url)
    extra = {
        "GOFTOGU_QUEUE_PREFIX": f"bench-{uuid.uuid4().hex[:8]}.",
        "GOFTOGU_OPERATOR_CAPACITY": str(args.capacity),
    }
    mongo_url = None
    if store == "mongodb":
        mongo_url = services.with_path(args.mongodb_url, DATABASE)
        await drop_mongo_database(mongo_url)
        extra["GOFTOGU_MONGODB_URL"] = mongo_url
    env = gateway.goftogu_env(
        args,
        extra={
            **extra,
            "GOFTOGU_DATABASE_URL": database_url,
            "GOFTOGU_BROKER_URL": args.broker_url,
        },
    )
    gateway.migrate(env, logs)
    admin = "benchadmin"
    harness.run_command(
        gateway.goftogu_argv(
            "create-admin",
            "--username",
            admin,
            "--email",
            "admin@bench.example",
            "--password",
            PASSWORD,
        ),
        env,
        logs / f"support-{store}-create-admin.log",
    )
    server = gateway.start_gateway(f"support-{store}-serve", env, logs)
    workers = []
    proc: asyncio.subprocess.Process | None = None
    try:
        for i in range(args.workers):
            # The same settings as the gateway's (harness.environment): both read
            # the same document store whatever the caller exported.
            workers.append(
                harness.spawn(
                    f"support-{store}-worker{i}", gateway.goftogu_argv("worker"),
                    log_dir=logs, env=env,
                )
            )  # fmt: skip
        count = int(args.rate * args.seconds) + 10
        operator_tokens = await operators(server.url, admin, args.operators)
        customers = [p["access_token"] for p in await gateway.visitors(server.url, count)]
        await asyncio.sleep(2)  # the workers are consuming
        config = {
            "url": server.url,
            "operators": operator_tokens,
            "customers": customers,
            "rate": args.rate,
            "sendMs": int(args.seconds * 1000),
            "drainMs": int(args.drain * 1000),
            "out": str(out / "raw" / f"support-{store}"),
        }
        config_path = out / "raw" / f"support-{store}.json"
        config_path.write_text(json.dumps(config))
        proc = await harness.start_generator(
            GENERATOR, config_path, logs / f"generator-support-{store}.log"
        )
        assert proc.stdin is not None
        assert proc.stdout is not None
        ready = json.loads(await asyncio.wait_for(proc.stdout.readline(), 120))
        if ready.get("operatorErrors"):
            raise RuntimeError(f"operators could not go online: {ready}")
        sampler = harness.ProcessSampler(
            {"gateway": [server.pid], "workers": [w.pid for w in workers], "client": [proc.pid]}
        )
        sampler.start()
        start_us = harness.monotonic_us() + 300_000
        proc.stdin.write(f"go {start_us}\n".encode())
        await proc.stdin.drain()
        done = json.loads(
            await asyncio.wait_for(proc.stdout.readline(), args.seconds + args.drain + 120)
        )
        await sampler.stop()
    finally:
        if proc is not None:
            await harness.stop_generator(proc, 30)
        for worker in workers:
            worker.stop()
        server.stop()
        if mongo_url:
            await drop_mongo_database(mongo_url)
    routed = harness.load_pairs(out / "raw" / f"support-{store}.routed.f64")
    intake = harness.load_pairs(out / "raw" / f"support-{store}.intake.f64")
    end_us = start_us + int(args.seconds * 1e6)
    latency = routed[:, 1] - routed[:, 0]
    summary = harness.latency_summary(latency)
    return {
        "store": store,
        "offered_per_s": args.rate,
        "routed_per_s": round(
            float(((routed[:, 1] >= start_us) & (routed[:, 1] < end_us)).sum()) / args.seconds, 1
        ),
        "routed": int(routed.shape[0]),
        "created": done["created"],
        "not_routed": done["notRouted"],
        "duplicate_assigned": done["duplicateAssigned"],
        "http_errors": done["httpErrors"],
        "refused": done["refused"],
        "lost": done["lost"],
        "first_http_error": done["firstHttpError"],
        "latency": summary,
        "p50": summary["p50_ms"],
        "p99": summary["p99_ms"],
        "intake_http": harness.latency_summary(intake[:, 1] - intake[:, 0]),
        "intake_p99": harness.latency_summary(intake[:, 1] - intake[:, 0])["p99_ms"],
        "gateway_cpu_percent": harness.fmt(sampler.cpu_percent("gateway", start_us, end_us)),
        "workers_cpu_percent": harness.fmt(sampler.cpu_percent("workers", start_us, end_us)),
        "_plot": {
            "label": store,
            "latencies_ms": (latency / 1000).tolist(),
            "throughput": harness.rate_series(
                routed[:, 1], start_us, end_us + int(args.drain * 1e6)
            ),
            "rate_unit": "chats routed per second",
        },
    }


COLUMNS = [
    ("store", "store"),
    ("offered_per_s", "intakes/s offered"),
    ("routed_per_s", "routed/s"),
    ("p50", "p50 ms"),
    ("p99", "p99 ms"),
    ("intake_p99", "POST p99 ms"),
    ("not_routed", "not routed"),
    ("duplicate_assigned", "dup assigned"),
    ("refused", "refused (503)"),
    ("http_errors", "HTTP errors"),
    ("lost", "lost"),
    ("gateway_cpu_percent", "gateway CPU%"),
    ("workers_cpu_percent", "workers CPU%"),
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.support", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--stores", default="mongodb,postgres")
    parser.add_argument("--rate", type=float, default=20.0, help="intakes per second")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--drain", type=float, default=20.0)
    parser.add_argument("--operators", type=int, default=10)
    parser.add_argument("--capacity", type=int, default=1000, help="chats per operator")
    parser.add_argument("--workers", type=int, default=1)
    for name in ("redis", "database", "mongodb", "broker"):
        parser.add_argument(f"--{name}-url", default=None)
    parser.add_argument("--out", default="support")
    return parser.parse_args(argv)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    services.fill_defaults(args)
    harness.ensure_node_modules()
    out = harness.results_dir(args.out)
    rows = []
    for store in args.stores.split(","):
        row = await run_store(store, args, out)
        rows.append(row)
        print(harness.table([row], COLUMNS).splitlines()[-1], flush=True)
    report = {
        "scenario": "support",
        "machine": harness.machine(),
        "parameters": {k: v for k, v in vars(args).items() if not k.endswith("_url")},
        "runs": [{k: v for k, v in r.items() if k != "_plot"} for r in rows],
    }
    stamp = time.strftime("%Y%m%d-%H%M%S")
    harness.save_json(out / f"support-{stamp}.json", report)
    harness.save_json(out / "support.json", report)
    harness.plot_runs(
        out / "support.png",
        f"Support routing: {args.rate:g} intakes/s, {args.operators} operators, "
        f"{args.workers} worker(s)",
        [r["_plot"] for r in rows],
        latency_title="first message -> operator notified (CDF)",
        series_title="chats routed over time",
    )
    print()
    print(harness.table(rows, COLUMNS))
    print(f"\nJSON: {out / 'support.json'}  plot: {out / 'support.png'}")
    return report


def main(argv: list[str] | None = None) -> None:
    asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    main()
