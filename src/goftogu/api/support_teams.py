"""REST routes of support teams (issue 18, item 2): /support/teams, /support/topics,
and an operator's own capacity."""

from __future__ import annotations

from fastapi import APIRouter, status

from goftogu.api.deps import CurrentPrincipal, PathId, SupportDeskDep, TeamsDep
from goftogu.support.documents import now
from goftogu.support.schemas import CapacityRequest, OperatorPresence
from goftogu.support.teams import Team, TeamCreate, TeamList, TeamOpeningList, TeamPatch

router = APIRouter(prefix="/support", tags=["support"])


@router.get("/topics")
async def list_topics(teams: TeamsDep, _principal: CurrentPrincipal) -> TeamOpeningList:
    """Anyone signed in: the teams a conversation may ask for, and whether each is
    open now (the widget's picker)."""
    return TeamOpeningList.whole(await teams.openings(now()))


@router.get("/teams")
async def list_teams(teams: TeamsDep, principal: CurrentPrincipal) -> TeamList:
    """Staff: every team with its members, hours and SLA policy."""
    return TeamList.whole(await teams.list_for_staff(principal))


@router.post("/teams", status_code=status.HTTP_201_CREATED)
async def create_team(body: TeamCreate, teams: TeamsDep, principal: CurrentPrincipal) -> Team:
    """Admins: a new team (``topic_taken`` when another has its topic)."""
    return await teams.create(principal, body)


@router.get("/teams/{team_id}")
async def get_team(team_id: PathId, teams: TeamsDep, principal: CurrentPrincipal) -> Team:
    return await teams.get(principal, team_id)


@router.patch("/teams/{team_id}")
async def update_team(
    team_id: PathId, body: TeamPatch, teams: TeamsDep, principal: CurrentPrincipal
) -> Team:
    """Admins: change the fields given (null clears overflow, capacity, hours, sla)."""
    return await teams.update(principal, team_id, body)


@router.put("/teams/{team_id}/members/{user_id}")
async def add_member(
    team_id: PathId, user_id: PathId, teams: TeamsDep, principal: CurrentPrincipal
) -> Team:
    """Admins: an operator or admin joins the team (again: no change)."""
    return await teams.add_member(principal, team_id, user_id)


@router.delete("/teams/{team_id}/members/{user_id}")
async def remove_member(
    team_id: PathId, user_id: PathId, teams: TeamsDep, principal: CurrentPrincipal
) -> Team:
    return await teams.remove_member(principal, team_id, user_id)


@router.put("/operators/{operator_id}/capacity")
async def set_capacity(
    operator_id: PathId, body: CapacityRequest, desk: SupportDeskDep, principal: CurrentPrincipal
) -> OperatorPresence:
    """Admins: an operator's own capacity (null: the default)."""
    return await desk.set_capacity(principal, operator_id, body.capacity)
