"""Teams (departments) of the support desk (issue 18, item 2), with their
business hours (item 3) and SLA policy (item 4).

A team has a ``topic`` (what the widget or an intake field names), members
(operators and admins), an optional overflow (after ``overflow_seconds`` a
conversation waiting for the team may go to anyone) and an optional capacity
(the team's conversations ``OPEN`` at once). Teams are configuration, kept in
the relational database whichever store holds the conversations; a
conversation records its ``team_id``.

Only admins change teams and members; staff read everything; customers read
the topics (to choose one) and whether each is open now.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from goftogu.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from goftogu.identity.models import Role
from goftogu.identity.tokens import Principal
from goftogu.ids import new_id
from goftogu.pages import ListPage
from goftogu.storage.database import Database
from goftogu.storage.errors import is_unique_violation
from goftogu.support.hours import BusinessHours
from goftogu.support.models import SupportTeam, SupportTeamMember
from goftogu.support.staff import StaffDirectory
from goftogu.text import Line

CACHE_SECONDS = 5.0  # routing reads a team at most this stale

Topic = Annotated[Line, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$", description="a-z, 0-9, -")]


class TopicTaken(Conflict):
    code = "topic_taken"
    default_message = "Another team has this topic."


class SlaPolicy(BaseModel):
    """Targets in seconds (null: none). ``business_hours``: count only the team's
    open hours (when the team has hours)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_response_s: int | None = Field(default=None, ge=1, le=90 * 86400)
    next_response_s: int | None = Field(default=None, ge=1, le=90 * 86400)
    resolution_s: int | None = Field(default=None, ge=1, le=365 * 86400)
    warn_before_s: int = Field(default=300, ge=0, le=30 * 86400)
    business_hours: bool = True


