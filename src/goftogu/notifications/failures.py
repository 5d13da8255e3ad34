"""How a delivery attempt can fail, whatever the channel.

The notifier turns these into queue outcomes: a transient failure is retried
with backoff, a permanent one goes to the dead-letter queue with its reason.
"""

from __future__ import annotations


class DeliveryFailed(Exception):
    """A delivery attempt did not reach the recipient's server."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientFailure(DeliveryFailed):
    """Worth trying again later: the server is down, busy, or answered 4xx/5xx."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentFailure(DeliveryFailed):
    """Never going to work as it is: an invalid address, a refused request."""


class SubscriptionGone(DeliveryFailed):
    """The push service no longer knows the subscription (404/410): forget it."""
