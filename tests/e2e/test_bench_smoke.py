"""Every benchmark, run for a few seconds on tiny loads: it must do its work
(chats routed, messages delivered, nothing missing), whatever the caller has
exported. Never a timing assertion: figures belong to the benchmarks.

Each command runs as a developer runs it, in a shell where ``scripts/services
env`` was exported: the ``GOFTOGU_*`` URLs of the test services are in its
environment. A benchmark must give every process it starts the settings it
chose, and only those (a gateway that also saw the exported MongoDB URL once
wrote its support chats there while the worker read PostgreSQL: 0 routed).

Databases: ``GOFTOGU_BENCH_NAMESPACE`` names them apart from the benchmarks'
own (``goftogu_bench_smoke_<pid>_*``, dropped at the end); Redis: the test
database (``GOFTOGU_TEST_REDIS_URL``, emptied first).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import IN_CI, run_blocking

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = f"goftogu_bench_smoke_{os.getpid()}"
BENCH_EXTRAS = ("numpy", "psutil", "matplotlib")

pytestmark = [pytest.mark.slow, pytest.mark.node]


def require_bench_dependencies(*, nest: bool = False) -> None:
    missing = [name for name in BENCH_EXTRAS if importlib.util.find_spec(name) is None]
    if not (ROOT / "bench" / "node_modules" / ".installed").exists():
        missing.append("bench/node_modules")
    if nest and not (ROOT / "bench" / "peers" / "nest" / "dist" / "main.js").exists():
        missing.append("bench/peers/nest (npm ci, build)")
    if missing:
        message = f"benchmark dependencies missing: {missing} (`make test` installs them)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


async def _drop_databases(server_url: str) -> None:
    import asyncpg

    url = make_url(server_url)
    connection = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, database="postgres"
    )
    try:
        names = await connection.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", f"{NAMESPACE}%"
        )
        for row in names:
            await connection.execute(f'DROP DATABASE IF EXISTS "{row[0]}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def pg_server(postgres_url: str) -> Iterator[str]:
    """The test PostgreSQL; the smoke runs' databases are dropped afterwards."""
    yield postgres_url
    run_blocking(_drop_databases(postgres_url))


def database(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def services(pg_server: str, redis_url: str, mongodb_url: str, broker_url: str) -> dict[str, str]:
    require_bench_dependencies()
    return {
        "GOFTOGU_DATABASE_URL": pg_server,
        "GOFTOGU_REDIS_URL": redis_url,
        "GOFTOGU_MONGODB_URL": mongodb_url,
        "GOFTOGU_BROKER_URL": broker_url,
    }


def run_bench(
    argv: list[str], services: dict[str, str], out: Path, timeout: float = 120
) -> dict[str, Any]:
    """Run ``python <argv>`` from the project root with the services exported, as
    ``set -a; eval "$(scripts/services env)"`` would; the JSON report it wrote."""
    env = {
        **os.environ,
        **services,  # what the caller exported: no process of the benchmark may see it
        "GOFTOGU_BENCH_NAMESPACE": NAMESPACE,
    }
    done = subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    report_name = {"bench/history.py": "history"}.get(argv[0], argv[1].removeprefix("bench."))
    logs = sorted((out / "logs").glob("*.log")) if (out / "logs").exists() else []
    tails = "\n".join(
        f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        for log in logs
    )
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}\n{tails}"
    report: dict[str, Any] = json.loads((out / f"{report_name}.json").read_text())
    return report


def urls(services: dict[str, str], scenario: str) -> list[str]:
    return [
        "--database-url",
        database(services["GOFTOGU_DATABASE_URL"], f"{NAMESPACE}_{scenario}"),
        "--redis-url",
        services["GOFTOGU_REDIS_URL"],
    ]


SHORT_FANOUT = [
    "--rooms", "4", "--clients-per-room", "3", "--window", "8", "--warmup", "0.3",
    "--measure", "1", "--drain", "20", "--idle-wait", "2",
]  # fmt: skip


