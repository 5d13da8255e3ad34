"""Scenario 4, reconnect storm: 1,000 clients drop at once and reconnect with
their cursors (``auth.cursors``) while messages keep flowing.

    .venv/bin/python -m bench.storm [--rooms 100] [--receivers-per-room 10] [--rate 30]

A real ``goftogu serve`` (PostgreSQL + Redis) with R groups, each of one sender
and K receivers (registered users, token auth). Senders send ``message:send``
at ``--rate`` messages/s (all rooms together) the whole time. After
``--steady`` seconds every receiver disconnects; ``--down`` seconds later all
reconnect at once, each with ``auth.cursors = {group: last seq it received}``.
Reported: the time from the reconnect until every receiver has caught up (has
every seq up to the one acked when it reconnected), per-receiver catch-up and
reconnect times, and over the whole run, per user and conversation, missing,
duplicate and out-of-order ``message:new`` events (each must be zero).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from pathlib import Path
from typing import Any

from bench import gateway, harness, messaging_setup, services
from bench.harness import BENCH

GENERATOR = BENCH / "load" / "storm.mjs"


async def run(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    logs = out / "logs"
    await gateway.recreate_database(args.database_url)
    env = gateway.goftogu_env(args, redis=not args.no_redis)
    gateway.migrate(env, logs)
    server = gateway.start_gateway("storm-serve", env, logs)
    proc: asyncio.subprocess.Process | None = None
    try:
        started = time.monotonic()
        rooms = await messaging_setup.prepare(
            server.url, args.rooms, args.receivers_per_room + 1, "s"
        )
        setup_seconds = time.monotonic() - started
        config = {
            "url": server.url,
            "rooms": [
                {
                    "conversation": r["conversation"],
                    "sender": r["clients"][0],
                    "receivers": r["clients"][1:],
                }
                for r in rooms
            ],
            "rate": args.rate,
            "steadyMs": int(args.steady * 1000),
            "downMs": int(args.down * 1000),
            "afterMs": int(args.after * 1000),
            "drainMs": int(args.drain * 1000),
            "payloadBytes": args.payload_bytes,
            "out": str(out / "raw" / "storm"),
        }
        config_path = out / "raw" / "storm.json"
        config_path.write_text(json.dumps(config))
        proc = await harness.start_generator(GENERATOR, config_path, logs / "generator-storm.log")
        assert proc.stdin is not None
        assert proc.stdout is not None
        ready = json.loads(await asyncio.wait_for(proc.stdout.readline(), 300))
        if ready.get("connectErrors"):
            raise RuntimeError(f"clients could not connect: {ready}")
        sampler = harness.ProcessSampler({"server": [server.pid], "client": [proc.pid]})
        sampler.start()
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
        total = args.steady + args.down + args.after + args.drain + 120
        done = json.loads(await asyncio.wait_for(proc.stdout.readline(), total))
        await sampler.stop()
    finally:
        if proc is not None:
            await harness.stop_generator(proc, 30)
        server.stop()
    return summarise(args, out, done, sampler, setup_seconds)


def summarise(
    args: argparse.Namespace,
    out: Path,
    done: dict[str, Any],
    sampler: harness.ProcessSampler,
    setup_seconds: float,
) -> dict[str, Any]:
    marks = done["marks"]
    deliveries = harness.load_pairs(out / "raw" / "storm.deliveries.f64")
    catchup = harness.load_pairs(out / "raw" / "storm.catchup.f64")
    reconnect = harness.load_pairs(out / "raw" / "storm.reconnect.f64")
    all_caught_up = catchup[:, 1].max() - marks["reconnect"] if catchup.size else None
    return {
        "receivers": done["receivers"],
        "caught_up": int(done["caughtUp"]),
        "not_caught_up": done["notCaughtUp"],
        "all_caught_up_s": None if all_caught_up is None else round(all_caught_up / 1e6, 3),
        "all_reconnected_s": round((marks["allConnected"] - marks["reconnect"]) / 1e6, 3),
        "catch_up": harness.latency_summary(catchup[:, 1] - catchup[:, 0]),
        "reconnect": harness.latency_summary(reconnect[:, 1] - reconnect[:, 0]),
        "delivery_latency": harness.latency_summary(deliveries[:, 1] - deliveries[:, 0]),
        "missing": done["missing"],
        "duplicates": done["duplicates"],
        "out_of_order": done["outOfOrder"],
        "silent_receivers": done["silent"],
        "messages_sent": done["sent"],
        "messages_acked": done["acked"],
        "ack_errors": done["ackErrors"],
        "first_ack_error": done["firstAckError"],
        "reconnect_errors": done["connectErrors"],
        "first_connect_error": done["firstConnectError"],
        "deliveries": done["delivered"],
        "server_cpu_percent_during_storm": harness.fmt(
            sampler.cpu_percent("server", marks["reconnect"], marks["stopSending"])
        ),
        "setup_seconds": round(setup_seconds, 1),
        "_plot": {
            "label": "message:new deliveries",
            "latencies_ms": ((deliveries[:, 1] - deliveries[:, 0]) / 1000).tolist(),
            "throughput": harness.rate_series(
                deliveries[:, 1], marks["t0"], marks["drained"], 0.25
            ),
            "rate_unit": "deliveries per second (drop, then reconnect storm)",
        },
    }


COLUMNS = [
    ("receivers", "receivers"),
    ("all_reconnected_s", "all reconnected s"),
    ("all_caught_up_s", "all caught up s"),
    ("catch_up_p50", "catch-up p50 ms"),
    ("catch_up_p99", "catch-up p99 ms"),
    ("reconnect_p99", "reconnect p99 ms"),
    ("missing", "missing"),
    ("duplicates", "duplicates"),
    ("out_of_order", "out of order"),
    ("not_caught_up", "not caught up"),
    ("reconnect_errors", "reconnect errors"),
    ("ack_errors", "ack errors"),
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.storm", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--receivers-per-room", type=int, default=10)
    parser.add_argument(
        "--rate",
        type=float,
        default=30.0,
        help="messages/s, all rooms (default below the send path's ceiling, about 46/s on "
        "2 cores, so the storm measures reconnects, not a backlog of sends)",
    )
    parser.add_argument("--steady", type=float, default=3.0, help="seconds before the drop")
    parser.add_argument("--down", type=float, default=2.0, help="seconds disconnected")
    parser.add_argument(
        "--after", type=float, default=8.0, help="seconds of flow after the reconnect"
    )
    parser.add_argument(
        "--drain", type=float, default=30.0, help="seconds allowed to catch up after"
    )
    parser.add_argument("--payload-bytes", type=int, default=200)
    parser.add_argument("--no-redis", action="store_true", help="in-process presence and fan-out")
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--out", default="storm")
    return parser.parse_args(argv)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    services.fill_defaults(args)
    harness.ensure_node_modules()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 16384)), hard))
    out = harness.results_dir(args.out)
    row = await run(args, out)
    row["catch_up_p50"] = row["catch_up"]["p50_ms"]
    row["catch_up_p99"] = row["catch_up"]["p99_ms"]
    row["reconnect_p99"] = row["reconnect"]["p99_ms"]
    report = {
        "scenario": "storm",
        "machine": harness.machine(),
        "parameters": {k: v for k, v in vars(args).items() if not k.endswith("_url")},
        "result": {k: v for k, v in row.items() if k != "_plot"},
    }
    stamp = time.strftime("%Y%m%d-%H%M%S")
    harness.save_json(out / f"storm-{stamp}.json", report)
    harness.save_json(out / "storm.json", report)
    harness.plot_runs(
        out / "storm.png",
        f"Reconnect storm: {row['receivers']} receivers, {args.rate:g} messages/s",
        [row["_plot"]],
        latency_title="delivery latency, live and replayed (CDF)",
        series_title="deliveries over time (drop, then reconnect storm)",
    )
    print(harness.table([row], COLUMNS))
    verdict = (
        "PASS"
        if row["missing"] == row["duplicates"] == row["out_of_order"] == row["not_caught_up"] == 0
        else "FAIL"
    )
    print(f"\nexactly once, in order, everyone caught up: {verdict}")
    print(f"JSON: {out / 'storm.json'}  plot: {out / 'storm.png'}")
    return report


def main(argv: list[str] | None = None) -> None:
    asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    main()
