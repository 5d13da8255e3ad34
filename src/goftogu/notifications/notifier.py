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

import math

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
)
from goftogu.notifications.planner import NotYet, Planner
from goftogu.queueing import Delivery, Reject, Retry


def _whole_seconds(seconds: float | None) -> float | None:
    # Delays are rounded up to whole seconds: RabbitMQ keeps one delay queue per value.
    return None if seconds is None else float(max(1, math.ceil(seconds)))


class Notifier:
    def __init__(self, planner: Planner, dispatcher: Dispatcher) -> None:
        self.planner = planner
        self.dispatcher = dispatcher

    async def handle(self, delivery: Delivery) -> None:
        """The ``notify`` queue's handler."""
        job: NotifyJob = delivery.parse(NotifyJob)
        try:
            await self._run(job)
        except TransientFailure as failure:
            raise Retry(_whole_seconds(failure.retry_after), failure.reason) from failure
        except PermanentFailure as failure:
            raise Reject(failure.reason) from failure
        except (DeliveryBusy, NotYet) as wait:
            raise Retry(_whole_seconds(wait.seconds), str(wait)) from wait

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
