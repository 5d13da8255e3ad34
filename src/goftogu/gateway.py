"""The gateway process: REST API and Socket.IO in one ASGI application (P1)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import socketio
from fastapi import FastAPI
from starlette.types import ASGIApp

from goftogu import __version__
from goftogu.api.errors import install_error_handlers
from goftogu.api.guard import BodyLimits, BodyRule, Contained, ForwardedFor, SecurityHeaders
from goftogu.api.health import router as health_router
from goftogu.api.identity import admin_router, auth_router, users_router
from goftogu.api.messaging import (
    MULTIPART_OVERHEAD,
    attachments_router,
    chats_router,
    conversations_router,
    groups_router,
    messages_router,
)
from goftogu.api.middleware import RequestContextMiddleware
from goftogu.api.notifications import push_router, settings_router
from goftogu.api.responses import document_errors
from goftogu.api.support import router as support_router
from goftogu.api.support_content import router as support_content_router
from goftogu.api.support_lifecycle import router as support_lifecycle_router
from goftogu.api.support_teams import router as support_teams_router
from goftogu.api.webapp import WebApp
from goftogu.api.webhooks import router as webhooks_router
from goftogu.bootstrap import Container, build_container, runner_for
from goftogu.logs import configure_logging
from goftogu.periodic import every
from goftogu.queueing.runner import Runner, replay_embedded_outbox
from goftogu.ratelimit import RateRule
from goftogu.realtime.bindings import messaging_bindings, presence_bindings, support_bindings
from goftogu.realtime.broadcast import SocketBroadcaster
from goftogu.realtime.handlers import RealtimeGateway, SocketBindings, SocketLimits
from goftogu.realtime.server import create_socket_server
from goftogu.settings import Settings, load_settings

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


@dataclass
class Gateway:
    """The parts of a gateway: ``asgi`` is what the server runs."""

    api: FastAPI
    sio: socketio.AsyncServer
    asgi: ASGIApp
    settings: Settings

    @property
    def container(self) -> Container:
        container: Container = self.api.state.container
        return container


def socket_bindings(container: Container) -> SocketBindings:
    """Every domain's part of the Socket.IO contract (the fuzz test reads it too)."""
    return SocketBindings.combine(
        messaging_bindings(container.messaging),
        presence_bindings(container.presence, container.support),
        support_bindings(container.support, container.support_conversations, container.drafts),
    )


