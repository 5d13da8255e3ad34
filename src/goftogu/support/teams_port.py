"""The port to teams (departments) that canned replies and typing preview use.

Teams themselves belong to the routing side of the desk:
``goftogu.support.teams.TeamDirectory`` implements this port and the
composition root wires it in. ``NoTeams`` answers that nobody is on any team
(tests of content without teams).
"""

from __future__ import annotations

from typing import Protocol


class TeamDirectory(Protocol):
    async def teams_of(self, user_id: str) -> frozenset[str]:
        """The ids of the teams ``user_id`` is a member of."""
        ...

    async def team_exists(self, team_id: str) -> bool: ...

    async def typing_preview(self, team_id: str | None) -> bool:
        """Whether operators of ``team_id`` see customers' drafts as typed."""
        ...


class NoTeams:
    """No teams at all."""

    async def teams_of(self, user_id: str) -> frozenset[str]:
        return frozenset()

    async def team_exists(self, team_id: str) -> bool:
        return False

    async def typing_preview(self, team_id: str | None) -> bool:
        return False
