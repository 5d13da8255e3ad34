"""Readiness probes: one per backend, embedded or remote, run concurrently."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

PROBE_TIMEOUT_SECONDS = 3.0


async def _always_ready() -> None:
    return None


@dataclass(frozen=True)
class Probe:
    """A backend the process depends on, and how to check that it answers."""

    name: str
    backend: str
    embedded: bool
    check: Callable[[], Awaitable[None]] = _always_ready


async def _run(probe: Probe) -> dict[str, Any]:
    started = time.perf_counter()
    result: dict[str, Any] = {"backend": probe.backend, "embedded": probe.embedded}
    try:
        await asyncio.wait_for(probe.check(), PROBE_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure means "not ready"; the reason is reported
        result["status"] = "failing"
        result["error"] = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    else:
        result["status"] = "ok"
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return result


async def readiness(probes: list[Probe]) -> tuple[bool, dict[str, Any]]:
    """Run every probe; returns (all ready, report naming each backend)."""
    results = await asyncio.gather(*(_run(probe) for probe in probes))
    report = {probe.name: result for probe, result in zip(probes, results, strict=True)}
    ready = all(result["status"] == "ok" for result in results)
    failing = [name for name, result in report.items() if result["status"] != "ok"]
    return ready, {
        "status": "ready" if ready else "not_ready",
        "failing": failing,
        "backends": report,
    }
