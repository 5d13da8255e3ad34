"""The composition root: builds every client, store and service of a process once.

Each process (gateway, worker, notifier, CLI command) calls ``build_container``
at start-up and ``Container.aclose`` at shutdown. Nothing connects at import
time; each backend is chosen by its URL setting, the embedded implementation
when the URL is unset (P5). This module only builds: each step makes its parts
from the parts before it, and the result is one immutable ``Container``. Who
handles what state changes announce is wired here too, once: the bus's handlers
(``_announcements``). Transports (REST routes, Socket.IO bindings, queue
consumers) take the services they need from the container.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from goftogu.broadcast import Broadcaster, NoBroadcast, RoomEvent, clients_are_told
from goftogu.bus import Bus, Handlers
from goftogu.health import Probe
from goftogu.identity.accounts import Accounts
from goftogu.identity.auth import Authentication
from goftogu.identity.events import SessionsRevoked
from goftogu.identity.revocations import MemorySessionRevocations, SessionRevocations
from goftogu.identity.service import build_identity
from goftogu.messaging.access import Access
from goftogu.messaging.common import MessagesStored, MessageStored
from goftogu.messaging.mutes import ConversationMutes
from goftogu.messaging.notices import notify_recipients, notify_recipients_of_batch
from goftogu.messaging.service import Messaging, build_messaging
from goftogu.notifications.notifier import Notifier
from goftogu.notifications.preferences import NotificationPreferences
from goftogu.notifications.service import build_notifier, notify_subscription
from goftogu.notifications.subscriptions import PushSubscriptions
from goftogu.presence.operators import AvailabilitySeed
from goftogu.presence.service import build_operator_availability, build_user_presence
from goftogu.presence.users import UserPresence
from goftogu.queueing import Queue, QueuePolicy, Subscription
from goftogu.queueing.outbox import RelationalOutbox
from goftogu.queueing.relay import OutboxRelay, OutboxWritten
from goftogu.queueing.runner import Runner, subscriptions_for
from goftogu.ratelimit import RateLimiter
from goftogu.settings import Settings
from goftogu.storage.database import Database
from goftogu.storage.schema import ensure_up_to_date, upgrade_to_head
from goftogu.storage.work import UnitsOfWork
from goftogu.support.canned import CannedReplies
from goftogu.support.connections import LocalConnections
from goftogu.support.content import SupportContent
from goftogu.support.conversation import SupportConversations
from goftogu.support.csat import CsatLinks, CsatSurveys
from goftogu.support.desk import SupportDesk
from goftogu.support.drafts import DraftPreviews
from goftogu.support.events import ChatActivity
from goftogu.support.lifecycle import SupportLifecycle
from goftogu.support.outbox import SupportOutbox
from goftogu.support.queue import QueueMoved, QueuePositions
from goftogu.support.reports import SupportReports
from goftogu.support.routing import Router
from goftogu.support.service import (
    build_queue_positions,
    build_support,
    open_canned_store,
    open_chat_store,
    routing_subscription,
)
from goftogu.support.staff import StaffDirectory
from goftogu.support.teams import TeamDirectory, Teams
from goftogu.support.teams_port import TeamDirectory as TeamsPort
from goftogu.support.transcripts import Transcripts
from goftogu.webhooks.service import WebhookRecorder, Webhooks, WebhookSender
from goftogu.webhooks.store import WebhookStore

if TYPE_CHECKING:
    from collections.abc import Collection

    from pymongo import AsyncMongoClient
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

REDIS_POOL_SIZE = 64
REDIS_POOL_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class Container:
    """What a process runs on: settings, backends and the services built on them."""

    settings: Settings
    database: Database
    redis: Redis | None
    mongo: AsyncMongoClient[dict[str, Any]] | None
    probes: tuple[Probe, ...]
    queue: Queue
    relay: OutboxRelay
    work: UnitsOfWork
    rate_limiter: RateLimiter
    accounts: Accounts
    auth: Authentication
    messaging: Messaging
    presence: UserPresence
    notification_preferences: NotificationPreferences
    push_subscriptions: PushSubscriptions
    notifier: Notifier
    support: SupportDesk
    router: Router
    team_admin: Teams
    support_content: SupportContent
    support_lifecycle: SupportLifecycle
    support_reports: SupportReports
    support_conversations: SupportConversations
    csat: CsatSurveys
    drafts: DraftPreviews
    transcripts: Transcripts
    canned_replies: CannedReplies
    teams: TeamsPort
    webhooks: Webhooks
    # The queue handlers of this codebase; each process runs those of its queues.
    subscriptions: tuple[Subscription, ...]
    _exit: AsyncExitStack

    async def aclose(self) -> None:
        await self._exit.aclose()


async def build_container(
    settings: Settings,
    *,
    migrate: bool | None = None,
    broadcaster: Broadcaster | None = None,
) -> Container:
    """Connect the backends named by ``settings`` and build the services.

    ``migrate``: apply migrations first (default: the ``auto_migrate`` setting);
    otherwise refuse an out-of-date database with the command that fixes it.
    ``broadcaster``: how services reach connected clients (the gateway passes its
    Socket.IO server's; other processes publish through Redis when configured).
    """
    exit_stack = AsyncExitStack()
    try:
        return await _build(settings, exit_stack, migrate, broadcaster)
    except BaseException:
        await exit_stack.aclose()
        raise


async def _build(
    settings: Settings,
    exit_stack: AsyncExitStack,
    migrate: bool | None,
    broadcaster: Broadcaster | None,
) -> Container:
    database = Database(settings.effective_database_url)
    exit_stack.push_async_callback(database.close)
    await _prepare_schema(database, settings.should_auto_migrate if migrate is None else migrate)
    probes = [Probe("database", database.kind, database.kind == "sqlite", database.ping)]
    mongo = _connect_mongo(settings, database, exit_stack, probes)
    redis = _connect_redis(settings, exit_stack, probes)
    queue = _connect_queue(settings, exit_stack, probes)
    probes.append(_mail_probe(settings))

    chats = await open_chat_store(database, mongo)
    csat_links = _csat_links(settings)
    canned_store = await open_canned_store(database, mongo)
    relay = OutboxRelay(
        queue,
        [RelationalOutbox(database), SupportOutbox(chats, rating_link=csat_links.link)],
        batch_size=settings.outbox_batch_size,
        sweep_seconds=settings.outbox_sweep_seconds,
    )
    # Stopped before the queue and the database close (the stack unwinds backwards).
    exit_stack.push_async_callback(relay.stop)
    access = Access(database)
    clients = broadcaster or _broadcaster_for(settings)
    staff = StaffDirectory(database)

    async def seed() -> AvailabilitySeed:
        return AvailabilitySeed(
            statuses=await staff.statuses(),
            open_chats=await chats.open_chats_by_operator(),
            capacities=await staff.capacities(),
        )

    availability = build_operator_availability(settings, redis, seed)
    teams = TeamDirectory(database)
    positions = build_queue_positions(settings, chats, availability)
    revocations = _revocations(settings, redis)
    webhook_store = WebhookStore(database)
    recorder = WebhookRecorder(webhook_store, UnitsOfWork(database, _relay_only(relay)))
    work = UnitsOfWork(
        database, _announcements(clients, relay, access, positions, revocations, recorder)
    )

    rate_limiter = _rate_limiter(redis)
    accounts, auth = build_identity(settings, work, rate_limiter, revocations)
    messaging = build_messaging(work, access, settings)
    presence = build_user_presence(settings, redis, work, access.contacts_of)
    notifier = build_notifier(settings, work, presence, ConversationMutes(database))
    connections = LocalConnections(availability, lease_seconds=settings.operator_lease_seconds)
    exit_stack.push_async_callback(connections.aclose)
    support, router = build_support(
        settings,
        chats,
        availability,
        staff,
        work,
        positions=positions,
        teams=teams,
        connections=connections,
        join_before_write=clients.join_user,
    )
    drafts = DraftPreviews(
        chats,
        teams,
        work,
        interval=settings.support_draft_interval_ms / 1000,
        max_length=settings.max_message_length,
        default_on=settings.support_typing_preview,
    )
    exit_stack.push_async_callback(drafts.aclose)
    sender = WebhookSender(
        webhook_store,
        max_attempts=settings.webhook_max_attempts,
        retry_base_seconds=settings.webhook_retry_base_seconds,
        retry_max_seconds=settings.webhook_retry_max_seconds,
        timeout_seconds=settings.webhook_timeout_seconds,
        lease_seconds=settings.webhook_send_lease_seconds,
        disable_after=settings.webhook_disable_after_failures,
        allow_private=settings.webhook_allow_private_addresses,
    )
    exit_stack.push_async_callback(sender.aclose)
    return Container(
        settings=settings,
        database=database,
        redis=redis,
        mongo=mongo,
        probes=tuple(probes),
        queue=queue,
        relay=relay,
        work=work,
        rate_limiter=rate_limiter,
        accounts=accounts,
        auth=auth,
        messaging=messaging,
        presence=presence,
        notification_preferences=NotificationPreferences(database),
        push_subscriptions=PushSubscriptions(
            database,
            vapid_public_key=settings.vapid_public_key if settings.push_configured else None,
            endpoints=settings.push_endpoint_hosts,
        ),
        notifier=notifier,
        support=support,
        router=router,
        team_admin=Teams(teams, staff),
        support_content=SupportContent(chats, work),
        support_lifecycle=SupportLifecycle(support, work),
        support_reports=SupportReports(chats),
        support_conversations=SupportConversations(support, messaging.attachments, work),
        csat=CsatSurveys(chats, csat_links, work),
        transcripts=Transcripts(chats, work),
        drafts=drafts,
        canned_replies=CannedReplies(canned_store, chats, staff, teams, work),
        teams=teams,
        webhooks=Webhooks(
            webhook_store,
            allow_private=settings.webhook_allow_private_addresses,
            max_subscriptions=settings.webhook_max_subscriptions,
        ),
        subscriptions=(
            routing_subscription(router),
            notify_subscription(settings, notifier),
            sender.subscription(),
        ),
        _exit=exit_stack,
    )


def _announcements(
    broadcaster: Broadcaster,
    relay: OutboxRelay,
    access: Access,
    positions: QueuePositions,
    revocations: SessionRevocations,
    webhooks: WebhookRecorder,
) -> Bus:
    """Who handles what a unit of work announces (``goftogu.bus``): clients are told
    through ``broadcaster``, the relay wakes for what was written for it, a stored
    message's notifier job commits with it, the customers behind a change in the
    support queue hear their new position, and revoked sessions stop at once
    (their tokens refused on every node, then their sockets ended), and support
    activity becomes webhook deliveries (recorded after the document's write: the
    document store commits on its own)."""

    async def wake_relay(_written: OutboxWritten) -> None:
        relay.wake()

    async def refuse_tokens(revoked: SessionsRevoked) -> None:
        await revocations.revoke(revoked.session_ids, revoked.reason)

    async def end_sockets(revoked: SessionsRevoked) -> None:
        await broadcaster.end_sockets(revoked.session_ids, revoked.reason)

    async def tell(event: RoomEvent) -> None:
        await broadcaster.emit(event.name, event.payload, room=event.room)

    async def queue_moved(moved: QueueMoved) -> None:
        await positions.moved(moved, tell)

    async def record_webhooks(activity: ChatActivity) -> None:
        await webhooks.record(activity)

    handlers = clients_are_told(Handlers(), broadcaster)
    return (
        handlers.after_commit(OutboxWritten, wake_relay)
        .after_commit(QueueMoved, queue_moved)
        .before_commit(MessageStored, notify_recipients(access))
        .before_commit(MessagesStored, notify_recipients_of_batch())
        .after_commit(SessionsRevoked, refuse_tokens)
        .after_commit(SessionsRevoked, end_sockets)
        .after_commit(ChatActivity, record_webhooks)
        .build()
    )


def _relay_only(relay: OutboxRelay) -> Bus:
    """The bus of units of work that only leave jobs for the relay (webhook
    deliveries recorded after a support write): it wakes the relay after them."""

    async def wake_relay(_written: OutboxWritten) -> None:
        relay.wake()

    return Handlers().after_commit(OutboxWritten, wake_relay).build()


def _csat_links(settings: Settings) -> CsatLinks:
    return CsatLinks(
        settings.secret_key.get_secret_value(),
        ttl=timedelta(days=settings.support_csat_link_days),
        public_url=settings.public_url,
    )


def runner_for(container: Container, queues: Collection[str] | None) -> Runner:
    """A runner of the container's subscriptions for ``queues`` (None: all) and its relay."""
    return Runner(
        container.queue,
        subscriptions_for(container.subscriptions, queues),
        container.relay,
        default_prefetch=container.settings.queue_prefetch,
    )


def _broadcaster_for(settings: Settings) -> Broadcaster:
    """Outside the gateway, clients are reached through the gateways' Redis fan-out."""
    if settings.redis_url:
        from goftogu.realtime.broadcast import RedisBroadcaster

        return RedisBroadcaster(settings.redis_url, settings.fanout_channel)
    return NoBroadcast()


async def _prepare_schema(database: Database, migrate: bool) -> None:
    if migrate:
        await upgrade_to_head(database.engine)
    else:
        await ensure_up_to_date(database.engine)


def _connect_mongo(
    settings: Settings, database: Database, exit_stack: AsyncExitStack, probes: list[Probe]
) -> AsyncMongoClient[dict[str, Any]] | None:
    if not settings.mongodb_url:
        probes.append(Probe("documents", f"{database.kind} json column", True))
        return None
    from pymongo import AsyncMongoClient

    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongodb_url, serverSelectionTimeoutMS=3000, tz_aware=True
    )
    exit_stack.push_async_callback(mongo.close)

    async def ping_mongo() -> None:
        await mongo.admin.command("ping")

    probes.append(Probe("documents", "mongodb", False, ping_mongo))
    return mongo


