"""Email through a real SMTP server on loopback (aiosmtpd): what arrives, byte for byte."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from goftogu.notifications.bidi import FSI, PDI, RLM
from goftogu.notifications.failures import PermanentFailure, TransientFailure
from goftogu.notifications.mail import LogMailer, SmtpMailer, build_email, message_id_for
from goftogu.notifications.templates import EmailContent, Line, render_email
from tests.helpers.smtp import SmtpServer, free_port, self_signed_certificate

MAIL_FROM = "goftogu <no-reply@goftogu.example>"
PERSIAN = "سلام مریم! جلسهٔ فردا ساعت ۱۰ برگزار می‌شود."


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def _plain(text: str) -> str:
    return text.replace(RLM, "").replace(FSI, "").replace(PDI, "").replace("\u200e", "")


def digest(language: str = "en") -> EmailContent:
    lines = [
        Line("سارا", PERSIAN, datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
        Line("bob", "See you there", datetime(2026, 3, 1, 9, 31, tzinfo=UTC)),
    ]
    return render_email(
        "messages",
        language,
        lines,
        recipient_name="مریم",
        url="https://chat.example/conversations/group:1",
        settings_url="https://chat.example/settings/notifications",
        title="تیم فروش",
    )


def email_to(address: str, content: EmailContent, key: str = "digest:1:email:u1") -> EmailMessage:
    return build_email(
        content,
        mail_from=MAIL_FROM,
        to_address=address,
        to_name="مریم",
        message_id=message_id_for(key, MAIL_FROM),
        kind="messages",
    )


async def test_a_digest_arrives_with_both_bodies_headers_and_persian_intact(
    smtp: SmtpServer,
) -> None:
    await SmtpMailer(smtp.url).send(email_to("maryam@example.com", digest()))

    [received] = smtp.received()
    message = received.message
    assert received.recipients == ["maryam@example.com"]
    assert received.mail_from == "no-reply@goftogu.example"
    assert message["Subject"] == "2 new messages in تیم فروش"
    assert message["To"].addresses[0].display_name == "مریم"
    assert message["Message-ID"] == message_id_for("digest:1:email:u1", MAIL_FROM)
    assert message["Content-Language"] == "en"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text, html = received.body("plain"), received.body("html")
    assert PERSIAN in _plain(text)
    assert "See you there" in text
    assert PERSIAN in html
    assert f'<div dir="rtl" style="white-space:pre-wrap;text-align:right;">{PERSIAN}</div>' in html
    assert '<div dir="ltr" style="white-space:pre-wrap;text-align:left;">See you there' in html
    assert "<bdi>تیم فروش</bdi>" in html
    for part in message.iter_parts():
        assert part.get_content_charset() == "utf-8"


async def test_non_ascii_headers_are_encoded_on_the_wire(smtp: SmtpServer) -> None:
    await SmtpMailer(smtp.url).send(email_to("maryam@example.com", digest("fa")))

    raw = smtp.received()[0].raw
    head = raw.split(b"\r\n\r\n", 1)[0]
    head.decode("ascii")  # every header line is 7-bit: RFC 2047 encoded words
    assert b"=?utf-8?" in head


async def test_a_persian_email_is_right_to_left_from_the_document_down(smtp: SmtpServer) -> None:
    await SmtpMailer(smtp.url).send(email_to("maryam@example.com", digest("fa")))

    received = smtp.received()[0]
    assert received.message["Subject"] == "۲ پیام تازه در تیم فروش"
    assert received.message["Content-Language"] == "fa"
    html = received.body("html")
    assert '<html lang="fa" dir="rtl">' in html
    assert "border-right:3px" in html
    text = received.body("plain")
    first_line = text.splitlines()[0]
    assert first_line.startswith(RLM)
    assert _plain(first_line) == "سلام مریم،"
    # An English message inside a Persian email keeps its own direction.
    assert "\u200eSee you there" in text


async def test_starttls_with_authentication_delivers(tmp_path: Path) -> None:
    context, ca_file = self_signed_certificate(tmp_path)
    server = SmtpServer(tls=context, credentials=("notifier", "s3cret pass")).start()
    try:
        url = f"smtp://notifier:s3cret%20pass@127.0.0.1:{server.port}?ca_file={ca_file}"
        await SmtpMailer(url).send(email_to("maryam@example.com", digest()))
    finally:
        server.stop()
    [received] = server.received()
    assert received.recipients == ["maryam@example.com"]


async def test_a_wrong_password_is_not_blamed_on_the_message(tmp_path: Path) -> None:
    context, ca_file = self_signed_certificate(tmp_path)
    server = SmtpServer(tls=context, credentials=("notifier", "right")).start()
    try:
        url = f"smtp://notifier:wrong@127.0.0.1:{server.port}?ca_file={ca_file}"
        with pytest.raises(TransientFailure, match="535"):
            await SmtpMailer(url).send(email_to("maryam@example.com", digest()))
    finally:
        server.stop()
    assert server.received() == []


async def test_an_untrusted_certificate_is_refused(tmp_path: Path) -> None:
    context, _ = self_signed_certificate(tmp_path)
    server = SmtpServer(tls=context).start()
    try:
        with pytest.raises(TransientFailure):
            await SmtpMailer(f"{server.url}?starttls=require").send(
                email_to("maryam@example.com", digest())
            )
    finally:
        server.stop()
    assert server.received() == []


async def test_a_refused_recipient_is_a_permanent_failure(smtp: SmtpServer) -> None:
    smtp.refuse["nobody@example.com"] = "550 5.1.1 No such user"
    with pytest.raises(PermanentFailure, match="550"):
        await SmtpMailer(smtp.url).send(email_to("nobody@example.com", digest()))
    assert smtp.received() == []


async def test_a_deferred_recipient_is_a_transient_failure(smtp: SmtpServer) -> None:
    smtp.refuse["busy@example.com"] = "451 4.2.1 Mailbox busy, try later"
    with pytest.raises(TransientFailure, match="451"):
        await SmtpMailer(smtp.url).send(email_to("busy@example.com", digest()))


async def test_an_unreachable_server_is_a_transient_failure() -> None:
    with pytest.raises(TransientFailure, match=r"unreachable|unavailable"):
        await SmtpMailer(f"smtp://127.0.0.1:{free_port()}").send(
            email_to("maryam@example.com", digest())
        )


def test_an_unusable_address_is_a_permanent_failure() -> None:
    with pytest.raises(PermanentFailure, match="invalid recipient"):
        email_to("not an address", digest())


async def test_without_smtp_the_email_is_written_to_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="goftogu.notifications.mail")
    await LogMailer().send(email_to("maryam@example.com", digest()))

    [record] = [r for r in caplog.records if r.name == "goftogu.notifications.mail"]
    assert "GOFTOGU_SMTP_URL is unset" in record.getMessage()
    assert PERSIAN in _plain(record.getMessage())
    assert record.__dict__["mail_subject"] == "2 new messages in تیم فروش"
    assert "maryam@example.com" in record.__dict__["mail_to"]
