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

from goftogu.broadcast import Broadcaster, NoBroadcast, clients_are_told
from goftogu.bus import Bus, Handlers
from goftogu.health import Probe
from goftogu.identity.accounts import Accounts
from goftogu.identity.auth import Authentication, AuthRules
from goftogu.identity.passwords import PasswordHashes
from goftogu.identity.tokens import AccessTokens
from goftogu.messaging.access import Access
from goftogu.messaging.common import MessageStored
from goftogu.messaging.mutes import ConversationMutes
from goftogu.messaging.notices import notify_recipients
from goftogu.messaging.service import Messaging, build_messaging
from goftogu.notifications.jobs import NOTIFY
from goftogu.notifications.notifier import Notifier
from goftogu.notifications.preferences import NotificationPreferences
from goftogu.notifications.subscriptions import PushSubscriptions
from goftogu.presence.operators import OperatorAvailability
from goftogu.presence.users import UserPresence
from goftogu.queueing import Queue, QueuePolicy, Subscription
from goftogu.queueing.outbox import RelationalOutbox
from goftogu.queueing.relay import OutboxRelay, OutboxWritten
from goftogu.queueing.runner import Runner, subscriptions_for
from goftogu.ratelimit import RateLimiter, RateRule
from goftogu.settings import Settings
from goftogu.storage.database import Database
from goftogu.storage.schema import ensure_up_to_date, upgrade_to_head
from goftogu.storage.work import UnitsOfWork
from goftogu.support.desk import SupportDesk, SupportRules
from goftogu.support.jobs import SUPPORT_ROUTING
from goftogu.support.outbox import SupportOutbox
from goftogu.support.routing import Router
from goftogu.support.staff import StaffDirectory
from goftogu.support.store import ChatStore

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
    bus: Bus
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

    chats = await _chat_store(database, mongo)
    relay = OutboxRelay(
        queue,
        [RelationalOutbox(database), SupportOutbox(chats)],
        batch_size=settings.outbox_batch_size,
        sweep_seconds=settings.outbox_sweep_seconds,
    )
    # Stopped before the queue and the database close (the stack unwinds backwards).
    exit_stack.push_async_callback(relay.stop)
    access = Access(database)
    clients = broadcaster or _broadcaster_for(settings)
    bus = _announcements(clients, relay, access)
    work = UnitsOfWork(database, bus)

    rate_limiter = _rate_limiter(redis)
    hashes = PasswordHashes(
        memory_kib=settings.password_hash_memory_kib,
        time_cost=settings.password_hash_time_cost,
        parallelism=settings.password_hash_parallelism,
    )
    messaging = build_messaging(work, access, settings)
    presence = _user_presence(settings, redis, work, access)
    availability = _operator_availability(settings, redis, chats, StaffDirectory(database))
    notifier = _notifier(settings, work, presence, ConversationMutes(database))
    support, router = _support(settings, exit_stack, chats, availability, work, clients)
    return Container(
        settings=settings,
        database=database,
        redis=redis,
        mongo=mongo,
        probes=tuple(probes),
        queue=queue,
        relay=relay,
        bus=bus,
        work=work,
        rate_limiter=rate_limiter,
        accounts=Accounts(database, hashes),
        auth=_authentication(settings, database, hashes, rate_limiter),
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
        subscriptions=(
            Subscription(SUPPORT_ROUTING, router.handle, background=router.run_sweeps),
            Subscription(
                NOTIFY,
                notifier.handle,
                policy=QueuePolicy(
                    max_attempts=settings.notify_max_attempts,
                    retry_base_seconds=settings.notify_retry_base_seconds,
                    retry_max_seconds=settings.notify_retry_max_seconds,
                ),
            ),
        ),
        _exit=exit_stack,
    )


