"""Socket.IO transport: authenticate on connect, join rooms, dispatch events.

Each client event is parsed into its typed payload, checked against the
socket's rate limit and handed to ONE service call; the ack answers
``{ok: true, data}`` or ``{ok: false, error: {code, message}}``, so REST and
Socket.IO behave identically. What each domain adds (its events, the rooms a
user belongs to, replay of its conversations, connection hooks) is a
``SocketBindings`` built in ``goftogu.realtime.bindings`` from its services.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import socketio
from pydantic import BaseModel, ValidationError

from goftogu.broadcast import session_room, user_room
from goftogu.errors import (
    DomainError,
    InternalError,
    NotAMember,
    RateLimited,
    ServiceUnavailable,
    TokenExpired,
    TooManyConnections,
    Unauthenticated,
    UnknownEvent,
)
from goftogu.identity.tokens import Principal
from goftogu.logs import request_id_var, user_id_var
from goftogu.metrics import SOCKET_CONNECTIONS, SOCKET_EVENTS
from goftogu.ratelimit import RateLimiter, RateRule
from goftogu.ratelimit.memory import MemoryRateLimiter
from goftogu.realtime.delivery import OrderedDelivery, RepairPage, end_socket
from goftogu.realtime.protocol import (
    ConversationPayload,
    RefreshPayload,
    SyncPayload,
    connect_cursors,
    failed,
    invalid_payload,
    ok,
)
from goftogu.realtime.replay import RoomEventReader, SharedReads

log = logging.getLogger(__name__)

NAMESPACE = "/"

EventCall = Callable[[Principal, str, Any], Awaitable[Any]]
RoomSource = Callable[[Principal], Awaitable[list[str]]]
EventFetcher = Callable[[Principal, str, int, int], Awaitable[list[tuple[str, dict[str, Any]]]]]
ConnectionHook = Callable[[Principal, str], Awaitable[None]]
TokenCheck = Callable[[str | None], Awaitable[Principal]]
RevokedCheck = Callable[[Collection[str]], Awaitable[Mapping[str, str]]]


class ConnectionAdmission(Protocol):
    """Counts a user's sockets across every node (``UserPresence``)."""

    async def admit(self, user_id: uuid.UUID, sid: str, cap: int) -> bool: ...

    async def release(self, user_id: uuid.UUID, sid: str) -> None: ...


@dataclass(frozen=True)
class SocketLimits:
    """How much one socket and one user may ask of the gateway (issue 17, item 7)."""

    per_socket: RateRule  # events per socket (this node's memory)
    per_user: RateRule  # events per user, across sockets and nodes (the shared limiter)
    in_flight_per_user: int = 4  # events of one user handled at once on this node
    sockets_per_user: int = 10  # across nodes


@dataclass(frozen=True)
class SocketEvent:
    """A client event: its payload model and the service call it maps to."""

    name: str
    payload: type[BaseModel]
    call: EventCall


@dataclass(frozen=True)
class Replay:
    """How one kind of conversation (``single``, ``group``, ``support``) is replayed:
    ``fetch`` for a socket that may or may not still be a member, and ``in_room``
    (optional) for a socket in the conversation's room, where being in the room is
    the authorisation, so that sockets can share the read."""

    fetch: EventFetcher
    in_room: RoomEventReader | None = None


@dataclass(frozen=True)
class SocketBindings:
    """What one domain adds to the socket layer; ``combine`` joins several."""

    events: tuple[SocketEvent, ...] = ()
    rooms: tuple[RoomSource, ...] = ()
    replay: Mapping[str, Replay] = field(default_factory=dict)  # by address prefix
    on_connect: tuple[ConnectionHook, ...] = ()
    on_disconnect: tuple[ConnectionHook, ...] = ()

    @classmethod
    def combine(cls, *parts: SocketBindings) -> SocketBindings:
        """One set of bindings from several; an event or replay kind bound twice is
        a wiring mistake (``ValueError``)."""
        events = [event for part in parts for event in part.events]
        names = [event.name for event in events]
        kinds = [kind for part in parts for kind in part.replay]
        for what, seen in (("event", names), ("replay kind", kinds)):
            twice = sorted({name for name in seen if seen.count(name) > 1})
            if twice:
                raise ValueError(f"{what} bound twice: {', '.join(twice)}")
        return cls(
            events=tuple(events),
            rooms=tuple(source for part in parts for source in part.rooms),
            replay={kind: r for part in parts for kind, r in part.replay.items()},
            on_connect=tuple(hook for part in parts for hook in part.on_connect),
            on_disconnect=tuple(hook for part in parts for hook in part.on_disconnect),
        )


