"""What a handler's exception means for its message: retry later or dead-letter now.

Both queue implementations settle a delivery through ``settle_failure`` so the
failure policy is one piece of code, whatever the broker.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from goftogu.errors import DomainError
from goftogu.queueing import QueuePolicy, Reject, Retry

MAX_ERROR_LENGTH = 1000


@dataclass(frozen=True)
class Verdict:
    """``dead``: send to the dead-letter queue with ``reason``; otherwise deliver
    again as the next attempt after ``delay`` seconds."""

    dead: bool
    reason: str
    error: str
    delay: float = 0.0


def describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:MAX_ERROR_LENGTH]


def settle_failure(exc: Exception, attempt: int, policy: QueuePolicy) -> Verdict:
    """The verdict on attempt number ``attempt`` (1-based) that raised ``exc``."""
    if isinstance(exc, Reject):
        return Verdict(dead=True, reason="rejected", error=exc.reason[:MAX_ERROR_LENGTH])
    if isinstance(exc, ValidationError):
        return Verdict(dead=True, reason="malformed", error=describe(exc))
    if isinstance(exc, DomainError) and exc.status < 500:
        return Verdict(dead=True, reason="rejected", error=f"{exc.code}: {exc.message}")
    if attempt >= policy.max_attempts:
        return Verdict(dead=True, reason="max_attempts", error=describe(exc))
    delay = exc.delay if isinstance(exc, Retry) and exc.delay is not None else None
    if delay is None:
        delay = policy.backoff(attempt)
    return Verdict(dead=False, reason="retry", error=describe(exc), delay=max(delay, 0.0))


# The error recorded when a message comes back without its handler having settled it.
UNSETTLED_ERROR = "the handler did not finish (worker stopped, killed or disconnected)"


def too_many_redeliveries(attempt: int, policy: QueuePolicy) -> Verdict | None:
    """A message redelivered after ``attempt - 1`` unsettled tries is dead once
    ``attempt`` exceeds the policy (a message that kills its worker every time)."""
    if attempt > policy.max_attempts:
        return Verdict(dead=True, reason="max_attempts", error=UNSETTLED_ERROR)
    return None