class Team(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    topic: str
    overflow_seconds: int | None = None
    capacity: int | None = None
    hours: BusinessHours | None = None
    sla: SlaPolicy | None = None
    typing_preview: bool = False
    members: tuple[str, ...] = ()


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[Line, Field(min_length=1, max_length=80)]
    topic: Topic
    overflow_seconds: int | None = Field(
        default=None,
        ge=0,
        le=86400,
        description="after this long waiting, anyone may take it (null: only the team)",
    )
    capacity: int | None = Field(
        default=None, ge=1, le=10_000, description="the team's conversations OPEN at once"
    )
    hours: BusinessHours | None = None
    sla: SlaPolicy | None = None
    typing_preview: bool = Field(
        default=False,
        description="operators see the customer's draft as it is typed (support:draft)",
    )


class TeamPatch(BaseModel):
    """Only the fields given change (null clears an optional one)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[Line, Field(min_length=1, max_length=80)] | None = None
    topic: Topic | None = None
    overflow_seconds: int | None = Field(default=None, ge=0, le=86400)
    capacity: int | None = Field(default=None, ge=1, le=10_000)
    hours: BusinessHours | None = None
    sla: SlaPolicy | None = None
    typing_preview: bool | None = None


def _team(row: SupportTeam, members: Sequence[str]) -> Team:
    policy: dict[str, Any] = row.policy or {}
    return Team(
        id=str(row.id),
        name=row.name,
        topic=row.topic,
        overflow_seconds=row.overflow_seconds,
        capacity=row.capacity,
        hours=policy.get("hours"),
        sla=policy.get("sla"),
        typing_preview=bool(policy.get("typing_preview", False)),
        members=tuple(sorted(members)),
    )


def _policy(
    hours: BusinessHours | None, sla: SlaPolicy | None, typing_preview: bool = False
) -> dict[str, Any]:
    return {
        "hours": hours.model_dump(mode="json") if hours else None,
        "sla": sla.model_dump(mode="json") if sla else None,
        "typing_preview": typing_preview,
    }


def _parse(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None


class TeamDirectory:
    """Teams and their members in the relational database; ``cached`` for routing."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._cache: dict[str, tuple[float, Team | None]] = {}

    async def create(self, spec: TeamCreate) -> Team:
        row = SupportTeam(
            id=new_id(),
            name=spec.name,
            topic=spec.topic,
            overflow_seconds=spec.overflow_seconds,
            capacity=spec.capacity,
            policy=_policy(spec.hours, spec.sla, spec.typing_preview),
        )
        try:
            async with self._db.transaction() as session:
                session.add(row)
        except IntegrityError as error:
            if is_unique_violation(
                error, constraint="uq_support_teams_topic", columns="support_teams.topic"
            ):
                raise TopicTaken(topic=spec.topic) from error
            raise
        return _team(row, [])

    async def update(self, team_id: str, patch: TeamPatch) -> Team | None:
        parsed = _parse(team_id)
        if parsed is None:
            return None
        given = patch.model_fields_set
        try:
            async with self._db.transaction() as session:
                row = await session.get(SupportTeam, parsed, with_for_update=True)
                if row is None:
                    return None
                for field in ("name", "topic"):
                    if field in given:
                        if getattr(patch, field) is None:
                            raise ValidationFailed(f"{field} cannot be empty.", field=field)
                        setattr(row, field, getattr(patch, field))
                for field in ("overflow_seconds", "capacity"):
                    if field in given:
                        setattr(row, field, getattr(patch, field))
                current = _team(row, [])
                preview = patch.typing_preview
                row.policy = _policy(
                    patch.hours if "hours" in given else current.hours,
                    patch.sla if "sla" in given else current.sla,
                    current.typing_preview if preview is None else preview,
                )
        except IntegrityError as error:
            if is_unique_violation(
                error, constraint="uq_support_teams_topic", columns="support_teams.topic"
            ):
                raise TopicTaken(topic=patch.topic) from error
            raise
        self._cache.pop(team_id, None)
        return await self.get(team_id)

    async def get(self, team_id: str) -> Team | None:
        parsed = _parse(team_id)
        if parsed is None:
            return None
        async with self._db.sessions() as session:
            row = await session.get(SupportTeam, parsed)
            if row is None:
                return None
            members = await session.scalars(
                select(SupportTeamMember.user_id).where(SupportTeamMember.team_id == parsed)
            )
            return _team(row, [str(m) for m in members.all()])

    async def find(self, team: str) -> Team | None:
        """A team by its id or its topic."""
        if (found := await self.get(team)) is not None:
            return found
        async with self._db.sessions() as session:
            team_id = await session.scalar(select(SupportTeam.id).where(SupportTeam.topic == team))
        return await self.get(str(team_id)) if team_id else None

    async def all(self) -> list[Team]:
        async with self._db.sessions() as session:
            rows = (await session.scalars(select(SupportTeam).order_by(SupportTeam.name))).all()
            members = (
                await session.execute(select(SupportTeamMember.team_id, SupportTeamMember.user_id))
            ).all()
        by_team: dict[str, list[str]] = {}
        for team_id, user_id in members:
            by_team.setdefault(str(team_id), []).append(str(user_id))
        return [_team(row, by_team.get(str(row.id), [])) for row in rows]

    async def cached(self, team_id: str | None) -> Team | None:
        """The team, read at most ``CACHE_SECONDS`` ago (routing, estimates)."""
        if team_id is None:
            return None
        at = time.monotonic()
        hit = self._cache.get(team_id)
        if hit is not None and at - hit[0] < CACHE_SECONDS:
            return hit[1]
        team = await self.get(team_id)
        self._cache[team_id] = (at, team)
        return team

    async def add_member(self, team_id: str, user_id: str) -> bool:
        """False when they were a member already."""
        team, user = _parse(team_id), _parse(user_id)
        assert team is not None
        assert user is not None
        try:
            async with self._db.transaction() as session:
                session.add(SupportTeamMember(team_id=team, user_id=user))
        except IntegrityError:
            return False
        finally:
            self._cache.pop(team_id, None)
        return True

    async def remove_member(self, team_id: str, user_id: str) -> bool:
        team, user = _parse(team_id), _parse(user_id)
        if team is None or user is None:
            return False
        async with self._db.transaction() as session:
            result = await session.execute(
                delete(SupportTeamMember).where(
                    SupportTeamMember.team_id == team, SupportTeamMember.user_id == user
                )
            )
        self._cache.pop(team_id, None)
        return bool(getattr(result, "rowcount", 0))

    async def teams_of(self, user_id: str) -> frozenset[str]:
        """The ids of the teams ``user_id`` is a member of (also the port
        ``goftogu.support.teams_port.TeamDirectory`` that canned replies use)."""
        user = _parse(user_id)
        if user is None:
            return frozenset()
        async with self._db.sessions() as session:
            ids = await session.scalars(
                select(SupportTeamMember.team_id).where(SupportTeamMember.user_id == user)
            )
            return frozenset(str(i) for i in ids.all())

    async def team_exists(self, team_id: str) -> bool:
        return await self.get(team_id) is not None

    async def typing_preview(self, team_id: str | None) -> bool:
        """Whether the team opted in to typing preview (read through the cache)."""
        team = await self.cached(team_id)
        return team is not None and team.typing_preview


class TeamList(ListPage[Team]):
    """Every team, answered whole."""


class TeamOpening(BaseModel):
    """A team as a customer sees it: whom to ask, and whether it is open."""

    id: str
    name: str
    topic: str
    open_now: bool
    next_opening: datetime | None = Field(
        description="when it opens next (now when open); null: no hours set (always open) "
        "or none scheduled within a year"
    )


class Teams:
    """The authorised use cases on teams (REST ``/support/teams``)."""

    def __init__(self, directory: TeamDirectory, staff: StaffDirectory) -> None:
        self.directory = directory
        self.staff = staff

    async def create(self, principal: Principal, spec: TeamCreate) -> Team:
        _require_admin(principal)
        return await self.directory.create(spec)

    async def update(self, principal: Principal, team_id: str, patch: TeamPatch) -> Team:
        _require_admin(principal)
        team = await self.directory.update(team_id, patch)
        if team is None:
            raise NotFound("No such team.", team_id=team_id)
        return team

    async def get(self, principal: Principal, team_id: str) -> Team:
        _require_staff(principal)
        team = await self.directory.get(team_id)
        if team is None:
            raise NotFound("No such team.", team_id=team_id)
        return team

    async def list_for_staff(self, principal: Principal) -> list[Team]:
        _require_staff(principal)
        return await self.directory.all()

    async def openings(self, at: datetime) -> list[TeamOpening]:
        """Every team's topic and opening, for anyone signed in (the widget's picker)."""
        return [opening_of(team, at) for team in await self.directory.all()]

    async def add_member(self, principal: Principal, team_id: str, user_id: str) -> Team:
        _require_admin(principal)
        if await self.directory.get(team_id) is None:
            raise NotFound("No such team.", team_id=team_id)
        if await self.staff.role_of(user_id) not in (Role.operator, Role.admin):
            raise NotFound("No such operator.", operator_id=user_id)
        await self.directory.add_member(team_id, user_id)
        return await self.get(principal, team_id)

    async def remove_member(self, principal: Principal, team_id: str, user_id: str) -> Team:
        _require_admin(principal)
        team = await self.directory.get(team_id)
        if team is None:
            raise NotFound("No such team.", team_id=team_id)
        if user_id not in team.members:
            raise NotFound("Not a member of this team.", operator_id=user_id)
        await self.directory.remove_member(team_id, user_id)
        return await self.get(principal, team_id)


def opening_of(team: Team, at: datetime) -> TeamOpening:
    if team.hours is None:
        return TeamOpening(
            id=team.id, name=team.name, topic=team.topic, open_now=True, next_opening=None
        )
    return TeamOpening(
        id=team.id,
        name=team.name,
        topic=team.topic,
        open_now=team.hours.is_open(at),
        next_opening=team.hours.next_opening(at),
    )


def _require_admin(principal: Principal) -> None:
    if principal.role is not Role.admin:
        raise NotAllowed("Only admins change teams.")


def _require_staff(principal: Principal) -> None:
    if not principal.is_staff:
        raise NotAllowed("Only operators and admins do this.")


class TeamOpeningList(ListPage[TeamOpening]):
    """The teams a conversation may ask for, answered whole."""
