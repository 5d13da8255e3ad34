"""How fast the notifier plans and sends, end to end, on this machine.

    .venv/bin/python bench/notifier.py [--tickets 200] [--operators 5] [--messages 500]
        [--members 50] [--database-url URL] [--broker-url URL]

Two figures:

- emails/s: tickets written to the outbox, each emailed to every operator
  through a loopback SMTP server (aiosmtpd), from the first commit to the
  last email accepted;
- messages/s planned: group messages to members who are all away (a push
  delivery per member is not made: nobody subscribed; each message joins
  every member's digest), until every trigger is handled.

Defaults: a fresh SQLite file and the in-process queue.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from goftogu.bootstrap import build_container, runner_for
from goftogu.identity.accounts import identifier_key
from goftogu.identity.models import Role, User
from goftogu.ids import new_id
from goftogu.notifications.jobs import NOTIFY, MessageCreated, TicketCreated
from goftogu.notifications.models import NotificationDigestItem
from goftogu.notifications.triggers import enqueue_notification
from goftogu.settings import Settings


class Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def until(predicate: Any) -> None:
    """Poll ``predicate`` every 10 ms, for at most ten minutes."""
    for _ in range(60_000):
        if await predicate():
            return
        await asyncio.sleep(0.01)
    raise TimeoutError("the benchmark did not finish")


async def make_users(container: Any, prefix: str, count: int, role: Role) -> list[User]:
    users = [
        User(
            username=f"{prefix}{n}",
            username_key=f"{prefix}{n}",
            email=f"{prefix}{n}@example.com",
            email_key=identifier_key(f"{prefix}{n}@example.com"),
            password_hash="not-a-real-hash",  # noqa: S106
            role=role.value,
        )
        for n in range(count)
    ]
    async with container.database.transaction() as session:
        session.add_all(users)
    return users


async def main(args: argparse.Namespace, data_dir: Path) -> None:
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    values: dict[str, Any] = {
        "env": "test",
        "data_dir": data_dir,
        "database_url": args.database_url,
        "broker_url": args.broker_url,
        "queue_prefix": f"bench-{new_id().hex[:8]}.",
        "auto_migrate": True,
        "smtp_url": f"smtp://127.0.0.1:{port}",
        "notify_digest_seconds": 3600,
        "log_level": "WARNING",
    }
    container = await build_container(Settings(_env_file=None, **values))  # type: ignore[call-arg]
    runner = runner_for(container, {NOTIFY})
    await runner.start()
    try:
        await make_users(container, "op", args.operators, Role.operator)
        now = datetime.now(UTC)
        started = time.perf_counter()
        async with container.work.transaction() as work:
            for n in range(args.tickets):
                ticket = TicketCreated(chat_id=f"t{n}", customer_name="M", created_at=now)
                await enqueue_notification(work, ticket)
        expected = args.tickets * args.operators

        async def all_sent() -> bool:
            return sink.count >= expected

        await until(all_sent)
        elapsed = time.perf_counter() - started
        print(f"emails: {expected} in {elapsed:.2f} s = {expected / elapsed:.0f} emails/s")

        members = await make_users(container, "member", args.members, Role.customer)
        conversation = f"group:{new_id()}"
        started = time.perf_counter()
        async with container.work.transaction() as work:
            for n in range(args.messages):
                job = MessageCreated(
                    conversation=conversation,
                    message_id=f"m{n}",
                    sender_id=members[0].id,
                    preview="سلام، این یک پیام آزمایشی است.",
                    created_at=now,
                    recipient_ids=[member.id for member in members],
                )
                await enqueue_notification(work, job)
        items = args.messages * (args.members - 1)

        async def all_planned() -> bool:
            async with container.database.sessions() as session:
                query = select(func.count()).select_from(NotificationDigestItem)
                count = await session.scalar(query)
            return (count or 0) >= items

        await until(all_planned)
        elapsed = time.perf_counter() - started
        print(
            f"messages: {args.messages} x {args.members - 1} away members in {elapsed:.2f} s"
            f" = {args.messages / elapsed:.0f} messages/s, {items / elapsed:.0f} digest items/s"
        )
    finally:
        await runner.stop()
        await container.aclose()
        controller.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--operators", type=int, default=5)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--database-url")
    parser.add_argument("--broker-url")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        asyncio.run(main(arguments, Path(scratch)))