def create_gateway(settings: Settings) -> Gateway:
    """Build the gateway; backends connect when the ASGI lifespan starts."""
    sio = create_socket_server(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        container = await build_container(settings, broadcaster=SocketBroadcaster(sio))
        app.state.container = container
        app.state.realtime = RealtimeGateway(
            sio,
            socket_bindings(container),
            verify_token=container.auth.authenticate,
            revoked_sessions=container.auth.revoked_sessions,
            typing_ttl_seconds=settings.typing_ttl_seconds,
            limits=SocketLimits(
                per_socket=RateRule.parse("socket-events", settings.rate_socket_events),
                per_user=RateRule.parse("socket-user-events", settings.rate_socket_events_per_user),
                in_flight_per_user=settings.socket_events_in_flight_per_user,
                sockets_per_user=settings.max_sockets_per_user,
            ),
            shared_limiter=container.rate_limiter,
            admission=container.presence,
        )
        stop = asyncio.Event()
        unsent_age = timedelta(hours=settings.unsent_upload_hours)
        maintenance = asyncio.gather(
            every(
                container.presence.maintenance_period,
                stop,
                container.presence.maintain,
                what="presence maintenance",
            ),
            every(
                settings.socket_expiry_sweep_seconds,
                stop,
                app.state.realtime.close_expired,
                what="closing sockets with expired tokens",
            ),
            every(
                min(3600.0, max(1.0, unsent_age.total_seconds() / 4)),
                stop,
                lambda: container.messaging.attachments.discard_unsent(unsent_age),
                what="discarding unsent uploads",
            ),
        )
        runner: Runner | None = None
        try:
            runner = await _start_queue_work(container)
            log.info(
                "gateway ready",
                extra={"backends": {probe.name: probe.backend for probe in container.probes}},
            )
            yield
        finally:
            if runner is not None:
                await runner.stop()
            stop.set()
            await maintenance
            await container.aclose()
            await app.state.realtime.delivery.aclose()

    api = FastAPI(
        title="goftogu",
        version=__version__,
        summary="Live conversations: support desk and messaging.",
        lifespan=lifespan,
        docs_url=None,  # served by the web app from local files (no CDN)
        redoc_url=None,
    )
    api.add_middleware(RequestContextMiddleware)
    install_error_handlers(api)
    api.include_router(health_router)
    for router in (
        auth_router,
        settings_router,
        users_router,
        admin_router,
        push_router,
        chats_router,
        conversations_router,
        groups_router,
        messages_router,
        attachments_router,
        support_router,
        support_content_router,
        support_lifecycle_router,
        support_teams_router,
        webhooks_router,
    ):
        api.include_router(router, prefix=API_PREFIX)
    document_errors(api)
    WebApp(
        settings.web_dist_dir,
        settings.widget_origins,
        settings.max_message_length,
        max_attachment_bytes=settings.max_attachment_bytes,
        push_configured=settings.vapid_public_key is not None,
    ).install(api)
    limited = BodyLimits(api, rules=body_rules(settings), default=settings.max_body_bytes)
    sockets_and_api = socketio.ASGIApp(sio, other_asgi_app=limited, socketio_path="socket.io")
    asgi = Contained(
        ForwardedFor(
            SecurityHeaders(sockets_and_api, hsts=settings.is_production),
            trusted=settings.trust_forwarded_for,
            proxies=settings.trusted_proxies,
        )
    )
    return Gateway(api=api, sio=sio, asgi=asgi, settings=settings)


SIGN_IN_BODY_BYTES = 8 * 1024
MESSAGE_BODY_OVERHEAD = 16 * 1024


def body_rules(settings: Settings) -> list[BodyRule]:
    """How large a request body each route takes (``BodyLimits``): sign-in routes
    tiny, messages what the longest message needs (4 bytes a character), uploads
    the attachment limit; the rest ``max_body_bytes``."""
    message = max(settings.max_body_bytes, 4 * settings.max_message_length + MESSAGE_BODY_OVERHEAD)
    upload = settings.max_attachment_bytes + MULTIPART_OVERHEAD
    api = re.escape(API_PREFIX)
    sign_in = rf"{api}/auth/(login|register|refresh|visitor|logout|password)"
    messages = [
        ("POST", rf"{api}/conversations/[^/]+/messages"),
        ("PATCH", rf"{api}/messages/[^/]+"),
        ("POST", rf"{api}/messages/[^/]+/forward"),
        ("POST", rf"{api}/support/chats"),
        ("POST", rf"{api}/support/chats/[^/]+/(messages|notes)"),
        ("POST", rf"{api}/support/canned-replies"),
        ("PATCH", rf"{api}/support/canned-replies/[^/]+"),
    ]
    return [
        BodyRule("POST", re.compile(sign_in), SIGN_IN_BODY_BYTES),
        BodyRule("POST", re.compile(rf"{api}/attachments"), upload),
        *(BodyRule(method, re.compile(path), message) for method, path in messages),
    ]


async def _start_queue_work(container: Container) -> Runner:
    """The outbox relay always runs here (requests write outbox rows); the queue
    consumers too in embedded mode, where the in-process queue lives in this process."""
    if container.settings.broker_url is None:
        window = container.settings.outbox_replay_seconds
        await replay_embedded_outbox(container.queue, container.relay, window)
        runner = runner_for(container, None)
    else:
        runner = Runner(container.queue, [], container.relay)
    await runner.start()
    return runner


def asgi_from_environment() -> socketio.ASGIApp:
    """Factory for ``uvicorn --factory`` (used by ``goftogu serve --workers N``)."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_gateway(settings).asgi
