"""Transcripts by email through the notifier (embedded: in-process queue, a real
SMTP server on loopback): on close with the rating link, on request, once each,
in English and Persian, never with a private note."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from goftogu.gateway import Gateway, create_gateway
from tests.conftest import make_settings
from tests.helpers.api import API, SignedIn, visitor
from tests.helpers.desk import available_operator, routed, start_chat
from tests.helpers.smtp import Received, SmtpServer
from tests.helpers.waiting import eventually


@pytest.fixture
async def mailing(
    database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Gateway, httpx.AsyncClient, SmtpServer]]:
    smtp = SmtpServer().start()
    gateway = create_gateway(make_settings(database_url, tmp_path, smtp_url=smtp.url))
    try:
        async with (
            gateway.api.router.lifespan_context(gateway.api),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=gateway.asgi), base_url="http://testserver"
            ) as client,
        ):
            yield gateway, client, smtp
    finally:
        smtp.stop()


async def mails(smtp: SmtpServer, count: int) -> list[Received]:
    async def arrived() -> list[Received] | None:
        received = smtp.received()
        return received if len(received) >= count else None

    return await eventually(arrived, what=f"{count} emails")


async def conversation(
    gateway: Gateway, client: httpx.AsyncClient, language: str = "en"
) -> tuple[SignedIn, SignedIn, str]:
    operator = await available_operator(gateway, client)
    customer = await visitor(client, name="Sara", email="sara@example.com")
    await client.put(
        f"{API}/users/me/notification-settings",
        json={"language": language},
        headers=customer.headers,
    )
    chat = await routed(
        client, customer, (await start_chat(client, customer, "Where is it?"))["id"]
    )
    await client.post(
        f"{API}/support/chats/{chat['id']}/messages",
        json={"client_id": "o1", "body": "It ships today."},
        headers=operator.headers,
    )
    await client.post(
        f"{API}/support/chats/{chat['id']}/notes",
        json={"client_id": "n1", "body": "INTERNAL-ONLY"},
        headers=operator.headers,
    )
    return operator, customer, chat["id"]


async def test_closing_emails_the_transcript_with_the_rating_link_once(
    mailing: tuple[Gateway, httpx.AsyncClient, SmtpServer],
) -> None:
    gateway, client, smtp = mailing
    operator, _customer, chat_id = await conversation(gateway, client)
    closed = await client.post(f"{API}/support/chats/{chat_id}/close", headers=operator.headers)
    assert closed.status_code == 200, closed.text
    [mail] = await mails(smtp, 1)
    assert mail.recipients == ["sara@example.com"]
    assert mail.message["Subject"] == "Your conversation with support is closed"
    text, html = mail.body("plain"), mail.body("html")
    assert "Where is it?" in text
    assert "It ships today." in text
    assert "INTERNAL-ONLY" not in text + html
    link = f"{gateway.settings.public_url}/csat?token="
    assert link in html
    token = html.split(link, 1)[1].split('"', 1)[0]
    rated = await client.post(f"{API}/support/csat", json={"token": token, "score": 5})
    assert rated.status_code == 201, rated.text
    # The relay and the notifier run on: still one email.
    assert len(smtp.received()) == 1


async def test_a_requested_transcript_goes_once_per_request_in_persian_right_to_left(
    mailing: tuple[Gateway, httpx.AsyncClient, SmtpServer],
) -> None:
    gateway, client, smtp = mailing
    _operator, customer, chat_id = await conversation(gateway, client, language="fa")
    ask = f"{API}/support/chats/{chat_id}/transcript"
    first = await client.post(ask, json={"client_id": "r1"}, headers=customer.headers)
    assert first.status_code == 202, first.text
    assert first.json()["email"] == "sara@example.com"
    again = await client.post(ask, json={"client_id": "r1"}, headers=customer.headers)
    assert again.status_code == 202
    [mail] = await mails(smtp, 1)
    assert mail.message["Subject"].startswith("گفتگوی شما با پشتیبانی")
    assert mail.message["Content-Language"] == "fa"
    html = mail.body("html")
    assert 'dir="rtl"' in html
    assert "It ships today." in html
    assert "INTERNAL-ONLY" not in html
    await client.post(ask, json={"client_id": "r2"}, headers=customer.headers)
    assert len(await mails(smtp, 2)) == 2


async def test_no_address_no_transcript_and_only_for_those_who_may_read_it(
    mailing: tuple[Gateway, httpx.AsyncClient, SmtpServer],
) -> None:
    _gateway, client, smtp = mailing
    anonymous = await visitor(client)
    chat = await start_chat(client, anonymous)
    ask = f"{API}/support/chats/{chat['id']}/transcript"
    no_address = await client.post(ask, json={"client_id": "r1"}, headers=anonymous.headers)
    assert no_address.status_code == 422
    assert no_address.json()["error"]["details"]["field"] == "email"
    stranger = await visitor(client, email="x@example.com")
    theirs = await client.post(ask, json={"client_id": "r1"}, headers=stranger.headers)
    assert (theirs.status_code, theirs.json()["error"]["code"]) == (404, "not_found")
    assert smtp.received() == []
