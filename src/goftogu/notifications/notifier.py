"""The consumer of the ``notify`` queue (``goftogu notifier``; in-process in embedded mode).

One handler reads the job's ``type`` and hands it to the planner (triggers,
digests) or the dispatcher (one delivery). Outcomes for the queue:

- transient failure (SMTP down, push service 5xx/429, delivery held by
  another attempt, digest not due): ``Retry``, with backoff or the delay known;
- permanent failure (address refused, push 4xx other than 404/410):
  ``Reject``: the job goes to ``notify.dead`` with the reason;
- anything unexpected: retried by the queue's policy, then dead-lettered.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import timedelta

from goftogu.notifications.dispatch import DeliveryBusy, Dispatcher
from goftogu.notifications.failures import PermanentFailure, TransientFailure
from goftogu.notifications.jobs import (
    ChatAssigned,
    DeliveryDue,
    DigestDue,
    MessageCreated,
    NotifyJob,
    OperatorReplied,
    TicketCreated,
    TranscriptRequested,
)
from goftogu.notifications.ledger import purge_finished
from goftogu.notifications.planner import NotYet, Planner
from goftogu.queueing import Delivery, Reject, Retry
from goftogu.storage.database import Database

log = logging.getLogger(__name__)


def _whole_seconds(seconds: float | None) -> float | None:
    # Delays are rounded up to whole seconds: RabbitMQ keeps one delay queue per value.
    return None if seconds is None else float(max(1, math.ceil(seconds)))


class Notifier:
    def __init__(
        self,
        planner: Planner,
        dispatcher: Dispatcher,
        *,
        database: Database,
        retention: timedelta,
        purge_every: float = 3600.0,
    ) -> None:
        self.planner = planner
        self.dispatcher = dispatcher
        self._db = database
        self._retention = retention
        self._purge_every = purge_every
        self._next_purge = time.monotonic() + purge_every

    async def handle(self, delivery: Delivery) -> None:
        """The ``notify`` queue's handler."""
        job: NotifyJob = delivery.parse(NotifyJob)
        await self._purge_if_due()
        try:
            await self._run(job)
        except TransientFailure as failure:
            raise Retry(_whole_seconds(failure.retry_after), failure.reason) from failure
        except PermanentFailure as failure:
            raise Reject(failure.reason) from failure
        except (DeliveryBusy, NotYet) as wait:
            raise Retry(_whole_seconds(wait.seconds), str(wait)) from wait

    async def _purge_if_due(self) -> None:
        """Old deliveries and digests go, at most once per ``purge_every`` per process."""
        if time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + self._purge_every
        purged = await purge_finished(self._db, self._retention)
        if purged:
            log.info("old notification records deleted", extra={"rows": purged})

    async def _run(self, job: NotifyJob) -> None:
        if isinstance(job, DeliveryDue):
            await self.dispatcher.deliver(job.delivery_id)
        elif isinstance(job, DigestDue):
            await self.planner.digest_due(job)
        elif isinstance(job, MessageCreated):
            await self.planner.message_created(job)
        elif isinstance(job, OperatorReplied):
            await self.planner.operator_replied(job)
        elif isinstance(job, TicketCreated):
            await self.planner.ticket_created(job)
        elif isinstance(job, ChatAssigned):
            await self.planner.chat_assigned(job)
        elif isinstance(job, TranscriptRequested):
            await self.planner.transcript_requested(job)
