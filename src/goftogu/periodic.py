"""Housekeeping that a process runs now and then while it serves."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def every(
    period: float, stop: asyncio.Event, job: Callable[[], Awaitable[object]], *, what: str
) -> None:
    """Run ``job`` at once, then every ``period`` seconds until ``stop`` is set. A
    failed round is logged and the next one tries again (a backend away for a
    while does not end the housekeeping)."""
    while not stop.is_set():
        try:
            await job()
        except Exception:
            log.exception(f"{what} failed; retrying")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), period)
