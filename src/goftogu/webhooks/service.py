"""Webhooks: the admins' subscriptions, recording events, and sending them.

- ``Webhooks``: create / list / update / delete subscriptions and read their
  delivery log (admins only; every refusal has its code).
- ``WebhookRecorder.record``: the after-commit handler of ``ChatActivity``
  (registered in bootstrap ``_announcements``): one delivery per matching
  subscription and its outbox job, in one relational transaction.
- ``WebhookSender.handle``: the ``webhooks`` queue's handler (``goftogu notifier``).
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from goftogu import __version__
from goftogu.errors import (
    NotAllowed,
    NotFound,
    TooManyWebhooks,
    UnknownWebhookEvent,
    ValidationFailed,
)
from goftogu.identity.models import Role
from goftogu.identity.tokens import Principal
from goftogu.queueing import Delivery, QueuePolicy, Retry, Subscription
from goftogu.queueing.outbox import add_to_outbox
from goftogu.storage.work import UnitsOfWork
from goftogu.support.documents import SupportChat
from goftogu.support.events import ACTIVITY_TYPES, ChatActivity
from goftogu.support.schemas import MessagePublic
from goftogu.webhooks.addresses import check_url, public_only_resolver
from goftogu.webhooks.models import WebhookSubscription
from goftogu.webhooks.schemas import (
    WEBHOOKS,
    WebhookCreate,
    WebhookDeliveryList,
    WebhookDeliveryPublic,
    WebhookDue,
    WebhookList,
    WebhookPatch,
    WebhookPublic,
    WebhookWithSecret,
)
from goftogu.webhooks.signing import SIGNATURE_HEADER, new_secret, sign
from goftogu.webhooks.store import Busy, Done, WebhookStore

log = logging.getLogger(__name__)

EVENT_NAMESPACE = uuid.UUID("5b0c6f52-6a4e-4f3e-9a57-1f0f5e3c9a11")


def _require_admin(principal: Principal) -> None:
    if principal.role is not Role.admin:
        raise NotAllowed("Only admins manage webhooks.")


def _check_events(events: list[str]) -> list[str]:
    unknown = [name for name in events if name not in ACTIVITY_TYPES]
    if unknown:
        raise UnknownWebhookEvent(unknown=unknown, known=list(ACTIVITY_TYPES))
    return sorted(set(events))


def _uuid(value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError as error:
        raise NotFound("No such webhook subscription.") from error


def _cursor(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value is not None else None
    except ValueError as error:
        raise ValidationFailed("This is not a cursor of this list.", field="cursor") from error


class Webhooks:
    """The admins' side."""

    def __init__(self, store: WebhookStore, *, allow_private: bool, max_subscriptions: int) -> None:
        self.store = store
        self._allow_private = allow_private
        self._max = max_subscriptions

    async def create(self, principal: Principal, body: WebhookCreate) -> WebhookWithSecret:
        _require_admin(principal)
        url = check_url(body.url, allow_private=self._allow_private)
        events = _check_events(body.events)
        if await self.store.count() >= self._max:
            raise TooManyWebhooks(limit=self._max)
        secret = new_secret()
        row = await self.store.create(
            url=url,
            secret=secret,
            events=events,
            description=body.description,
            created_by=principal.user_id,
        )
        log.info("webhook subscription created", extra={"subscription_id": str(row.id)})
        return WebhookWithSecret.model_validate({**_public(row).model_dump(), "secret": secret})

    async def list(self, principal: Principal, cursor: str | None, limit: int) -> WebhookList:
        _require_admin(principal)
        rows, more = await self.store.page(_cursor(cursor), limit)
        return WebhookList(
            items=[_public(row) for row in rows],
            has_more=more,
            next_cursor=str(rows[-1].id) if more and rows else None,
        )

    async def get(self, principal: Principal, subscription_id: str) -> WebhookPublic:
        _require_admin(principal)
        return _public(await self._existing(subscription_id))

    async def update(
        self, principal: Principal, subscription_id: str, body: WebhookPatch
    ) -> WebhookPublic | WebhookWithSecret:
        _require_admin(principal)
        await self._existing(subscription_id)
        changes: dict[str, Any] = {}
        if body.url is not None:
            changes["url"] = check_url(body.url, allow_private=self._allow_private)
        if body.events is not None:
            changes["events"] = _check_events(body.events)
        if "description" in body.model_fields_set:
            changes["description"] = body.description
        if body.active is not None:
            changes["active"] = body.active
        secret = new_secret() if body.rotate_secret else None
        if secret is not None:
            changes["secret"] = secret
        row = await self.store.update(uuid.UUID(subscription_id), changes)
        if row is None:
            raise NotFound("No such webhook subscription.")
        if secret is not None:
            return WebhookWithSecret.model_validate({**_public(row).model_dump(), "secret": secret})
        return _public(row)

    async def delete(self, principal: Principal, subscription_id: str) -> None:
        _require_admin(principal)
        found = _uuid(subscription_id)
        assert found is not None
        if not await self.store.delete(found):
            raise NotFound("No such webhook subscription.")

    async def deliveries(
        self, principal: Principal, subscription_id: str, cursor: str | None, limit: int
    ) -> WebhookDeliveryList:
        """The last ``limit`` deliveries, newest first; ``cursor`` pages further back."""
        _require_admin(principal)
        row = await self._existing(subscription_id)
        rows, more = await self.store.deliveries(row.id, _cursor(cursor), limit)
        return WebhookDeliveryList(
            items=[WebhookDeliveryPublic.model_validate(r) for r in rows],
            has_more=more,
            next_cursor=str(rows[-1].id) if more and rows else None,
        )

    async def _existing(self, subscription_id: str) -> WebhookSubscription:
        found = _uuid(subscription_id)
        row = await self.store.get(found) if found else None
        if row is None:
            raise NotFound("No such webhook subscription.")
        return row


