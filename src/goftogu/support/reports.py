"""Support reports (issue 18, item 10): per team or per operator over a period.

Built only from what the documents store — ``created_at``, ``type``,
``first_response_at``, ``closed_at``, ``sla.marks``, ``csat`` — so they read the
same after any restart and on every store. The conversations of the period are
read in id order (ids are UUIDv7: ordered by creation, so the period is an id
range, read with ``ChatStore.started_between`` — one range scan by the primary
key, unsorted — and no new index is needed), a batch at a time, and folded
into one row per team or operator plus a total; rows are sorted by key.

*Decisions:* a conversation counts in the period it was started in; it belongs
to its team (none: ``team_id`` null) and to its operator (the last one
assigned; null: never taken). First response: start to the first operator
message; resolution: start to the close (of those closed). Percentiles are
nearest-rank over the conversations that have the time (null when none). SLA
breaches: conversations with at least one breach mark. CSAT: average of the
scores given (1–5), rounded to 2 places.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from goftogu.errors import NotAllowed, ValidationFailed
from goftogu.identity.models import Role
from goftogu.identity.tokens import Principal
from goftogu.support.documents import ChatType, SupportChat, first_id_at
from goftogu.support.store import ChatStore

Group = Literal["team", "operator"]
MAX_PERIOD = timedelta(days=366)


class ReportRow(BaseModel):
    key: str | None  # the team's or operator's id (null: none)
    started: int
    chats: int
    tickets: int
    first_response_p50_s: float | None
    first_response_p90_s: float | None
    resolution_p50_s: float | None
    resolution_p90_s: float | None
    sla_breaches: int
    csat_avg: float | None
    csat_count: int


class Report(BaseModel):
    since: datetime
    until: datetime
    group: Group
    rows: list[ReportRow]
    total: ReportRow


COLUMNS = list(ReportRow.model_fields)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest rank: the smallest value with at least ``p``% of them at or below."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return round(ordered[rank - 1], 3)


@dataclass
class _Tally:
    started: int = 0
    chats: int = 0
    tickets: int = 0
    first_response: list[float] = field(default_factory=list)
    resolution: list[float] = field(default_factory=list)
    breaches: int = 0
    scores: list[int] = field(default_factory=list)

    def add(self, chat: SupportChat) -> None:
        self.started += 1
        if chat.type is ChatType.TICKET:
            self.tickets += 1
        else:
            self.chats += 1
        if chat.first_response_at is not None:
            self.first_response.append(_seconds(chat.first_response_at - chat.created_at))
        if chat.closed_at is not None:
            self.resolution.append(_seconds(chat.closed_at - chat.created_at))
        if chat.sla and any(mark.endswith(":breached") for mark in chat.sla.marks):
            self.breaches += 1
        if chat.csat is not None:
            self.scores.append(chat.csat.score)

    def row(self, key: str | None) -> ReportRow:
        return ReportRow(
            key=key,
            started=self.started,
            chats=self.chats,
            tickets=self.tickets,
            first_response_p50_s=percentile(self.first_response, 50),
            first_response_p90_s=percentile(self.first_response, 90),
            resolution_p50_s=percentile(self.resolution, 50),
            resolution_p90_s=percentile(self.resolution, 90),
            sla_breaches=self.breaches,
            csat_avg=round(sum(self.scores) / len(self.scores), 2) if self.scores else None,
            csat_count=len(self.scores),
        )


def _seconds(span: timedelta) -> float:
    return max(0.0, span.total_seconds())


class SupportReports:
    def __init__(self, store: ChatStore) -> None:
        self.store = store

    async def report(
        self,
        principal: Principal,
        since: datetime,
        until: datetime,
        group: Group = "team",
        team_id: str | None = None,
    ) -> Report:
        """Admins only: one row per team (or operator) with conversations started in
        ``[since, until)``, and the total; ``team_id``: that team's only."""
        if principal.role is not Role.admin:
            raise NotAllowed("Only admins read reports.")
        for name, moment in (("since", since), ("until", until)):
            if moment.tzinfo is None:
                raise ValidationFailed(f"{name} needs a time zone.", field=name)
        if not since < until <= since + MAX_PERIOD:
            raise ValidationFailed("until is after since, within 366 days of it.", field="until")
        tallies: dict[str | None, _Tally] = {}
        total = _Tally()
        async for chat in self._started(since, until, team_id):
            key = chat.team_id if group == "team" else chat.operator_id
            tallies.setdefault(key, _Tally()).add(chat)
            total.add(chat)
        rows = [tallies[key].row(key) for key in sorted(tallies, key=lambda k: (k is None, k))]
        return Report(since=since, until=until, group=group, rows=rows, total=total.row(None))

    async def _started(
        self, since: datetime, until: datetime, team_id: str | None
    ) -> AsyncIterator[SupportChat]:
        """The conversations started in the period, a batch at a time (never all held)."""
        batches = self.store.started_between(first_id_at(since), first_id_at(until), team_id)
        async for batch in batches:
            for chat in batch:
                if since <= chat.created_at < until:
                    yield chat


def as_csv(report: Report) -> str:
    """One line per row and a last ``total`` line; ``key`` names the team or operator."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([report.group if column == "key" else column for column in COLUMNS])
    rows: Iterable[ReportRow] = [*report.rows, report.total.model_copy(update={"key": "total"})]
    for row in rows:
        values = row.model_dump()
        writer.writerow(["" if values[c] is None else values[c] for c in COLUMNS])
    return out.getvalue()