def _connect_redis(
    settings: Settings, exit_stack: AsyncExitStack, probes: list[Probe]
) -> Redis | None:
    if not settings.redis_url:
        probes.append(Probe("presence", "in-process", True))
        return None
    from redis.asyncio import BlockingConnectionPool, Redis

    # redis-py's default pool fails a command at once when its 100 connections are
    # busy; a burst of sockets connecting or leaving together (a reconnect storm)
    # needs more than that. A blocking pool makes the burst wait its turn instead.
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        decode_responses=True,
        max_connections=REDIS_POOL_SIZE,
        timeout=REDIS_POOL_WAIT_SECONDS,
    )
    redis: Redis = Redis.from_pool(pool)
    exit_stack.push_async_callback(redis.aclose)

    async def ping_redis() -> None:
        await redis.ping()

    probes.append(Probe("presence", "redis", False, ping_redis))
    return redis


def _connect_queue(settings: Settings, exit_stack: AsyncExitStack, probes: list[Probe]) -> Queue:
    policy = QueuePolicy(
        max_attempts=settings.queue_max_attempts,
        retry_base_seconds=settings.queue_retry_base_seconds,
        retry_max_seconds=settings.queue_retry_max_seconds,
    )
    queue: Queue
    if settings.broker_url:
        from goftogu.queueing.rabbitmq import RabbitQueue

        # One long-lived connection, opened at first use; the probe reports it.
        rabbit = RabbitQueue(
            settings.broker_url, prefix=settings.queue_prefix, default_policy=policy
        )
        probes.append(Probe("queue", "rabbitmq", False, rabbit.ping))
        queue = rabbit
    else:
        from goftogu.queueing.memory import MemoryQueue

        queue = MemoryQueue(default_policy=policy)
        probes.append(Probe("queue", "in-process", True))
    exit_stack.push_async_callback(queue.close)
    return queue


def _mail_probe(settings: Settings) -> Probe:
    if not settings.smtp_url:
        return Probe("mail", "log", True)
    smtp_url = settings.smtp_url

    async def check_smtp() -> None:
        from goftogu.notifications.smtp import smtp_client_for

        client = smtp_client_for(smtp_url, timeout=2)
        async with client:
            await client.noop()

    return Probe("mail", "smtp", False, check_smtp)


def _revocations(settings: Settings, redis: Redis | None) -> SessionRevocations:
    ttl = settings.access_token_ttl_seconds
    if redis is not None:
        from goftogu.identity.revocations_redis import RedisSessionRevocations

        return RedisSessionRevocations(redis, ttl)
    return MemorySessionRevocations(ttl)


def _rate_limiter(redis: Redis | None) -> RateLimiter:
    if redis is not None:
        from goftogu.ratelimit.redis import RedisRateLimiter

        return RedisRateLimiter(redis)
    from goftogu.ratelimit.memory import MemoryRateLimiter

    return MemoryRateLimiter()
