"""A message to someone with no live connection reaches them by email, once per
conversation window, through the whole pipeline of a real gateway (P1)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.clients import connect
from tests.e2e.conftest import E2E_SECRET
from tests.e2e.servers import Process, gateway_process
from tests.helpers.api import API, sign_up
from tests.helpers.smtp import SmtpServer
from tests.helpers.waiting import eventually


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mailing_gateway(smtp: SmtpServer, tmp_path: Path) -> Iterator[Process]:
    env = {
        "GOFTOGU_SECRET_KEY": E2E_SECRET,
        "GOFTOGU_SMTP_URL": smtp.url,
        "GOFTOGU_NOTIFY_DIGEST_SECONDS": "1",
        "GOFTOGU_RATE_REGISTER_PER_IP": "10000/60",
        "GOFTOGU_RATE_VISITOR_PER_IP": "10000/60",
        "GOFTOGU_RATE_LOGIN_PER_IP": "10000/60",
    }
    with gateway_process(env=env, cwd=tmp_path) as process:
        yield process


async def test_messages_to_an_offline_user_arrive_as_one_email(
    mailing_gateway: Process, smtp: SmtpServer, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=mailing_gateway.base_url, timeout=15) as http:
        sara, omid = await sign_up(http), await sign_up(http)
        chat = await http.post(
            f"{API}/chats/single", headers=sara.headers, json={"user_id": omid.id}
        )
        conversation = chat.json()["conversation"]
        client = await connect("js", mailing_gateway.base_url, {"token": sara.access_token})
        try:
            for text in ("سلام امید", "کجایی؟", "خبر بده"):
                payload = {"conversation": conversation, "client_id": uuid.uuid4().hex}
                ack = await client.emit("message:send", {**payload, "content": text})
                assert ack["ok"] is True
        finally:
            await client.close()

    await eventually(smtp.received, timeout=15, what="the email")
    # The pipeline is quiet once every digest closed and every planned delivery was
    # sent: a second email would have been planned and sent by then.
    database = tmp_path / "var" / "goftogu.db"  # the gateway's embedded database
    await eventually(lambda: _notifications_settled(database), timeout=15, what="the notifier")
    emails = smtp.received()
    assert len(emails) == 1
    assert emails[0].recipients == [f"{omid.username}@example.com"]
    text = emails[0].body("plain")
    for line in ("سلام امید", "کجایی؟", "خبر بده"):
        assert line in text


def _notifications_settled(database: Path) -> bool:
    """No digest left open and no delivery still queued or being sent."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        open_digests, unfinished = connection.execute(
            "SELECT (SELECT count(*) FROM notification_digests WHERE closed_at IS NULL),"
            " (SELECT count(*) FROM notification_deliveries"
            "  WHERE status IN ('queued', 'sending'))"
        ).fetchone()
    return bool(open_digests == 0 and unfinished == 0)