REPLAY_PAGE = 500
SHARED_READS = 8  # replay reads at a time, so a reconnect storm queues (and shares) them
# Connections set up at a time (rooms read, presence recorded). In a reconnect storm
# the others wait their turn idle, instead of a thousand handlers crowding the event
# loop and the database pool until all of them time out together.
CONNECTS_AT_ONCE = 16


class RealtimeGateway:
    """Binds the Socket.IO server to the domains' bindings."""

    def __init__(
        self,
        sio: socketio.AsyncServer,
        bindings: SocketBindings,
        *,
        verify_token: TokenCheck,
        revoked_sessions: RevokedCheck,
        typing_ttl_seconds: float,
        limits: SocketLimits,
        shared_limiter: RateLimiter | None = None,
        admission: ConnectionAdmission | None = None,
    ) -> None:
        self.sio = sio
        self.bindings = bindings
        self._verify = verify_token
        self._revoked_sessions = revoked_sessions
        self._limits = limits
        self._principals: dict[str, Principal] = {}
        self._limiter = MemoryRateLimiter()
        self._shared_limiter: RateLimiter = shared_limiter or self._limiter
        self._connections = admission
        self._in_flight = UserSlots(limits.in_flight_per_user)
        self._typing = Typing(sio, ttl_seconds=typing_ttl_seconds)
        self.delivery.fetch_repair = self._fetch_for_socket
        self._admission = asyncio.Semaphore(CONNECTS_AT_ONCE)
        self._shared_reads = {
            kind: SharedReads(replay.in_room, page=REPLAY_PAGE, concurrency=SHARED_READS)
            for kind, replay in bindings.replay.items()
            if replay.in_room is not None
        }
        transport = SocketBindings(
            events=(
                SocketEvent("typing:start", ConversationPayload, self._typing_start),
                SocketEvent("typing:stop", ConversationPayload, self._typing_stop),
                SocketEvent("sync", SyncPayload, self._sync),
                SocketEvent("auth:refresh", RefreshPayload, self._refresh),
            )
        )
        self._events = {
            event.name: event for event in SocketBindings.combine(transport, bindings).events
        }
        self._register()

    @property
    def delivery(self) -> OrderedDelivery:
        manager = self.sio.manager
        assert isinstance(manager, OrderedDelivery)
        return manager

    # --- connection ---------------------------------------------------------------

    def _register(self) -> None:
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        for name in self._events:
            self.sio.on(name, self._handler_for(name))
        self.sio.on("*", self._unknown)

    async def _unknown(self, event: Any, sid: str, *_args: Any) -> dict[str, Any]:
        """Any event without a handler: answered, so that a client never waits."""
        SOCKET_EVENTS.labels("unknown", UnknownEvent.code).inc()
        name = event if isinstance(event, str) else repr(event)
        return failed(UnknownEvent(f"There is no event named {name[:100]!r}."))

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            principal = await self._verify(token if isinstance(token, str) else None)
        except DomainError as error:
            SOCKET_EVENTS.labels("connect", error.code).inc()
            raise socketio.exceptions.ConnectionRefusedError(error.code, error.to_dict()) from error
        user_id_var.set(str(principal.user_id))
        await self._admit(sid, principal)
        try:
            async with self._admission:
                if not self._transport_open(sid):
                    raise socketio.exceptions.ConnectionRefusedError("gone")  # nothing set up
                cursors = await self._set_up(sid, principal, auth)
        except BaseException:
            if self._connections is not None:
                await self._connections.release(principal.user_id, sid)
            raise
        for hook in self.bindings.on_connect:
            try:
                await hook(principal, sid)
            except Exception:
                # Presence or availability could not be recorded: the connection still
                # works, and the node's lease renewal records it on its next round.
                log.exception("connect hook failed", extra={"sid": sid})
        if not self._transport_open(sid):
            # Closed while it was being set up, before Socket.IO counted it as
            # connected (so no disconnect event comes): undo what was recorded.
            await self._disconnect(sid)
            raise socketio.exceptions.ConnectionRefusedError("gone")
        if cursors:
            self.sio.start_background_task(self._replay_all, sid, cursors)

    async def _admit(self, sid: str, principal: Principal) -> None:
        """Refuse a user's socket past ``sockets_per_user`` (``too_many_connections``)."""
        if self._connections is None:
            return
        try:
            admitted = await self._connections.admit(
                principal.user_id, sid, self._limits.sockets_per_user
            )
        except Exception:
            log.warning("connections could not be counted; admitted", exc_info=True)
            return
        if not admitted:
            error = TooManyConnections(limit=self._limits.sockets_per_user)
            SOCKET_EVENTS.labels("connect", error.code).inc()
            raise socketio.exceptions.ConnectionRefusedError(error.code, error.to_dict())

    async def close_expired(self) -> int:
        """Close the sockets whose access token expired (they receive nothing more
        on an expired token, even silent ones), and end those of revoked sessions
        (``session:ended``; normally ended at once, this catches a lost signal);
        returns how many. A client whose token expired reconnects with a fresh one
        and its cursors, and loses nothing."""
        now = datetime.now(UTC)
        expired = [
            sid
            for sid, principal in self._principals.items()
            if principal.expires_at is not None and principal.expires_at <= now
        ]
        for sid in expired:
            await self.sio.disconnect(sid, namespace=NAMESPACE)
        sessions = {str(p.session_id) for p in self._principals.values()}
        revoked = await self._revoked_sessions(sessions) if sessions else {}
        ended = [
            (sid, revoked[str(principal.session_id)])
            for sid, principal in list(self._principals.items())
            if str(principal.session_id) in revoked
        ]
        for sid, reason in ended:
            await end_socket(self.sio, sid, reason)
        return len(expired) + len(ended)

    def _transport_open(self, sid: str) -> bool:
        eio_sid = self.sio.manager.eio_sid_from_sid(sid, NAMESPACE)
        socket = self.sio.eio.sockets.get(eio_sid) if eio_sid is not None else None
        return socket is not None and not socket.closed

    async def _set_up(self, sid: str, principal: Principal, auth: Any) -> dict[str, int]:
        """Join the socket to its rooms; returns the cursors to replay from."""
        rooms = [user_room(principal.user_id), session_room(principal.session_id)]
        try:
            for source in self.bindings.rooms:
                rooms.extend(await source(principal))
        except Exception as error:
            log.exception("rooms of a connecting user could not be read")
            unavailable = ServiceUnavailable("Try again in a moment.")
            SOCKET_EVENTS.labels("connect", unavailable.code).inc()
            raise socketio.exceptions.ConnectionRefusedError(
                unavailable.code, unavailable.to_dict()
            ) from error
        self._principals[sid] = principal
        cursors = {a: s for a, s in connect_cursors(auth).items() if a in rooms}
        for address, seq in cursors.items():
            # The watermark is set before the room is joined: live events that
            # arrive during the replay are ordered against it, never doubled.
            self.delivery.prime(sid, address, seq)
        for room in rooms:
            await self.sio.enter_room(sid, room, namespace=NAMESPACE)
        SOCKET_CONNECTIONS.inc()
        SOCKET_EVENTS.labels("connect", "ok").inc()
        return cursors

    async def _disconnect(self, sid: str, *_reason: Any) -> None:
        principal = self._principals.pop(sid, None)
        self.delivery.forget(sid)
        if principal is None:
            return
        SOCKET_CONNECTIONS.dec()
        await self._typing.socket_gone(sid, principal)
        for hook in self.bindings.on_disconnect:
            try:
                await hook(principal, sid)
            except Exception:
                log.exception("disconnect hook failed", extra={"sid": sid})

    # --- events -------------------------------------------------------------------

    def _handler_for(self, name: str) -> Callable[[str, Any], Awaitable[dict[str, Any]]]:
        async def handle(sid: str, data: Any = None) -> dict[str, Any]:
            answer = await self._dispatch(name, sid, data)
            outcome = "ok" if answer["ok"] else answer["error"]["code"]
            SOCKET_EVENTS.labels(name, outcome).inc()
            return answer

        return handle

    async def _dispatch(self, name: str, sid: str, data: Any) -> dict[str, Any]:
        principal = self._principals.get(sid)
        if principal is None:
            return failed(Unauthenticated("Connect with a valid token first."))
        request_id_var.set(f"{sid}:{name}")
        user_id_var.set(str(principal.user_id))
        if principal.expires_at is not None and principal.expires_at <= datetime.now(UTC):
            self.sio.start_background_task(self.sio.disconnect, sid)
            return failed(TokenExpired("The access token expired; reconnect with a new one."))
        limited = await self._rate_limited(sid, principal)
        if limited is not None:
            return failed(limited)
        spec = self._events[name]
        try:
            payload = spec.payload.model_validate(data if data is not None else {})
            async with self._in_flight.slot(str(principal.user_id)):
                return ok(await spec.call(principal, sid, payload))
        except ValidationError as error:
            return failed(invalid_payload(error))
        except DomainError as error:
            return failed(error)
        except Exception:
            log.exception("socket event failed", extra={"event": name})
            return failed(InternalError())

    async def _rate_limited(self, sid: str, principal: Principal) -> RateLimited | None:
        """The socket's own limit (in memory), then the user's across sockets and
        nodes (the shared limiter: Redis when configured)."""
        retry_after = await self._limiter.hit(f"socket:{sid}", self._limits.per_socket)
        if retry_after <= 0:
            try:
                retry_after = await self._shared_limiter.hit(
                    f"socket-user:{principal.user_id}", self._limits.per_user
                )
            except Exception:
                # The shared limiter is away: the socket's own limit still holds.
                log.warning("the per-user event limit could not be checked", exc_info=True)
                retry_after = 0
        if retry_after > 0:
            return RateLimited(math.ceil(retry_after), "Too many events; slow down.")
        return None

    def in_room(self, sid: str, room: str) -> bool:
        return room in self.sio.rooms(sid, namespace=NAMESPACE)

    async def _typing_start(
        self, principal: Principal, sid: str, body: ConversationPayload
    ) -> None:
        self._require_room(sid, body.conversation)
        await self._typing.start(principal, sid, body.conversation)

    async def _typing_stop(self, principal: Principal, sid: str, body: ConversationPayload) -> None:
        self._require_room(sid, body.conversation)
        await self._typing.stop(principal, body.conversation)

    def _require_room(self, sid: str, conversation: str) -> None:
        if not self.in_room(sid, conversation):
            raise NotAMember()

    async def _refresh(
        self, principal: Principal, sid: str, body: RefreshPayload
    ) -> dict[str, Any]:
        """Extend the socket's authentication with a fresh access token of the same user."""
        fresh = await self._verify(body.token)
        if fresh.user_id != principal.user_id:
            raise NotAMember("The token belongs to another user.")
        self._principals[sid] = fresh
        if fresh.session_id != principal.session_id:
            await self.sio.leave_room(sid, session_room(principal.session_id), namespace=NAMESPACE)
            await self.sio.enter_room(sid, session_room(fresh.session_id), namespace=NAMESPACE)
        return {"expires_at": fresh.expires_at.isoformat() if fresh.expires_at else None}

    # --- replay ---------------------------------------------------------------------

    async def _sync(self, principal: Principal, sid: str, body: SyncPayload) -> dict[str, Any]:
        """Replay what the client missed after its cursors, then live from there."""
        up_to: dict[str, int] = {}
        for address, seq in body.cursors.items():
            if not self.in_room(sid, address):
                raise NotAMember(f"Not a member of {address}.")
            up_to[address] = await self.delivery.replay(sid, address, seq)
        return {"up_to": up_to}

    async def _replay_all(self, sid: str, cursors: dict[str, int]) -> None:
        for address, seq in cursors.items():
            await self.delivery.replay(sid, address, seq)

    async def _fetch_for_socket(self, sid: str, conversation: str, after_seq: int) -> RepairPage:
        principal = self._principals.get(sid)
        kind = conversation.split(":", 1)[0]
        shared = self._shared_reads.get(kind)
        if principal is not None and shared is not None and self.in_room(sid, conversation):
            page = await shared.events_after(conversation, after_seq)
            if self.in_room(sid, conversation):
                return page
            # Removed while the page was read: what a former member may see instead.
        replay = self.bindings.replay.get(kind)
        if principal is None or replay is None:
            return [], False
        events = await replay.fetch(principal, conversation, after_seq, REPLAY_PAGE)
        return events, len(events) >= REPLAY_PAGE


