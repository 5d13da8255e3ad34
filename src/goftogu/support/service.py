"""The support desk of a process, built once (``container.support``, ``container.router``).

``open_chat_store`` picks the documents' home (MongoDB when configured, else
the relational database); ``build_support`` makes the desk (customers' and
operators' use cases) and the routing consumer on it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from goftogu.admission import Gate
from goftogu.bus import Announcements
from goftogu.presence.operators import OperatorAvailability
from goftogu.queueing import Subscription
from goftogu.settings import Settings
from goftogu.storage.database import Database
from goftogu.support.canned import CannedReplyStore
from goftogu.support.connections import LocalConnections
from goftogu.support.desk import JoinRoom, SupportDesk, SupportRules
from goftogu.support.jobs import SUPPORT_ROUTING
from goftogu.support.queue import QueuePositions
from goftogu.support.routing import Router
from goftogu.support.sla import SlaClock
from goftogu.support.snoozes import SnoozeClock
from goftogu.support.staff import StaffDirectory
from goftogu.support.store import ChatStore
from goftogu.support.teams import TeamDirectory

if TYPE_CHECKING:
    from pymongo import AsyncMongoClient


async def open_chat_store(
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


def build_queue_positions(
    settings: Settings, chats: ChatStore, availability: OperatorAvailability
) -> QueuePositions:
    """Queue positions and wait estimates (announced by the bus's ``QueueMoved`` handler)."""
    return QueuePositions(
        chats,
        availability,
        capacity=settings.operator_capacity,
        window=timedelta(hours=settings.support_estimate_window_hours),
        announce_limit=settings.support_queue_announce_limit,
    )


async def open_canned_store(
    database: Database, mongo: AsyncMongoClient[dict[str, Any]] | None
) -> CannedReplyStore:
    """Canned replies beside the chat documents: MongoDB when configured, else SQL."""
    store: CannedReplyStore
    if mongo is not None:
        from goftogu.support.canned_mongo import MongoCannedReplyStore

        store = MongoCannedReplyStore(mongo)
    else:
        from goftogu.support.canned_sql import SqlCannedReplyStore

        store = SqlCannedReplyStore(database)
    await store.prepare()
    return store


def build_support(
    settings: Settings,
    chats: ChatStore,
    availability: OperatorAvailability,
    staff: StaffDirectory,
    announcements: Announcements,
    *,
    positions: QueuePositions,
    teams: TeamDirectory,
    connections: LocalConnections,
    join_before_write: JoinRoom,
) -> tuple[SupportDesk, Router]:
    """The desk and the router, announcing what they do through ``announcements``."""
    desk = SupportDesk(
        chats,
        availability,
        staff,
        announcements,
        join_before_write=join_before_write,
        rules=SupportRules(
            settings.operator_capacity,
            settings.max_message_length,
            reopen_window_s=settings.support_reopen_window_seconds,
            snooze_frees_slot=settings.support_snooze_frees_slot,
        ),
        positions=positions,
        teams=teams,
        connections=connections,
        intake=Gate("intake", settings.admission("intake")),
    )
    router = Router(
        chats,
        availability,
        announcements,
        capacity=settings.operator_capacity,
        sweep_seconds=settings.support_sweep_seconds,
        undecided_after=timedelta(seconds=settings.support_undecided_seconds),
        teams=teams,
        sla=SlaClock(chats, teams, announcements, sweep_seconds=settings.support_sla_sweep_seconds),
        snoozes=SnoozeClock(chats, availability, announcements),
    )
    return desk, router


def routing_subscription(router: Router) -> Subscription:
    """The ``support.routing`` queue's consumer, with the sweeps beside it."""
    return Subscription(SUPPORT_ROUTING, router.handle, background=router.run_sweeps)
