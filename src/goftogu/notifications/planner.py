"""Deciding who gets told what, through which channel: triggers become deliveries.

Each trigger is handled in one transaction that writes its deliveries (with
their ``notify.deliver`` jobs in the outbox) and its digest items, so a
trigger handled twice after a crash plans nothing twice (unique keys).

Messages to a user with no live connection: a push at once (one notification
per conversation on the device: same tag, same Web Push topic), and the
message joins the user's open digest of that conversation. The first message
opens the digest and schedules its end (a delayed outbox job); at the end one
email sums up every message gathered, unless the user came back meanwhile.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from goftogu.bus import Transaction
from goftogu.identity.models import Role, User
from goftogu.ids import new_id
from goftogu.notifications.jobs import (
    NOTIFY,
    ChatAssigned,
    DigestDue,
    MessageCreated,
    OperatorReplied,
    TicketCreated,
    TranscriptRequested,
)
from goftogu.notifications.ledger import plan_delivery
from goftogu.notifications.models import (
    Channel,
    NotificationDigest,
    NotificationDigestItem,
    NotificationKind,
    PushSubscription,
)
from goftogu.notifications.ports import MuteSettings, OnlineUsers
from goftogu.notifications.preferences import DEFAULT_PREFERENCES, Preferences, preferences_of
from goftogu.queueing.outbox import add_to_outbox
from goftogu.storage.models import utcnow
from goftogu.storage.work import UnitsOfWork

log = logging.getLogger(__name__)

# A digest job published a little before its due time (clocks of two hosts) is fine.
_EARLY_TOLERANCE = timedelta(seconds=1)
_OPEN_DIGEST_TRIES = 3


class NotYet(Exception):
    """A digest's window is not over: look again in ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"digest due in {seconds:.1f} s")
        self.seconds = seconds


@dataclass
class Recipient:
    user: User
    preferences: Preferences = DEFAULT_PREFERENCES
    subscriptions: list[PushSubscription] = field(default_factory=list)

    @property
    def wants_email(self) -> bool:
        return self.preferences.email and bool(self.user.email)


def _insert(session: AsyncSession) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


