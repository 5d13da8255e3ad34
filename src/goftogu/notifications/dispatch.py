"""Sending one planned delivery, and recording what became of it.

``Dispatcher.deliver`` claims the row (see ``ledger``), composes the email or
push from what is true now (the recipient may have turned the channel off,
changed address, or lost the subscription), sends it, and records the outcome
in one transaction with what goes with it (a dead subscription removed).
Failures come out as ``TransientFailure`` (the row is free for a retry) or
``PermanentFailure`` (the row is ``failed``); the notifier turns them into
queue outcomes.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import delete, update

from goftogu.identity.models import User
from goftogu.notifications.compose import (
    Links,
    PushMessage,
    compose_email,
    compose_push,
    name_of,
)
from goftogu.notifications.failures import PermanentFailure, SubscriptionGone, TransientFailure
from goftogu.notifications.ledger import Busy, Claimed, Done, Ledger
from goftogu.notifications.mail import Mailer, build_email, message_id_for
from goftogu.notifications.models import (
    Channel,
    DeliveryStatus,
    NotificationDelivery,
    PushSubscription,
)
from goftogu.notifications.preferences import preferences_of
from goftogu.notifications.subscriptions import EndpointRule
from goftogu.notifications.webpush import PushSender, PushTarget
from goftogu.storage.database import Database
from goftogu.storage.models import utcnow

log = logging.getLogger(__name__)


class DeliveryBusy(Exception):
    """Another attempt is sending this delivery; look again in ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"another attempt holds the delivery for {seconds:.1f} s")
        self.seconds = seconds


@dataclass(frozen=True)
class _Skip:
    reason: str


@dataclass(frozen=True)
class _Sent:
    subscription_id: uuid.UUID | None = None
    only_logged: bool = False  # the log mailer wrote it down; nobody received it


class Dispatcher:
    def __init__(
        self,
        database: Database,
        ledger: Ledger,
        *,
        mailer: Mailer,
        pusher: PushSender | None,
        mail_from: str,
        links: Links,
        default_language: str,
        endpoints: EndpointRule | None = None,
    ) -> None:
        self._endpoints = endpoints
        self._db = database
        self._ledger = ledger
        self._mailer = mailer
        self._pusher = pusher
        self._mail_from = mail_from
        self._links = links
        self._language = default_language

    async def deliver(self, delivery_id: uuid.UUID) -> str:
        """Send the delivery unless it is done; returns its final status.
        Raises ``DeliveryBusy``, ``TransientFailure`` or ``PermanentFailure``."""
        claim = await self._ledger.claim(delivery_id)
        if isinstance(claim, Done):
            return claim.status
        if isinstance(claim, Busy):
            raise DeliveryBusy(claim.seconds)
        context = {
            "delivery_id": str(delivery_id),
            "kind": claim.delivery.kind,
            "channel": claim.delivery.channel,
            "attempt": claim.delivery.attempts,
        }
        try:
            outcome = await self._attempt(claim.delivery)
        except TransientFailure as failure:
            await self._ledger.release(claim, failure.reason)
            log.warning("delivery failed; will retry", extra={**context, "reason": failure.reason})
            raise
        except PermanentFailure as failure:
            await self._ledger.finish_alone(claim, DeliveryStatus.failed, failure.reason)
            log.warning("delivery refused for good", extra={**context, "reason": failure.reason})
            raise
        except SubscriptionGone as gone:
            await self._forget_subscription(claim, gone.reason)
            log.info("push subscription expired; removed", extra=context)
            return DeliveryStatus.skipped
        except Exception as exc:
            # A bug or a database hiccup: free the row so the retry need not wait the lease.
            await self._ledger.release(claim, f"{type(exc).__name__}: {exc}")
            raise
        return await self._record(claim, outcome, context)

    async def _record(
        self, claim: Claimed, outcome: _Sent | _Skip, context: dict[str, object]
    ) -> str:
        async with self._db.transaction() as session:
            if isinstance(outcome, _Skip):
                await self._ledger.finish(session, claim, DeliveryStatus.skipped, outcome.reason)
                status = DeliveryStatus.skipped
            else:
                await self._ledger.finish(session, claim, DeliveryStatus.sent)
                if outcome.subscription_id is not None:
                    await session.execute(
                        update(PushSubscription)
                        .where(PushSubscription.id == outcome.subscription_id)
                        .values(last_success_at=utcnow())
                    )
                status = DeliveryStatus.sent
        if isinstance(outcome, _Sent) and outcome.only_logged:
            # Recorded as done (it must not be retried), but nothing left this server.
            log.info(
                "delivery written to the log (GOFTOGU_SMTP_URL is unset), not sent",
                extra={**context, "reason": None},
            )
            return status
        log.info(
            "delivery %s",
            status.value,
            extra={**context, "reason": outcome.reason if isinstance(outcome, _Skip) else None},
        )
        return status

    async def _forget_subscription(self, claim: Claimed, reason: str) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                delete(PushSubscription).where(
                    PushSubscription.id == claim.delivery.subscription_id
                )
            )
            await self._ledger.finish(session, claim, DeliveryStatus.skipped, reason)

    async def _attempt(self, delivery: NotificationDelivery) -> _Sent | _Skip:
        # Compose with a session, send without one: no connection is held over the network wait.
        prepared = await self._prepare(delivery)
        if isinstance(prepared, _Skip):
            return prepared
        if isinstance(prepared, EmailMessage):
            await self._mailer.send(prepared)
            return _Sent(only_logged=not self._mailer.delivers)
        assert self._pusher is not None
        target, push = prepared
        await self._pusher.send(
            target, push.payload, ttl=push.ttl, urgency=push.urgency, topic=push.topic
        )
        return _Sent(subscription_id=delivery.subscription_id)

    async def _prepare(
        self, delivery: NotificationDelivery
    ) -> _Skip | EmailMessage | tuple[PushTarget, PushMessage]:
        """What to send now, or why there is nothing to send any more."""
        async with self._db.sessions() as session:
            user = await session.get(User, delivery.user_id)
            if user is None:
                return _Skip("user deleted")
            preferences = (await preferences_of(session, [user.id]))[user.id]
            language = preferences.language or self._language
            if delivery.channel == Channel.email:
                if not preferences.email:
                    return _Skip("email turned off")
                if not user.email:
                    return _Skip("no email address")
                content = await compose_email(session, delivery, user, language, self._links)
                return build_email(
                    content,
                    mail_from=self._mail_from,
                    to_address=user.email,
                    to_name=name_of(user, language),
                    message_id=message_id_for(delivery.idempotency_key, self._mail_from),
                    kind=delivery.kind,
                )
            if self._pusher is None:
                return _Skip("push not configured")
            if not preferences.push:
                return _Skip("push turned off")
            subscription = await session.get(PushSubscription, delivery.subscription_id)
            if subscription is None:
                return _Skip("subscription removed")
            if self._endpoints and not self._endpoints.allows(subscription.endpoint):
                # Stored before the rule (or the setting) changed: never POST there.
                raise SubscriptionGone("the endpoint is no longer allowed")
            if subscription.user_id != user.id:
                # The browser now belongs to someone else: never show them this.
                return _Skip("subscription moved to another user")
            push = await compose_push(session, delivery, language, self._links)
            return PushTarget(subscription.endpoint, subscription.p256dh, subscription.auth), push
