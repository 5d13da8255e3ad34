"""The composition root: builds every client, store and service of a process once.

Each process (gateway, worker, notifier, CLI command) calls ``build_container``
at start-up and ``Container.aclose`` at shutdown. Nothing connects at import
time; each backend is chosen by its URL setting, the embedded implementation
when the URL is unset (P5).
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from goftogu.broadcast import Broadcaster, NoBroadcast
from goftogu.health import Probe
from goftogu.identity.accounts import Accounts
from goftogu.identity.auth import Authentication, AuthRules
from goftogu.identity.passwords import PasswordHashes
from goftogu.identity.tokens import AccessTokens, Principal
from goftogu.messaging.common import MessageStored
from goftogu.messaging.service import Messaging, build_messaging
from goftogu.notifications.notifier import Notifier
from goftogu.notifications.ports import MuteSettings, NoMutes, OnlineUsers
from goftogu.notifications.preferences import NotificationPreferences
from goftogu.notifications.subscriptions import PushSubscriptions
from goftogu.presence.users import ConnectionStore, UserPresence
from goftogu.presence.users_memory import MemoryConnectionStore
from goftogu.queueing import Queue, QueuePolicy, Subscription
from goftogu.queueing.memory import MemoryQueue
from goftogu.queueing.outbox import RelationalOutbox
from goftogu.queueing.relay import OutboxRelay
from goftogu.ratelimit import RateLimiter, RateRule
from goftogu.ratelimit.memory import MemoryRateLimiter
from goftogu.realtime.handlers import SocketBindings
from goftogu.settings import Settings
from goftogu.storage.database import Database
from goftogu.storage.schema import ensure_up_to_date, upgrade_to_head
from goftogu.support.desk import SupportDesk
from goftogu.support.routing import Router

if TYPE_CHECKING:
    from pymongo import AsyncMongoClient
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

REDIS_POOL_SIZE = 64
REDIS_POOL_WAIT_SECONDS = 10.0


@dataclass
class Container:
    """What a process runs on: settings, backends and the services built on them."""

    settings: Settings
    database: Database
    redis: Redis | None = None
    mongo: AsyncMongoClient[dict[str, Any]] | None = None
    probes: list[Probe] = field(default_factory=list)
    broadcaster: Broadcaster = field(default_factory=NoBroadcast)
    rate_limiter: RateLimiter = field(default_factory=MemoryRateLimiter)
    socket_bindings: SocketBindings = field(default_factory=SocketBindings)
    presence: UserPresence = field(init=False)
    queue: Queue = field(default_factory=MemoryQueue)
    relay: OutboxRelay = field(init=False)
    # Queue handlers this codebase has; each process runs those of its queues
    # (goftogu.queueing.runner). Domains append theirs in their _build_* step.
    subscriptions: list[Subscription] = field(default_factory=list)
    accounts: Accounts = field(init=False)
    auth: Authentication = field(init=False)
    messaging: Messaging = field(init=False)
    # Who has a live connection: the presence domain replaces this in-process one.
    online_users: OnlineUsers = field(init=False)
    # Who muted which conversation: the messaging domain replaces this.
    mute_settings: MuteSettings = field(default_factory=NoMutes)
    notification_preferences: NotificationPreferences = field(init=False)
    push_subscriptions: PushSubscriptions = field(init=False)
    notifier: Notifier = field(init=False)
    support: SupportDesk = field(init=False)
    router: Router = field(init=False)
    _exit: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def aclose(self) -> None:
        await self._exit.aclose()


async def _check_smtp(url: str) -> None:
    from goftogu.notifications.smtp import smtp_client_for

    client = smtp_client_for(url, timeout=2)
    async with client:
        await client.noop()


def _database_probe(database: Database) -> Probe:
    embedded = database.kind == "sqlite"
    return Probe("database", database.kind, embedded, database.ping)


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
    database = Database(settings.effective_database_url)
    container = Container(
        settings=settings, database=database, broadcaster=broadcaster or _broadcaster_for(settings)
    )
    container._exit.push_async_callback(database.close)
    try:
        await _prepare_schema(
            database, settings.should_auto_migrate if migrate is None else migrate
        )
        _connect_backends(container)
        _build_queueing(container)
        _build_identity(container)
        _build_messaging(container)
        _build_presence(container)
        _build_notifications(container)
        await _build_support(container)
        _bind_support_sockets(container)
    except BaseException:
        await container.aclose()
        raise
    return container


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


def _connect_backends(container: Container) -> None:
    settings, probes = container.settings, container.probes
    probes.append(_database_probe(container.database))

    if settings.mongodb_url:
        from pymongo import AsyncMongoClient

        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.mongodb_url, serverSelectionTimeoutMS=3000, tz_aware=True
        )
        container.mongo = mongo
        container._exit.push_async_callback(mongo.close)

        async def ping_mongo() -> None:
            await mongo.admin.command("ping")

        probes.append(Probe("documents", "mongodb", False, ping_mongo))
    else:
        probes.append(Probe("documents", f"{container.database.kind} json column", True))

    if settings.redis_url:
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
        container.redis = redis
        container._exit.push_async_callback(redis.aclose)

        async def ping_redis() -> None:
            await redis.ping()

        probes.append(Probe("presence", "redis", False, ping_redis))
    else:
        probes.append(Probe("presence", "in-process", True))

    policy = QueuePolicy(
        max_attempts=settings.queue_max_attempts,
        retry_base_seconds=settings.queue_retry_base_seconds,
        retry_max_seconds=settings.queue_retry_max_seconds,
    )
    if settings.broker_url:
        from goftogu.queueing.rabbitmq import RabbitQueue

        # One long-lived connection, opened at first use; the probe reports it.
        container.queue = RabbitQueue(
            settings.broker_url, prefix=settings.queue_prefix, default_policy=policy
        )
        probes.append(Probe("queue", "rabbitmq", False, container.queue.ping))
    else:
        container.queue = MemoryQueue(default_policy=policy)
        probes.append(Probe("queue", "in-process", True))
    container._exit.push_async_callback(container.queue.close)

    if settings.smtp_url:
        smtp_url = settings.smtp_url
        probes.append(Probe("mail", "smtp", False, lambda: _check_smtp(smtp_url)))
    else:
        probes.append(Probe("mail", "log", True))


def _build_queueing(container: Container) -> None:
    settings = container.settings
    container.relay = OutboxRelay(
        container.queue,
        [RelationalOutbox(container.database)],
        batch_size=settings.outbox_batch_size,
        sweep_seconds=settings.outbox_sweep_seconds,
    )
    # Stopped before the queue and the database close (the exit stack unwinds backwards).
    container._exit.push_async_callback(container.relay.stop)


def _build_identity(container: Container) -> None:
    settings = container.settings
    if container.redis is not None:
        from goftogu.ratelimit.redis import RedisRateLimiter

        container.rate_limiter = RedisRateLimiter(container.redis)
    hashes = PasswordHashes(
        memory_kib=settings.password_hash_memory_kib,
        time_cost=settings.password_hash_time_cost,
        parallelism=settings.password_hash_parallelism,
    )
    tokens = AccessTokens(settings.secret_key.get_secret_value(), settings.access_token_ttl_seconds)
    rules = AuthRules(
        login_per_ip=RateRule.parse("login-ip", settings.rate_login_per_ip),
        login_per_account=RateRule.parse("login-account", settings.rate_login_per_account),
        register_per_ip=RateRule.parse("register-ip", settings.rate_register_per_ip),
    )
    container.accounts = Accounts(container.database, hashes)
    container.auth = Authentication(
        container.database,
        hashes,
        tokens,
        container.rate_limiter,
        rules,
        settings.refresh_token_ttl_seconds,
    )


async def _build_support(container: Container) -> None:
    """The support desk: its chat store (MongoDB, else the relational database),
    operator availability (Redis, else in-process), the routing consumer and the
    document outbox."""
    from datetime import timedelta

    from goftogu.presence.operators import (
        AvailabilitySeed,
        MemoryOperatorAvailability,
        OperatorAvailability,
    )
    from goftogu.queueing import SUPPORT_ROUTING
    from goftogu.support.connections import LocalConnections
    from goftogu.support.desk import SupportRules
    from goftogu.support.events import SupportEvents
    from goftogu.support.outbox import SupportOutbox
    from goftogu.support.staff import StaffDirectory
    from goftogu.support.store import ChatStore

    settings = container.settings
    store: ChatStore
    if container.mongo is not None:
        from goftogu.support.store_mongo import MongoChatStore

        store = MongoChatStore(container.mongo)
    else:
        from goftogu.support.store_sql import SqlChatStore

        store = SqlChatStore(container.database)
    await store.prepare()
    staff = StaffDirectory(container.database)

    async def seed() -> AvailabilitySeed:
        return AvailabilitySeed(
            statuses=await staff.statuses(), open_chats=await store.open_chats_by_operator()
        )

    lease, hold = settings.operator_lease_seconds, settings.support_hold_seconds
    availability: OperatorAvailability
    if container.redis is not None:
        from goftogu.presence.operators_redis import RedisOperatorAvailability

        availability = RedisOperatorAvailability(
            container.redis, seed, lease_seconds=lease, hold_seconds=hold
        )
    else:
        availability = MemoryOperatorAvailability(seed, lease_seconds=lease, hold_seconds=hold)
    events = SupportEvents(container.broadcaster)
    connections = LocalConnections(availability, lease_seconds=settings.operator_lease_seconds)
    container._exit.push_async_callback(connections.aclose)
    container.support = SupportDesk(
        store,
        availability,
        staff,
        events,
        wake_relay=container.relay.wake,
        rules=SupportRules(settings.operator_capacity, settings.max_message_length),
        connections=connections,
    )
    container.router = Router(
        store,
        availability,
        events,
        wake_relay=container.relay.wake,
        capacity=settings.operator_capacity,
        sweep_seconds=settings.support_sweep_seconds,
        undecided_after=timedelta(seconds=settings.support_undecided_seconds),
    )
    container.relay.add_source(SupportOutbox(store))
    container.subscriptions.append(
        Subscription(
            SUPPORT_ROUTING,
            container.router.handle,
            background=container.router.run_sweeps,
        )
    )


def _build_presence(container: Container) -> None:
    store: ConnectionStore = MemoryConnectionStore()
    if container.redis is not None:
        from goftogu.presence.users_redis import RedisConnectionStore

        store = RedisConnectionStore(container.redis)
    presence = UserPresence(
        store,
        container.database,
        container.broadcaster,
        grace_seconds=container.settings.presence_grace_seconds,
        lease_seconds=container.settings.presence_lease_seconds,
    )
    container.presence = presence
    container.online_users = presence
    presence.contact_sources.append(container.messaging.access.contacts_of)
    bindings = container.socket_bindings

    async def connected(principal: Principal, sid: str) -> None:
        await presence.connected(principal.user_id, sid)

    async def disconnected(_principal: Principal, sid: str) -> None:
        await presence.disconnected(sid)

    bindings.on_connect.append(connected)
    bindings.on_disconnect.append(disconnected)


def _bind_support_sockets(container: Container) -> None:
    """The support desk's part of the Socket.IO contract: ``support:message``,
    ``presence:set`` (user presence, plus operator availability for staff), the
    rooms joined on connect, replay of missed messages, operators' connections."""
    from goftogu.identity.models import UserStatus
    from goftogu.presence.operators import OperatorStatus
    from goftogu.realtime.protocol import PresencePayload
    from goftogu.support.schemas import SupportMessagePayload, posted_message

    desk, presence, bindings = container.support, container.presence, container.socket_bindings

    async def support_message(
        principal: Principal, _sid: str, body: SupportMessagePayload
    ) -> dict[str, Any]:
        posted = await desk.send_message(principal, body.chat_id, body.client_id, body.body)
        answer = posted_message(posted.chat, posted.message, posted.seq, posted.new_conversation)
        return answer.model_dump(mode="json")

    async def presence_set(
        principal: Principal, _sid: str, body: PresencePayload
    ) -> dict[str, Any]:
        status = await presence.choose(principal.user_id, UserStatus(body.status))
        answer: dict[str, Any] = {"status": status.value}
        if principal.is_staff:
            operator = await desk.set_presence(
                principal, OperatorStatus(body.status), body.accepting
            )
            answer["operator"] = operator.model_dump(mode="json")
        return answer

    bindings.add("support:message", SupportMessagePayload, support_message)
    bindings.add("presence:set", PresencePayload, presence_set)
    bindings.room_sources.append(desk.rooms_for)
    bindings.event_fetchers["support"] = desk.replay_for
    bindings.on_connect.append(desk.operator_connected)
    bindings.on_disconnect.append(desk.operator_disconnected)