def assert_every_send_delivered(row: dict[str, Any]) -> None:
    totals = row["totals"]
    assert totals["deliveries"] > 0, row
    assert (totals["missing"], totals["duplicates"], totals["gaps"]) == (0, 0, 0), row
    assert (totals["refused"], totals["ackErrors"], totals["lost"]) == (0, 0, 0), row
    assert totals["acked"] == totals["sent"] > 0, row


def test_fanout_delivers_every_message_to_every_target(
    services: dict[str, str], tmp_path: Path
) -> None:
    require_bench_dependencies(nest=True)
    out = tmp_path / "fanout"
    argv = [
        "-m", "bench.fanout", "--targets", "node,relay,goftogu,nest,ceiling",
        "--loads", "max", *SHORT_FANOUT, "--ceiling-seconds", "1",
        *urls(services, "realtime"), "--out", str(out),
    ]  # fmt: skip
    report = run_bench(argv, services, out, timeout=300)
    runs = {(r["target"], r["load"]): r for r in report["runs"]}
    assert set(runs) == {(t, "max") for t in ("node", "relay", "goftogu", "nest")}
    for row in runs.values():
        assert_every_send_delivered(row)
    methods = report["ceiling"]["methods"]
    assert [m["method"] for m in methods] == ["transaction", "cte", "group_commit"]
    for method in methods:
        assert method["messages"] > 0, method
        assert method["persisted"] == method["events"] == method["outbox"] == method["messages"]
        assert method["groups_with_gaps"] == 0, method
    ratios = {(r["target"], r["load"]): r for r in report["ratios"]}
    goftogu = ratios[("goftogu", "max")]
    assert goftogu["vs_node"] is not None
    assert goftogu["vs_nest"] is not None
    assert goftogu["vs_ceiling"] is not None


