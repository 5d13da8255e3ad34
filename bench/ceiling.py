"""The database's ceiling for goftogu's send path: the same statements, with
no framework, no transport and no Python domain code in between.

    .venv/bin/python -m bench.ceiling [--seconds 10] [--groups 100] [--members 10]

(also ``bench.fanout --targets ...,ceiling``, which prints goftogu / ceiling).

The schema is goftogu's own: a database of its own (``<namespace>_ceiling``)
migrated with ``goftogu migrate``, seeded with ``--groups`` groups of
``--members`` users (owner + members). A send is what ``message:send`` writes
for a group message, with its constraints and indexes:

1. the seq bump: ``UPDATE groups SET last_seq = last_seq + 1, ... RETURNING``
   (the row lock that keeps seqs gap-free per conversation),
2. the membership check (an active row in ``group_members``),
3. the message row (``messages``: unique (sender, client_id), (group, seq)),
4. the event row for replay (``conversation_events``, jsonb payload),
5. the notify job (``outbox``, unique message id),

with a ``--payload-bytes`` body, sent by a random member of a random group.
Three ways, each for ``--seconds`` after one second of warm-up, closed loop:

``transaction``   one transaction of the five statements per message, on
                  ``--connections`` (20) connections, one send in flight each;
``cte``           the five as one statement (data-modifying CTEs), one round
                  trip per message, on the same connections;
``group_commit``  concurrent sends (``--in-flight``, 128) queue up; each of
                  ``--committers`` (2) connections takes up to ``--batch`` (64)
                  at a time and writes them in one transaction: the groups'
                  rows locked in id order, then one statement over ``unnest``
                  arrays (seqs numbered per group in the batch).

Reported per way: persisted messages/s (acknowledged sends in the measured
window), send latency, and a check that every acknowledged send is stored and
every group's seqs are gap-free.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np

from bench import gateway, harness, services

METHODS = ("transaction", "cte", "group_commit")
QUEUE = "notify"

BUMP = """
UPDATE groups SET last_seq = last_seq + 1, message_count = message_count + 1,
                  last_activity_at = now()
WHERE id = $1 RETURNING last_seq, message_count
"""
MEMBER = "SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2 AND left_at IS NULL"
INSERT_MESSAGE = """
INSERT INTO messages (id, group_id, sender_id, client_id, seq, ordinal, message_type, content,
                      created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, 'text', $7, now(), now())
"""
# The event's payload is what goftogu stores for message:new (the message as
# clients see it), built by the database from the row's values.
INSERT_EVENT = """
INSERT INTO conversation_events (id, conversation, seq, type, payload, message_id,
                                 created_at, updated_at)
VALUES ($1, 'group:' || $2::uuid::text, $3, 'message:new',
        jsonb_build_object('conversation', 'group:' || $2::uuid::text, 'seq', $3::bigint,
          'message', jsonb_build_object('id', $4::uuid, 'conversation', 'group:' || $2::uuid::text,
            'sender_id', $5::uuid, 'client_id', $6::text, 'seq', $3::bigint,
            'message_type', 'text', 'content', $7::text, 'created_at', now())),
        $4, now(), now())
"""
INSERT_OUTBOX = """
INSERT INTO outbox (id, queue, message_id, payload, available_at, attempts, created_at, updated_at)
VALUES ($1, 'notify', $2::text,
        json_build_object('type', 'messaging.message_created',
          'conversation', 'group:' || $3::uuid::text, 'message_id', $2::text, 'sender_id', $4::uuid,
          'message_type', 'text', 'preview', $5::text, 'created_at', now()),
        now(), 0, now(), now())
