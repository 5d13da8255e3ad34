"""The routing worker's job (S5, S6): find a waiting conversation an operator.

``Router.handle`` consumes ``support.routing`` (``goftogu worker``, or
``goftogu serve`` in embedded mode). It is idempotent and safe with any number
of workers: the document decides (only a ``PENDING`` conversation without an
operator is assigned, by a conditional update), presence holds the slot
atomically before, and a loser of the race gives its slot back. The message is
acknowledged after the store write, so a worker killed mid-job leaves it to be
delivered again; the redelivery finds the conversation assigned and only
makes sure the operator's slot is counted.

``Router.run_sweeps`` runs beside the consumer: whenever operators have free
slots it offers them the oldest waiting conversations they could take (of their
teams or of none; tickets included), and it routes again live chats whose first
job was lost or whose team's overflow is due, so nothing waits forever.

Teams (issue 18, item 2): a conversation of a team goes to the team's members
first (least loaded, then idle longest), within the team's capacity. When none
can take it and the team overflows after N seconds, it waits as a live chat
while someone else could take it, and from N seconds on anyone may (the first
sweep after N). Without overflow, or with nobody free at all, it becomes a
ticket at once. Each operator's own capacity (else the default) bounds their
load everywhere.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from enum import StrEnum

from goftogu.bus import Announcements
from goftogu.ids import new_id
from goftogu.presence.operators import OperatorAvailability, OperatorState
from goftogu.queueing import Delivery
from goftogu.queueing.relay import OutboxWritten
from goftogu.support import events
from goftogu.support.autoreply import outside_hours_reply
from goftogu.support.documents import (
    ChatStatus,
    ChatType,
    Decision,
    Message,
    RoutingEntry,
    Sender,
    SenderKind,
    now,
)
from goftogu.support.jobs import RouteChat
from goftogu.support.queue import QueueMoved
from goftogu.support.sla import SlaClock
from goftogu.support.snoozes import SnoozeClock
from goftogu.support.store import ChatStore
from goftogu.support.teams import Team, TeamDirectory

log = logging.getLogger(__name__)

SWEEP_BATCH = 500


class Outcome(StrEnum):
    assigned = "assigned"
    ticketed = "ticketed"
    still_waiting = "still_waiting"  # already a ticket, nobody free yet
    settled = "settled"  # already assigned or closed: nothing to do
    lost_race = "lost_race"
    missing = "missing"
    waiting_for_team = "waiting_for_team"  # team busy, overflow not due yet: stays live


async def offer_slots(
    store: ChatStore, teams: TeamDirectory | None, operator_id: str, slots: int
) -> list[str]:
    """Offer ``slots`` of an operator to routing: the oldest waiting conversations
    they could take (of no team, of their teams, or of a team that overflows)."""
    if slots <= 0:
        return []
    team_ids: list[str | None] | None = None
    if teams is not None:
        # Teams closed now are left out: their tickets wait for the opening.
        at = now()
        everyone = {team.id: team for team in await teams.all()}
        open_now = {
            team.id for team in everyone.values() if team.hours is None or team.hours.is_open(at)
        }
        mine = await teams.teams_of(operator_id)
        overflowing = [t.id for t in everyone.values() if t.overflow_seconds is not None]
        team_ids = [None, *(t for t in (*mine, *overflowing) if t in open_now)]
    return await store.request_routing(
        slots,
        RoutingEntry(at=now(), decision=Decision.reoffered, reason="a slot is free"),
        team_ids=team_ids,
    )


class Router:
    def __init__(
        self,
        store: ChatStore,
        availability: OperatorAvailability,
        announcements: Announcements,
        *,
        capacity: int,
        sweep_seconds: float = 30.0,
        undecided_after: timedelta = timedelta(seconds=60),
        teams: TeamDirectory | None = None,
        sla: SlaClock | None = None,
        snoozes: SnoozeClock | None = None,
    ) -> None:
        self.store = store
        self.snoozes = snoozes
        self.teams = teams
        self.sla = sla
        self.availability = availability
        self._announcements = announcements
        self.capacity = capacity
        self.sweep_seconds = sweep_seconds
        self.undecided_after = undecided_after

    async def handle(self, delivery: Delivery) -> None:
        """The ``support.routing`` handler: a malformed message is dead-lettered by
        the runner (pydantic's error is permanent), anything else is retried."""
        job: RouteChat = delivery.parse(RouteChat)
        outcome = await self.route(job.chat_id)
        log.info(
            "support chat routed",
            extra={"chat_id": job.chat_id, "outcome": outcome.value, "attempt": delivery.attempt},
        )

    async def route(self, chat_id: str) -> Outcome:
        """Assign ``chat_id`` to an available operator, or make it a ticket."""
        chat = await self.store.get(chat_id)
        if chat is None:
            return Outcome.missing
        if not chat.is_waiting:
            if chat.status is ChatStatus.OPEN and chat.operator_id:
                # A worker may have died between the write and counting the slot.
                await self.availability.confirm(chat.operator_id, chat.id)
            return Outcome.settled
        team = await self.teams.cached(chat.team_id) if self.teams and chat.team_id else None
        if team is not None and team.hours is not None and not team.hours.is_open(now()):
            return await self._outside_hours(chat.id, team)
        if team is None:
            operator_id, reason = await self.availability.reserve(chat.id, self.capacity), None
        else:
            operator_id, reason = await self._for_team(chat.id, chat.created_at, chat.type, team)
            if operator_id is None and reason is None:
                return Outcome.waiting_for_team
        if operator_id is None:
            return await self._no_operator(chat.id, reason or "no operator available")
        entry = RoutingEntry(
            at=now(), decision=Decision.assigned, operator_id=operator_id, reason=reason
        )
        async with self._announcements.announcing() as work:
            assigned = await self.store.assign(chat.id, operator_id, entry)
            if assigned is None:
                return await self._lost(chat.id, operator_id)
            await self.availability.confirm(operator_id, chat.id)
            work.announce(
                *events.assigned(assigned),
                events.queue_changed(assigned, "removed"),
                QueueMoved(assigned.id),
            )
        return Outcome.assigned

    async def _for_team(
        self, chat_id: str, created_at: datetime, type: ChatType, team: Team
    ) -> tuple[str | None, str | None]:
        """(operator, why) for a team's conversation; (None, None): wait for the team
        (overflow not due, someone else free); (None, why): nobody, make it a ticket."""
        full = team.capacity is not None and await self.store.count_open(team.id) >= team.capacity
        if team.members and not full:
            chosen = await self.availability.reserve(chat_id, self.capacity, among=team.members)
            if chosen is not None:
                return chosen, f"team {team.topic}"
        if team.overflow_seconds is None:
            return None, "no operator of the team available"
        waited = (now() - created_at).total_seconds()
        if waited >= team.overflow_seconds:
            chosen = await self.availability.reserve(chat_id, self.capacity)
            if chosen is not None:
                return chosen, f"overflow after {team.overflow_seconds}s"
            return None, "no operator available"
        others_free = any(
            state.free_slots(self.capacity) > 0 and state.operator_id not in team.members
            for state in await self.availability.states()
        )
        if type is ChatType.CHAT and others_free:
            return None, None
        return None, "no operator available"

    async def _lost(self, chat_id: str, operator_id: str) -> Outcome:
        """The conditional assignment found the chat taken: give the slot back,
        unless the winner used this very slot."""
        current = await self.store.get(chat_id)
        if current and current.status is ChatStatus.OPEN and current.operator_id == operator_id:
            # The same job delivered twice at once: the other delivery won with
            # this very slot; giving it back would free a slot in use.
            await self.availability.confirm(operator_id, chat_id)
            return Outcome.settled
        await self.availability.release(operator_id, chat_id)
        return Outcome.lost_race

    async def _outside_hours(self, chat_id: str, team: Team) -> Outcome:
        """Item 3: outside the team's hours a conversation is a ticket at once, and
        the customer is told, in English and Persian, when the team opens again.
        The reply is written first and keyed by that opening, so a redelivery (or a
        sweep) writes it once per closed period whatever happens in between."""
        assert team.hours is not None
        at = now()
        opening = team.hours.next_opening(at)
        reply = Message(
            id=str(new_id()),
            client_id=f"outside-hours:{opening.isoformat() if opening else 'unscheduled'}",
            sender=Sender(kind=SenderKind.system),
            body=outside_hours_reply(team.name, opening, team.hours.timezone),
            created_at=at,
        )
        async with self._announcements.announcing() as work:
            appended = await self.store.append_message(
                chat_id, reply, statuses=frozenset({ChatStatus.PENDING})
            )
            if appended is not None and appended.created:
                work.announce(*events.message_posted(appended.chat, appended.message, appended.seq))
        opens = opening.isoformat() if opening else "not scheduled"
        return await self._no_operator(chat_id, f"outside business hours; opens {opens}")

    async def _no_operator(self, chat_id: str, reason: str) -> Outcome:
        """S6b: the chat becomes a ticket, still ``PENDING``; the customer is told and
        a notice for the operators leaves through the outbox."""
        entry = RoutingEntry(at=now(), decision=Decision.ticketed, reason=reason)
        async with self._announcements.announcing() as work:
            ticket = await self.store.mark_ticket(chat_id, entry)
            if ticket is None:
                return Outcome.still_waiting
            work.announce(OutboxWritten())
            position = await self.store.count_waiting_before(ticket) + 1
            work.announce(
                events.ticketed(ticket, position), events.queue_changed(ticket, "updated")
            )
        return Outcome.ticketed

    async def sweep(self) -> list[str]:
        """Wake snoozed conversations that are due, offer free slots to the oldest
        waiting conversations, and route again live chats left undecided too long.
        Returns the conversations offered."""
        if self.snoozes is not None:
            await self.snoozes.sweep()
        at = now()
        async with self._announcements.announcing() as work:
            offered: list[str] = []
            for state in await self.availability.states():
                offered += await self.offer_slots_of(state)
            offered += await self.store.request_routing(
                SWEEP_BATCH,
                RoutingEntry(at=at, decision=Decision.reoffered, reason="undecided"),
                undecided_before=at - self.undecided_after,
            )
            for team in await self.teams.all() if self.teams else []:
                if team.overflow_seconds is None or team.overflow_seconds >= (
                    self.undecided_after.total_seconds()
                ):
                    continue  # the undecided pass above covers it
                if team.hours is not None and not team.hours.is_open(at):
                    continue  # closed: its conversations wait for the opening
                offered += await self.store.request_routing(
                    SWEEP_BATCH,
                    RoutingEntry(at=at, decision=Decision.reoffered, reason="overflow due"),
                    undecided_before=at - timedelta(seconds=team.overflow_seconds),
                    team_ids=[team.id],
                )
            if offered:
                work.announce(OutboxWritten())
                log.info("waiting support chats offered again", extra={"chats": len(offered)})
        await self.reconcile_loads()
        return offered

    async def offer_slots_of(self, state: OperatorState, slots: int | None = None) -> list[str]:
        """Offer an operator's free slots (or ``slots``) to the oldest waiting
        conversations they could take: of their teams, or of no team."""
        free = state.free_slots(self.capacity) if slots is None else slots
        return await offer_slots(self.store, self.teams, state.operator_id, free)

    async def reconcile_loads(self) -> int:
        """Make presence's loads agree with the store, which decides: a chat counted
        for an operator who no longer has it open is given back, an open chat not
        counted is counted. Each difference is read again before it is acted on
        (an assignment or close may be between its write and its presence step).
        Returns how many were corrected."""
        stored = await self.store.open_chats_by_operator()
        corrected = 0
        for state in await self.availability.states():
            counted, open_now = state.chats, stored.get(state.operator_id, set())
            for chat_id in counted - open_now:
                chat = await self.store.get(chat_id)
                if (
                    chat is None
                    or chat.status is not ChatStatus.OPEN
                    or (chat.operator_id != state.operator_id)
                    or (chat.snooze is not None and chat.snooze.frees_slot)
                ):
                    await self.availability.release(state.operator_id, chat_id)
                    corrected += 1
            for chat_id in open_now - counted:
                chat = await self.store.get(chat_id)
                if (
                    chat
                    and chat.status is ChatStatus.OPEN
                    and chat.operator_id == state.operator_id
                ):
                    await self.availability.confirm(state.operator_id, chat_id)
                    corrected += 1
        for operator_id in stored.keys() - {
            s.operator_id for s in await self.availability.states()
        }:
            for chat_id in stored[operator_id]:
                await self.availability.confirm(operator_id, chat_id)
                corrected += 1
        if corrected:
            log.warning("operator loads corrected from the store", extra={"chats": corrected})
        return corrected

    async def run_sweeps(self) -> None:
        """Sweep every ``sweep_seconds`` until cancelled (and the SLA clock beside)."""
        if self.sla is not None:
            await asyncio.gather(self._sweep_loop(), self.sla.run())
        else:
            await self._sweep_loop()

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_seconds)
            try:
                await self.sweep()
            except Exception:
                log.warning("support routing sweep failed", exc_info=True)
