"""A conversation's lifecycle by hand (issue 18, item 6): reopen, snooze, assign.

- **Reopen**: staff reopen a closed conversation; it is theirs at once (``OPEN``,
  within their capacity). A customer's message to a conversation closed less than
  ``GOFTOGU_SUPPORT_REOPEN_WINDOW_SECONDS`` ago reopens it (waiting, routed again)
  instead of starting a new one (``SupportDesk.send_message``; 0: never).
- **Snooze** (on hold): the assigned operator (or an admin) puts an ``OPEN``
  conversation aside until a time or the customer's next message; the customer's
  message wakes it either way, and so may the operator. With
  ``GOFTOGU_SUPPORT_SNOOZE_FREES_SLOT`` (the default) the operator's slot is given
  back meanwhile (and offered to the queue) and counted again when it wakes —
  even above their capacity: it is still theirs. ``SnoozeClock.sweep`` (in the
  routing worker's sweep) wakes those due, and those whose customer wrote but
  were not woken (a process gone between the message and the wake).
- **Assign by hand**: to an operator (a waiting one is assigned to them within
  their capacity, an open one transferred) or to a team (it waits for the
  team's routing again; its operator, if any, lets it go).

Every change is one conditional write that adds a routing-log entry saying who
and why; a write that finds the conversation changed stores nothing and answers
``conflict``. Who may: admins always; an operator for a conversation assigned to
them, or waiting (or closed, to reopen) in a team they are a member of or in no
team.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from goftogu.bus import Announcements
from goftogu.errors import (
    CapacityReached,
    ChatClosed,
    ChatNotClosed,
    ChatSnoozed,
    Conflict,
    NotAllowed,
    NotFound,
    NotSnoozed,
    UnknownTeam,
    ValidationFailed,
)
from goftogu.identity.models import Role
from goftogu.identity.tokens import Principal
from goftogu.queueing.relay import OutboxWritten
from goftogu.support import events
from goftogu.support.documents import (
    ChatStatus,
    Decision,
    RoutingEntry,
    Sender,
    SenderKind,
    Snooze,
    SupportChat,
    now,
)
from goftogu.support.queue import QueueMoved
from goftogu.support.routing import offer_slots
from goftogu.support.snoozes import wake

if TYPE_CHECKING:
    from goftogu.support.desk import SupportDesk

log = logging.getLogger(__name__)

MAX_SNOOZE = timedelta(days=90)


class SupportLifecycle:
    """Staff's lifecycle actions over the desk's store, presence and teams."""

    def __init__(self, desk: SupportDesk, announcements: Announcements) -> None:
        self.desk = desk
        self.store = desk.store
        self.availability = desk.availability
        self._announcements = announcements

    async def reopen(self, principal: Principal, chat_id: str) -> SupportChat:
        """A closed conversation is the caller's again (``OPEN``), within their
        capacity."""
        me = _staff_id(principal)
        chat = await self.desk._readable(principal, chat_id)
        if chat.status is not ChatStatus.CLOSED:
            raise ChatNotClosed("Only a closed conversation is reopened.")
        await self._authorise(principal, chat, closed_ok=True)
        capacity = self.desk.rules.capacity
        if not await self.availability.reserve_operator(me, chat.id, capacity):
            raise CapacityReached(capacity=await self.desk._capacity_of(me))
        by = Sender(kind=SenderKind.operator, id=me)
        entry = RoutingEntry(at=now(), decision=Decision.reopened, operator_id=me, by=by)
        try:
            await self.desk._join_before_write(chat.customer.id, chat.conversation)
        except Exception:
            log.exception("could not join the customer's sockets", extra={"chat_id": chat.id})
        async with self._announcements.announcing() as work:
            reopened = await self.store.reopen(chat.id, entry, operator_id=me)
            if reopened is None:
                await self.desk._give_back_unless_theirs(me, chat.id)
                raise Conflict("The conversation changed meanwhile; reload it.")
            await self.availability.confirm(me, chat.id)
            log.info("support chat reopened", extra={"chat_id": chat.id, "operator_id": me})
            work.announce(OutboxWritten(), *events.reopened(reopened, by))
        return reopened

    async def snooze(
        self, principal: Principal, chat_id: str, until: datetime | None
    ) -> SupportChat:
        me = _staff_id(principal)
        chat = await self.desk._readable(principal, chat_id)
        at = now()
        if until is not None:
            if not isinstance(until, datetime) or until.tzinfo is None:
                raise ValidationFailed("until needs a time zone.", field="until")
            if not at < until <= at + MAX_SNOOZE:
                raise ValidationFailed("until is in the future, within 90 days.", field="until")
        if chat.status is ChatStatus.CLOSED:
            raise ChatClosed()
        if chat.status is not ChatStatus.OPEN or chat.operator_id is None:
            raise Conflict("Only a conversation an operator has taken is snoozed.")
        if chat.operator_id != me and principal.role is not Role.admin:
            raise NotAllowed("Only the assigned operator or an admin snoozes a conversation.")
        if chat.snooze is not None:
            raise ChatSnoozed("The conversation is snoozed already.")
        operator_id = chat.operator_id
        frees = self.desk.rules.snooze_frees_slot
        snooze = Snooze(until=until, frees_slot=frees, at=at, by=me)
        reason = f"until {until.isoformat()}" if until else "until the customer writes"
        entry = RoutingEntry(
            at=at,
            decision=Decision.snoozed,
            operator_id=operator_id,
            reason=reason,
            by=Sender(kind=SenderKind.operator, id=me),
        )
        async with self._announcements.announcing() as work:
            snoozed = await self.store.snooze(chat.id, operator_id, snooze, entry)
            if snoozed is None:
                raise Conflict("The conversation changed meanwhile; reload it.")
            work.announce(events.snooze_changed(snoozed, "snoozed"))
            if frees:
                await self.availability.release(operator_id, chat.id)
                if await offer_slots(self.store, self.desk.teams, operator_id, 1):
                    work.announce(OutboxWritten())
            log.info("support chat snoozed", extra={"chat_id": chat.id, "frees_slot": frees})
        return snoozed

    async def unsnooze(self, principal: Principal, chat_id: str) -> SupportChat:
        me = _staff_id(principal)
        chat = await self.desk._readable(principal, chat_id)
        if chat.operator_id != me and principal.role is not Role.admin:
            raise NotAllowed("Only the assigned operator or an admin wakes a conversation.")
        if chat.snooze is None:
            raise NotSnoozed()
        async with self._announcements.announcing() as work:
            woken = await wake(
                self.store,
                self.availability,
                work,
                chat,
                "operator",
                Sender(kind=SenderKind.operator, id=me),
            )
        if woken is None:
            raise NotSnoozed()
        return woken

    async def assign(
        self,
        principal: Principal,
        chat_id: str,
        *,
        operator_id: str | None = None,
        team_id: str | None = None,
        to_team: bool = False,
    ) -> SupportChat:
        """To ``operator_id``, or (``to_team``) to ``team_id`` (None: no team)."""
        _staff_id(principal)
        if (operator_id is None) == (not to_team):
            raise ValidationFailed("Give either operator_id or team_id.", field="operator_id")
        chat = await self.desk._readable(principal, chat_id)
        if chat.status is ChatStatus.CLOSED:
            raise ChatClosed()
        if chat.snooze is not None:
            raise ChatSnoozed()
        if to_team:
            return await self._to_team(principal, chat, team_id)
        assert operator_id is not None
        if chat.status is ChatStatus.OPEN:
            return await self.desk.transfer_chat(principal, chat.id, operator_id)
        return await self._to_operator(principal, chat, operator_id)

    async def _to_operator(
        self, principal: Principal, chat: SupportChat, operator_id: str
    ) -> SupportChat:
        await self._authorise(principal, chat)
        if await self.desk.staff.role_of(operator_id) not in (Role.operator, Role.admin):
            raise NotFound("No such operator.", operator_id=operator_id)
        capacity = self.desk.rules.capacity
        if not await self.availability.reserve_operator(operator_id, chat.id, capacity):
            raise CapacityReached(capacity=await self.desk._capacity_of(operator_id))
        me = str(principal.user_id)
        entry = RoutingEntry(
            at=now(),
            decision=Decision.assigned,
            operator_id=operator_id,
            reason="by hand",
            by=Sender(kind=SenderKind.operator, id=me),
        )
        async with self._announcements.announcing() as work:
            assigned = await self.store.assign(chat.id, operator_id, entry)
            if assigned is None:
                await self.desk._give_back_unless_theirs(operator_id, chat.id)
                raise Conflict("The conversation changed meanwhile; reload it.")
            await self.availability.confirm(operator_id, chat.id)
            log.info("support chat assigned by hand", extra={"chat_id": chat.id})
            work.announce(
                *events.assigned(assigned),
                events.queue_changed(assigned, "removed"),
                QueueMoved(assigned.id),
            )
        return assigned

    async def _to_team(
        self, principal: Principal, chat: SupportChat, team_id: str | None
    ) -> SupportChat:
        await self._authorise(principal, chat)
        teams = self.desk.teams
        team = None
        if team_id is not None:
            team = await teams.find(team_id) if teams is not None else None
            if team is None:
                raise UnknownTeam(field="team_id", team=team_id)
        target = team.id if team else None
        if target == chat.team_id and chat.operator_id is None:
            raise ValidationFailed("The conversation is in this team already.", field="team_id")
        me = str(principal.user_id)
        by = Sender(kind=SenderKind.operator, id=me)
        previous = chat.operator_id
        entry = RoutingEntry(
            at=now(),
            decision=Decision.team_changed,
            reason=f"to team {team.topic}" if team else "to the general queue",
            by=by,
        )
        async with self._announcements.announcing() as work:
            moved = await self.store.change_team(chat.id, target, previous, entry)
            if moved is None:
                raise Conflict("The conversation changed meanwhile; reload it.")
            log.info("support chat sent to a team", extra={"chat_id": chat.id, "team": target})
            work.announce(
                OutboxWritten(),
                *events.team_changed(moved, chat.team_id, previous, by),
                QueueMoved(moved.id),
            )
            if previous:
                await self.availability.release(previous, chat.id)
                await offer_slots(self.store, teams, previous, 1)
        return moved

    async def _authorise(
        self, principal: Principal, chat: SupportChat, *, closed_ok: bool = False
    ) -> None:
        """Admins; the operator it is assigned to; a member of its team (or anyone
        of the staff when it has none) while it waits (or, ``closed_ok``, is closed)."""
        if principal.role is Role.admin:
            return
        me = str(principal.user_id)
        if chat.operator_id == me:
            return
        unowned = chat.is_waiting or (closed_ok and chat.status is ChatStatus.CLOSED)
        if unowned:
            if chat.team_id is None:
                return
            teams = self.desk.teams
            if teams is not None and chat.team_id in await teams.teams_of(me):
                return
        raise NotAllowed(
            "Only an admin, its operator or a member of its team changes this conversation."
        )


def _staff_id(principal: Principal) -> str:
    if not principal.is_staff:
        raise NotAllowed("Only operators and admins do this.")
    return str(principal.user_id)
