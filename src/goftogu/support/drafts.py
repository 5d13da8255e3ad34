"""Typing preview: the assigned operator sees the customer's draft as it is typed.

Opt-in per team (``Team.typing_preview``); a conversation without a team
follows ``GOFTOGU_SUPPORT_TYPING_PREVIEW`` (off). The customer's widget sends
``support:draft {chat_id, text}`` as they type; the answer ``{shown}`` says
whether drafts reach an operator in this conversation (the widget must say so
to the customer). A draft is never stored: it goes, through the bus like every
client event, to ``operator:<assigned>`` only.

Throttled per conversation in this process (a customer's socket lives on one
node): at most one draft per ``interval`` goes out; drafts arriving meanwhile
replace each other, and the latest goes out when the interval ends (so the
operator always ends on what the customer really has). Sending the message
itself is a normal ``support:message``; an empty draft means "cleared".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from goftogu.broadcast import RoomEvent
from goftogu.bus import Announcements
from goftogu.errors import NotFound, PayloadTooLarge, ValidationFailed
from goftogu.identity.tokens import Principal
from goftogu.support.documents import ChatStatus, now
from goftogu.support.events import operator_room
from goftogu.support.schemas import SupportDraftEvent
from goftogu.support.store import ChatStore
from goftogu.support.teams_port import TeamDirectory

log = logging.getLogger(__name__)

ROUTE_SECONDS = 2.0  # how long who-gets-the-drafts of a conversation is reused


@dataclass
class _Throttle:
    last_sent: float = 0.0
    pending: str | None = None
    flushing: asyncio.Task[None] | None = None


@dataclass(frozen=True)
class _Route:
    customer_id: str
    operator_id: str | None
    shown: bool
    at: float


class DraftPreviews:
    def __init__(
        self,
        store: ChatStore,
        teams: TeamDirectory,
        announcements: Announcements,
        *,
        interval: float,
        max_length: int,
        default_on: bool = False,
    ) -> None:
        self._store = store
        self._teams = teams
        self._announcements = announcements
        self._interval = interval
        self._max_length = max_length
        self._default_on = default_on
        self._throttles: dict[str, _Throttle] = {}
        self._routes: dict[str, _Route] = {}

    async def draft(self, principal: Principal, chat_id: str, text: str) -> bool:
        """The customer's draft now; True when an operator is shown it."""
        if not isinstance(text, str):
            raise ValidationFailed("A draft is text.", field="text")
        if len(text) > self._max_length:
            raise PayloadTooLarge(
                f"A draft holds at most {self._max_length} characters.", limit=self._max_length
            )
        route = await self._route(chat_id)
        if route is None or route.customer_id != str(principal.user_id):
            raise NotFound("No such support conversation.")
        if not route.shown:
            return False
        throttle = self._throttles.setdefault(chat_id, _Throttle())
        at = time.monotonic()
        if at - throttle.last_sent >= self._interval and throttle.flushing is None:
            throttle.last_sent = at
            await self._send(chat_id, route, text)
        else:
            throttle.pending = text
            if throttle.flushing is None:
                wait = max(0.0, self._interval - (at - throttle.last_sent))
                throttle.flushing = asyncio.create_task(self._flush_after(chat_id, wait))
        return True

    async def _flush_after(self, chat_id: str, wait: float) -> None:
        try:
            await asyncio.sleep(wait)
            throttle = self._throttles.get(chat_id)
            if throttle is None or throttle.pending is None:
                return
            text, throttle.pending = throttle.pending, None
            throttle.last_sent = time.monotonic()
            route = await self._route(chat_id)
            if route is not None and route.shown:
                await self._send(chat_id, route, text)
        except Exception:
            log.exception("a draft could not be forwarded", extra={"chat_id": chat_id})
        finally:
            throttle = self._throttles.get(chat_id)
            if throttle is not None:
                throttle.flushing = None
                if throttle.pending is None and time.monotonic() - throttle.last_sent > 60:
                    self._throttles.pop(chat_id, None)

    async def _send(self, chat_id: str, route: _Route, text: str) -> None:
        assert route.operator_id is not None
        body = SupportDraftEvent(
            chat_id=chat_id, conversation=f"support:{chat_id}", text=text, at=now()
        )
        async with self._announcements.announcing() as work:
            work.announce(RoomEvent.of(body, operator_room(route.operator_id)))

    async def _route(self, chat_id: str) -> _Route | None:
        at = time.monotonic()
        cached = self._routes.get(chat_id)
        if cached is not None and at - cached.at < ROUTE_SECONDS:
            return cached
        chat = await self._store.get(chat_id) if isinstance(chat_id, str) else None
        if chat is None:
            return None
        live = chat.status is ChatStatus.OPEN and chat.operator_id is not None
        if chat.team_id is None:
            allowed = self._default_on
        else:
            allowed = await self._teams.typing_preview(chat.team_id)
        route = _Route(chat.customer.id, chat.operator_id, live and allowed, at)
        if len(self._routes) > 10_000:
            self._routes.clear()
        self._routes[chat_id] = route
        return route

    async def aclose(self) -> None:
        for throttle in self._throttles.values():
            if throttle.flushing is not None:
                throttle.flushing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await throttle.flushing
        self._throttles.clear()
