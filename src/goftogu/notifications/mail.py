"""Email: building a multipart message and handing it to SMTP (or the log).

``build_email`` makes a ``multipart/alternative`` message, text first and
HTML second, UTF-8 throughout; the ``email`` package's SMTP policy encodes
non-ASCII headers (RFC 2047) so a Persian subject or name survives any
server. The Message-ID is derived from the delivery's idempotency key: if a
crash ever makes us send the same notification twice, mail clients that
de-duplicate by Message-ID still show it once.
"""

from __future__ import annotations

import hashlib
import logging
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, parseaddr
from typing import Protocol

import aiosmtplib

from goftogu.notifications.failures import PermanentFailure, TransientFailure
from goftogu.notifications.smtp import smtp_client_for
from goftogu.notifications.templates import EmailContent

log = logging.getLogger(__name__)


def message_id_for(idempotency_key: str, mail_from: str) -> str:
    """A Message-ID that is the same every time the same delivery is sent."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "goftogu.localhost"
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def build_email(
    content: EmailContent,
    *,
    mail_from: str,
    to_address: str,
    to_name: str | None,
    message_id: str,
    kind: str,
) -> EmailMessage:
    """The message for one recipient; ``PermanentFailure`` for an unusable address."""
    try:
        recipient = Address(display_name=to_name or "", addr_spec=to_address)
    except (ValueError, IndexError) as exc:
        raise PermanentFailure(f"invalid recipient address: {exc}") from exc
    message = EmailMessage(policy=SMTP)
    message["Subject"] = content.subject
    message["From"] = mail_from
    message["To"] = recipient
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    # RFC 3834: no vacation replies to a notification.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Goftogu-Notification"] = kind
    message.set_content(content.text, subtype="plain", charset="utf-8")
    message.add_alternative(content.html, subtype="html", charset="utf-8")
    # After the body: setting content clears Content-* headers.
    message["Content-Language"] = content.language
    return message


class Mailer(Protocol):
    """Sends one email; raises ``TransientFailure`` or ``PermanentFailure``.

    ``delivers`` is False for a mailer that only writes the email to the log: the
    dispatcher then says so instead of "sent"."""

    delivers: bool

    async def send(self, message: EmailMessage) -> None: ...


def _smtp_failure(exc: aiosmtplib.SMTPException) -> TransientFailure | PermanentFailure:
    """A refused recipient or message (5xx) is permanent; everything else (4xx,
    connection trouble, our own credentials or TLS set-up) is worth retrying:
    after the queue's attempts run out it reaches the dead-letter queue anyway."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in exc.recipients]
        reason = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        if codes and all(code >= 500 for code in codes):
            return PermanentFailure(f"recipient refused: {reason}")
        return TransientFailure(f"recipient deferred: {reason}")
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError):
        text = f"{exc.code} {exc.message}"
        if exc.code >= 500:
            return PermanentFailure(f"message refused: {text}")
        return TransientFailure(f"message deferred: {text}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return TransientFailure(f"SMTP server answered {exc.code} {exc.message}")
    return TransientFailure(f"SMTP server unavailable: {type(exc).__name__}: {exc}")


class SmtpMailer:
    """Sends through the server of ``GOFTOGU_SMTP_URL``, one connection per message
    (a notifier sends in bursts; SMTP servers drop idle connections anyway)."""

    delivers = True

    def __init__(self, url: str, *, timeout: float = 30) -> None:
        smtp_client_for(url)  # refuse a malformed URL at start-up, not at the first email
        self._url = url
        self._timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        client = smtp_client_for(self._url, timeout=self._timeout)
        try:
            async with client:
                await client.send_message(message)
        except aiosmtplib.SMTPException as exc:
            raise _smtp_failure(exc) from exc
        except (OSError, TimeoutError) as exc:
            raise TransientFailure(f"SMTP server unreachable: {type(exc).__name__}: {exc}") from exc


class LogMailer:
    """The embedded default: with no SMTP server configured, each email is written
    to the log (recipient, subject, text body), so a trial install shows what it
    would have sent. Nothing secret is in a notification email."""

    delivers = False

    async def send(self, message: EmailMessage) -> None:
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if isinstance(body, EmailMessage) else ""
        log.info(
            "email not sent (GOFTOGU_SMTP_URL is unset); it would have said:\n%s",
            text,
            extra={
                "mail_to": str(message["To"]),
                "mail_subject": str(message["Subject"]),
                "message_id": str(message["Message-ID"]),
            },
        )
