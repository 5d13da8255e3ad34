"""The ``goftogu`` command: one codebase run as several processes."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from goftogu.logs import configure_logging
from goftogu.settings import Settings, UnsafeSettingsError, load_settings

log = logging.getLogger(__name__)

app = typer.Typer(
    name="goftogu",
    help="goftogu (گفتگو): a support desk and direct/group messaging behind one realtime "
    "gateway. Every option can also be set with its GOFTOGU_* environment variable.",
    no_args_is_help=True,
    add_completion=False,
)

T = TypeVar("T")


def _settings(**overrides: object) -> Settings:
    """Load the settings or exit with the name of the setting that is wrong."""
    try:
        settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except UnsafeSettingsError as exc:
        typer.echo(f"goftogu: refusing to start in production: {exc}", err=True)
        raise typer.Exit(2) from exc
    except ValidationError as exc:
        for error in exc.errors():
            name = "GOFTOGU_" + "_".join(str(part) for part in error["loc"]).upper()
            typer.echo(f"goftogu: invalid setting {name}: {error['msg']}", err=True)
        raise typer.Exit(2) from exc
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _run(main: Callable[[], Coroutine[object, object, T]]) -> T:
    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(130)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="interface to bind [GOFTOGU_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port [GOFTOGU_PORT]")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="gateway processes (needs Redis and RabbitMQ)")
    ] = 1,
) -> None:
    """Run the gateway: REST API at /api/v1, Socket.IO at /socket.io, /healthz, /readyz,
    /metrics and /docs. In embedded mode (no GOFTOGU_BROKER_URL) it also runs the queue
    consumers in-process.

    Reads every setting; the backends come from GOFTOGU_DATABASE_URL, GOFTOGU_MONGODB_URL,
    GOFTOGU_REDIS_URL, GOFTOGU_BROKER_URL and GOFTOGU_SMTP_URL (unset: embedded defaults).
    The embedded SQLite database is migrated at start; any other database must be migrated
    first with `goftogu migrate` (GOFTOGU_AUTO_MIGRATE overrides).
    """
    import uvicorn

    from goftogu.gateway import create_gateway

    settings = _settings(host=host, port=port)
    if workers > 1 and not (settings.redis_url and settings.broker_url and settings.database_url):
        typer.echo(
            "goftogu: --workers > 1 needs GOFTOGU_DATABASE_URL, GOFTOGU_REDIS_URL and "
            "GOFTOGU_BROKER_URL: embedded presence and queues live inside one process",
            err=True,
        )
        raise typer.Exit(2)
    if workers > 1:
        uvicorn.run(
            "goftogu.gateway:asgi_from_environment",
            factory=True,
            workers=workers,
            host=settings.host,
            port=settings.port,
            log_config=None,
            ws_per_message_deflate=settings.ws_compression,
            # The gateway decides whom to believe (GOFTOGU_TRUSTED_PROXIES): not uvicorn.
            proxy_headers=False,
            # The hard cap of a Socket.IO frame: a larger one closes the websocket
            # with 1009 (message too big) before it is read.
            ws_max_size=settings.max_socket_packet_bytes,
        )
    else:
        asgi = create_gateway(settings).asgi
        uvicorn.run(
            asgi,
            host=settings.host,
            port=settings.port,
            log_config=None,
            ws_per_message_deflate=settings.ws_compression,
            # The gateway decides whom to believe (GOFTOGU_TRUSTED_PROXIES): not uvicorn.
            proxy_headers=False,
            # The hard cap of a Socket.IO frame: a larger one closes the websocket
            # with 1009 (message too big) before it is read.
            ws_max_size=settings.max_socket_packet_bytes,
        )


def _run_queue_process(name: str, queues: set[str]) -> None:
    """Build the container and run the consumers of ``queues`` plus the outbox
    relay until SIGTERM/SIGINT."""
    from goftogu.bootstrap import build_container, runner_for
    from goftogu.queueing.runner import run_until_signalled

    settings = _settings()
    if not settings.broker_url:
        typer.echo(
            f"goftogu: {name} needs GOFTOGU_BROKER_URL: without a broker the queues live "
            "inside `goftogu serve`, which runs their consumers itself",
            err=True,
        )
        raise typer.Exit(2)

    async def main() -> None:
        container = await build_container(settings, migrate=False)
        try:
            runner = runner_for(container, queues)
            if not runner.subscriptions:
                log.warning(f"{name}: no handler registered for {sorted(queues)}; relay only")
            await run_until_signalled(runner, name=name)
        finally:
            await container.aclose()

    _run(main)


@app.command()
def worker() -> None:
    """Run a support routing worker: consumes the `support.routing` queue (assigns each
    new conversation to an available operator, or makes it a ticket), offers free slots
    to waiting conversations, and relays the outbox. Run any number of them.

    Needs GOFTOGU_BROKER_URL and a migrated GOFTOGU_DATABASE_URL. Reads GOFTOGU_MONGODB_URL
    (support documents; unset: the database), GOFTOGU_REDIS_URL (operator presence and
    the fan-out to gateways; shared with every gateway), GOFTOGU_OPERATOR_CAPACITY,
    GOFTOGU_SUPPORT_HOLD_SECONDS, GOFTOGU_SUPPORT_SWEEP_SECONDS,
    GOFTOGU_SUPPORT_UNDECIDED_SECONDS, GOFTOGU_QUEUE_* and GOFTOGU_OUTBOX_*. Stops
    cleanly on SIGTERM: in-flight jobs finish, the rest stay queued.
    """
    from goftogu.support.jobs import SUPPORT_ROUTING

    _run_queue_process("worker", {SUPPORT_ROUTING})


@app.command()
def notifier() -> None:
    """Run a notifier: consumes the `notify` queue (email, Web Push) and
    relays the outbox. Run any number: each notification is sent once.

    Settings it reads:
    GOFTOGU_BROKER_URL (required), GOFTOGU_DATABASE_URL (migrated);
    email: GOFTOGU_SMTP_URL (unset: emails go to the log), GOFTOGU_MAIL_FROM;
    push: GOFTOGU_VAPID_PUBLIC_KEY, GOFTOGU_VAPID_PRIVATE_KEY,
    GOFTOGU_VAPID_SUBJECT (unset: no push);
    GOFTOGU_REDIS_URL (who is online), GOFTOGU_PUBLIC_URL (links),
    GOFTOGU_NOTIFY_LANGUAGE, GOFTOGU_NOTIFY_DIGEST_SECONDS,
    GOFTOGU_NOTIFY_MAX_ATTEMPTS, GOFTOGU_NOTIFY_RETRY_BASE_SECONDS,
    GOFTOGU_NOTIFY_RETRY_MAX_SECONDS, GOFTOGU_NOTIFY_SEND_LEASE_SECONDS,
    GOFTOGU_QUEUE_PREFETCH (sends at once per process).
    Webhooks (the `webhooks` queue): GOFTOGU_WEBHOOK_MAX_ATTEMPTS,
    GOFTOGU_WEBHOOK_RETRY_BASE_SECONDS, GOFTOGU_WEBHOOK_RETRY_MAX_SECONDS,
    GOFTOGU_WEBHOOK_TIMEOUT_SECONDS, GOFTOGU_WEBHOOK_SEND_LEASE_SECONDS,
    GOFTOGU_WEBHOOK_DISABLE_AFTER_FAILURES, GOFTOGU_WEBHOOK_ALLOW_PRIVATE_ADDRESSES.

    Stops cleanly on SIGTERM: in-flight sends finish, the rest stay queued.
    """
    from goftogu.notifications.jobs import NOTIFY
    from goftogu.webhooks.schemas import WEBHOOKS

    _run_queue_process("notifier", {NOTIFY, WEBHOOKS})


@app.command("vapid-keys")
def vapid_keys() -> None:
    """Print a new VAPID key pair for Web Push, as GOFTOGU_VAPID_PUBLIC_KEY and
    GOFTOGU_VAPID_PRIVATE_KEY lines (keep the private key secret)."""
    from goftogu.vapid import generate_vapid_keys

    public, private = generate_vapid_keys()
    typer.echo(f"GOFTOGU_VAPID_PUBLIC_KEY={public}")
    typer.echo(f"GOFTOGU_VAPID_PRIVATE_KEY={private}")


@app.command()
def migrate() -> None:
    """Apply the database migrations (idempotent; safe to run from several hosts).

    Reads GOFTOGU_DATABASE_URL (unset: the embedded SQLite file under GOFTOGU_DATA_DIR).
    """
    from goftogu.storage.database import Database
    from goftogu.storage.schema import upgrade_to_head

    settings = _settings()

    async def main() -> tuple[str | None, str]:
        database = Database(settings.effective_database_url)
        try:
            return await upgrade_to_head(database.engine)
        finally:
            await database.close()

    before, after = _run(main)
    if before == after:
        typer.echo(f"database already at revision {after}")
    else:
        typer.echo(f"database migrated from {before or 'empty'} to {after}")


@app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(help="the admin's username")],
    email: Annotated[str, typer.Option(help="the admin's email")],
    password: Annotated[
        str | None, typer.Option(help="prompted for (hidden) when not given")
    ] = None,
) -> None:
    """Create an admin account (the first one, or another).

    Reads GOFTOGU_DATABASE_URL and the password hashing settings
    (GOFTOGU_PASSWORD_HASH_*). The database must be migrated (`goftogu migrate`).
    """
    from goftogu.bootstrap import build_container
    from goftogu.errors import DomainError
    from goftogu.identity.accounts import NewAccount
    from goftogu.identity.models import Role
    from goftogu.identity.schemas import RegisterRequest

    settings = _settings()
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        request = RegisterRequest(username=username, email=email, password=password)
    except ValidationError as exc:
        for error in exc.errors():
            typer.echo(f"goftogu: {error['loc'][0]}: {error['msg']}", err=True)
        raise typer.Exit(2) from exc

    async def main() -> str:
        container = await build_container(settings, migrate=False)
        try:
            account = NewAccount(
                request.username, request.email, request.password.get_secret_value(), Role.admin
            )
            user = await container.accounts.register(account)
            return str(user.id)
        finally:
            await container.aclose()

    try:
        user_id = _run(main)
    except DomainError as exc:
        typer.echo(f"goftogu: {exc.code}: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"admin {request.username} created with id {user_id}")


@app.command()
def openapi(
    output: Annotated[
        Path | None, typer.Option(help="write the document here instead of printing it")
    ] = None,
) -> None:
    """Write the gateway's OpenAPI document (what /openapi.json serves) without starting
    a server or connecting to anything: the web app's API types are generated from it."""
    from goftogu.gateway import create_gateway

    document = create_gateway(_settings(log_level="WARNING")).api.openapi()
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")


