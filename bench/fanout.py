"""Scenario 1, room fan-out: R rooms x K clients, ~200-byte messages, at fixed
offered rates and at saturation, against the Node.js Socket.IO peer, the NestJS
peer, the database ceiling and goftogu.

    .venv/bin/python -m bench.fanout
        [--targets node,relay,relay-redis,goftogu,goftogu-w2,nest,ceiling]
        [--loads 5000,20000,max] [--generators 1]

Targets (the same generator and scenario for each, in one run):
  node         the plain Node.js Socket.IO server of peers/node_relay.mjs
  relay        goftogu as a pure relay (peers/goftogu_relay.py): its own Socket.IO
               server and OrderedDelivery manager, no storage: the transport's ceiling
  relay-redis  the same with the Redis manager (OrderedRedisManager), as a gateway
               that has GOFTOGU_REDIS_URL set runs it
  relay-engineio  the relay on python-engineio's transport and python-socketio's
               JSON as shipped (GOFTOGU_SOCKET_TRANSPORT=engineio): the before
  goftogu      a real `goftogu serve` on PostgreSQL + Redis: registered users, R
               groups of K members, clients connected with their access tokens,
               `message:send` with acks, receivers get `message:new` (authorised,
               stored, seq assigned, fanned out)
  goftogu-local  the same without Redis (in-process presence and fan-out: one node)
  goftogu-w2   `goftogu serve --workers 2` (PostgreSQL + Redis + RabbitMQ, and a
               `goftogu notifier` for the notify jobs the one process runs itself);
               goftogu-wN for N processes
  nest         the document's own stack (peers/nest: NestJS + Socket.IO + TypeORM
               on PostgreSQL, a database of its own): the same `message:send`
               contract, users, groups and tokens, written as its authors would
  ceiling      not a server: the database's ceiling for the same statements
               (bench/ceiling.py: three ways, asyncpg, no framework), measured
               once per run; the ratio table divides by it

A load is an offered rate in deliveries/s (open loop: messages are sent on a
clock whether or not the server keeps up) or `max` (closed loop: `--window`
messages in flight, each sent when the previous one was acked and delivered to
every member). Every message goes to its whole room, the sender included, so a
message is K deliveries. Latency is receive time minus the send time the sender
wrote into the message (one clock: CLOCK_MONOTONIC of the machine).

Sends are counted as acked, refused (an error ack with the code `overloaded`),
errors (any other error ack) and lost (neither acked nor answered by the end of
the drain). After the table, per goftogu target and load: deliveries/s over
Node's and over the NestJS peer's at the same load, and persisted messages/s
over each way of the database ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench import ceiling, harness
from bench.harness import BENCH, NODE, PYTHON, Server

GENERATOR = BENCH / "load" / "fanout.mjs"
SATURATED_CPU = 90.0  # % of one core: a process this busy limits what it can drive


@dataclass
class Target:
    name: str
    label: str
    event: str  # the client event that sends
    echo: bool  # the sender receives its own message
    server: Server
    rooms: list[dict[str, Any]]  # [{conversation, clients: [auth, ...]}]
    notes: list[str] = field(default_factory=list)
    cleanup: Callable[[], None] | None = None
    helpers: list[Server] = field(default_factory=list)  # counted with the server (CPU, RSS)

    def stop(self) -> None:
        self.server.stop()
        for helper in self.helpers:
            helper.stop()
        if self.cleanup is not None:
            self.cleanup()


def relay_rooms(rooms: int, clients_per_room: int) -> list[dict[str, Any]]:
    conversations = [f"group:{uuid.uuid4()}" for _ in range(rooms)]
    return [
        {"conversation": c, "clients": [{"room": c} for _ in range(clients_per_room)]}
        for c in conversations
    ]


def start_node(args: argparse.Namespace, logs: Path) -> Target:
    port = harness.free_port()
    server = harness.start_server(
        "node-peer",
        [NODE, str(BENCH / "peers" / "node_relay.mjs"), str(port)],
        port=port,
        log_dir=logs,
    )
    return Target(
        "node",
        "Node.js Socket.IO peer",
        "relay",
        True,
        server,
        relay_rooms(args.rooms, args.clients_per_room),
    )


def start_relay(
    args: argparse.Namespace, logs: Path, *, redis: bool = False, stock: bool = False
) -> Target:
    port = harness.free_port()
    argv = [PYTHON, "-m", "bench.peers.goftogu_relay", str(port)]
    if redis:
        argv += ["--redis-url", args.redis_url]
    if stock:
        argv += ["--transport", "engineio"]
    name = ("relay-redis" if redis else "relay") + ("-engineio" if stock else "")
    server = harness.start_server(f"goftogu-{name}", argv, port=port, log_dir=logs)
    label = "goftogu relay, Redis manager" if redis else "goftogu relay, in-process manager"
    if stock:
        label += ", python-engineio's transport as shipped"
    return Target(
        name, label, "relay", True, server, relay_rooms(args.rooms, args.clients_per_room)
    )


async def start_goftogu(
    args: argparse.Namespace, logs: Path, *, redis: bool = True, workers: int = 1
) -> Target:
    from bench import messaging_setup

    return await messaging_setup.start_target(args, logs, redis=redis, workers=workers)


async def start_nest(args: argparse.Namespace, logs: Path) -> Target:
    from bench import nest_setup

    return await nest_setup.start_target(args, logs)


STARTERS: dict[str, Callable[[argparse.Namespace, Path], Target | Awaitable[Target]]] = {
    "node": start_node,
    "relay": start_relay,
    "relay-redis": lambda args, logs: start_relay(args, logs, redis=True),
    "relay-engineio": lambda args, logs: start_relay(args, logs, stock=True),
    "goftogu": start_goftogu,
    "goftogu-local": lambda args, logs: start_goftogu(args, logs, redis=False),
    "nest": start_nest,
}
BASELINES = ("node", "nest")  # targets the others are compared with


def starter(name: str) -> Callable[[argparse.Namespace, Path], Target | Awaitable[Target]]:
    """The starter of a target name; ``goftogu-wN``: ``goftogu serve --workers N``."""
    if name in STARTERS:
        return STARTERS[name]
    if name.startswith("goftogu-w") and name.removeprefix("goftogu-w").isdigit():
        workers = int(name.removeprefix("goftogu-w"))
        return lambda args, logs: start_goftogu(args, logs, workers=workers)
    known = ", ".join([*STARTERS, "goftogu-wN", "ceiling"])
    raise SystemExit(f"unknown target {name!r}: one of {known}")


# --- one run ------------------------------------------------------------------------


async def _line_of(proc: asyncio.subprocess.Process, kind: str, within: float) -> dict[str, Any]:
    assert proc.stdout is not None
    deadline = time.monotonic() + within
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no {kind!r} line from the generator within {within} s")
        line = await asyncio.wait_for(proc.stdout.readline(), remaining)
        if not line:
            raise RuntimeError(f"the generator exited before its {kind!r} line")
        message: dict[str, Any] = json.loads(line)
        if message.get("type") == kind:
            return message


async def run_load(
    target: Target, load: str, args: argparse.Namespace, out: Path, tag: str = ""
) -> dict[str, Any]:
    """One load against one target: connect, send for warm-up + measure, drain."""
    per_message = args.clients_per_room if target.echo else args.clients_per_room - 1
    generators = args.generators
    parts = [target.rooms[i::generators] for i in range(generators)]
    procs: list[asyncio.subprocess.Process] = []
    run_id = f"{target.name}-{load}{tag}"
    for index, rooms in enumerate(parts):
        config = {
            "url": target.server.url,
            "event": target.event,
            "echo": target.echo,
            "rooms": rooms,
            "worker": index,
            "mode": "window" if load == "max" else "rate",
            "rate": 0 if load == "max" else int(load) / per_message / generators,
            "window": max(1, args.window // generators),
            "payloadBytes": args.payload_bytes,
            "maxOutstanding": args.max_outstanding // generators,
            "connectConcurrency": 50,
            "out": str(out / "raw" / f"{run_id}-g{index}"),
        }
        config_path = out / "raw" / f"{run_id}-g{index}.json"
        config_path.write_text(json.dumps(config))
        log_path = out / "logs" / f"generator-{run_id}-g{index}.log"
        procs.append(await harness.start_generator(GENERATOR, config_path, log_path))
    try:
        ready = [await _line_of(p, "ready", 120) for p in procs]
        connect_errors = sum(r["connectErrors"] for r in ready)
        if connect_errors:
            raise RuntimeError(f"{connect_errors} clients could not connect: {ready}")
        sampler = harness.ProcessSampler(
            {
                "server": [target.server.pid, *(h.pid for h in target.helpers)],
                "clients": [p.pid for p in procs],
            }
        )
        for i, p in enumerate(procs):
            sampler.groups[f"client{i}"] = [p.pid]
        sampler.start()
        await asyncio.sleep(1.0)
        send_ms = int((args.warmup + args.measure) * 1000)
        start_us = harness.monotonic_us() + 300_000
        for p in procs:
            assert p.stdin is not None
            p.stdin.write(f"go {start_us} {send_ms} {int(args.drain * 1000)}\n".encode())
            await p.stdin.drain()
        profile = None
        if args.profile_this_run:
            profile = asyncio.create_task(profile_server(target, args, out, run_id, start_us))
        done = [await _line_of(p, "done", send_ms / 1000 + args.drain + 60) for p in procs]
        await sampler.stop()
        if profile is not None:
            await profile
    finally:
        for p in procs:
            await harness.stop_generator(p)
    return summarise(target, load, args, out, run_id, start_us, done, sampler, per_message)


def summarise(
    target: Target,
    load: str,
    args: argparse.Namespace,
    out: Path,
    run_id: str,
    start_us: int,
    done: list[dict[str, Any]],
    sampler: harness.ProcessSampler,
    per_message: int,
) -> dict[str, Any]:
    generators = len(done)
    pairs = np.concatenate(
        [
            harness.load_pairs(out / "raw" / f"{run_id}-g{i}.deliveries.f64")
            for i in range(generators)
        ]
    )
    acks = np.concatenate(
        [harness.load_pairs(out / "raw" / f"{run_id}-g{i}.acks.f64") for i in range(generators)]
    )
    window_start = start_us + int(args.warmup * 1e6)
    window_end = start_us + int((args.warmup + args.measure) * 1e6)
    sent_in_window = (pairs[:, 0] >= window_start) & (pairs[:, 0] < window_end)
    received_in_window = (pairs[:, 1] >= window_start) & (pairs[:, 1] < window_end)
    latencies = pairs[sent_in_window, 1] - pairs[sent_in_window, 0]
    ack_in_window = (acks[:, 0] >= window_start) & (acks[:, 0] < window_end)
    totals: dict[str, Any] = {
        key: sum(d[key] for d in done)
        for key in (
            "sent",
            "acked",
            "refused",
            "ackErrors",
            "ackTimeouts",
            "unacked",
            "deliveries",
            "duplicates",
            "gaps",
            "missing",
            "skipped",
            "foreign",
            "disconnects",
        )
    }
    # Lost: sent, and neither acked nor answered by the end (an ack timeout, or
    # still waiting when the drain ended).
    totals["lost"] = totals["ackTimeouts"] + totals["unacked"]
    codes: dict[str, int] = {}
    for d in done:
        for code, count in d["ackErrorCodes"].items():
            codes[code] = codes.get(code, 0) + count
    totals["error_codes"] = codes
    client_cpu = [
        sampler.cpu_percent(f"client{i}", window_start, window_end) for i in range(generators)
    ]
    server_cpu = sampler.cpu_percent("server", window_start, window_end)
    generator_bound = any(c is not None and c >= SATURATED_CPU for c in client_cpu)
    server_bound = server_cpu is not None and server_cpu >= SATURATED_CPU
    row: dict[str, Any] = {
        "target": target.name,
        "label": target.label,
        "event": target.event,
        "load": load,
        "offered_deliveries_per_s": None if load == "max" else int(load),
        "deliveries_per_s": round(int(received_in_window.sum()) / args.measure, 1),
        "messages_per_s": round(float(ack_in_window.sum()) / args.measure, 1),
        "latency": harness.latency_summary(latencies),
        "ack_latency": harness.latency_summary(acks[ack_in_window, 1] - acks[ack_in_window, 0]),
        "server_cpu_percent": None if server_cpu is None else round(server_cpu, 1),
        "client_cpu_percent": [None if c is None else round(c, 1) for c in client_cpu],
        "generator_processes": generators,
        "generator_bound": generator_bound,
        "server_bound": server_bound,
        "deliveries_per_message": per_message,
        "totals": totals,
        "first_ack_error": next((d["firstAckError"] for d in done if d.get("firstAckError")), None),
        "peak_server_rss_mib": round(
            max(s.rss_bytes["server"] for s in sampler.samples) / 2**20, 1
        ),
    }
    row["_plot"] = {
        "label": f"{target.name} @ {load}",
        "latencies_ms": (latencies / 1000).tolist(),
        "throughput": harness.rate_series(
            pairs[:, 1], start_us, window_end + int(args.drain * 1e6), bin_seconds=0.5
        ),
        "rate_unit": "deliveries per second",
    }
    return row


# --- profiling ------------------------------------------------------------------------


async def profile_server(
    target: Target, args: argparse.Namespace, out: Path, run_id: str, start_us: int
) -> None:
    """py-spy record of the server during the measured window (collapsed stacks,
    which speedscope or flamegraph.pl draw) and a summary of where the time goes."""
    await asyncio.sleep(max(0.0, (start_us - harness.monotonic_us()) / 1e6 + args.warmup))
    from bench import profile

    raw = out / f"profile-{run_id}.collapsed.txt"
    await profile.record(target.server.pid, raw, seconds=max(1, int(args.measure)))
    if raw.exists():
        summary = profile.summarise(raw)
        (out / f"profile-{run_id}.summary.txt").write_text(summary)
        print(f"\npy-spy profile of {target.name} at max load ({raw}):\n{summary}")


# --- the command ------------------------------------------------------------------------


COLUMNS = [
    ("target", "target"),
    ("load", "load"),
    ("deliveries_per_s", "deliveries/s"),
    ("messages_per_s", "msgs/s"),
    ("p50", "p50 ms"),
    ("p99", "p99 ms"),
    ("p999", "p99.9 ms"),
    ("server_cpu", "server CPU%"),
    ("client_cpu", "client CPU%"),
    ("loss", "missing/dup/gap"),
    ("refused", "refused"),
    ("errors", "errors"),
    ("lost", "lost"),
    ("bound", "limited by"),
]


def printable(row: dict[str, Any]) -> dict[str, Any]:
    totals = row["totals"]
    bound = "generator" if row["generator_bound"] else "server" if row["server_bound"] else ""
    if not bound and row["load"] == "max":
        bound = "neither: window/busy machine"
    return {
        **row,
        "p50": row["latency"]["p50_ms"],
        "p99": row["latency"]["p99_ms"],
        "p999": row["latency"]["p999_ms"],
        "server_cpu": row["server_cpu_percent"],
        "client_cpu": "+".join(harness.fmt(c, 0) for c in row["client_cpu_percent"]),
        "loss": f"{totals['missing']}/{totals['duplicates']}/{totals['gaps']}",
        "refused": totals["refused"],
        "errors": totals["ackErrors"],
        "lost": totals["lost"],
        "bound": bound,
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def ratios(
    rows: list[dict[str, Any]], ceiling: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Every target but the baselines, per load: deliveries/s over Node's and over
    the NestJS peer's at the same load, p50/p99 over Node's, and persisted
    messages/s over each way of the database ceiling."""
    base = {(r["target"], r["load"]): r for r in rows if r["target"] in BASELINES}
    ways = {m["method"]: m["messages_per_s"] for m in (ceiling or {}).get("methods", [])}
    result = []
    for row in rows:
        if row["target"] in BASELINES and row["target"] != "nest":
            continue
        node = base.get(("node", row["load"]))
        nest = base.get(("nest", row["load"])) if row["target"] != "nest" else None
        entry: dict[str, Any] = {
            "target": row["target"],
            "load": row["load"],
            "messages_per_s": row["messages_per_s"],
            "vs_node": _ratio(row["deliveries_per_s"], node and node["deliveries_per_s"]),
            "p50_vs_node": _ratio(row["latency"]["p50_ms"], node and node["latency"]["p50_ms"]),
            "p99_vs_node": _ratio(row["latency"]["p99_ms"], node and node["latency"]["p99_ms"]),
            "vs_nest": _ratio(row["deliveries_per_s"], nest and nest["deliveries_per_s"]),
        }
        persisted = row["event"] == "message:send"
        for method in ("transaction", "cte", "group_commit"):
            entry[f"vs_{method}"] = (
                _ratio(row["messages_per_s"], ways.get(method)) if persisted else None
            )
        entry["vs_ceiling"] = (
            _ratio(row["messages_per_s"], max(ways.values())) if persisted and ways else None
        )
        if any(entry[k] is not None for k in ("vs_node", "vs_nest", "vs_ceiling")):
            result.append(entry)
    return result


