"""The Socket.IO server of the gateway (python-socketio, ASGI mode)."""

from __future__ import annotations

import socketio

from goftogu.settings import Settings

# Redis pub/sub channel shared by every gateway node, worker and notifier.
FANOUT_CHANNEL = "goftogu-socketio"


def create_socket_server(settings: Settings) -> socketio.AsyncServer:
    """An AsyncServer whose fan-out spans every node when Redis is configured."""
    manager: socketio.AsyncManager | None = None
    if settings.redis_url:
        manager = socketio.AsyncRedisManager(settings.redis_url, channel=FANOUT_CHANNEL)
    return socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        cors_allowed_origins=[],  # same origin only; a reverse proxy may widen it
        max_http_buffer_size=1_000_000,
        logger=False,
        engineio_logger=False,
    )
