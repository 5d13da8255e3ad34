"""SLA timers per conversation (issue 18, item 4).

A team's ``SlaPolicy`` sets targets for the first response (from the
conversation's start to the first operator message), the next response (from
a customer message to the operator's answer, once the first response was
given) and the resolution (start to close); with ``business_hours`` and team
hours, only open time counts (``BusinessHours.add_open_seconds``).

The deadlines and what has fired are stored in the document (``chat.sla``):
``marks`` such as ``first_response:warning`` or ``next_response:5:breached``
(5: the seq of the customer message that started it). ``SlaClock.sweep``
(``goftogu worker``, every ``GOFTOGU_SUPPORT_SLA_SWEEP_SECONDS``) evaluates the
conversations not closed of every team with a policy, and writes new marks
with a conditional update that only succeeds while none of them is stored:
whichever worker wins announces ``support:sla`` once, to the assigned
operator's room and the team's room; a worker restarted, or a second worker,
finds the marks and stays silent. So a warning fires at most once, and a
breach is marked once, whatever restarts in between.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, Literal

from pydantic import Field

from goftogu.broadcast import RoomEvent
from goftogu.bus import Announcements
from goftogu.support.documents import SenderKind, SlaStatus, SupportChat, now
from goftogu.support.events import operator_room
from goftogu.support.hours import BusinessHours
from goftogu.support.schemas import SupportEvent
from goftogu.support.store import OPEN_STATUSES, ChatQuery, ChatStore
from goftogu.support.teams import SlaPolicy, Team, TeamDirectory

log = logging.getLogger(__name__)

Kind = Literal["first_response", "next_response", "resolution"]
PAGE = 200


def team_room(team_id: str) -> str:
    return f"team:{team_id}"


class SupportSla(SupportEvent):
    """``support:sla`` to ``operator:<assigned>`` and ``team:<team_id>``: a target is
    about to be missed (``warning``, ``warn_before_s`` ahead) or was missed
    (``breached``). Each fires once per timer."""

    EVENT: ClassVar[str] = "support:sla"
    kind: Kind
    state: Literal["warning", "breached"]
    due_at: datetime
    team_id: str
    operator_id: str | None = None
    sla_state: Literal["ok", "warning", "breached"] = Field(
        description="the conversation's state after this change"
    )


@dataclass(frozen=True)
class Timer:
    kind: Kind
    key: str  # what its marks are named by
    due: datetime | None


@dataclass(frozen=True)
class Fired:
    timer: Timer
    state: Literal["warning", "breached"]

    @property
    def mark(self) -> str:
        return f"{self.timer.key}:{self.state}"


def _deadline(start: datetime, seconds: int, hours: BusinessHours | None) -> datetime | None:
    if hours is None:
        return start + timedelta(seconds=seconds)
    return hours.add_open_seconds(start, seconds)


def timers_of(chat: SupportChat, policy: SlaPolicy, hours: BusinessHours | None) -> list[Timer]:
    """The running timers of a conversation (met ones are left out)."""
    counted = hours if policy.business_hours else None
    running: list[Timer] = []
    if policy.first_response_s and chat.first_response_at is None:
        due = _deadline(chat.created_at, policy.first_response_s, counted)
        running.append(Timer("first_response", "first_response", due))
    if policy.next_response_s and chat.first_response_at is not None:
        # The oldest customer message after the last operator message waits.
        waiting_seq = None
        for index, message in enumerate(chat.messages):
            if message.sender.kind is SenderKind.operator:
                waiting_seq = None
            elif message.sender.kind is SenderKind.customer and waiting_seq is None:
                waiting_seq = index
        if waiting_seq is not None:
            started = chat.messages[waiting_seq].created_at
            due = _deadline(started, policy.next_response_s, counted)
            running.append(Timer("next_response", f"next_response:{waiting_seq + 1}", due))
    if policy.resolution_s and chat.closed_at is None:
        due = _deadline(chat.created_at, policy.resolution_s, counted)
        running.append(Timer("resolution", "resolution", due))
    return running


def evaluate(
    chat: SupportChat, policy: SlaPolicy, hours: BusinessHours | None, at: datetime
) -> tuple[SlaStatus, list[Fired]]:
    """The conversation's SLA status at ``at`` and the marks due but not stored."""
    marks = set(chat.sla.marks if chat.sla else ())
    warn = timedelta(seconds=policy.warn_before_s)
    fired: list[Fired] = []
    for timer in timers_of(chat, policy, hours):
        if timer.due is None:
            continue
        if at >= timer.due and f"{timer.key}:breached" not in marks:
            fired.append(Fired(timer, "breached"))
        elif (
            timer.due - warn <= at < timer.due
            and f"{timer.key}:warning" not in marks
            and f"{timer.key}:breached" not in marks
        ):
            fired.append(Fired(timer, "warning"))
    all_marks = marks | {f.mark for f in fired}
    running = timers_of(chat, policy, hours)
    if any(mark.endswith(":breached") for mark in all_marks):
        state: Literal["ok", "warning", "breached"] = "breached"
    elif any(f"{t.key}:warning" in all_marks for t in running):
        state = "warning"
    else:
        state = "ok"
    due = {t.kind: t.due for t in running}
    status = SlaStatus(
        state=state,
        first_response_due=due.get("first_response"),
        next_response_due=due.get("next_response"),
        resolution_due=due.get("resolution"),
        marks=sorted(all_marks),
    )
    return status, fired