def printable_ratios(entry: dict[str, Any]) -> dict[str, Any]:
    """Ratios with three significant digits (0.0123, 1.05, 135)."""
    return {
        k: f"{v:.3g}" if isinstance(v, float) and k.startswith(("vs_", "p")) else v
        for k, v in entry.items()
    }


RATIO_COLUMNS = [
    ("target", "target"),
    ("load", "load"),
    ("messages_per_s", "msgs/s"),
    ("vs_node", "deliveries vs Node"),
    ("p99_vs_node", "p99 vs Node"),
    ("vs_nest", "deliveries vs NestJS"),
    ("vs_transaction", "vs ceiling: tx"),
    ("vs_cte", "vs ceiling: CTE"),
    ("vs_group_commit", "vs ceiling: group commit"),
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 2)[2],
    )
    parser.add_argument(
        "--targets", default="node,relay,relay-redis,goftogu,goftogu-w2,nest,ceiling"
    )
    parser.add_argument(
        "--loads", default="5000,20000,max", help="offered deliveries/s, or max (closed loop)"
    )
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--clients-per-room", type=int, default=10)
    parser.add_argument("--payload-bytes", type=int, default=200)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds, not measured")
    parser.add_argument("--measure", type=float, default=10.0, help="seconds measured")
    parser.add_argument("--drain", type=float, default=5.0, help="seconds to wait for stragglers")
    parser.add_argument("--generators", type=int, default=1, help="Node generator processes")
    parser.add_argument("--window", type=int, default=200, help="messages in flight at max")
    parser.add_argument(
        "--max-outstanding",
        type=int,
        default=20_000,
        help="open loop: messages in flight before due ones are skipped",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after the measured runs, one more max run of each goftogu "
        "target with py-spy attached (not in the table)",
    )
    parser.add_argument(
        "--idle-wait",
        type=float,
        default=30.0,
        help="seconds at most to wait before each load for the server to be idle",
    )
    parser.add_argument(
        "--redis-url", default=None, help="default: db 5 of the Redis of scripts/services"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: database goftogu_bench_realtime of the PostgreSQL of scripts/services",
    )
    parser.add_argument(
        "--broker-url", default=None, help="goftogu-wN: default, the RabbitMQ of scripts/services"
    )
    ceiling.add_arguments(parser)
    parser.add_argument("--out", default="fanout")
    args = parser.parse_args(argv)
    args.profile_this_run = False
    return args


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    from bench import services

    services.fill_defaults(args)
    harness.ensure_node_modules()
    out = harness.results_dir(args.out)
    report: dict[str, Any] = {
        "scenario": "fanout",
        "machine": harness.machine(),
        "parameters": {
            k: v for k, v in vars(args).items() if k not in ("database_url", "redis_url")
        },
        "runs": [],
    }
    rows: list[dict[str, Any]] = []
    names = args.targets.split(",")
    for name in names:
        if name != "ceiling":
            starter(name)  # an unknown name fails before anything starts
    for name in names:
        if name == "ceiling":
            print("database ceiling of the send path (bench/ceiling.py):", flush=True)
            report["ceiling"] = await ceiling.measure(args, out)
            continue
        started = starter(name)(args, out / "logs")
        target = await started if inspect.isawaitable(started) else started
        report.setdefault("notes", {})[name] = target.notes
        try:
            for load in args.loads.split(","):
                harness.cpu_idle_wait(target.server.pid, timeout=args.idle_wait)
                row = await run_load(target, load, args, out)
                rows.append(row)
                print(harness.table([printable(row)], COLUMNS).splitlines()[-1], flush=True)
            if args.profile and name != "node":
                harness.cpu_idle_wait(target.server.pid, timeout=args.idle_wait)
                args.profile_this_run = True
                try:
                    await run_load(target, "max", args, out, tag="-profiled")
                finally:
                    args.profile_this_run = False
        finally:
            target.stop()
    report["runs"] = [{k: v for k, v in r.items() if k != "_plot"} for r in rows]
    report["ratios"] = ratios(rows, report.get("ceiling"))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    harness.save_json(out / f"fanout-{stamp}.json", report)
    harness.save_json(out / "fanout.json", report)
    harness.plot_runs(
        out / "fanout.png",
        f"Room fan-out: {args.rooms} rooms x {args.clients_per_room} clients, "
        f"{args.payload_bytes}-byte messages",
        [r["_plot"] for r in rows],
    )
    print()
    print(harness.table([printable(r) for r in rows], COLUMNS))
    if "ceiling" in report:
        print()
        print(
            harness.table(
                [ceiling.printable(m) for m in report["ceiling"]["methods"]], ceiling.COLUMNS
            )
        )
    if report["ratios"]:
        print()
        print(harness.table([printable_ratios(r) for r in report["ratios"]], RATIO_COLUMNS))
    print(f"\nJSON: {out / 'fanout.json'}  plot: {out / 'fanout.png'}")
    return report


def main(argv: list[str] | None = None) -> None:
    asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    main()
