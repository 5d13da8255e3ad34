"""The notification service of a process, built once (``container.notifier``).

``build_notifier`` makes the ``notify`` consumer (run by ``goftogu notifier``,
or by ``serve`` in embedded mode): it plans deliveries, then sends them, by
SMTP (or to the log) and Web Push (when VAPID keys are set).
"""

from __future__ import annotations

from datetime import timedelta

from goftogu.notifications.compose import Links
from goftogu.notifications.dispatch import Dispatcher
from goftogu.notifications.jobs import NOTIFY
from goftogu.notifications.ledger import Ledger
from goftogu.notifications.mail import LogMailer, Mailer, SmtpMailer
from goftogu.notifications.notifier import Notifier
from goftogu.notifications.planner import Planner
from goftogu.notifications.ports import MuteSettings, OnlineUsers
from goftogu.notifications.subscriptions import EndpointRule
from goftogu.notifications.webpush import PushSender, WebPushSender
from goftogu.queueing import QueuePolicy, Subscription
from goftogu.settings import Settings
from goftogu.storage.work import UnitsOfWork
from goftogu.vapid import VapidKeys


def build_notifier(
    settings: Settings, work: UnitsOfWork, online: OnlineUsers, mutes: MuteSettings
) -> Notifier:
    """The planner (who is away, muted, opted out) and the dispatcher (exactly-once
    sends), writing through ``work``."""
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
        presence=online,
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
        endpoints=EndpointRule.parse(settings.push_endpoint_hosts),
    )
    return Notifier(
        planner,
        dispatcher,
        database=database,
        retention=timedelta(days=settings.notify_retention_days),
    )


def notify_subscription(settings: Settings, notifier: Notifier) -> Subscription:
    """The ``notify`` queue's consumer, with its own retry policy (about an hour)."""
    return Subscription(
        NOTIFY,
        notifier.handle,
        policy=QueuePolicy(
            max_attempts=settings.notify_max_attempts,
            retry_base_seconds=settings.notify_retry_base_seconds,
            retry_max_seconds=settings.notify_retry_max_seconds,
        ),
    )
