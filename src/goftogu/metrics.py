"""Prometheus metrics shared by every transport (exposed at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "goftogu_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_REQUEST_SECONDS = Histogram(
    "goftogu_http_request_seconds", "HTTP request duration", ["method", "route"]
)
SOCKET_CONNECTIONS = Gauge("goftogu_socket_connections", "Open Socket.IO connections on this node")
SOCKET_EVENTS = Counter(
    "goftogu_socket_events_total", "Socket.IO client events handled", ["event", "outcome"]
)
QUEUE_DELIVERIES = Counter(
    "goftogu_queue_deliveries_total",
    "Queue deliveries handled, by outcome (ack, retry, dead, unsettled)",
    ["queue", "outcome"],
)
QUEUE_HANDLER_SECONDS = Histogram(
    "goftogu_queue_handler_seconds", "Time a queue handler took", ["queue"]
)
OUTBOX_PUBLISHED = Counter(
    "goftogu_outbox_published_total", "Outbox messages the relay published", ["source"]
)
OUTBOX_FAILURES = Counter(
    "goftogu_outbox_failures_total", "Relay passes that could not publish", ["source"]
)