def _build_notifications(container: Container) -> None:
    """Preferences and subscriptions (used by the API), and the ``notify`` consumer
    (run by ``goftogu notifier``, or by ``serve`` in embedded mode)."""
    from goftogu.notifications.compose import Links
    from goftogu.notifications.dispatch import Dispatcher
    from goftogu.notifications.ledger import Ledger
    from goftogu.notifications.mail import LogMailer, Mailer, SmtpMailer
    from goftogu.notifications.planner import Planner
    from goftogu.notifications.webpush import PushSender, VapidKeys, WebPushSender
    from goftogu.queueing import NOTIFY

    settings, database = container.settings, container.database
    container.notification_preferences = NotificationPreferences(database)
    container.push_subscriptions = PushSubscriptions(
        database,
        vapid_public_key=settings.vapid_public_key if settings.push_configured else None,
        endpoints=settings.push_endpoint_hosts,
    )
    mailer: Mailer = SmtpMailer(settings.smtp_url) if settings.smtp_url else LogMailer()
    pusher: PushSender | None = None
    if settings.vapid_public_key and settings.vapid_private_key:
        keys = VapidKeys.parse(
            settings.vapid_public_key,
            settings.vapid_private_key.get_secret_value(),
            settings.vapid_subject,
        )
        pusher = WebPushSender(keys)
    planner = Planner(
        database,
        presence=container.online_users,
        mutes=container.mute_settings,
        digest_seconds=settings.notify_digest_seconds,
        push_enabled=pusher is not None,
    )
    dispatcher = Dispatcher(
        database,
        Ledger(database, lease_seconds=settings.notify_send_lease_seconds),
        mailer=mailer,
        pusher=pusher,
        mail_from=settings.mail_from,
        links=Links(settings.public_url),
        default_language=settings.notify_language,
    )
    container.notifier = Notifier(
        planner,
        dispatcher,
        database=database,
        retention=timedelta(days=settings.notify_retention_days),
    )
    container.subscriptions.append(
        Subscription(
            NOTIFY,
            container.notifier.handle,
            policy=QueuePolicy(
                max_attempts=settings.notify_max_attempts,
                retry_base_seconds=settings.notify_retry_base_seconds,
                retry_max_seconds=settings.notify_retry_max_seconds,
            ),
        )
    )


def _build_messaging(container: Container) -> None:
    from goftogu.messaging.mutes import ConversationMutes
    from goftogu.messaging.notices import notify_recipients
    from goftogu.realtime.bindings import bind_messaging

    on_stored: list[MessageStored] = []
    messaging = build_messaging(
        container.database, container.broadcaster, container.settings, on_stored
    )
    on_stored.append(notify_recipients(messaging.access))
    container.messaging = messaging
    container.mute_settings = ConversationMutes(container.database)
    bind_messaging(container.socket_bindings, messaging)
