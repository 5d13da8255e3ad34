"""The Socket.IO server of the gateway (python-socketio, ASGI mode).

Sizes, from small to large (issue 17, item 9):

- an event whose packet is over ``GOFTOGU_MAX_SOCKET_EVENT_BYTES`` is not
  decoded nor dispatched: its ack answers ``payload_too_large`` (``details.limit``)
  and the socket stays;
- a frame over ``GOFTOGU_MAX_SOCKET_PACKET_BYTES`` (the hard cap) is not read:
  the server closes the websocket with code 1009 ("message too big"; uvicorn's
  ``ws_max_size``), a long-polling POST gets 413.

Binary packets are refused too (every payload of the contract is JSON): the
ack answers ``validation_error`` and the attachments are dropped unread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import Any

import socketio
from socketio import packet

from goftogu.errors import PayloadTooLarge, ValidationFailed
from goftogu.metrics import SOCKET_EVENTS
from goftogu.realtime.codec import Packet
from goftogu.realtime.delivery import OrderedDelivery, OrderedRedisManager
from goftogu.realtime.engine import EngineServer
from goftogu.realtime.protocol import failed
from goftogu.settings import Settings

_ID = re.compile(r"\d{1,20}")


@dataclass(frozen=True)
class Header:
    """What a Socket.IO packet says before its JSON: type, attachments, namespace, id."""

    kind: int
    attachments: int
    namespace: str
    ack_id: int | None

    @classmethod
    def parse(cls, encoded: str) -> Header | None:
        if not encoded or not encoded[0].isdigit():
            return None
        rest = encoded[1:64]
        attachments = 0
        dash = rest.find("-")
        if 0 < dash <= 10 and rest[:dash].isdigit():
            attachments = int(rest[:dash])
            rest = rest[dash + 1 :]
        namespace = "/"
        if rest.startswith("/"):
            comma = rest.find(",")
            namespace = rest[: comma if comma != -1 else len(rest)].split("?")[0]
            rest = rest[comma + 1 :] if comma != -1 else ""
        found = _ID.match(rest)
        return cls(int(encoded[0]), attachments, namespace, int(found[0]) if found else None)


class SocketServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's server on ``EngineServer`` (realtime/engine.py), with
    orjson packets (realtime/codec.py); ``stock_transport``: python-engineio's
    transport and python-socketio's JSON as shipped (to measure against)."""

    def __init__(
        self,
        *args: Any,
        send_buffer_bytes: int | None = None,
        stock_transport: bool = False,
        **kwargs: Any,
    ) -> None:
        self._send_buffer_bytes = send_buffer_bytes
        self._stock = stock_transport
        serializer = "default" if stock_transport else Packet
        super().__init__(*args, serializer=serializer, **kwargs)
        self.eio.on_slow_consumer = self._slow_consumer

    def _engineio_server_class(self) -> Any:
        if self._stock:
            return socketio.AsyncServer._engineio_server_class(self)
        return partial(EngineServer, send_buffer_bytes=self._send_buffer_bytes)

    def _slow_consumer(self, _eio_sid: str) -> None:
        SOCKET_EVENTS.labels("disconnect", "slow_consumer").inc()


class GatewayServer(SocketServer):
    """The gateway's server: answering what it must not decode."""

    def __init__(self, *args: Any, max_event_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_event_bytes = max_event_bytes
        self._dropping: dict[str, int] = {}  # eio sid -> binary attachments to drop

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        dropping = self._dropping.get(eio_sid)
        if dropping is not None:
            if dropping <= 1:
                del self._dropping[eio_sid]
            else:
                self._dropping[eio_sid] = dropping - 1
            return
        if isinstance(data, str):
            header = Header.parse(data) if data[:1] in ("2", "5") else None
            if header is not None and header.kind == packet.BINARY_EVENT:
                await self._refuse(
                    eio_sid,
                    header,
                    ValidationFailed("Binary payloads are not accepted; send JSON."),
                )
                if header.attachments:
                    self._dropping[eio_sid] = header.attachments
                return
            if header is not None and self._too_large(data):
                await self._refuse(
                    eio_sid,
                    header,
                    PayloadTooLarge("The event is too large.", limit=self.max_event_bytes),
                )
                return
        await super()._handle_eio_message(eio_sid, data)

    def _too_large(self, data: str) -> bool:
        # A character is 1 to 4 bytes in UTF-8: encode only when it could matter.
        if len(data) * 4 <= self.max_event_bytes:
            return False
        return len(data) > self.max_event_bytes or len(data.encode()) > self.max_event_bytes

    async def _refuse(self, eio_sid: str, header: Header, error: Any) -> None:
        SOCKET_EVENTS.labels("refused", error.code).inc()
        if (
            header.ack_id is None
            or self.manager.sid_from_eio_sid(eio_sid, header.namespace) is None
        ):
            return  # nobody waits for an answer (or not connected: nothing to answer)
        ack = self.packet_class(
            packet.ACK, namespace=header.namespace, data=[failed(error)], id=header.ack_id
        )
        await self._send_packet(eio_sid, ack)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any = None) -> None:
        self._dropping.pop(eio_sid, None)
        await super()._handle_eio_disconnect(eio_sid, reason)


