"""A notifier with its real peers, for tests: the database, a queue, a loopback SMTP
server, a decrypting push service, users and their browsers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from goftogu.bootstrap import Container
from goftogu.identity.accounts import identifier_key
from goftogu.identity.models import Role, User
from goftogu.identity.tokens import Principal
from goftogu.ids import new_id
from goftogu.notifications.jobs import NOTIFY, Trigger
from goftogu.notifications.models import (
    NotificationDelivery,
    NotificationDigest,
    NotificationDigestItem,
)
from goftogu.notifications.schemas import NotificationSettingsUpdate, PushSubscriptionCreate
from goftogu.notifications.triggers import enqueue_notification
from goftogu.presence.users import UserPresence
from goftogu.queueing import Delivery, Handler, Reject, Subscription
from goftogu.queueing.outbox import OutboxMessage
from goftogu.queueing.runner import Runner, subscriptions_for
from goftogu.storage.models import utcnow
from tests.helpers.smtp import SmtpServer
from tests.helpers.webpush import Browser, PushService

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def principal(user: User) -> Principal:
    return Principal(user_id=user.id, role=Role(user.role), session_id=new_id())


@dataclass
class NotifyWorld:
    container: Container
    smtp: SmtpServer
    push: PushService | None
    browsers: dict[uuid.UUID, list[Browser]] = field(default_factory=dict)
    in_flight: int = 0
    done: set[str] = field(default_factory=set)  # message ids whose handler settled them

    def runner(self) -> Runner:
        """A runner of the container's ``notify`` subscription whose handlers are
        counted, so that ``settled`` knows when all is done."""
        watched = [
            replace(subscription, handler=self._counted(subscription))
            for subscription in subscriptions_for(self.container.subscriptions, {NOTIFY})
        ]
        return Runner(
            self.container.queue,
            watched,
            self.container.relay,
            default_prefetch=self.container.settings.queue_prefetch,
        )

    def _counted(self, subscription: Subscription) -> Handler:
        async def handler(delivery: Delivery) -> None:
            self.in_flight += 1
            try:
                await subscription.handler(delivery)
            except Reject:
                self.done.add(delivery.message_id)
                raise
            else:
                self.done.add(delivery.message_id)
            finally:
                self.in_flight -= 1

        return handler

    @property
    def presence(self) -> UserPresence:
        return self.container.presence

    async def user(
        self,
        name: str,
        *,
        role: Role = Role.customer,
        email: str | None = "",
        display_name: str | None = None,
        visitor: bool = False,
    ) -> User:
        """A user straight in the table (passwords are not this test's business)."""
        address = f"{name}@example.com" if email == "" else email
        user = User(
            username=name,
            username_key=identifier_key(name),
            email=address,
            email_key=identifier_key(address) if address else None,
            display_name=display_name,
            password_hash=None if visitor else "not-a-real-hash",
            role=role.value,
            is_visitor=visitor,
        )
        async with self.container.database.transaction() as session:
            session.add(user)
        return user

    async def subscribe(self, user: User, answer: int = 201) -> Browser:
        assert self.push is not None
        browser = self.push.browser(answer)
        await self.container.push_subscriptions.subscribe(
            principal(user), PushSubscriptionCreate.model_validate(browser.subscription), "test"
        )
        self.browsers.setdefault(user.id, []).append(browser)
        return browser

    async def prefer(self, user: User, **changes: Any) -> None:
        await self.container.notification_preferences.update_for(
            principal(user), NotificationSettingsUpdate(**changes)
        )

    async def trigger(self, *jobs: Trigger) -> None:
        """Producers' way: the jobs go to the outbox in one transaction."""
        async with self.container.work.transaction() as work:
            for job in jobs:
                await enqueue_notification(work, job)

    async def handle(self, job: Any) -> None:
        """Run the notifier's handler on ``job`` directly (no queue)."""
        body = job.model_dump_json().encode()
        await self.container.notifier.handle(Delivery(NOTIFY, str(new_id()), body))

    async def deliveries(self) -> list[NotificationDelivery]:
        async with self.container.database.sessions() as session:
            rows = await session.scalars(
                select(NotificationDelivery).order_by(NotificationDelivery.created_at)
            )
            return list(rows)

    async def digests(self) -> list[NotificationDigest]:
        async with self.container.database.sessions() as session:
            rows = await session.scalars(
                select(NotificationDigest).order_by(NotificationDigest.created_at)
            )
            return list(rows)

    async def digest_items(self) -> list[NotificationDigestItem]:
        async with self.container.database.sessions() as session:
            return list(await session.scalars(select(NotificationDigestItem)))

    async def end_digest_windows(self) -> None:
        """Let the digest windows run out now (instead of waiting for them)."""
        now = utcnow()
        async with self.container.database.transaction() as session:
            await session.execute(
                update(NotificationDigest)
                .where(NotificationDigest.closed_at.is_(None))
                .values(due_at=now)
            )
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.message_id.like("digest_due:%"))
                .values(available_at=now)
            )
        self.container.relay.wake()

    async def settled(self) -> bool:
        """Nothing left to do: every due outbox row published and its job handled to the
        end (acked or dead-lettered), every due digest closed, every delivery finished."""
        if self.in_flight or await self.container.queue.depth(NOTIFY):
            return False
        dead = {letter.message_id for letter in await self.container.queue.dead_letters(NOTIFY)}
        now = utcnow()
        async with self.container.database.sessions() as session:
            due_jobs = set(
                await session.scalars(
                    select(OutboxMessage.message_id).where(OutboxMessage.available_at <= now)
                )
            )
            pending = due_jobs - self.done - dead or None
            due = await session.scalar(
                select(NotificationDigest.id)
                .where(NotificationDigest.closed_at.is_(None), NotificationDigest.due_at <= now)
                .limit(1)
            )
            unfinished = await session.scalar(
                select(NotificationDelivery.id)
                .where(NotificationDelivery.status.in_(["queued", "sending"]))
                .limit(1)
            )
        idle = self.in_flight == 0 and await self.container.queue.depth(NOTIFY) == 0
        return idle and pending is None and due is None and unfinished is None

    def emails_to(self, address: str) -> list[Any]:
        return [m for m in self.smtp.received() if address in m.recipients]


def statuses(deliveries: Sequence[NotificationDelivery]) -> list[tuple[str, str, str]]:
    return sorted((d.kind, d.channel, d.status) for d in deliveries)
