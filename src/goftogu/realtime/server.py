"""The Socket.IO server of the gateway (python-socketio, ASGI mode)."""

from __future__ import annotations

import socketio

from goftogu.realtime.delivery import OrderedDelivery, OrderedRedisManager
from goftogu.settings import Settings


def create_socket_server(settings: Settings) -> socketio.AsyncServer:
    """An AsyncServer whose fan-out spans every node when Redis is configured."""
    manager: OrderedDelivery
    if settings.redis_url:
        manager = OrderedRedisManager(settings.redis_url, channel=settings.fanout_channel)
    else:
        manager = OrderedDelivery()
    return socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        # None: the same origin only (an empty list would turn the check off).
        cors_allowed_origins=settings.cors_origins or None,
        max_http_buffer_size=settings.max_socket_packet_bytes,
        ping_interval=settings.socket_ping_interval_seconds,
        ping_timeout=settings.socket_ping_timeout_seconds,
        logger=False,
        engineio_logger=False,
    )
