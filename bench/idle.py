"""Scenario 5, idle connections: memory (RSS) per idle connection at 5,000
connections, goftogu's gateway against the Node.js Socket.IO peer.

    .venv/bin/python -m bench.idle [--targets node,relay,goftogu] [--connections 5000]

Each target is warmed up first (500 connections opened and closed), then its
RSS is read at rest (the baseline), then connections are opened in steps of
``--step`` (official socket.io-client, websocket transport, one Node process),
the server's RSS read after each step has settled, and the connections held
idle for ``--hold`` seconds (CPU of the idle server measured). Per-connection
memory = (RSS at N - baseline) / N, and the slope of RSS over the steps.

Targets: ``node`` (peers/node_relay.mjs: each socket joins a room),
``relay`` (goftogu's Socket.IO server and manager alone, peers/goftogu_relay.py),
``relay-engineio`` (the same on python-engineio's transport as shipped),
``goftogu`` (a real ``goftogu serve`` on PostgreSQL + Redis: anonymous customers
from POST /auth/visitor, connected with their tokens: authenticated, in their
user room, presence recorded).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from bench import gateway, harness, services
from bench.harness import BENCH, NODE, PYTHON, Server

GENERATOR = BENCH / "load" / "idle.mjs"


def rss_mib(pid: int, seconds: float = 1.0) -> float:
    """Median RSS of ``pid`` (with children) over ``seconds``, in MiB."""
    readings = []
    deadline = time.monotonic() + seconds
    while True:
        root = psutil.Process(pid)
        readings.append(sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]))
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    return statistics.median(readings) / 2**20


async def start_target(name: str, args: argparse.Namespace, out: Path) -> tuple[Server, list[Any]]:
    logs = out / "logs"
    if name == "node":
        port = harness.free_port()
        server = harness.start_server(
            "idle-node",
            [NODE, str(BENCH / "peers" / "node_relay.mjs"), str(port)],
            port=port,
            log_dir=logs,
        )
        return server, [{"room": f"group:{uuid.uuid4()}"} for _ in range(args.connections)]
    if name in ("relay", "relay-engineio"):
        port = harness.free_port()
        stock = ["--transport", "engineio"] if name == "relay-engineio" else []
        server = harness.start_server(
            f"idle-{name}",
            [PYTHON, "-m", "bench.peers.goftogu_relay", str(port), *stock],
            port=port,
            log_dir=logs,
        )
        return server, [{"room": f"group:{uuid.uuid4()}"} for _ in range(args.connections)]
    await gateway.recreate_database(args.database_url)
    env = gateway.goftogu_env(args)
    gateway.migrate(env, logs)
    server = gateway.start_gateway("idle-goftogu", env, logs)
    started = time.monotonic()
    pairs = await gateway.visitors(server.url, args.connections)
    print(
        f"  {args.connections} visitors created in {time.monotonic() - started:.1f} s", flush=True
    )
    return server, [{"token": p["access_token"]} for p in pairs]


async def generator(
    auths: list[Any], steps: list[int], out: Path, tag: str, url: str
) -> asyncio.subprocess.Process:
    config = {
        "url": url,
        "auths": auths,
        "steps": steps,
        "connectConcurrency": 50,
        "out": str(out / "raw" / tag),
    }
    path = out / "raw" / f"{tag}.json"
    path.write_text(json.dumps(config))
    return await harness.start_generator(GENERATOR, path, out / "logs" / f"generator-{tag}.log")


async def command(
    proc: asyncio.subprocess.Process, line: str | None, expect: str, within: float = 300
) -> dict[str, Any]:
    assert proc.stdin is not None
    assert proc.stdout is not None
    if line is not None:
        proc.stdin.write(f"{line}\n".encode())
        await proc.stdin.drain()
    while True:
        raw = await asyncio.wait_for(proc.stdout.readline(), within)
        if not raw:
            raise RuntimeError("the idle generator exited")
        message: dict[str, Any] = json.loads(raw)
        if message.get("type") == expect:
            return message


async def quit_generator(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdin is not None
    proc.stdin.write(b"quit\n")
    await proc.stdin.drain()
    try:
        await asyncio.wait_for(proc.wait(), 30)
    except TimeoutError:
        proc.kill()


async def measure(name: str, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    server, auths = await start_target(name, args, out)
    try:
        # Warm-up: the code paths of connect and disconnect have run once.
        warm = await generator(
            auths[: args.warmup], [args.warmup], out, f"{name}-warmup", server.url
        )
        first = await command(warm, None, "step")
        await quit_generator(warm)
        await asyncio.sleep(args.settle + 1)
        baseline = rss_mib(server.pid, 2.0)
        steps = list(range(args.step, args.connections + 1, args.step))
        if not steps or steps[-1] != args.connections:
            steps.append(args.connections)
        proc = await generator(auths, steps, out, name, server.url)
        sampler = harness.ProcessSampler(
            {"server": [server.pid], "client": [proc.pid]}, interval=0.5
        )
        sampler.start()
        origin = harness.monotonic_us()
        points = [(0, baseline)]
        status = await command(proc, None, "step")
        for index, count in enumerate(steps):
            if index:
                status = await command(proc, "next", "step")
            await asyncio.sleep(args.settle)
            points.append((count, rss_mib(server.pid)))
        hold_start = harness.monotonic_us()
        await asyncio.sleep(args.hold)
        hold_end = harness.monotonic_us()
        final = await command(proc, "status", "status")
        at_n = rss_mib(server.pid)
        client_rss = rss_mib(proc.pid, 0.5)
        await quit_generator(proc)
        await sampler.stop()
    finally:
        server.stop()
    counts = np.array([p[0] for p in points], dtype=float)
    rss = np.array([p[1] for p in points], dtype=float)
    slope = float(np.polyfit(counts, rss, 1)[0]) if len(points) > 2 else None
    connects = harness.load_pairs(out / "raw" / f"{name}.connect.f64")
    times, series = [], []
    for sample in sampler.samples:
        times.append((sample.at_us - origin) / 1e6)
        series.append(sample.rss_bytes["server"] / 2**20)
    return {
        "target": name,
        "connections": args.connections,
        "connected": final["connected"],
        "failed": status["failed"] + first["failed"],
        "first_error": status.get("firstError"),
        "disconnects_while_idle": final["disconnects"],
        "baseline_rss_mib": round(baseline, 1),
        "rss_at_n_mib": round(at_n, 1),
        "kib_per_connection": round((at_n - baseline) * 1024 / args.connections, 1),
        "slope_kib_per_connection": None if slope is None else round(slope * 1024, 1),
        "steps": [{"connections": int(c), "rss_mib": round(r, 1)} for c, r in points],
        "idle_server_cpu_percent": harness.fmt(sampler.cpu_percent("server", hold_start, hold_end)),
        "client_rss_mib": round(client_rss, 1),
        "connect_latency": harness.latency_summary(connects[:, 1] - connects[:, 0]),
        "_plot": {
            "label": name,
            "latencies_ms": ((connects[:, 1] - connects[:, 0]) / 1000).tolist(),
            "throughput": (times, series),
            "rate_unit": "server RSS (MiB)",
            "time_unit": "seconds since the first measured connection",
        },
    }


COLUMNS = [
    ("target", "target"),
    ("connected", "connected"),
    ("baseline_rss_mib", "baseline MiB"),
    ("rss_at_n_mib", "RSS at N MiB"),
    ("kib_per_connection", "KiB/conn"),
    ("slope_kib_per_connection", "slope KiB/conn"),
    ("idle_server_cpu_percent", "idle CPU%"),
    ("connect_p50", "connect p50 ms"),
    ("connect_p99", "connect p99 ms"),
    ("failed", "failed"),
    ("disconnects_while_idle", "dropped"),
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.idle", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--targets", default="node,relay,goftogu")
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--step", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--settle", type=float, default=2.0, help="seconds after each step")
    parser.add_argument("--hold", type=float, default=10.0, help="seconds held idle at N")
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--out", default="idle")
    return parser.parse_args(argv)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    services.fill_defaults(args)
    harness.ensure_node_modules()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, min(hard, args.connections * 3 + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    out = harness.results_dir(args.out)
    report: dict[str, Any] = {
        "scenario": "idle",
        "machine": harness.machine(),
        "parameters": {k: v for k, v in vars(args).items() if not k.endswith("_url")},
    }
    rows = []
    for name in args.targets.split(","):
        row = await measure(name, args, out)
        row["connect_p50"] = row["connect_latency"]["p50_ms"]
        row["connect_p99"] = row["connect_latency"]["p99_ms"]
        rows.append(row)
        print(harness.table([row], COLUMNS).splitlines()[-1], flush=True)
    report["runs"] = [{k: v for k, v in r.items() if k != "_plot"} for r in rows]
    node = next((r for r in rows if r["target"] == "node"), None)
    if node:
        report["ratios_to_node"] = {
            r["target"]: round(r["kib_per_connection"] / node["kib_per_connection"], 2)
            for r in rows
            if r["target"] != "node" and node["kib_per_connection"]
        }
    stamp = time.strftime("%Y%m%d-%H%M%S")
    harness.save_json(out / f"idle-{stamp}.json", report)
    harness.save_json(out / "idle.json", report)
    harness.plot_runs(
        out / "idle.png",
        f"Idle connections: {args.connections}",
        [r["_plot"] for r in rows],
        latency_title="connect latency (CDF)",
        series_title="server RSS while connecting, then idle",
    )
    print()
    print(harness.table(rows, COLUMNS))
    if report.get("ratios_to_node"):
        print(
            "\nmemory per connection vs Node: "
            + ", ".join(f"{k} {v}x" for k, v in report["ratios_to_node"].items())
        )
    print(f"\nJSON: {out / 'idle.json'}  plot: {out / 'idle.png'}")
    return report


def main(argv: list[str] | None = None) -> None:
    asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    main()