ON CONFLICT (message_id) DO NOTHING
"""

# The five as one statement: every data-modifying CTE runs, in one snapshot; the
# membership check gates the seq bump, and so everything after it.
ONE_STATEMENT = """
WITH bumped AS (
  UPDATE groups SET last_seq = last_seq + 1, message_count = message_count + 1,
                    last_activity_at = now()
  WHERE id = $1 AND EXISTS (
    SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2 AND left_at IS NULL)
  RETURNING last_seq, message_count
), message AS (
  INSERT INTO messages (id, group_id, sender_id, client_id, seq, ordinal, message_type, content,
                        created_at, updated_at)
  SELECT $3, $1, $2, $4, last_seq, message_count, 'text', $5, now(), now() FROM bumped
  RETURNING id, seq, created_at
), event AS (
  INSERT INTO conversation_events (id, conversation, seq, type, payload, message_id,
                                   created_at, updated_at)
  SELECT $6, 'group:' || $1::uuid::text, m.seq, 'message:new',
         jsonb_build_object('conversation', 'group:' || $1::uuid::text, 'seq', m.seq,
           'message', jsonb_build_object('id', m.id, 'conversation', 'group:' || $1::uuid::text,
             'sender_id', $2::uuid, 'client_id', $4::text, 'seq', m.seq,
             'message_type', 'text', 'content', $5::text, 'created_at', m.created_at)),
         m.id, now(), now()
  FROM message m
), outbox AS (
  INSERT INTO outbox (id, queue, message_id, payload, available_at, attempts,
                      created_at, updated_at)
  SELECT $7, 'notify', m.id::text,
         json_build_object('type', 'messaging.message_created',
           'conversation', 'group:' || $1::uuid::text, 'message_id', m.id, 'sender_id', $2::uuid,
           'message_type', 'text', 'preview', $5::text, 'created_at', m.created_at),
         now(), 0, now(), now()
  FROM message m
  ON CONFLICT (message_id) DO NOTHING
)
SELECT seq FROM message
"""

LOCK_GROUPS = "SELECT id FROM groups WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE"
# A batch of sends: seqs are numbered per group in the order of the batch.
BATCH = """
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[],
                       $6::uuid[], $7::uuid[]) WITH ORDINALITY
    AS t(group_id, sender_id, message_id, client_id, content, event_id, outbox_id, n)
), allowed AS (
  SELECT i.* FROM input i
  WHERE EXISTS (SELECT 1 FROM group_members m
                WHERE m.group_id = i.group_id AND m.user_id = i.sender_id AND m.left_at IS NULL)
), counts AS (
  SELECT group_id, count(*) AS k FROM allowed GROUP BY group_id
), bumped AS (
  UPDATE groups g SET last_seq = g.last_seq + c.k, message_count = g.message_count + c.k,
                      last_activity_at = now()
  FROM counts c WHERE g.id = c.group_id
  RETURNING g.id, g.last_seq, g.message_count, c.k
), numbered AS (
  SELECT a.*,
         b.last_seq - b.k + row_number() OVER (PARTITION BY a.group_id ORDER BY a.n) AS seq,
         b.message_count - b.k + row_number() OVER (PARTITION BY a.group_id ORDER BY a.n)
           AS ordinal
  FROM allowed a JOIN bumped b ON b.id = a.group_id
), message AS (
  INSERT INTO messages (id, group_id, sender_id, client_id, seq, ordinal, message_type, content,
                        created_at, updated_at)
  SELECT message_id, group_id, sender_id, client_id, seq, ordinal, 'text', content, now(), now()
  FROM numbered
), event AS (
  INSERT INTO conversation_events (id, conversation, seq, type, payload, message_id,
                                   created_at, updated_at)
  SELECT event_id, 'group:' || group_id::text, seq, 'message:new',
         jsonb_build_object('conversation', 'group:' || group_id::text, 'seq', seq,
           'message', jsonb_build_object('id', message_id,
             'conversation', 'group:' || group_id::text, 'sender_id', sender_id,
             'client_id', client_id, 'seq', seq,
             'message_type', 'text', 'content', content, 'created_at', now())),
         message_id, now(), now()
  FROM numbered
), outbox AS (
  INSERT INTO outbox (id, queue, message_id, payload, available_at, attempts,
                      created_at, updated_at)
  SELECT outbox_id, 'notify', message_id::text,
         json_build_object('type', 'messaging.message_created',
           'conversation', 'group:' || group_id::text, 'message_id', message_id,
           'sender_id', sender_id, 'message_type', 'text', 'preview', content,
           'created_at', now()),
         now(), 0, now(), now()
  FROM numbered
  ON CONFLICT (message_id) DO NOTHING
)
SELECT n, seq FROM numbered
"""


@dataclass(frozen=True)
class Send:
    group_id: uuid.UUID
    sender_id: uuid.UUID
    client_id: str
    content: str


class Senders:
    """Sends of random members of random groups, with ``payload_bytes`` bodies."""

    def __init__(self, groups: list[tuple[uuid.UUID, list[uuid.UUID]]], payload_bytes: int):
        self._groups = groups
        self._body = "x" * max(1, payload_bytes)
        self._random = random.Random(4)

    def next(self) -> Send:
        group_id, members = self._random.choice(self._groups)
        return Send(group_id, self._random.choice(members), uuid.uuid4().hex, self._body)


# --- set-up ---------------------------------------------------------------------------


def _dsn(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://")


async def prepare(
    database_url: str, groups: int, members: int, logs: Path
) -> list[tuple[uuid.UUID, list[uuid.UUID]]]:
    """A fresh database migrated by goftogu itself, with ``groups`` x ``members``."""
    await gateway.recreate_database(database_url)
    harness.run_command(
        gateway.goftogu_argv("migrate"),
        {"GOFTOGU_DATABASE_URL": database_url},
        logs / "ceiling-migrate.log",
    )
    connection = await asyncpg.connect(_dsn(database_url))
    try:
        layout = [(uuid.uuid4(), [uuid.uuid4() for _ in range(members)]) for _ in range(groups)]
        users = [
            (user_id, f"c{g:03d}m{m:02d}")
            for g, (_, people) in enumerate(layout)
            for m, user_id in enumerate(people)
        ]
        async with connection.transaction():
            await connection.executemany(
                "INSERT INTO users (id, username, username_key, role, is_visitor, status,"
                " password_hash) VALUES ($1, $2, $2, 'customer', false, 'offline', 'unused')",
                users,
            )
            await connection.executemany(
                "INSERT INTO groups (id, owner_id, title) VALUES ($1, $2, 'ceiling')",
                [(group_id, people[0]) for group_id, people in layout],
            )
            await connection.executemany(
                "INSERT INTO group_members (id, group_id, user_id, role) VALUES ($1, $2, $3, $4)",
                [
                    (uuid.uuid4(), group_id, user_id, "owner" if i == 0 else "member")
                    for group_id, people in layout
                    for i, user_id in enumerate(people)
                ],
            )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return layout


# --- the three ways ------------------------------------------------------------------


async def send_transaction(connection: asyncpg.Connection, send: Send) -> int:
    async with connection.transaction():
        seq, ordinal = await connection.fetchrow(BUMP, send.group_id)
        if await connection.fetchval(MEMBER, send.group_id, send.sender_id) is None:
            raise RuntimeError("not a member")
        message_id = uuid.uuid4()
        await connection.execute(
            INSERT_MESSAGE,
            message_id,
            send.group_id,
            send.sender_id,
            send.client_id,
            seq,
            ordinal,
            send.content,
        )
        await connection.execute(
            INSERT_EVENT,
            uuid.uuid4(),
            send.group_id,
            seq,
            message_id,
            send.sender_id,
            send.client_id,
            send.content,
        )
        await connection.execute(
            INSERT_OUTBOX,
            uuid.uuid4(),
            str(message_id),
            send.group_id,
            send.sender_id,
            send.content,
        )
    seq_value: int = seq
    return seq_value


async def send_cte(connection: asyncpg.Connection, send: Send) -> int:
    seq = await connection.fetchval(
        ONE_STATEMENT,
        send.group_id,
        send.sender_id,
        uuid.uuid4(),
        send.client_id,
        send.content,
        uuid.uuid4(),
        uuid.uuid4(),
    )
    if seq is None:
        raise RuntimeError("not a member")
    seq_value: int = seq
    return seq_value


class GroupCommit:
    """Sends queue up; each committer writes up to ``batch`` of them in one
    transaction and answers each send with its seq."""

    def __init__(self, connections: list[asyncpg.Connection], batch: int) -> None:
        self._connections = connections
        self._batch = batch
        self._queue: asyncio.Queue[tuple[Send, asyncio.Future[int]]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self.batches: list[int] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._commit(c)) for c in self._connections]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def send(self, send: Send) -> int:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        await self._queue.put((send, future))
        return await future

    async def _commit(self, connection: asyncpg.Connection) -> None:
        while True:
            waiting = [await self._queue.get()]
            while len(waiting) < self._batch and not self._queue.empty():
                waiting.append(self._queue.get_nowait())
            sends = [send for send, _ in waiting]
            try:
                async with connection.transaction():
                    await connection.execute(LOCK_GROUPS, sorted({s.group_id for s in sends}))
                    rows = await connection.fetch(
                        BATCH,
                        [s.group_id for s in sends],
                        [s.sender_id for s in sends],
                        [uuid.uuid4() for _ in sends],
                        [s.client_id for s in sends],
                        [s.content for s in sends],
                        [uuid.uuid4() for _ in sends],
                        [uuid.uuid4() for _ in sends],
                    )
            except Exception as error:  # every send of the batch fails with it
                for _, future in waiting:
                    if not future.done():
                        future.set_exception(error)
                continue
            self.batches.append(len(sends))
            seqs = {int(row["n"]): int(row["seq"]) for row in rows}
            for index, (_, future) in enumerate(waiting, start=1):
                if future.done():
                    continue
                if index in seqs:
                    future.set_result(seqs[index])
                else:
                    future.set_exception(RuntimeError("not a member"))


# --- measuring ------------------------------------------------------------------------


async def closed_loop(
    send: Callable[[Send], Awaitable[int]],
    senders: Senders,
    lanes: int,
    warmup: float,
    seconds: float,
) -> tuple[list[tuple[int, int]], int]:
    """``lanes`` sends in flight for warm-up + ``seconds``: (start_us, end_us) of
    every send acknowledged, and the number of failed sends."""
    done: list[tuple[int, int]] = []
    failures = 0
    end = time.monotonic() + warmup + seconds

    async def lane() -> None:
        nonlocal failures
        while time.monotonic() < end:
            started = harness.monotonic_us()
            try:
                await send(senders.next())
            except Exception:
                failures += 1
                continue
            done.append((started, harness.monotonic_us()))

    await asyncio.gather(*(lane() for _ in range(lanes)))
    return done, failures


async def counts(connection: asyncpg.Connection) -> dict[str, int]:
    row = await connection.fetchrow(
        "SELECT (SELECT count(*) FROM messages) AS messages,"
        " (SELECT count(*) FROM conversation_events) AS events,"
        " (SELECT count(*) FROM outbox) AS outbox,"
        " (SELECT count(*) FROM groups g WHERE g.last_seq <> (SELECT count(*) FROM messages m"
        "   WHERE m.group_id = g.id) OR g.last_seq <> coalesce((SELECT max(seq) FROM messages m"
        "   WHERE m.group_id = g.id), 0)) AS groups_with_gaps"
    )
    return dict(row)


async def measure_method(
    method: str,
    database_url: str,
    senders: Senders,
    args: argparse.Namespace,
) -> dict[str, Any]:
    dsn = _dsn(database_url)
    warmup = min(1.0, args.ceiling_seconds / 2)
    check = await asyncpg.connect(dsn)
    before = await counts(check)
    committer: GroupCommit | None = None
    if method == "group_commit":
        connections = [await asyncpg.connect(dsn) for _ in range(args.committers)]
        committer = GroupCommit(connections, args.batch)
        committer.start()
        lanes = args.in_flight
        send = committer.send
    else:
        connections = [await asyncpg.connect(dsn) for _ in range(args.connections)]
        free: asyncio.Queue[asyncpg.Connection] = asyncio.Queue()
        for connection in connections:
            free.put_nowait(connection)
        way = send_transaction if method == "transaction" else send_cte

        async def send(one: Send) -> int:
            connection = await free.get()
            try:
                return await way(connection, one)
            finally:
                free.put_nowait(connection)

        lanes = args.connections
    started_us = harness.monotonic_us()
    try:
        done, failures = await closed_loop(send, senders, lanes, warmup, args.ceiling_seconds)
    finally:
        if committer is not None:
            await committer.stop()
        for connection in connections:
            await connection.close()
    after = await counts(check)
    await check.close()
    window_start = started_us + int(warmup * 1e6)
    window_end = window_start + int(args.ceiling_seconds * 1e6)
    spans = np.array(done, dtype=float).reshape(-1, 2)
    in_window = (spans[:, 1] >= window_start) & (spans[:, 1] < window_end)
    stored = after["messages"] - before["messages"]
    result: dict[str, Any] = {
        "method": method,
        "messages": len(done),
        "messages_per_s": round(float(in_window.sum()) / args.ceiling_seconds, 1),
        "latency": harness.latency_summary(spans[in_window, 1] - spans[in_window, 0]),
        "failures": failures,
        "persisted": stored,
        "events": after["events"] - before["events"],
        "outbox": after["outbox"] - before["outbox"],
        "groups_with_gaps": after["groups_with_gaps"],
        "in_flight": lanes,
        "connections": len(connections),
    }
    if committer is not None and committer.batches:
        result["mean_batch"] = round(sum(committer.batches) / len(committer.batches), 1)
    return result


def ceiling_url(args: argparse.Namespace) -> str:
    return services.with_path(args.database_url, services.database_name("ceiling"))


async def measure(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """All three ways, one after the other, on one freshly seeded database."""
    url = ceiling_url(args)
    layout = await prepare(url, args.ceiling_groups, args.ceiling_members, out / "logs")
    senders = Senders(layout, args.payload_bytes)
    methods = []
    for method in METHODS:
        row = await measure_method(method, url, senders, args)
        methods.append(row)
        print(harness.table([printable(row)], COLUMNS).splitlines()[-1], flush=True)
    return {
        "groups": args.ceiling_groups,
        "members": args.ceiling_members,
        "payload_bytes": args.payload_bytes,
        "seconds": args.ceiling_seconds,
        "methods": methods,
    }


COLUMNS = [
    ("method", "ceiling: method"),
    ("messages_per_s", "persisted msgs/s"),
    ("p50", "p50 ms"),
    ("p99", "p99 ms"),
    ("in_flight", "in flight"),
    ("connections", "connections"),
    ("mean_batch", "mean batch"),
    ("check", "stored/acked, gaps"),
]


def printable(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "p50": row["latency"]["p50_ms"],
        "p99": row["latency"]["p99_ms"],
        "check": f"{row['persisted']}/{row['messages']}, {row['groups_with_gaps']}",
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ceiling's options (shared with bench.fanout)."""
    parser.add_argument(
        "--ceiling-seconds", type=float, default=10.0, help="ceiling: seconds measured per way"
    )
    parser.add_argument("--ceiling-groups", type=int, default=100)
    parser.add_argument("--ceiling-members", type=int, default=10)
    parser.add_argument(
        "--connections", type=int, default=20, help="ceiling: connections (transaction, cte)"
    )
    parser.add_argument("--committers", type=int, default=2, help="ceiling: group commit")
    parser.add_argument("--batch", type=int, default=64, help="ceiling: sends per transaction")
    parser.add_argument(
        "--in-flight", type=int, default=128, help="ceiling: concurrent sends, group commit"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ceiling", description=__doc__.split("\n\n")[0]
    )
    add_arguments(parser)
    parser.add_argument("--payload-bytes", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="its server is used")
    parser.add_argument("--out", default="ceiling")
    return parser.parse_args(argv)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    services.fill_defaults(args)
    out = harness.results_dir(args.out)
    report = {
        "scenario": "ceiling",
        "machine": harness.machine(),
        "parameters": {k: v for k, v in vars(args).items() if not k.endswith("_url")},
        **await measure(args, out),
    }
    harness.save_json(out / f"ceiling-{time.strftime('%Y%m%d-%H%M%S')}.json", report)
    harness.save_json(out / "ceiling.json", report)
    print()
    print(harness.table([printable(r) for r in report["methods"]], COLUMNS))
    print(f"\nJSON: {out / 'ceiling.json'}")
    return report


def main(argv: list[str] | None = None) -> None:
    asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    main()
