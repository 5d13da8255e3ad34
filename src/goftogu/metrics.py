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
