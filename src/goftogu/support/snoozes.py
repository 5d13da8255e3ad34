"""Snoozed conversations waking (issue 18, item 6; ``goftogu.support.lifecycle``):
the one write that ends a snooze and counts the operator's slot again, used by
the customer's message (``SupportDesk.send_message``), the operator, and the
routing worker's sweep (``SnoozeClock``), which wakes those due and those whose
customer wrote but were not woken (a process gone in between)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from goftogu.bus import Announcements, Work
from goftogu.presence.operators import OperatorAvailability
from goftogu.support import events
from goftogu.support.documents import (
    ChatStatus,
    Decision,
    RoutingEntry,
    Sender,
    SenderKind,
    SupportChat,
    now,
)
from goftogu.support.store import ChatQuery, ChatStore

log = logging.getLogger(__name__)

PAGE = 200
WakeReason = Literal["time", "reply", "operator"]


async def wake(
    store: ChatStore,
    availability: OperatorAvailability,
    work: Work,
    chat: SupportChat,
    reason: WakeReason,
    by: Sender | None = None,
) -> SupportChat | None:
    """End ``chat``'s snooze (one conditional write); its operator's slot is counted
    again when it was given back. None: it was not snoozed (any more)."""
    snooze = chat.snooze
    if snooze is None:
        return None
    entry = RoutingEntry(
        at=now(), decision=Decision.woken, operator_id=chat.operator_id, reason=reason, by=by
    )
    woken = await store.wake(chat.id, entry)
    if woken is None:
        return None
    if snooze.frees_slot and woken.operator_id and woken.status is ChatStatus.OPEN:
        await availability.confirm(woken.operator_id, woken.id)
    log.info("support chat woken", extra={"chat_id": chat.id, "reason": reason})
    work.announce(events.snooze_changed(woken, reason))
    return woken


class SnoozeClock:
    """Wakes snoozed conversations when due (``Router.sweep`` calls it)."""

    def __init__(
        self, store: ChatStore, availability: OperatorAvailability, announcements: Announcements
    ) -> None:
        self.store = store
        self.availability = availability
        self._announcements = announcements

    async def sweep(self, at: datetime | None = None) -> list[str]:
        """Wake the snoozed conversations whose time came or whose customer wrote
        since; answers their ids."""
        at = at or now()
        woken: list[str] = []
        after = None
        while True:
            page = await self.store.find(
                ChatQuery(snoozed=True, after=after, oldest_first=True, limit=PAGE)
            )
            for chat in page:
                reason = _due(chat, at)
                if reason is None:
                    continue
                async with self._announcements.announcing() as work:
                    if await wake(self.store, self.availability, work, chat, reason):
                        woken.append(chat.id)
            if len(page) < PAGE:
                return woken
            after = page[-1].id


def _due(chat: SupportChat, at: datetime) -> WakeReason | None:
    snooze = chat.snooze
    if snooze is None:
        return None
    customer = SenderKind.customer
    if any(m.sender.kind is customer and m.created_at > snooze.at for m in chat.messages):
        return "reply"
    if snooze.until is not None and snooze.until <= at:
        return "time"
    return None