class SlaClock:
    def __init__(
        self,
        store: ChatStore,
        teams: TeamDirectory,
        announcements: Announcements,
        *,
        sweep_seconds: float = 15.0,
    ) -> None:
        self.store = store
        self.teams = teams
        self._announcements = announcements
        self.sweep_seconds = sweep_seconds

    async def sweep(self, at: datetime | None = None) -> int:
        """Evaluate every conversation not closed of every team with a policy;
        returns how many events fired."""
        at = at or now()
        fired = 0
        for team in await self.teams.all():
            if team.sla is None:
                continue
            after = None
            while True:
                page = await self.store.find(
                    ChatQuery(
                        statuses=OPEN_STATUSES,
                        team_id=team.id,
                        after=after,
                        oldest_first=True,
                        limit=PAGE,
                    )
                )
                for chat in page:
                    fired += await self.check(chat, team, at)
                if len(page) < PAGE:
                    break
                after = page[-1].id
        return fired

    async def check(self, chat: SupportChat, team: Team, at: datetime) -> int:
        assert team.sla is not None
        status, fired = evaluate(chat, team.sla, team.hours, at)
        if not fired and chat.sla == status:
            return 0
        async with self._announcements.announcing() as work:
            stored = await self.store.record_sla(chat.id, status, [f.mark for f in fired])
            if stored is None:
                return 0  # another worker recorded them first (or nothing matched)
            for one in fired:
                assert one.timer.due is not None
                body = SupportSla(
                    chat_id=stored.id,
                    conversation=stored.conversation,
                    kind=one.timer.kind,
                    state=one.state,
                    due_at=one.timer.due,
                    team_id=team.id,
                    operator_id=stored.operator_id,
                    sla_state=status.state,
                )
                # The team's room, and the assigned operator's when they are not in
                # the team (each socket hears it once).
                work.announce(RoomEvent.of(body, team_room(team.id)))
                if stored.operator_id and stored.operator_id not in team.members:
                    work.announce(RoomEvent.of(body, operator_room(stored.operator_id)))
                log.info(
                    "support sla",
                    extra={"chat_id": stored.id, "mark": one.mark},
                )
        return len(fired)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_seconds)
            try:
                await self.sweep()
            except Exception:
                log.warning("support sla sweep failed", exc_info=True)
