"""One typed settings object for every goftogu process.

Every value comes from the environment with the ``GOFTOGU_`` prefix (or a
``.env`` file). Each backend has a URL setting; leaving it unset selects the
embedded default, so a bare ``goftogu serve`` runs the whole platform in one
process (requirement P5).
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from goftogu.admission import AdmissionPolicy

# The development secret is public on purpose: it is only good for a laptop.
# The production profile refuses it (see `Settings.problems_for_production`).
DEVELOPMENT_SECRET_KEY = "goftogu-development-secret-key-do-not-use-in-production"  # noqa: S105
MIN_SECRET_KEY_LENGTH = 32


def served_url(host: str, port: int) -> str:
    """The http URL of a server bound to ``host:port``; a wildcard bind (0.0.0.0, ::)
    is reached on the loopback address of the same machine."""
    name = host.strip("[]")
    if name in ("", "0.0.0.0", "::"):  # noqa: S104 (a name, not a bind)
        name = "127.0.0.1"
    if ":" in name:
        name = f"[{name}]"
    return f"http://{name}:{port}"


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    """Configuration read once per process, from ``GOFTOGU_*`` variables."""

    model_config = SettingsConfigDict(
        env_prefix="GOFTOGU_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    env: Environment = Environment.development
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Path("var")

    # Backends: unset means the embedded default.
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (postgresql+asyncpg://...); default: SQLite file in data_dir",
    )
    mongodb_url: str | None = Field(
        default=None, description="support chat documents; default: the relational database"
    )
    redis_url: str | None = Field(
        default=None, description="presence, rate limits, fan-out; default: in-process"
    )
    broker_url: str | None = Field(
        default=None, description="RabbitMQ amqp:// URL for work queues; default: in-process"
    )
    smtp_url: str | None = Field(
        default=None,
        description="smtp:// (STARTTLS when offered) or smtps://; default: mail goes to the log",
    )
    mail_from: str = "goftogu <no-reply@goftogu.localhost>"
    vapid_public_key: str | None = Field(
        default=None, description="base64url P-256 public key (`goftogu vapid-keys` makes a pair)"
    )
    vapid_private_key: SecretStr | None = Field(
        default=None, description="base64url raw P-256 private key (or PEM); unset: push off"
    )
    vapid_subject: str = "mailto:admin@goftogu.localhost"
    push_endpoint_hosts: str = Field(
        default="fcm.googleapis.com,android.googleapis.com,updates.push.services.mozilla.com,"
        "push.apple.com,notify.windows.com",
        description="push services a browser may subscribe with: host suffixes, comma "
        "separated, HTTPS only; `*` allows any HTTPS host; `http://host:port` allows plain "
        "HTTP to that one host (development)",
    )
    public_url: str = Field(
        default="",
        description="where users reach the web app; links in emails and push point here; "
        "unset: http://GOFTOGU_HOST:GOFTOGU_PORT, the address this server serves on "
        "(127.0.0.1 for a wildcard bind)",
    )
    notify_language: Literal["en", "fa"] = Field(
        default="en", description="language of notifications for users who chose none"
    )
    notify_digest_seconds: float = Field(
        default=60,
        gt=0,
        description="messages to an offline user are gathered per conversation this long, "
        "then sent as one email",
    )
    notify_max_attempts: int = Field(
        default=15,
        ge=1,
        description="tries of a notification before its dead letter; with the backoff below "
        "about an hour, so an SMTP outage of that long loses nothing",
    )
    notify_retry_base_seconds: float = Field(default=2.0, gt=0)
    notify_retry_max_seconds: float = Field(default=600.0, gt=0)
    notify_retention_days: float = Field(
        default=30,
        gt=0,
        description="finished deliveries and closed digests are deleted after this long",
    )
    notify_send_lease_seconds: float = Field(
        default=60,
        gt=0,
        description="a delivery being sent is left alone this long before another attempt "
        "may take it over (after a crash)",
    )

    webhook_max_attempts: int = Field(
        default=8, ge=1, description="tries of one webhook delivery before it is marked failed"
    )
    webhook_retry_base_seconds: float = Field(
        default=10.0, gt=0, description="retry n of a delivery waits base * 2^(n-1) seconds"
    )
    webhook_retry_max_seconds: float = Field(default=3600.0, gt=0)
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="an endpoint answers within this long or the try failed"
    )
    webhook_send_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="a delivery being sent is left alone this long before another attempt may "
        "take it over (after a crash); more than the timeout",
    )
    webhook_disable_after_failures: int = Field(
        default=20,
        ge=1,
        description="a subscription whose endpoint failed this many tries in a row is disabled",
    )
    webhook_allow_private_addresses: bool = Field(
        default=False,
        description="let endpoints be (or resolve to) loopback, private or link-local addresses",
    )
    webhook_max_subscriptions: int = Field(default=100, ge=1)

    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET_KEY)
    access_token_ttl_seconds: int = Field(default=900, ge=30)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=60)

    # argon2id cost (OWASP's minimum: 19 MiB, 2 passes, 1 lane)
    password_hash_memory_kib: int = Field(default=19_456, ge=8)
    password_hash_time_cost: int = Field(default=2, ge=1)
    password_hash_parallelism: int = Field(default=1, ge=1)
    # Rate limits as "hits/seconds"
    rate_login_per_ip: str = "30/300"
    rate_login_per_account: str = "10/900"
    rate_register_per_ip: str = "10/3600"
    rate_visitor_per_ip: str = Field(
        default="300/3600",
        description="new support-widget visitor sessions per client address: an office "
        "behind one NAT address brings many visitors",
    )
    trust_forwarded_for: bool = Field(
        default=False, description="take the client IP from X-Forwarded-For (behind a proxy)"
    )
    trusted_proxies: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="addresses or networks (10.0.0.0/8) of the proxies whose X-Forwarded-For "
        "is believed, when GOFTOGU_TRUST_FORWARDED_FOR is on; the HTTP server believes no "
        "other",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="/metrics answers only with `Authorization: Bearer <token>`; unset: "
        "only to a loopback peer on a request no proxy forwarded",
    )
    max_body_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="a request body's limit on routes without their own (sign-in routes "
        "allow 8 KiB, messages 4 bytes per character of GOFTOGU_MAX_MESSAGE_LENGTH, uploads "
        "GOFTOGU_MAX_ATTACHMENT_BYTES)",
    )

    auto_migrate: bool | None = Field(
        default=None,
        description="migrate at serve start; default: yes for the embedded SQLite database only",
    )
    attachments_dir: Path | None = None
    max_message_length: int = Field(default=16_000, ge=1)
    max_attachment_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    upload_quota_bytes: int = Field(
        default=1024 * 1024 * 1024,
        ge=1,
        description="what one user's uploads may hold on disk together (sent or not yet "
        "sent; a forwarded copy is not counted twice); past it 413 upload_quota_exceeded",
    )
    unsent_upload_hours: float = Field(
        default=24.0, gt=0, description="an upload not sent in a message by then is deleted"
    )
    operator_capacity: int = Field(default=3, ge=1, description="live support chats per operator")
    operator_lease_seconds: float = Field(
        default=60.0,
        ge=1,
        description="an operator's socket counts as connected this long after its gateway "
        "last renewed it (renewed every third of it)",
    )
    support_hold_seconds: float = Field(
        default=60.0, gt=0, description="a slot held for a chat being assigned expires after this"
    )
    support_typing_preview: bool = Field(
        default=False,
        description="typing preview for conversations without a team (teams opt in themselves)",
    )
    support_draft_interval_ms: int = Field(
        default=300, ge=50, le=10_000, description="at most one draft per conversation this often"
    )
    support_csat_link_days: float = Field(
        default=30.0, gt=0, description="an emailed rating (CSAT) link works this long"
    )
    support_sweep_seconds: float = Field(
        default=30.0,
        gt=0,
        description="how often workers offer free operator slots to waiting conversations",
    )
    support_reopen_window_seconds: int = Field(
        default=0,
        ge=0,
        le=365 * 86400,
        description="a customer's message this soon after the close reopens the conversation "
        "(0: never; a new conversation linked to it starts)",
    )
    support_snooze_frees_slot: bool = Field(
        default=True,
        description="a snoozed conversation gives its operator's slot back until it wakes",
    )
    support_sla_sweep_seconds: float = Field(
        default=15.0,
        gt=0,
        description="how often workers check SLA deadlines (warnings and breaches fire once)",
    )
    support_estimate_window_hours: float = Field(
        default=24.0,
        gt=0,
        description="wait estimates average the service times of conversations closed this "
        "recently (the last 50)",
    )
    support_queue_announce_limit: int = Field(
        default=1000,
        ge=1,
        description="how many waiting customers behind a change hear their new queue position "
        "at once (the rest hear it when they reconnect or read the conversation)",
    )
    support_undecided_seconds: float = Field(
        default=60.0,
        gt=0,
        description="a live chat neither assigned nor ticketed after this is routed again",
    )

    # Realtime
    fanout_channel: str = Field(
        default="goftogu-socketio",
        description="Redis pub/sub channel shared by the gateways, workers and notifiers "
        "of one deployment (channels ignore the Redis database number)",
    )
    ws_compression: bool = Field(
        default=False, description="permessage-deflate on websockets (CPU for bandwidth)"
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="origins allowed to open sockets cross-site; default: the same origin only",
    )
    widget_origins: list[str] = Field(
        default_factory=list,
        description="origins of the pages allowed to embed the support widget (its iframe's "
        "Content-Security-Policy frame-ancestors); `*` allows any page",
    )
    web_dist_dir: Path | None = Field(
        default=None,
        description="the built web app served at /; default: the one inside the package",
    )
    max_socket_packet_bytes: int = Field(
        default=1_000_000,
        ge=1024,
        description="hard cap of a Socket.IO frame: a larger websocket frame closes the "
        "socket (code 1009), a larger polling POST is answered 413",
    )
    max_socket_event_bytes: int = Field(
        default=131_072,
        ge=1024,
        description="an event packet larger than this (and within the hard cap) is not "
        "decoded: its ack answers payload_too_large and the socket stays",
    )
    socket_ping_interval_seconds: int = Field(default=25, ge=1)
    socket_ping_timeout_seconds: int = Field(default=20, ge=1)
    socket_transport: Literal["goftogu", "engineio"] = Field(
        default="goftogu",
        description="the Engine.IO transport under python-socketio: goftogu's "
        "(realtime/engine.py: direct websocket writes, bounded send buffers, orjson) or "
        "python-engineio's and python-socketio's as shipped (kept to measure against)",
    )
    socket_send_buffer_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=64 * 1024,
        description="bytes a socket may have waiting to be written; a socket over it is a "
        "slow consumer and is dropped (its client reconnects and replays from its cursors)",
    )
    rate_socket_events: str = Field(default="60/10", description="client events per socket")
    rate_socket_events_per_user: str = Field(
        default="120/10",
        description="client events per user, across their sockets and every node",
    )
    max_sockets_per_user: int = Field(
        default=10, ge=1, description="open sockets per user, across every node"
    )
    socket_events_in_flight_per_user: int = Field(
        default=4,
        ge=1,
        description="events of one user handled at once on a node; the others wait their "
        "turn, so one user's burst leaves the database pool to everyone else",
    )
    typing_ttl_seconds: float = Field(default=6.0, gt=0)
    socket_expiry_sweep_seconds: float = Field(
        default=30.0, gt=0, description="how often sockets whose access token expired are closed"
    )
    presence_grace_seconds: float = Field(default=5.0, ge=0)
    presence_lease_seconds: float = Field(default=60.0, gt=1)
    # Work queues and the outbox relay
    queue_prefix: str = Field(
        default="", description="put in front of every queue name (isolates deployments, tests)"
    )
    queue_prefetch: int = Field(default=16, ge=1, le=1000)
    queue_max_attempts: int = Field(default=5, ge=1)
    queue_retry_base_seconds: float = Field(default=1.0, gt=0)
    queue_retry_max_seconds: float = Field(default=300.0, gt=0)
    outbox_sweep_seconds: float = Field(default=5.0, gt=0)
    outbox_batch_size: int = Field(default=100, ge=1, le=10_000)
    outbox_replay_seconds: float = Field(
        default=600.0,
        ge=0,
        description="embedded queue only: at start, publish again outbox rows published this "
        "recently (the in-process queue lost them when the process stopped)",
    )

    # Admission control (goftogu.admission): work past these bounds is refused at once
    # with `overloaded` (HTTP 503 + Retry-After, or the socket ack's code).
    send_batch_max: int = Field(
        default=64, ge=1, le=1000, description="sends stored in one transaction at most"
    )
    admit_send_queue: int = Field(
        default=1000, ge=1, description="sends waiting for their batch; more are refused"
    )
    admit_send_deadline_seconds: float = Field(
        default=1.0, gt=0, description="a send that waited this long for its batch is refused"
    )
    admit_login_in_flight: int = Field(default=4, ge=1, description="logins hashing at once")
    admit_login_queue: int = Field(default=64, ge=0, description="logins waiting for a turn")
    admit_login_deadline_seconds: float = Field(default=2.0, gt=0)
    admit_intake_in_flight: int = Field(
        default=32, ge=1, description="support intakes being written at once"
    )
    admit_intake_queue: int = Field(default=256, ge=0, description="intakes waiting for a turn")
    admit_intake_deadline_seconds: float = Field(default=2.0, gt=0)
    admit_retry_after_seconds: int = Field(
        default=1, ge=1, description="the retry hint of an `overloaded` answer"
    )

    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"

    @field_validator("database_url", "mongodb_url", "redis_url", "broker_url", "smtp_url")
    @classmethod
    def _blank_means_unset(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _public_url_defaults_to_the_served_address(self) -> Settings:
        if not self.public_url:
            self.public_url = served_url(self.host, self.port)
        self.public_url = self.public_url.rstrip("/")
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        for proxy in value:
            try:
                ipaddress.ip_network(proxy.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an IP address or network") from None
        return value

    @field_validator("widget_origins", "cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin != "*" and not re.fullmatch(r"https?://[^/\s;,'\"]+", origin):
                raise ValueError(f"{origin!r} is not an origin (scheme://host[:port], no path)")
        return value

    @field_validator("vapid_private_key")
    @classmethod
    def _vapid_pair(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        public = info.data.get("vapid_public_key")
        if value is not None and public:
            from goftogu.vapid import VapidKeys

            VapidKeys.parse(public, value.get_secret_value(), "mailto:check@example.com")
        return value

    @field_validator("vapid_subject")
    @classmethod
    def _vapid_subject(cls, value: str) -> str:
        if not value.startswith(("mailto:", "https:")):
            raise ValueError("must be a mailto: or https: URL (push services contact you there)")
        return value

    @field_validator(
        "rate_login_per_ip",
        "rate_login_per_account",
        "rate_register_per_ip",
        "rate_visitor_per_ip",
        "rate_socket_events",
        "rate_socket_events_per_user",
    )
    @classmethod
    def _rate_rule(cls, value: str) -> str:
        from goftogu.ratelimit import RateRule

        RateRule.parse("setting", value)
        return value

    def admission(self, kind: Literal["send", "login", "intake"]) -> AdmissionPolicy:
        """The admission policy of one kind of work."""
        from goftogu.admission import AdmissionPolicy

        if kind == "send":
            in_flight, queue, deadline = (
                self.send_batch_max,
                self.admit_send_queue,
                self.admit_send_deadline_seconds,
            )
        elif kind == "login":
            in_flight, queue, deadline = (
                self.admit_login_in_flight,
                self.admit_login_queue,
                self.admit_login_deadline_seconds,
            )
        else:
            in_flight, queue, deadline = (
                self.admit_intake_in_flight,
                self.admit_intake_queue,
                self.admit_intake_deadline_seconds,
            )
        return AdmissionPolicy(in_flight, queue, deadline, self.admit_retry_after_seconds)

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'goftogu.db').as_posix()}"

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def should_auto_migrate(self) -> bool:
        if self.auto_migrate is not None:
            return self.auto_migrate
        return self.uses_embedded_database

    @property
    def effective_attachments_dir(self) -> Path:
        return self.attachments_dir or self.data_dir / "attachments"

    @property
    def push_configured(self) -> bool:
        return bool(self.vapid_public_key and self.vapid_private_key)

    @property
    def is_production(self) -> bool:
        return self.env is Environment.production

    def problems_for_production(self) -> list[str]:
        """What makes these settings unsafe to run in production, by setting name."""
        problems: list[str] = []
        secret = self.secret_key.get_secret_value()
        if secret == DEVELOPMENT_SECRET_KEY:
            problems.append("GOFTOGU_SECRET_KEY is the development default; set a random secret")
        elif len(secret) < MIN_SECRET_KEY_LENGTH:
            problems.append(
                f"GOFTOGU_SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters"
            )
        if self.vapid_public_key and not self.vapid_private_key:
            problems.append("GOFTOGU_VAPID_PRIVATE_KEY is missing while a public key is set")
        if self.vapid_private_key and not self.vapid_public_key:
            problems.append("GOFTOGU_VAPID_PUBLIC_KEY is missing while a private key is set")
        return problems


class UnsafeSettingsError(RuntimeError):
    """Raised when the production profile is asked to start with unsafe settings."""


def load_settings(**overrides: object) -> Settings:
    """Read the settings and refuse unsafe ones in the production profile."""
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if settings.is_production:
        problems = settings.problems_for_production()
        if problems:
            raise UnsafeSettingsError("; ".join(problems))
    return settings