def _public(row: WebhookSubscription) -> WebhookPublic:
    return WebhookPublic.model_validate(row)


# --- recording ------------------------------------------------------------------------


def event_id_of(activity: ChatActivity) -> uuid.UUID:
    return uuid.uuid5(EVENT_NAMESPACE, f"{activity.type}:{activity.chat.id}:{activity.key}")


def _conversation(chat: SupportChat) -> dict[str, Any]:
    return {
        "id": chat.id,
        "conversation": chat.conversation,
        "status": chat.status.value,
        "type": chat.type.value,
        "team_id": chat.team_id,
        "customer": {"id": chat.customer.id, "name": chat.customer.name},
        "operator_id": chat.operator_id,
        "created_at": chat.created_at.isoformat(),
        "assigned_at": chat.assigned_at.isoformat() if chat.assigned_at else None,
        "closed_at": chat.closed_at.isoformat() if chat.closed_at else None,
        "previous_chat_id": chat.previous_chat_id,
        "labels": list(chat.labels),
        "messages": len(chat.messages),
    }


def payload_of(activity: ChatActivity, event_id: uuid.UUID) -> str:
    """The exact body sent (on every attempt): the event, never a private note."""
    chat = activity.chat
    data: dict[str, Any] = {"conversation": _conversation(chat)}
    message, seq = activity.message, activity.seq
    if activity.type == "conversation.created" and chat.messages:
        message, seq = chat.messages[0], 1
    if message is not None and seq is not None:
        data["message"] = MessagePublic.of(message, seq).model_dump(mode="json")
    if activity.type == "csat.received" and chat.csat is not None:
        data["csat"] = chat.csat.model_dump(mode="json")
    body = {
        "id": str(event_id),
        "type": activity.type,
        "created_at": datetime.now(UTC).isoformat(),
        "data": data,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


class WebhookRecorder:
    """Turns announced activity into deliveries (``record``: an after-commit handler)."""

    def __init__(self, store: WebhookStore, work: UnitsOfWork) -> None:
        self._store = store
        self._work = work

    async def record(self, activity: ChatActivity) -> int:
        subscribers = await self._store.subscribers(activity.type)
        if not subscribers:
            return 0
        event_id = event_id_of(activity)
        body = payload_of(activity, event_id)
        planned = 0
        async with self._work.transaction() as work:
            for subscription in subscribers:
                delivery_id = await self._store.plan(
                    work, subscription.id, event_id=event_id, event_type=activity.type, body=body
                )
                if delivery_id is not None:
                    planned += 1
                    await add_to_outbox(
                        work,
                        WEBHOOKS,
                        WebhookDue(delivery_id=delivery_id),
                        message_id=f"webhook:{delivery_id}",
                    )
        return planned


# --- sending --------------------------------------------------------------------------


def _whole_seconds(seconds: float) -> float:
    # RabbitMQ keeps one delay queue per value: whole seconds only.
    return float(max(1, math.ceil(seconds)))


class WebhookSender:
    """The ``webhooks`` queue's handler: one signed POST per attempt."""

    def __init__(
        self,
        store: WebhookStore,
        *,
        max_attempts: int,
        retry_base_seconds: float,
        retry_max_seconds: float,
        timeout_seconds: float,
        lease_seconds: float,
        disable_after: int,
        allow_private: bool,
        retention: timedelta = timedelta(days=30),
    ) -> None:
        self._store = store
        self.max_attempts = max_attempts
        self.backoff = QueuePolicy(
            max_attempts=max_attempts,
            retry_base_seconds=retry_base_seconds,
            retry_max_seconds=retry_max_seconds,
        )
        self._timeout = timeout_seconds
        self._lease = timedelta(seconds=lease_seconds)
        self._disable_after = disable_after
        self._allow_private = allow_private
        self._retention = retention
        self._next_purge = time.monotonic() + 3600.0
        self._session: Any = None

    def subscription(self) -> Subscription:
        # The queue's own limit is wider than the deliveries' own: a delivery counts
        # its tries in its row; the queue also redelivers after crashes and waits out
        # leases, which are not tries.
        policy = QueuePolicy(
            max_attempts=self.max_attempts * 2 + 10,
            retry_base_seconds=self.backoff.retry_base_seconds,
            retry_max_seconds=self.backoff.retry_max_seconds,
        )
        return Subscription(WEBHOOKS, self.handle, policy=policy)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> Any:
        import aiohttp

        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=None if self._allow_private else public_only_resolver(),
                limit=100,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                headers={"User-Agent": f"goftogu-webhooks/{__version__}"},
            )
        return self._session

    async def handle(self, delivery: Delivery) -> None:
        job: WebhookDue = delivery.parse(WebhookDue)
        await self._purge_if_due()
        claim = await self._store.claim(job.delivery_id, self._lease)
        if isinstance(claim, Done):
            return
        if isinstance(claim, Busy):
            raise Retry(_whole_seconds(claim.seconds), "another attempt holds the delivery")
        row, subscription = claim.delivery, claim.subscription
        context = {
            "delivery_id": str(row.id),
            "event_type": row.event_type,
            "attempt": row.attempts,
        }
        if subscription is None or not subscription.active:
            await self._store.skipped(claim, "subscription disabled")
            log.info("webhook skipped: subscription disabled", extra=context)
            return
        status, error = await self._post(subscription, row.body, row, delivery_attempt=row.attempts)
        if status is not None and 200 <= status < 300:
            await self._store.delivered(claim, status)
            log.info("webhook delivered", extra={**context, "status": status})
            return
        failure = await self._store.failed(
            claim,
            response_status=status,
            error=error,
            max_attempts=self.max_attempts,
            disable_after=self._disable_after,
        )
        if failure.disabled:
            log.warning(
                "webhook subscription disabled after repeated failures",
                extra={**context, "subscription_id": str(subscription.id)},
            )
        if failure.final:
            log.warning("webhook failed for good", extra={**context, "error": error})
            return
        delay = _whole_seconds(self.backoff.backoff(row.attempts))
        log.info("webhook failed; will retry", extra={**context, "error": error, "in": delay})
        raise Retry(delay, error)

    async def _post(
        self, subscription: WebhookSubscription, body: str, row: Any, *, delivery_attempt: int
    ) -> tuple[int | None, str]:
        import aiohttp

        data = body.encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(subscription.secret, data),
            "Goftogu-Event-Id": str(row.event_id),
            "Goftogu-Event-Type": row.event_type,
            "Goftogu-Delivery-Id": str(row.id),
            "Goftogu-Delivery-Attempt": str(delivery_attempt),
        }
        try:
            async with self._http().post(
                subscription.url, data=data, headers=headers, allow_redirects=False
            ) as response:
                await response.read()
                return response.status, f"HTTP {response.status}"
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            return None, f"{type(error).__name__}: {error}"[:500]

    async def _purge_if_due(self) -> None:
        if time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + 3600.0
        purged = await self._store.purge(self._retention)
        if purged:
            log.info("old webhook deliveries deleted", extra={"rows": purged})
