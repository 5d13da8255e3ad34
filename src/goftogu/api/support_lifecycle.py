"""REST routes of a support conversation's lifecycle by hand: reopen, snooze and
wake, assign to an operator or a team (``goftogu.support.lifecycle``); and the
desk's reports (``goftogu.support.reports``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime

from goftogu.api.deps import (
    CurrentPrincipal,
    PathId,
    SupportLifecycleDep,
    SupportReportsDep,
)
from goftogu.support.reports import Report, as_csv
from goftogu.support.schemas import AssignRequest, SnoozeRequest, SupportChatPublic
from goftogu.text import Line

router = APIRouter(prefix="/support", tags=["support"])


@router.post("/chats/{chat_id}/reopen")
async def reopen_chat(
    chat_id: PathId, lifecycle: SupportLifecycleDep, principal: CurrentPrincipal
) -> SupportChatPublic:
    """Staff: a closed conversation is the caller's again (``OPEN``). 409
    ``chat_not_closed``, ``capacity_reached``; ``not_allowed`` for an operator of
    another team."""
    chat = await lifecycle.reopen(principal, chat_id)
    return SupportChatPublic.of(chat, for_staff=True)


@router.post("/chats/{chat_id}/snooze")
async def snooze_chat(
    chat_id: PathId,
    body: SnoozeRequest,
    lifecycle: SupportLifecycleDep,
    principal: CurrentPrincipal,
) -> SupportChatPublic:
    """The assigned operator (or an admin) puts an open conversation on hold until
    ``until`` or the customer's next message. 409 ``chat_snoozed``, ``chat_closed``,
    ``conflict`` (not taken); 422 ``validation_error`` (``until`` past, too far)."""
    chat = await lifecycle.snooze(principal, chat_id, body.until)
    return SupportChatPublic.of(chat, for_staff=True)


@router.post("/chats/{chat_id}/wake")
async def wake_chat(
    chat_id: PathId, lifecycle: SupportLifecycleDep, principal: CurrentPrincipal
) -> SupportChatPublic:
    """The assigned operator (or an admin) ends a snooze now. 409 ``not_snoozed``."""
    chat = await lifecycle.unsnooze(principal, chat_id)
    return SupportChatPublic.of(chat, for_staff=True)


@router.post("/chats/{chat_id}/assign")
async def assign_chat(
    chat_id: PathId,
    body: AssignRequest,
    lifecycle: SupportLifecycleDep,
    principal: CurrentPrincipal,
) -> SupportChatPublic:
    """Staff assign by hand: ``{operator_id}`` (a waiting conversation is theirs
    within their capacity, an open one is transferred) or ``{team_id}`` (id or
    topic; ``null``: no team): it waits for routing again and its operator lets it
    go. 422 ``validation_error`` (neither or both), ``unknown_team``; 404 for an
    unknown operator; 409 ``chat_closed``, ``chat_snoozed``, ``capacity_reached``."""
    given = body.model_fields_set
    if "operator_id" in given and body.operator_id is None:
        given = given - {"operator_id"}
    chat = await lifecycle.assign(
        principal,
        chat_id,
        operator_id=body.operator_id if "operator_id" in given else None,
        team_id=body.team_id,
        to_team="team_id" in given,
    )
    return SupportChatPublic.of(chat, for_staff=True)


@router.get(
    "/reports",
    response_model=Report,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def support_report(
    reports: SupportReportsDep,
    principal: CurrentPrincipal,
    since: AwareDatetime,
    until: AwareDatetime,
    group: Literal["team", "operator"] = "team",
    team: Annotated[Line | None, Query(max_length=64, description="a team id")] = None,
    format: Literal["json", "csv"] = "json",
) -> Report | Response:
    """Admins: conversations started in ``[since, until)`` (at most 366 days) per team
    or operator, and the total: started, chats and tickets, first-response and
    resolution p50/p90 (seconds), SLA breaches, CSAT average and count;
    ``format=csv`` for a spreadsheet. 422 ``validation_error`` for a bad period."""
    report = await reports.report(principal, since, until, group, team)
    if format == "csv":
        name = f"support-{group}-{since.date().isoformat()}-{until.date().isoformat()}.csv"
        return Response(
            as_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return report
