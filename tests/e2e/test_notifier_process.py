"""`goftogu notifier` as operators run it: a real process on RabbitMQ and PostgreSQL,
killed with SIGKILL in the middle of a batch and started again, then every job
delivered a second time: each email reaches the SMTP server exactly once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from goftogu.identity.accounts import identifier_key
from goftogu.identity.models import Role, User
from goftogu.notifications.jobs import NOTIFY, TicketCreated
from goftogu.notifications.mail import message_id_for
from goftogu.notifications.models import NotificationDelivery
from goftogu.notifications.triggers import enqueue_notification
from goftogu.queueing.outbox import OutboxMessage
from goftogu.storage.database import Database
from tests.conftest import run_blocking, truncate_all
from tests.e2e.servers import Process, goftogu_process
from tests.e2e.test_cli import run_goftogu
from tests.helpers.notify import NOW
from tests.helpers.queues import delete_queues, outbox_writer
from tests.helpers.smtp import Received, SmtpServer
from tests.helpers.waiting import eventually

MAIL_FROM = "goftogu <no-reply@goftogu.example>"
TICKETS = 8
KILL_AT = 5  # the notifier dies while the SMTP server receives the 5th email


@pytest.fixture
async def database(postgres_url: str) -> AsyncIterator[Database]:
    run_blocking(truncate_all(postgres_url))
    db = Database(postgres_url)
    yield db
    await db.close()


def notifier_env(
    postgres_url: str, broker_url: str, prefix: str, smtp: SmtpServer
) -> dict[str, str]:
    return {
        "GOFTOGU_ENV": "test",
        "GOFTOGU_DATABASE_URL": postgres_url,
        "GOFTOGU_BROKER_URL": broker_url,
        "GOFTOGU_QUEUE_PREFIX": prefix,
        "GOFTOGU_SMTP_URL": smtp.url,
        "GOFTOGU_MAIL_FROM": MAIL_FROM,
        # One send at a time, so that every email before the kill is settled.
        "GOFTOGU_QUEUE_PREFETCH": "1",
        "GOFTOGU_NOTIFY_SEND_LEASE_SECONDS": "2",
        "GOFTOGU_NOTIFY_RETRY_BASE_SECONDS": "0.2",
        "GOFTOGU_NOTIFY_RETRY_MAX_SECONDS": "1",
        "GOFTOGU_OUTBOX_SWEEP_SECONDS": "0.2",
    }


def ticket(chat_id: str) -> TicketCreated:
    return TicketCreated(chat_id=chat_id, customer_name="M", created_at=NOW)


async def deliveries(database: Database) -> list[NotificationDelivery]:
    async with database.sessions() as session:
        return list(await session.scalars(select(NotificationDelivery)))


async def all_sent(database: Database, count: int) -> bool:
    rows = await deliveries(database)
    return len(rows) == count and all(row.status == "sent" for row in rows)


@pytest.mark.slow
async def test_a_notifier_killed_mid_batch_and_restarted_delivers_every_email_once(
    database: Database, postgres_url: str, broker_url: str, tmp_path: Path
) -> None:
    operator = User(
        username="op",
        username_key="op",
        email="op@example.com",
        email_key=identifier_key("op@example.com"),
        password_hash="not-a-real-hash",
        role=Role.operator.value,
    )
    async with outbox_writer(database).transaction() as work:
        work.session.add(operator)
        for n in range(TICKETS):
            await enqueue_notification(work, ticket(f"chat-{n}"))

    killed = threading.Event()
    first: Process | None = None

    def kill_mid_batch(_message: Received) -> str | None:
        if not killed.is_set() and len(smtp.received()) == KILL_AT - 1:
            assert first is not None
            first.kill()  # SIGKILL, while the notifier waits for this email's reply
            killed.set()
            return "451 4.3.0 The sender went away"
        return None

    smtp = SmtpServer(on_data=kill_mid_batch).start()
    prefix = f"test-{uuid.uuid4().hex[:12]}."
    env = notifier_env(postgres_url, broker_url, prefix, smtp)
    try:
        with goftogu_process("notifier", env=env, cwd=tmp_path, name="notifier-1") as first:
            await eventually(killed.is_set, timeout=60)
            assert first.popen.returncode == -9
        assert len(smtp.received()) == KILL_AT - 1

        with goftogu_process("notifier", env=env, cwd=tmp_path, name="notifier-2") as second:
            await eventually(lambda: all_sent(database, TICKETS), timeout=60)
            # Every job comes again (as when a relay dies between publishing and marking),
            # then one new ticket: with one consumer taking one job at a time, its email
            # arrives after every replayed job was handled.
            async with outbox_writer(database).transaction() as work:
                await work.session.execute(update(OutboxMessage).values(published_at=None))
                await enqueue_notification(work, ticket("chat-last"))
            await eventually(lambda: all_sent(database, TICKETS + 1), timeout=60)
            assert second.popen.poll() is None, second.log()
    finally:
        smtp.stop()
        await delete_queues(broker_url, [prefix + NOTIFY])

    received = smtp.received()
    chats = [f"chat-{n}" for n in range(TICKETS)] + ["chat-last"]
    expected = {message_id_for(f"ticket:{chat}:email:{operator.id}", MAIL_FROM) for chat in chats}
    assert len(received) == TICKETS + 1
    assert {m.message["Message-ID"] for m in received} == expected
    interrupted = [row for row in await deliveries(database) if row.attempts > 1]
    assert len(interrupted) == 1


def test_the_notifier_explains_which_settings_it_reads(tmp_path: Path) -> None:
    result = run_goftogu("notifier", "--help", env={}, cwd=tmp_path)
    assert result.returncode == 0
    for setting in ("GOFTOGU_BROKER_URL", "GOFTOGU_SMTP_URL", "GOFTOGU_VAPID_PRIVATE_KEY"):
        assert setting in result.stdout


def test_vapid_keys_prints_a_pair_the_settings_accept(tmp_path: Path) -> None:
    from goftogu.settings import Settings

    result = run_goftogu("vapid-keys", env={}, cwd=tmp_path)
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines())
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        vapid_public_key=lines["GOFTOGU_VAPID_PUBLIC_KEY"],
        vapid_private_key=lines["GOFTOGU_VAPID_PRIVATE_KEY"],
    )
    assert settings.push_configured