class Planner:
    """Handles the triggers of the ``notify`` queue and the end of digests."""

    def __init__(
        self,
        work: UnitsOfWork,
        *,
        presence: OnlineUsers,
        mutes: MuteSettings,
        digest_seconds: float,
        push_enabled: bool,
    ) -> None:
        self._db = work.database
        self._work = work
        self.presence = presence
        self.mutes = mutes
        self._window = timedelta(seconds=digest_seconds)
        self._push = push_enabled

    # --- triggers ------------------------------------------------------------

    async def message_created(self, job: MessageCreated) -> None:
        """Tell each recipient who is away, unless they muted the conversation."""
        away = await self._away(job.conversation, set(job.recipient_ids) - {job.sender_id})
        if not away:
            return
        context = job.model_dump(mode="json")
        item = _Item(job.message_id, job.sender_id, job.preview, job.created_at, job.message_type)
        async with self._work.transaction() as work:
            session = work.session
            recipients = await self._recipients(session, away)
            for recipient in recipients:
                await self._plan_push(
                    work,
                    f"message:{job.message_id}",
                    NotificationKind.message,
                    recipient,
                    context,
                )
            await self._add_to_digests(
                work,
                [r.user.id for r in recipients if r.wants_email],
                job.conversation,
                NotificationKind.messages,
                job.conversation_title,
                item,
            )

    async def operator_replied(self, job: OperatorReplied) -> None:
        """Tell the customer, if they are away: push now, email as a digest."""
        address = f"support:{job.chat_id}"
        if not await self._away(address, {job.customer_id}):
            return
        context = job.model_dump(mode="json")
        item = _Item(job.message_id, job.operator_id, job.preview, job.created_at)
        async with self._work.transaction() as work:
            session = work.session
            recipients = await self._recipients(session, [job.customer_id])
            for recipient in recipients:
                notification = f"reply:{job.chat_id}:{job.message_id}"
                await self._plan_push(
                    work, notification, NotificationKind.support_reply, recipient, context
                )
            await self._add_to_digests(
                work,
                [r.user.id for r in recipients if r.wants_email],
                address,
                NotificationKind.support_replies,
                None,
                item,
            )

    async def ticket_created(self, job: TicketCreated) -> None:
        """Tell every operator and admin: email and push."""
        context = job.model_dump(mode="json")
        notification = f"ticket:{job.chat_id}"
        async with self._work.transaction() as work:
            session = work.session
            staff = await session.scalars(
                select(User.id).where(
                    User.role.in_([Role.operator.value, Role.admin.value]),
                    User.is_visitor.is_(False),
                )
            )
            for recipient in await self._recipients(session, list(staff)):
                await self._plan_push(
                    work, notification, NotificationKind.ticket_created, recipient, context
                )
                if recipient.wants_email:
                    await plan_delivery(
                        work,
                        notification=notification,
                        kind=NotificationKind.ticket_created,
                        channel=Channel.email,
                        user_id=recipient.user.id,
                        context=context,
                    )

    async def transcript_requested(self, job: TranscriptRequested) -> None:
        """One email to the customer, planned once per request (the ledger's key):
        asked for, it goes whenever they have an address; on close, only when their
        email notifications are on."""
        context = job.model_dump(mode="json")
        notification = f"transcript:{job.chat_id}:{job.request_id}"
        async with self._work.transaction() as work:
            for recipient in await self._recipients(work.session, [job.customer_id]):
                wanted = bool(recipient.user.email) if job.requested else recipient.wants_email
                if wanted:
                    await plan_delivery(
                        work,
                        notification=notification,
                        kind=NotificationKind.support_transcript,
                        channel=Channel.email,
                        user_id=recipient.user.id,
                        context=context,
                    )

    async def chat_assigned(self, job: ChatAssigned) -> None:
        """Push to the operator's browsers (online or not: a tab in the background
        or a closed console should still ring)."""
        context = job.model_dump(mode="json")
        notification = f"assigned:{job.chat_id}:{job.operator_id}:{job.assigned_at.isoformat()}"
        async with self._work.transaction() as work:
            session = work.session
            for recipient in await self._recipients(session, [job.operator_id]):
                await self._plan_push(
                    work, notification, NotificationKind.chat_assigned, recipient, context
                )

    # --- digests -------------------------------------------------------------

    async def digest_due(self, job: DigestDue) -> None:
        """Close the digest and plan its email, unless its user is back online, muted
        the conversation meanwhile, or turned email off. Raises ``NotYet`` early."""
        async with self._db.sessions() as session:
            digest = await session.get(NotificationDigest, job.digest_id)
        if digest is None or digest.closed_at is not None:
            return
        now = utcnow()
        if digest.due_at - now > _EARLY_TOLERANCE:
            raise NotYet((digest.due_at - now).total_seconds())
        skip = None
        if not await self._away(digest.conversation, {digest.user_id}):
            skip = "online_or_muted"
        async with self._work.transaction() as work:
            session = work.session
            digest = await session.scalar(
                select(NotificationDigest)
                .where(
                    NotificationDigest.id == job.digest_id, NotificationDigest.closed_at.is_(None)
                )
                .with_for_update()
            )
            if digest is None:
                return
            digest.closed_at = now
            recipients = await self._recipients(session, [digest.user_id]) if skip is None else []
            if skip is None and not (recipients and recipients[0].wants_email):
                skip = "email_off"
            if skip is None:
                await plan_delivery(
                    work,
                    notification=f"digest:{digest.id}",
                    kind=digest.kind,
                    channel=Channel.email,
                    user_id=digest.user_id,
                    context={"digest_id": str(digest.id)},
                )
            digest.outcome = skip or "queued"
        log.info(
            "digest closed",
            extra={"digest_id": str(job.digest_id), "outcome": skip or "queued"},
        )

    async def _add_to_digests(
        self,
        work: Transaction,
        user_ids: list[uuid.UUID],
        conversation: str,
        kind: NotificationKind,
        title: str | None,
        item: _Item,
    ) -> None:
        """Add the message to each user's open digest of ``conversation`` (opening the
        missing ones): a few statements per message, however large the group."""
        session = work.session
        for chunk in _chunks(sorted(user_ids)):
            digests = await self._open_digests(work, chunk, conversation, kind, title)
            now = utcnow()
            rows = [
                {
                    "id": new_id(),
                    "created_at": now,
                    "updated_at": now,
                    "digest_id": digests[user_id],
                    "user_id": user_id,
                    "message_id": item.message_id,
                    "sender_id": item.sender_id,
                    "message_type": item.message_type,
                    "preview": item.preview[:1000],
                    "sent_at": item.at,
                }
                for user_id in chunk
            ]
            await session.execute(
                _insert(session)(NotificationDigestItem)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["user_id", "message_id"])
            )

    async def _open_digests(
        self,
        work: Transaction,
        user_ids: list[uuid.UUID],
        conversation: str,
        kind: NotificationKind,
        title: str | None,
    ) -> dict[uuid.UUID, uuid.UUID]:
        """Each user's open digest of ``conversation``, locked against closing while
        this transaction adds to it; new ones (with the job that ends each) where none
        is open. Rows are locked and created in user order, so two transactions on the
        same conversation wait for each other instead of deadlocking."""
        session = work.session
        found: dict[uuid.UUID, uuid.UUID] = {}
        for _ in range(_OPEN_DIGEST_TRIES):
            missing = [user_id for user_id in user_ids if user_id not in found]
            if not missing:
                return found
            rows = await session.execute(
                select(NotificationDigest.user_id, NotificationDigest.id)
                .where(
                    NotificationDigest.user_id.in_(missing),
                    NotificationDigest.conversation == conversation,
                    NotificationDigest.closed_at.is_(None),
                )
                .order_by(NotificationDigest.user_id)
                .with_for_update()
            )
            found.update({row[0]: row[1] for row in rows})
            missing = [user_id for user_id in user_ids if user_id not in found]
            if not missing:
                return found
            now = utcnow()
            created = await session.execute(
                _insert(session)(NotificationDigest)
                .values(
                    [
                        {
                            "id": new_id(),
                            "created_at": now,
                            "updated_at": now,
                            "user_id": user_id,
                            "conversation": conversation,
                            "kind": kind.value,
                            "title": title,
                            "due_at": now + self._window,
                        }
                        for user_id in missing
                    ]
                )
                .on_conflict_do_nothing(
                    index_elements=["user_id", "conversation"],
                    index_where=NotificationDigest.closed_at.is_(None),
                )
                .returning(NotificationDigest.user_id, NotificationDigest.id)
            )
            for user_id, digest_id in created:
                found[user_id] = digest_id
                await add_to_outbox(
                    work,
                    NOTIFY,
                    DigestDue(digest_id=digest_id),
                    message_id=f"digest_due:{digest_id}",
                    delay=self._window.total_seconds(),
                )
        # Another transaction kept opening and closing the same digests: retry the job.
        raise RuntimeError("could not open the digests: they kept changing under us")

    # --- recipients ------------------------------------------------------------

    async def _away(self, conversation: str, user_ids: set[uuid.UUID]) -> list[uuid.UUID]:
        """Those of ``user_ids`` with no live connection who did not mute ``conversation``."""
        if not user_ids:
            return []
        candidates = user_ids - await self.mutes.muted_among(conversation, user_ids, utcnow())
        if not candidates:
            return []
        online = await self.presence.online_among(candidates)
        return sorted(candidates - online)

    async def _recipients(
        self, session: AsyncSession, user_ids: Collection[uuid.UUID]
    ) -> list[Recipient]:
        if not user_ids:
            return []
        users = list(await session.scalars(select(User).where(User.id.in_(list(user_ids)))))
        preferences = await preferences_of(session, [user.id for user in users])
        recipients = {u.id: Recipient(u, preferences[u.id]) for u in users}
        if self._push:
            subscriptions = await session.scalars(
                select(PushSubscription)
                .where(PushSubscription.user_id.in_(list(recipients)))
                .order_by(PushSubscription.created_at)
            )
            for subscription in subscriptions:
                recipients[subscription.user_id].subscriptions.append(subscription)
        return [recipients[user.id] for user in sorted(users, key=lambda u: u.id)]

    async def _plan_push(
        self,
        work: Transaction,
        notification: str,
        kind: NotificationKind,
        recipient: Recipient,
        context: dict[str, Any],
    ) -> None:
        if not recipient.preferences.push:
            return
        for subscription in recipient.subscriptions:
            await plan_delivery(
                work,
                notification=notification,
                kind=kind,
                channel=Channel.push,
                user_id=recipient.user.id,
                subscription_id=subscription.id,
                context=context,
            )


def _chunks(values: list[uuid.UUID], size: int = 500) -> list[list[uuid.UUID]]:
    """Slices small enough for any database's limit on statement parameters."""
    return [values[start : start + size] for start in range(0, len(values), size)]


@dataclass(frozen=True)
class _Item:
    message_id: str
    sender_id: uuid.UUID | None
    preview: str
    at: datetime
    message_type: str = "text"