def test_fanout_runs_goftogu_with_two_processes(services: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "fanout-w2"
    argv = [
        "-m", "bench.fanout", "--targets", "goftogu-w2", "--loads", "max", *SHORT_FANOUT,
        *urls(services, "realtime"), "--broker-url", services["GOFTOGU_BROKER_URL"],
        "--out", str(out),
    ]  # fmt: skip
    report = run_bench(argv, services, out)
    [row] = report["runs"]
    assert row["target"] == "goftogu-w2"
    assert_every_send_delivered(row)


def test_support_routes_chats_on_both_stores(services: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "support"
    argv = [
        "-m", "bench.support", "--stores", "mongodb,postgres", "--rate", "4", "--seconds", "1",
        "--drain", "20", "--operators", "2", *urls(services, "support"),
        "--mongodb-url", services["GOFTOGU_MONGODB_URL"],
        "--broker-url", services["GOFTOGU_BROKER_URL"], "--out", str(out),
    ]  # fmt: skip
    report = run_bench(argv, services, out)
    rows = {r["store"]: r for r in report["runs"]}
    assert set(rows) == {"mongodb", "postgres"}
    for row in rows.values():
        assert row["created"] > 0, row
        assert row["routed"] == row["created"], row
        assert row["not_routed"] == row["duplicate_assigned"] == 0, row
        assert row["refused"] == row["http_errors"] == row["lost"] == 0, row


def test_storm_catches_every_receiver_up(services: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "storm"
    argv = [
        "-m", "bench.storm", "--rooms", "3", "--receivers-per-room", "3", "--rate", "6",
        "--steady", "1", "--down", "0.5", "--after", "1", "--drain", "20",
        *urls(services, "realtime"), "--out", str(out),
    ]  # fmt: skip
    result = run_bench(argv, services, out)["result"]
    assert result["receivers"] == 9
    assert result["messages_acked"] > 0
    assert result["deliveries"] > 0
    assert result["caught_up"] == 9, result
    assert (result["missing"], result["duplicates"], result["out_of_order"]) == (0, 0, 0)


def test_idle_holds_every_connection(services: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "idle"
    argv = [
        "-m", "bench.idle", "--targets", "goftogu", "--connections", "40",
        "--step", "40", "--warmup", "10", "--settle", "0.3", "--hold", "0.5",
        *urls(services, "realtime"), "--out", str(out),
    ]  # fmt: skip
    report = run_bench(argv, services, out)
    assert [r["target"] for r in report["runs"]] == ["goftogu"]
    for row in report["runs"]:
        assert row["connected"] == 40, row
        assert row["failed"] == row["disconnects_while_idle"] == 0, row
        assert row["rss_at_n_mib"] > 0


def test_history_reads_full_pages(services: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "history"
    argv = [
        "bench/history.py",
        "--messages",
        "300",
        "--requests",
        "20",
        "--http",
        "--out",
        str(out),
    ]
    report = run_bench(argv, services, out)
    assert len(report["runs"]) == 6  # oldest, middle, newest; service and HTTP
    assert all(r["requests"] == 20 and r["page"] == 50 for r in report["runs"])


def test_support_history_reads_whole_conversations(
    services: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "support_history"
    argv = [
        "-m", "bench.support_history", "--messages", "10", "--reads", "2",
        *urls(services, "support"), "--mongodb-url", services["GOFTOGU_MONGODB_URL"],
        "--out", str(out),
    ]  # fmt: skip
    report = run_bench(argv, services, out)
    assert len(report["runs"]) == 4
    assert all(r["count"] == 2 for r in report["runs"]), report["runs"]


# --- the NestJS peer keeps goftogu's message:send contract ------------------------


async def test_the_nest_peer_keeps_the_message_send_contract(
    pg_server: str, tmp_path: Path
) -> None:
    """What makes the comparison fair: token auth at connect, membership, seq per
    conversation, idempotent client_id, the ack, message:new to the room."""
    require_bench_dependencies(nest=True)
    import socketio
    from bench import nest_setup

    server = await nest_setup.start_peer(
        database(pg_server, f"{NAMESPACE}_nest_contract"), tmp_path
    )
    clients: list[socketio.AsyncClient] = []
    try:
        [room] = await nest_setup.prepare(server.url, 1, 2, prefix="a")
        [other] = await nest_setup.prepare(server.url, 1, 1, prefix="b")
        received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def connect(token: str) -> socketio.AsyncClient:
            client = socketio.AsyncClient(reconnection=False)
            clients.append(client)
            await client.connect(server.url, auth={"token": token}, transports=["websocket"])
            return client

        with pytest.raises(socketio.exceptions.ConnectionError):
            await connect("not-a-token")
        alice = await connect(room["clients"][0]["token"])
        bob = await connect(room["clients"][1]["token"])
        bob.on("message:new", received.put)
        conversation = room["conversation"]

        async def send(client: socketio.AsyncClient, **payload: Any) -> dict[str, Any]:
            answer: dict[str, Any] = await client.call("message:send", payload, timeout=10)
            return answer

        first = await send(alice, conversation=conversation, client_id="c1", content="hello")
        assert first["ok"], first
        assert first["data"]["message"]["seq"] == 1
        event = await asyncio.wait_for(received.get(), 10)
        assert (event["conversation"], event["seq"]) == (conversation, 1)
        assert event["message"]["content"] == "hello"
        retry = await send(alice, conversation=conversation, client_id="c1", content="hello")
        assert retry["data"]["message"]["id"] == first["data"]["message"]["id"]
        second = await send(alice, conversation=conversation, client_id="c2", content="again")
        assert second["data"]["message"]["seq"] == 2
        event = await asyncio.wait_for(received.get(), 10)  # the retry emitted nothing
        assert (event["seq"], event["message"]["content"]) == (2, "again")
        outsider = await connect(other["clients"][0]["token"])
        refused = await send(outsider, conversation=conversation, client_id="c3", content="hi")
        assert refused == {"ok": False, "error": {"code": "not_a_member", "message": ANY}}
        bad = await send(alice, conversation="group:nope", client_id="c4", content="hi")
        assert bad["error"]["code"] == "validation_error"
        assert received.empty()
    finally:
        for client in clients:
            if client.connected:
                await client.disconnect()
        server.stop()