def _announcements(broadcaster: Broadcaster, relay: OutboxRelay, access: Access) -> Bus:
    """Who handles what a unit of work announces (``goftogu.bus``): clients are told
    through ``broadcaster``, the relay wakes for what was written for it, and a
    stored message's notifier job commits with it."""

    async def wake_relay(_written: OutboxWritten) -> None:
        relay.wake()

    handlers = clients_are_told(Handlers(), broadcaster)
    return (
        handlers.after_commit(OutboxWritten, wake_relay)
        .before_commit(MessageStored, notify_recipients(access))
        .build()
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


def _rate_limiter(redis: Redis | None) -> RateLimiter:
    if redis is not None:
        from goftogu.ratelimit.redis import RedisRateLimiter

        return RedisRateLimiter(redis)
    from goftogu.ratelimit.memory import MemoryRateLimiter

    return MemoryRateLimiter()


def _authentication(
    settings: Settings, database: Database, hashes: PasswordHashes, limiter: RateLimiter
) -> Authentication:
    tokens = AccessTokens(settings.secret_key.get_secret_value(), settings.access_token_ttl_seconds)
    rules = AuthRules(
        login_per_ip=RateRule.parse("login-ip", settings.rate_login_per_ip),
        login_per_account=RateRule.parse("login-account", settings.rate_login_per_account),
        register_per_ip=RateRule.parse("register-ip", settings.rate_register_per_ip),
    )
    return Authentication(
        database, hashes, tokens, limiter, rules, settings.refresh_token_ttl_seconds
    )


async def _chat_store(
    database: Database, mongo: AsyncMongoClient[dict[str, Any]] | None
) -> ChatStore:
    """Support chat documents: in MongoDB, else in the relational database."""
    store: ChatStore
    if mongo is not None:
        from goftogu.support.store_mongo import MongoChatStore

        store = MongoChatStore(mongo)
    else:
        from goftogu.support.store_sql import SqlChatStore

        store = SqlChatStore(database)
    await store.prepare()
    return store


def _user_presence(
    settings: Settings, redis: Redis | None, work: UnitsOfWork, access: Access
) -> UserPresence:
    from goftogu.presence.users import ConnectionStore

    store: ConnectionStore
    if redis is not None:
        from goftogu.presence.users_redis import RedisConnectionStore

        store = RedisConnectionStore(redis)
    else:
        from goftogu.presence.users_memory import MemoryConnectionStore

        store = MemoryConnectionStore()
    return UserPresence(
        store,
        work,
        contacts_of=access.contacts_of,
        grace_seconds=settings.presence_grace_seconds,
        lease_seconds=settings.presence_lease_seconds,
    )


def _operator_availability(
    settings: Settings, redis: Redis | None, chats: ChatStore, staff: StaffDirectory
) -> OperatorAvailability:
    """Operators' status, connections and loads (Redis, else in-process), rebuilt
    from the databases when the store lost them."""
    from goftogu.presence.operators import AvailabilitySeed, MemoryOperatorAvailability

    async def seed() -> AvailabilitySeed:
        return AvailabilitySeed(
            statuses=await staff.statuses(), open_chats=await chats.open_chats_by_operator()
        )

    lease, hold = settings.operator_lease_seconds, settings.support_hold_seconds
    if redis is not None:
        from goftogu.presence.operators_redis import RedisOperatorAvailability

        return RedisOperatorAvailability(redis, seed, lease_seconds=lease, hold_seconds=hold)
    return MemoryOperatorAvailability(seed, lease_seconds=lease, hold_seconds=hold)


def _support(
    settings: Settings,
    exit_stack: AsyncExitStack,
    chats: ChatStore,
    availability: OperatorAvailability,
    work: UnitsOfWork,
    clients: Broadcaster,
) -> tuple[SupportDesk, Router]:
    """The desk (use cases of customers and operators) and the routing consumer."""
    from goftogu.support.connections import LocalConnections

    connections = LocalConnections(availability, lease_seconds=settings.operator_lease_seconds)
    exit_stack.push_async_callback(connections.aclose)
    desk = SupportDesk(
        chats,
        availability,
        StaffDirectory(work.database),
        work,
        join_before_write=clients.join_user,
        rules=SupportRules(settings.operator_capacity, settings.max_message_length),
        connections=connections,
    )
    router = Router(
        chats,
        availability,
        work,
        capacity=settings.operator_capacity,
        sweep_seconds=settings.support_sweep_seconds,
        undecided_after=timedelta(seconds=settings.support_undecided_seconds),
    )
    return desk, router


def _notifier(
    settings: Settings, work: UnitsOfWork, presence: UserPresence, mutes: ConversationMutes
) -> Notifier:
    """The ``notify`` consumer (run by ``goftogu notifier``, or by ``serve`` in
    embedded mode): plans deliveries, then sends them."""
    from goftogu.notifications.compose import Links
    from goftogu.notifications.dispatch import Dispatcher
    from goftogu.notifications.ledger import Ledger
    from goftogu.notifications.mail import LogMailer, Mailer, SmtpMailer
    from goftogu.notifications.planner import Planner
    from goftogu.notifications.webpush import PushSender, WebPushSender
    from goftogu.vapid import VapidKeys

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
        work,
        presence=presence,
        mutes=mutes,
        digest_seconds=settings.notify_digest_seconds,
        push_enabled=pusher is not None,
    )
    database = work.database
    dispatcher = Dispatcher(
        database,
        Ledger(database, lease_seconds=settings.notify_send_lease_seconds),
        mailer=mailer,
        pusher=pusher,
        mail_from=settings.mail_from,
        links=Links(settings.public_url),
        default_language=settings.notify_language,
    )
    return Notifier(
        planner,
        dispatcher,
        database=database,
        retention=timedelta(days=settings.notify_retention_days),
    )
