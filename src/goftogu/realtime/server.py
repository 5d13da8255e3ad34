"""The Socket.IO server of the gateway (python-socketio, ASGI mode)."""

from __future__ import annotations

from functools import partial
from typing import Any

import socketio

from goftogu.metrics import SOCKET_EVENTS
from goftogu.realtime.codec import Packet
from goftogu.realtime.delivery import OrderedDelivery, OrderedRedisManager
from goftogu.realtime.engine import EngineServer
from goftogu.settings import Settings


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


def create_socket_server(settings: Settings) -> socketio.AsyncServer:
    """An AsyncServer whose fan-out spans every node when Redis is configured."""
    manager: OrderedDelivery
    if settings.redis_url:
        manager = OrderedRedisManager(settings.redis_url, channel=settings.fanout_channel)
    else:
        manager = OrderedDelivery()
    return SocketServer(
        async_mode="asgi",
        client_manager=manager,
        # None: the same origin only (an empty list would turn the check off).
        cors_allowed_origins=settings.cors_origins or None,
        max_http_buffer_size=settings.max_socket_packet_bytes,
        ping_interval=settings.socket_ping_interval_seconds,
        ping_timeout=settings.socket_ping_timeout_seconds,
        send_buffer_bytes=settings.socket_send_buffer_bytes,
        stock_transport=settings.socket_transport == "engineio",
        logger=False,
        engineio_logger=False,
    )