class UserSlots:
    """At most ``size`` events of one user at a time; the others wait in turn. A
    burst within a user's rate limit then holds a few database connections, not
    the pool: the floor of service left to everyone else."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._slots: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def slot(self, user: str) -> AsyncIterator[None]:
        semaphore, users = self._slots.get(user) or (asyncio.Semaphore(self._size), 0)
        self._slots[user] = (semaphore, users + 1)
        try:
            async with semaphore:
                yield
        finally:
            semaphore, users = self._slots[user]
            if users <= 1:
                del self._slots[user]
            else:
                self._slots[user] = (semaphore, users - 1)


class Typing:
    """Typing indicators: never stored, coalesced, and stopped by themselves when
    ``typing:stop`` never comes (a closed tab, a lost network)."""

    def __init__(self, sio: socketio.AsyncServer, ttl_seconds: float) -> None:
        self._sio = sio
        self._ttl = ttl_seconds
        self._expiry: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._sids: dict[tuple[str, str], str] = {}
        self._stopping: set[asyncio.Future[None]] = set()

    async def start(self, principal: Principal, sid: str, conversation: str) -> None:
        key = (str(principal.user_id), conversation)
        already = key in self._expiry
        self._reset_timer(key)
        self._sids[key] = sid
        if not already:  # repeated starts only extend the indicator
            await self._emit(key, "start")

    async def stop(self, principal: Principal, conversation: str) -> None:
        key = (str(principal.user_id), conversation)
        timer = self._expiry.pop(key, None)
        if timer is not None:
            timer.cancel()
            await self._emit(key, "stop")
        self._sids.pop(key, None)

    async def socket_gone(self, sid: str, principal: Principal) -> None:
        for key in [k for k, s in self._sids.items() if s == sid]:
            await self.stop(principal, key[1])

    def _reset_timer(self, key: tuple[str, str]) -> None:
        timer = self._expiry.pop(key, None)
        if timer is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self._expiry[key] = loop.call_later(self._ttl, self._expire, key)

    def _expire(self, key: tuple[str, str]) -> None:
        if self._expiry.pop(key, None) is not None:
            self._sids.pop(key, None)
            task = asyncio.ensure_future(self._emit(key, "stop"))
            self._stopping.add(task)
            task.add_done_callback(self._stopping.discard)

    async def _emit(self, key: tuple[str, str], state: str) -> None:
        user_id, conversation = key
        # Not echoed to the sender: skip every socket of theirs on this node.
        own = [sid for sid, _ in self._sio.manager.get_participants(NAMESPACE, user_room(user_id))]
        await self._sio.emit(
            "typing",
            {"conversation": conversation, "user_id": user_id, "state": state},
            room=conversation,
            skip_sid=own,
            namespace=NAMESPACE,
        )