class SocketOrigins:
    """Which browser pages may open a socket (python-engineio's origin check, issue
    17 item 6): the gateway's own origin (the console, the widget's iframe), the
    public URL's (behind a proxy that rewrites ``Host``) and
    ``GOFTOGU_CORS_ORIGINS`` (``*``: any). A request without ``Origin`` is not
    from a browser page and has nothing to check.

    The widget's host pages (``GOFTOGU_WIDGET_ORIGINS``) are not on the list: the
    widget's socket lives in its iframe, on the gateway's origin; the host page
    only talks to the iframe by postMessage."""

    def __init__(self, settings: Settings) -> None:
        self._any = "*" in settings.cors_origins
        self._listed = {_origin_key(o) for o in settings.cors_origins if o != "*"}
        self._listed.add(_origin_key(settings.public_url))
        self._forwarded = settings.trust_forwarded_for

    def __call__(self, origin: str | None, environ: dict[str, Any]) -> bool:
        if not origin:
            return True
        key = _origin_key(origin)
        return self._any or key in self._listed or key in self._same(environ)

    def _same(self, environ: dict[str, Any]) -> set[str]:
        scheme, host = environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST")
        own = {_origin_key(f"{scheme}://{host}")} if host else set()
        if self._forwarded:
            proto = environ.get("HTTP_X_FORWARDED_PROTO", scheme).split(",")[0].strip()
            forwarded = environ.get("HTTP_X_FORWARDED_HOST", host or "").split(",")[0].strip()
            if forwarded:
                own.add(_origin_key(f"{proto}://{forwarded}"))
        return own


def _origin_key(value: str) -> str:
    """scheme://host[:port], lower case, without the scheme's default port or a path."""
    scheme, _, rest = value.strip().partition("://")
    host = rest.split("/", 1)[0].lower()
    scheme = scheme.lower()
    default = {"http": ":80", "https": ":443"}.get(scheme)
    if default and host.endswith(default):
        host = host[: -len(default)]
    return f"{scheme}://{host}"


def create_socket_server(settings: Settings, *, gateway: bool = True) -> socketio.AsyncServer:
    """An AsyncServer whose fan-out spans every node when Redis is configured;
    ``gateway=False``: the transport alone (``SocketServer``), without the gateway's
    refusals of binary and oversized events (the protocol conformance runs)."""
    manager: OrderedDelivery
    if settings.redis_url:
        manager = OrderedRedisManager(settings.redis_url, channel=settings.fanout_channel)
    else:
        manager = OrderedDelivery()
    options: dict[str, Any] = {
        "async_mode": "asgi",
        "client_manager": manager,
        # A callable: never an empty list, which turns python-engineio's check off.
        "cors_allowed_origins": SocketOrigins(settings),
        "max_http_buffer_size": settings.max_socket_packet_bytes,
        "ping_interval": settings.socket_ping_interval_seconds,
        "ping_timeout": settings.socket_ping_timeout_seconds,
        "send_buffer_bytes": settings.socket_send_buffer_bytes,
        "stock_transport": settings.socket_transport == "engineio",
        "logger": False,
        "engineio_logger": False,
    }
    if not gateway:
        return SocketServer(**options)
    return GatewayServer(
        max_event_bytes=min(settings.max_socket_event_bytes, settings.max_socket_packet_bytes),
        **options,
    )