@app.command()
def demo(
    host: Annotated[str | None, typer.Option(help="interface to bind [GOFTOGU_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="the gateway's port [GOFTOGU_PORT]")] = None,
    page_port: Annotated[
        int, typer.Option(help="port of the demo shop page that embeds the widget")
    ] = 8001,
) -> None:
    """Try the support desk in two minutes: seed three staff accounts (demo-admin,
    demo-sara, demo-omid; a new password for each is printed every run), serve a demo
    shop page with the widget on --page-port, and run the gateway (as `serve` does),
    which lets that page embed the widget. Not for production."""
    import uvicorn

    from goftogu.bootstrap import build_container
    from goftogu.demo import seed_demo_staff, serve_host_page
    from goftogu.gateway import create_gateway

    settings = _settings(host=host, port=port)
    if settings.is_production:
        typer.echo("goftogu: demo refuses to run with GOFTOGU_ENV=production", err=True)
        raise typer.Exit(2)
    gateway_url = f"http://{settings.host}:{settings.port}"
    page_origin = f"http://{settings.host}:{page_port}"
    settings = settings.model_copy(
        update={"widget_origins": [*settings.widget_origins, page_origin]}
    )

    async def seed() -> list[Any]:
        container = await build_container(settings)
        try:
            return list(await seed_demo_staff(container))
        finally:
            await container.aclose()

    accounts = _run(seed)
    page = serve_host_page(settings.host, page_port, gateway_url)
    typer.echo("")
    typer.echo(f"  operator console   {gateway_url}/   sign in as one of:")
    for account in accounts:
        typer.echo(f"      {account.username:<12} {account.password:<14} ({account.role.value})")
    typer.echo(f"  customer's page    {page_origin}/   (open it in another window; chat button)")
    typer.echo("")
    try:
        uvicorn.run(
            create_gateway(settings).asgi,
            host=settings.host,
            port=settings.port,
            log_config=None,
            ws_per_message_deflate=settings.ws_compression,
            # The gateway decides whom to believe (GOFTOGU_TRUSTED_PROXIES): not uvicorn.
            proxy_headers=False,
            # The hard cap of a Socket.IO frame: a larger one closes the websocket
            # with 1009 (message too big) before it is read.
            ws_max_size=settings.max_socket_packet_bytes,
        )
    finally:
        page.shutdown()


def main() -> None:
    app()
