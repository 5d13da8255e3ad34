"""Waiting in tests: for a condition, never for a fixed time."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

POLL_SECONDS = 0.02


async def eventually(
    probe: Callable[[], T | Awaitable[T]], *, timeout: float = 30.0, what: str = "the condition"
) -> T:
    """Ask ``probe`` until it answers something truthy, and return that answer.

    Work happens in the background (a consumer, a relay, another process): this
    waits for its effect, however long it takes within ``timeout``; it is a wait,
    not a timing assertion, so slow is fine. Fails naming ``what``.
    """
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        value = await answer if inspect.isawaitable(answer) else answer
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        await asyncio.sleep(POLL_SECONDS)


def after_this_millisecond() -> None:
    """Return once the wall clock's millisecond has changed (ids and stored times
    tell time by the millisecond; this makes "later" observable, in under 1 ms)."""
    start = time.time_ns() // 1_000_000
    while time.time_ns() // 1_000_000 == start:
        pass
