"""Canned replies: an operator's ready answers, by shortcode, with placeholders.

A reply is *personal* (its author's), of a *team* (its members') or *global*
(every operator's). An operator typing ``/shortcode`` gets the reply that is
closest to them: their own, else their team's, else the global one. Bodies hold
``{{customer.name}}``-style placeholders, filled in for one conversation;
``{{customer.name | there}}`` gives a fallback when the value is unknown.

Who may write: anyone on staff their personal replies; a team's members (and
admins) the team's; admins the global ones. Everybody on staff reads what is
theirs, their teams' and the global ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from goftogu.broadcast import RoomEvent
from goftogu.bus import Announcements
from goftogu.errors import NotAllowed, NotFound, ValidationFailed
from goftogu.identity.models import Role
from goftogu.identity.tokens import Principal
from goftogu.ids import new_id
from goftogu.support.documents import SupportChat, now
from goftogu.support.events import OPERATORS_ROOM, operator_room
from goftogu.support.schemas import SupportCannedEvent
from goftogu.support.staff import StaffDirectory
from goftogu.support.store import ChatStore
from goftogu.support.teams_port import TeamDirectory

MAX_SHORTCODE = 32
MAX_TITLE = 100
MAX_BODY = 4000
MAX_LIST = 200
# Letters and digits of any script, then also "-" and "_": "/refund", "/بازگشت".
_SHORTCODE = re.compile(r"^[^\W_][\w-]*$")
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}|\s]+)\s*(?:\|([^{}]*))?\}\}")
PLACEHOLDERS = ("customer.name", "customer.email", "operator.name", "conversation.id")


class CannedScope(StrEnum):
    personal = "personal"
    team = "team"
    global_ = "global"


class CannedReply(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    scope: CannedScope
    # The user (personal) or team (team) it belongs to; "" for a global one.
    owner_id: str
    shortcode: str
    title: str
    body: str
    created_by: str
    created_at: datetime
    updated_at: datetime


class CannedReplyStore(Protocol):
    async def prepare(self) -> None: ...

    async def create(self, reply: CannedReply) -> None:
        """Insert; ``ShortcodeTaken`` when its scope and owner have the shortcode."""
        ...

    async def get(self, reply_id: str) -> CannedReply | None: ...

    async def replace(self, reply: CannedReply) -> bool:
        """Write ``reply`` over the stored one with its id (``ShortcodeTaken`` as
        above); False when there is none."""
        ...

    async def delete(self, reply_id: str) -> bool: ...

    async def visible(
        self,
        user_id: str,
        team_ids: frozenset[str],
        *,
        shortcode: str | None = None,
        prefix: str | None = None,
        limit: int = MAX_LIST,
    ) -> list[CannedReply]:
        """The personal replies of ``user_id``, those of ``team_ids`` and the global
        ones (with exactly ``shortcode``, or starting with ``prefix``), by shortcode."""
        ...


def owner_key(scope: CannedScope, owner_id: str | None) -> str:
    return "" if scope is CannedScope.global_ else owner_id or ""


def placeholders_in(body: str) -> list[str]:
    return [match.group(1) for match in _PLACEHOLDER.finditer(body)]


def render(body: str, values: dict[str, str | None]) -> str:
    """``body`` with each placeholder replaced by its value (else its fallback, else "")."""

    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value:
            return value
        return (match.group(2) or "").strip()

    return _PLACEHOLDER.sub(fill, body)


def values_for(chat: SupportChat, operator_name: str | None) -> dict[str, str | None]:
    return {
        "customer.name": chat.customer.name,
        "customer.email": chat.customer.email,
        "operator.name": operator_name,
        "conversation.id": chat.id,
    }


@dataclass(frozen=True)
class CannedChange:
    shortcode: str | None = None
    title: str | None = None
    body: str | None = None


@dataclass(frozen=True)
class RenderedReply:
    reply: CannedReply
    body: str


ChangeKind = Literal["created", "updated", "deleted"]


def canned_changed(reply: CannedReply, change: ChangeKind) -> RoomEvent:
    """To the author's own room (a personal reply) or to every operator's."""
    body = SupportCannedEvent(
        change=change, reply_id=reply.id, scope=reply.scope.value, shortcode=reply.shortcode
    )
    personal = reply.scope is CannedScope.personal
    return RoomEvent.of(body, operator_room(reply.owner_id) if personal else OPERATORS_ROOM)


class CannedReplies:
    def __init__(
        self,
        store: CannedReplyStore,
        chats: ChatStore,
        staff: StaffDirectory,
        teams: TeamDirectory,
        announcements: Announcements,
    ) -> None:
        self.store = store
        self._chats = chats
        self._staff = staff
        self._teams = teams
        self._announcements = announcements

    async def list_for(
        self, principal: Principal, *, prefix: str | None = None, limit: int = MAX_LIST
    ) -> list[CannedReply]:
        me = _staff_id(principal)
        if prefix is not None:
            prefix = prefix.casefold()
            if not prefix or not _SHORTCODE.match(prefix) or len(prefix) > MAX_SHORTCODE:
                return []
        teams = await self._teams.teams_of(me)
        return await self.store.visible(
            me, teams, prefix=prefix, limit=max(1, min(limit, MAX_LIST))
        )

    async def create(
        self,
        principal: Principal,
        *,
        scope: CannedScope,
        team_id: str | None,
        shortcode: str,
        title: str,
        body: str,
    ) -> CannedReply:
        me = _staff_id(principal)
        owner = await self._owner_for(principal, scope, team_id)
        at = now()
        reply = CannedReply(
            id=str(new_id()),
            scope=scope,
            owner_id=owner,
            shortcode=_shortcode(shortcode),
            title=_title(title),
            body=_body(body),
            created_by=me,
            created_at=at,
            updated_at=at,
        )
        async with self._announcements.announcing() as work:
            await self.store.create(reply)
            work.announce(canned_changed(reply, "created"))
        return reply

    async def update(
        self, principal: Principal, reply_id: str, change: CannedChange
    ) -> CannedReply:
        reply = await self._manageable(principal, reply_id)
        updated = reply.model_copy(
            update={
                "shortcode": reply.shortcode
                if change.shortcode is None
                else _shortcode(change.shortcode),
                "title": reply.title if change.title is None else _title(change.title),
                "body": reply.body if change.body is None else _body(change.body),
                "updated_at": now(),
            }
        )
        async with self._announcements.announcing() as work:
            if not await self.store.replace(updated):
                raise NotFound("No such canned reply.")
            work.announce(canned_changed(updated, "updated"))
        return updated

    async def delete(self, principal: Principal, reply_id: str) -> None:
        reply = await self._manageable(principal, reply_id)
        async with self._announcements.announcing() as work:
            if await self.store.delete(reply.id):
                work.announce(canned_changed(reply, "deleted"))

    async def render_for(self, principal: Principal, chat_id: str, shortcode: str) -> RenderedReply:
        """The reply ``shortcode`` means to this operator, filled in for ``chat_id``."""
        me = _staff_id(principal)
        chat = await self._chats.get(chat_id) if isinstance(chat_id, str) else None
        if chat is None:
            raise NotFound("No such support conversation.")
        code = shortcode.casefold()
        teams = await self._teams.teams_of(me)
        found = (
            await self.store.visible(me, teams, shortcode=code) if _SHORTCODE.match(code) else []
        )
        if not found:
            raise NotFound("No such canned reply.", shortcode=shortcode)
        rank = {CannedScope.personal: 0, CannedScope.team: 1, CannedScope.global_: 2}
        reply = min(found, key=lambda r: (rank[r.scope], r.created_at))
        name = await self._staff.name_of(me)
        return RenderedReply(reply, render(reply.body, values_for(chat, name)))

    async def _owner_for(
        self, principal: Principal, scope: CannedScope, team_id: str | None
    ) -> str:
        me = str(principal.user_id)
        if scope is CannedScope.personal:
            if team_id is not None:
                raise ValidationFailed("A personal reply has no team.", field="team_id")
            return me
        if scope is CannedScope.global_:
            if principal.role is not Role.admin:
                raise NotAllowed("Only admins write global canned replies.")
            if team_id is not None:
                raise ValidationFailed("A global reply has no team.", field="team_id")
            return ""
        if not team_id:
            raise ValidationFailed("A team reply names its team.", field="team_id")
        if team_id in await self._teams.teams_of(me):
            return team_id
        if principal.role is Role.admin and await self._teams.team_exists(team_id):
            return team_id
        if await self._teams.team_exists(team_id):
            raise NotAllowed("Only the team's members write its canned replies.")
        raise NotFound("No such team.", team_id=team_id)

    async def _manageable(self, principal: Principal, reply_id: str) -> CannedReply:
        me = _staff_id(principal)
        reply = await self.store.get(reply_id) if isinstance(reply_id, str) else None
        if reply is None:
            raise NotFound("No such canned reply.")
        if reply.scope is CannedScope.personal:
            if reply.owner_id != me:
                raise NotFound("No such canned reply.")  # someone else's is not shown
            return reply
        if reply.scope is CannedScope.team:
            if principal.role is Role.admin or reply.owner_id in await self._teams.teams_of(me):
                return reply
            raise NotAllowed("Only the team's members change its canned replies.")
        if principal.role is not Role.admin:
            raise NotAllowed("Only admins change global canned replies.")
        return reply


def _staff_id(principal: Principal) -> str:
    if not principal.is_staff:
        raise NotAllowed("Only operators and admins use canned replies.")
    return str(principal.user_id)


def _shortcode(value: str) -> str:
    code = value.strip().casefold() if isinstance(value, str) else ""
    if not code or len(code) > MAX_SHORTCODE or not _SHORTCODE.match(code):
        raise ValidationFailed(
            f"A shortcode is 1 to {MAX_SHORTCODE} letters, digits, '-' or '_', "
            "starting with a letter or digit.",
            field="shortcode",
        )
    return code


def _title(value: str) -> str:
    title = value.strip() if isinstance(value, str) else ""
    if not title or len(title) > MAX_TITLE:
        raise ValidationFailed(f"A title is 1 to {MAX_TITLE} characters.", field="title")
    return title


def _body(value: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_BODY:
        raise ValidationFailed(f"A body is 1 to {MAX_BODY} characters.", field="body")
    unknown = [name for name in placeholders_in(value) if name not in PLACEHOLDERS]
    if unknown:
        raise ValidationFailed(
            f"Unknown placeholder {{{{{unknown[0]}}}}}; known: {', '.join(PLACEHOLDERS)}.",
            field="body",
            placeholder=unknown[0],
        )
    return value
